/* Internal: the element count of a shape, shared by the safetensors reader
 * and clh_st_numel, and the test hooks of the writer. (What a reader expects
 * of a tensor, clh_st_expect, is public: include/clheads/safetensors.h.) */
#ifndef CLH_INTERNAL_SAFETENSORS_H
#define CLH_INTERNAL_SAFETENSORS_H

#include <stddef.h>
#include <stdint.h>

#include "clheads/safetensors.h"

/* The product of shape[0..ndim) into *numel (1 for ndim 0). Returns 0 for a
 * negative extent, or when the product overflows size_t and no extent is 0
 * (an empty tensor has 0 elements whatever its other extents). */
int clh_shape_numel(const int64_t *shape, size_t ndim, size_t *numel);

/* The steps of an atomic save, in order. */
typedef enum clh_save_step {
    CLH_SAVE_STEP_NONE = 0,
    CLH_SAVE_STEP_OPEN,    /* creating the temporary file */
    CLH_SAVE_STEP_WRITE,   /* writing it (fails after half the bytes) */
    CLH_SAVE_STEP_FLUSH,   /* fflush */
    CLH_SAVE_STEP_FSYNC,   /* fsync of the temporary file */
    CLH_SAVE_STEP_CLOSE,   /* fclose */
    CLH_SAVE_STEP_RENAME,  /* rename over the target */
    CLH_SAVE_STEP_DIRSYNC, /* fsync of the directory (after the rename) */
    CLH_SAVE_STEP_COUNT
} clh_save_step;

/* Test hook: the next save fails at `step` as if the system call had failed
 * with EIO (then the hook turns itself off). CLH_SAVE_STEP_NONE turns it off.
 * Not thread-safe; for tests only. */
void clh_test_fail_save_at(clh_save_step step);

#endif
