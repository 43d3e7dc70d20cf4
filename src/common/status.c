/* Status names and messages from one table; the thread-local failure detail. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "common/error.h"
#include "common/thread_local.h"

static const struct {
    const char *name;
    const char *message;
} status_table[CLH_STATUS_COUNT] = {
    [CLH_OK] = {"CLH_OK", "success"},
    [CLH_E_NULL] = {"CLH_E_NULL", "a required pointer argument is NULL"},
    [CLH_E_INVALID_ARG] = {"CLH_E_INVALID_ARG", "an argument is out of range"},
    [CLH_E_UNKNOWN_TASK] = {"CLH_E_UNKNOWN_TASK", "the task id was never set up"},
    [CLH_E_TASK_CONFLICT] = {"CLH_E_TASK_CONFLICT",
                             "the task is already set up with a different class count"},
    [CLH_E_NOT_SETUP] = {"CLH_E_NOT_SETUP", "no head has been set up yet"},
    [CLH_E_PARADIGM] = {"CLH_E_PARADIGM", "the call does not fit the handle's paradigm"},
    [CLH_E_OVERFLOW] = {"CLH_E_OVERFLOW", "a size computation overflows"},
    [CLH_E_NOMEM] = {"CLH_E_NOMEM", "out of memory"},
    [CLH_E_LABEL] = {"CLH_E_LABEL", "a label is outside its class range"},
    [CLH_E_IO] = {"CLH_E_IO", "a file operation failed"},
    [CLH_E_FORMAT] = {"CLH_E_FORMAT", "the file is malformed"},
    [CLH_E_MISMATCH] = {"CLH_E_MISMATCH", "the data does not fit the handle"},
    [CLH_E_WORKSPACE] = {"CLH_E_WORKSPACE", "the workspace is too small"},
    [CLH_E_SINGULAR] = {"CLH_E_SINGULAR", "the system to solve is not positive definite"},
};

const char *clh_status_name(clh_status status) {
    if ((unsigned)status >= CLH_STATUS_COUNT) return "CLH_E_UNKNOWN_STATUS";
    return status_table[status].name;
}

const char *clh_status_message(clh_status status) {
    if ((unsigned)status >= CLH_STATUS_COUNT) return "unknown status code";
    return status_table[status].message;
}

/* Per thread, like errno (one for the whole program where the target has no
 * thread-local storage: common/thread_local.h). */

static CLH_THREAD_LOCAL char error_detail[512];
static CLH_THREAD_LOCAL const void *error_owner;

clh_status clh_fail_owner(const void *owner, clh_status status, const char *fmt, ...) {
    /* Formatted aside first: an argument may be clh_last_error() itself (a
     * detail wrapping the previous one), and vsnprintf's source and
     * destination must not overlap. */
    char detail[sizeof error_detail];
    va_list args;
    va_start(args, fmt);
    vsnprintf(detail, sizeof detail, fmt, args);
    va_end(args);
    memcpy(error_detail, detail, sizeof detail);
    error_owner = owner;
    return status;
}

clh_status clh_fail_adopt(const void *owner, clh_status status) {
    if (status != CLH_OK) error_owner = owner;
    return status;
}

const void *clh_error_owner(void) { return error_owner; }

const char *clh_last_error(void) { return error_detail; }

void clh_clear_error(void) {
    error_detail[0] = '\0';
    error_owner = NULL;
}
