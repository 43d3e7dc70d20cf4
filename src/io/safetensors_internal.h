/* Internal: the element count of a shape, shared by the safetensors reader
 * and clh_st_numel, and the test hooks of the writer. (What a reader expects
 * of a tensor, clh_st_expect, is public: include/clheads/safetensors.h.) */
#ifndef CLH_INTERNAL_SAFETENSORS_H
#define CLH_INTERNAL_SAFETENSORS_H

/* The format's limit on the header (its JSON and padding): 100 MB. The
 * reader refuses a longer one, so the writer never writes one. */
#define CLH_ST_MAX_HEADER_BYTES ((uint64_t)100000000)

#include <stddef.h>
#include <stdint.h>

#include "clheads/safetensors.h"

/* The product of shape[0..ndim) into *numel (1 for ndim 0). Returns 0 for a
 * negative extent, or when the product overflows size_t and no extent is 0
 * (an empty tensor has 0 elements whatever its other extents). */
int clh_shape_numel(const int64_t *shape, size_t ndim, size_t *numel);

/* ---- the header's JSON (safetensors_header.c) ------------------------------
 * Read in one pass, without a tree, into the arrays below. Strings (tensor
 * names, metadata keys and values) are decoded into one arena and named by
 * their offset in it, since the arena grows while the header is read. */

/* Where a tensor's bytes lie in the data section, and its name. */
typedef struct clh_st_span {
    uint64_t begin, end;
    size_t name; /* offset of the NUL-terminated name in `strings` */
} clh_st_span;

typedef struct clh_st_header {
    clh_st_tensor *tensors; /* [count] in file order: dtype, ndim, shape, nbytes set */
    clh_st_span *spans;     /* [count] */
    size_t count, capacity;
    size_t *meta; /* [2 * meta_count]: key and value offsets, in file order */
    size_t meta_count, meta_capacity;
    char *strings; /* the arena */
    size_t strings_len, strings_capacity;
} clh_st_header;

/* Parses the len bytes of JSON at `json` and checks everything one entry
 * can show: strict JSON syntax (RFC 8259: no trailing commas, no leading
 * zeros, only JSON whitespace) as UTF-8 with no NUL in a string, an object
 * at the top; each tensor entry exactly {dtype, shape, data_offsets} with a
 * known dtype, at most CLH_ST_MAX_DIMS extents and two offsets, all
 * integers in [0, 2^63), begin <= end <= data_len, and end - begin exactly
 * the shape's element count x dtype size; "__metadata__" once, an object of
 * strings. Left to the caller: distinct names and keys, and the tiling of
 * the data section. CLH_E_FORMAT (CLH_E_NOMEM) with a detail naming
 * `source`, the tensor and the byte; on failure *header holds nothing. */
clh_status clh_st_header_parse(clh_st_header *header, const char *source,
                               const unsigned char *json, size_t len, uint64_t data_len);
/* Releases what a parsed header holds (it may have been taken over: NULL
 * members are skipped). */
void clh_st_header_release(clh_st_header *header);

/* ---- writing the header (safetensors_header_write.c) -----------------------
 * Checks the entries (metadata first, then the tensors, each in the order
 * given, so the first bad one is named: keys and values present and UTF-8,
 * keys distinct; tensor names present, UTF-8, not "__metadata__" and
 * distinct, a known dtype, at most CLH_ST_MAX_DIMS extents >= 0 whose
 * product times the dtype size is nbytes, data unless empty, offsets within
 * int64) and writes the bytes before the data: the 8-byte little-endian
 * length, the compact JSON (metadata, then the tensors in the order given,
 * data back to back in that order), spaces up to a multiple of 8. *bytes
 * (clh_free) holds *len bytes; *data_len is the data section's size. A
 * header past CLH_ST_MAX_HEADER_BYTES is refused (the reader would refuse
 * the file). On error nothing is allocated. */
clh_status clh_st_header_write(unsigned char **bytes, size_t *len, size_t *data_len,
                               const clh_st_tensor *tensors, size_t n, const clh_st_meta *meta,
                               size_t n_meta);

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
