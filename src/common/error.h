/* Internal: recording a failure's detail (see include/clheads/status.h). */
#ifndef CLH_INTERNAL_ERROR_H
#define CLH_INTERNAL_ERROR_H

#include "clheads/status.h"

#if defined(__GNUC__) || defined(__clang__)
#define CLH_PRINTF(fmt, args) __attribute__((format(printf, fmt, args)))
#else
#define CLH_PRINTF(fmt, args)
#endif

/* Records "what was wrong" for the calling thread and returns `status`, so a
 * failing path reads: return clh_fail(CLH_E_UNKNOWN_TASK, "task id %lld ...", id);
 * `owner` is the handle the failure concerns (NULL when none). */
clh_status clh_fail_owner(const void *owner, clh_status status, const char *fmt, ...)
    CLH_PRINTF(3, 4);
#define clh_fail(status, ...) clh_fail_owner(NULL, (status), __VA_ARGS__)

/* Ties the calling thread's current detail to `owner` (a failure that a
 * lower layer recorded without one, e.g. the file writer under
 * clh_heads_save) and returns status unchanged; CLH_OK passes through. */
clh_status clh_fail_adopt(const void *owner, clh_status status);

/* The handle that the calling thread's last failure concerned (NULL if none). */
const void *clh_error_owner(void);

#endif
