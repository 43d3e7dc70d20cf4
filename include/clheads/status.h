/* clheads — status codes and error details.
 *
 * Every library function that can fail returns a clh_status. CLH_OK is 0.
 * Each code has a short name ("CLH_E_UNKNOWN_TASK") and a one-line message
 * from one table. The failing call also records a detail sentence that says
 * what exactly was wrong (which task id, which dimension, which tensor in
 * which file); read it with clh_last_error() on the same thread.
 *
 * The detail lives in thread-local storage, like errno, so that calls which
 * do not modify a handle (forward) stay safe to run from several threads.
 * clh_heads_last_error() (heads.h) returns the same detail when the last
 * failure on this thread concerned that handle.
 * A build for a target without thread-local storage (CMake option
 * CLH_THREAD_LOCAL_DETAIL=OFF, the default on bare metal such as Cortex-M)
 * keeps one detail for the whole program: there, the status codes stay right
 * from any thread, but the detail is only reliable when one thread at a time
 * calls clheads.
 *
 * Thread rules, in one place (each object's header repeats its own). The rule
 * everywhere: calls that take an object as `const` may run concurrently with
 * each other; a call that takes it non-const needs it to itself.
 *   clh_heads:        forward, queries and saving are const; set-up,
 *                     backward, zero-grad, freezing, masking, loading into it
 *                     and optimizer steps change it.
 *   clh_optim:        a step changes the optimizer and the parameters it
 *                     steps; layout, config, export and saving are const.
 *   clh_st_file:      read-only once parsed: any number of threads may read
 *                     its tensors and metadata; clh_st_free needs it alone.
 *   clh_optim_export: like clh_st_file (read-only once made).
 *   Files: two threads (or processes) saving to one path leave one complete
 *   file, never a mix (each writes its own temporary file, then renames).
 *   Process-wide settings (clh_set_num_threads, clh_set_gemm_policy) are
 *   atomic and may be changed from any thread. Distinct objects share no
 *   state, so threads that work on different objects need no locking.
 */
#ifndef CLHEADS_STATUS_H
#define CLHEADS_STATUS_H

#include "export.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum clh_status {
    CLH_OK = 0,
    CLH_E_NULL,          /* a required pointer argument is NULL */
    CLH_E_INVALID_ARG,   /* a size, dimension, class count or option is out of range */
    CLH_E_UNKNOWN_TASK,  /* the task id was never set up */
    CLH_E_TASK_CONFLICT, /* a repeated set-up names a different class count */
    CLH_E_NOT_SETUP,     /* forward/backward before any head was set up */
    CLH_E_PARADIGM,      /* the call does not fit the handle's paradigm */
    CLH_E_OVERFLOW,      /* a product or sum of sizes overflows */
    CLH_E_NOMEM,         /* an allocation failed */
    CLH_E_LABEL,         /* a label is outside its task's class range */
    CLH_E_IO,            /* reading, writing, syncing or renaming a file failed */
    CLH_E_FORMAT,        /* a file is malformed (safetensors, JSON, data file) */
    CLH_E_MISMATCH,      /* a file or state does not fit the handle it is loaded into */
    CLH_E_WORKSPACE,     /* a caller-provided workspace is too small */
    CLH_E_SINGULAR,      /* a system to solve is not positive definite (analytic heads) */
    CLH_STATUS_COUNT
} clh_status;

/* "CLH_OK", "CLH_E_NULL", ...; "CLH_E_UNKNOWN_STATUS" for a value outside the enum. */
CLH_API const char *clh_status_name(clh_status status);

/* A fixed one-line description of the status code. Never NULL. */
CLH_API const char *clh_status_message(clh_status status);

/* The detail of the last failure on the calling thread ("" if none). The
 * text stays valid until the next failing clheads call on this thread. */
CLH_API const char *clh_last_error(void);

/* Forget the calling thread's detail. */
CLH_API void clh_clear_error(void);

#ifdef __cplusplus
}
#endif
#endif
