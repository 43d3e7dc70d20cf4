/* Internal: the element count of a shape, shared by the safetensors reader
 * and clh_st_numel, and the test hooks of the writer. */
#ifndef CLH_INTERNAL_SAFETENSORS_H
#define CLH_INTERNAL_SAFETENSORS_H

#include <stddef.h>
#include <stdint.h>

#include "clheads/safetensors.h"

/* The product of shape[0..ndim) into *numel (1 for ndim 0). Returns 0 for a
 * negative extent, or when the product overflows size_t and no extent is 0
 * (an empty tensor has 0 elements whatever its other extents). */
int clh_shape_numel(const int64_t *shape, size_t ndim, size_t *numel);

/* ---- what a reader expects of a tensor --------------------------------------
 * Every buffer read from a file goes through clh_st_expect (or, for a tensor
 * already in hand, clh_st_expect_tensor) before a byte of it is used: its
 * dtype is one of a set, its rank and every extent are the expected ones, and
 * its byte size is exactly extent product x element size. A reader then
 * converts exactly that many elements, so nothing is trusted by element count
 * alone. */
#define CLH_ST_DTYPE_BIT(dtype) (1u << (unsigned)(dtype))
/* The floating dtypes clh_st_to_f32 converts exactly (F64 rounds to nearest). */
#define CLH_ST_FLOATING                                                             \
    (CLH_ST_DTYPE_BIT(CLH_DT_F32) | CLH_ST_DTYPE_BIT(CLH_DT_F16) |                 \
     CLH_ST_DTYPE_BIT(CLH_DT_BF16) | CLH_ST_DTYPE_BIT(CLH_DT_F64))
/* An extent in an expected shape that may take any value >= 0. */
#define CLH_ST_ANY_EXTENT (-1)

/* Finds `name` in file and checks it (CLH_E_MISMATCH naming source and the
 * tensor when it is missing or differs). shape has ndim entries (NULL for
 * ndim 0). On success *out is the tensor. */
clh_status clh_st_expect(const clh_st_file *file, const char *source, const char *name,
                         unsigned dtypes, size_t ndim, const int64_t *shape,
                         const clh_st_tensor **out);
/* The same checks on a tensor already found. */
clh_status clh_st_expect_tensor(const clh_st_tensor *tensor, const char *source, unsigned dtypes,
                                size_t ndim, const int64_t *shape);

/* A tensor descriptor over `data` (not copied): 1-D [d0] or 2-D [d0, d1] of
 * dtype, nbytes from the shape (the caller has checked the product), data
 * NULL when the tensor is empty. The one builder the exports share. */
clh_st_tensor clh_st_view(const char *name, clh_dtype dtype, size_t ndim, int64_t d0, int64_t d1,
                          const void *data);

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
/* 1 (errno = EIO, hook turned off) when the hook makes `step` fail now. */
int clh_test_save_fails_at(clh_save_step step);

struct clh_atomic_file;
/* Gives up on an atomic file whose writing failed at `failed_step` with
 * `error`: removes the temporary file, frees `file`, returns CLH_E_IO with the
 * same detail a failed commit records. */
clh_status clh_atomic_discard(struct clh_atomic_file *file, const char *failed_step, int error);

#endif
