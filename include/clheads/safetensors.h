/* clheads — a strict safetensors reader and an atomic writer.
 *
 * The format: an 8-byte little-endian header length N, then N bytes of JSON
 * mapping each tensor name to {"dtype", "shape", "data_offsets": [begin, end]}
 * (offsets relative to the data section that follows the header), plus an
 * optional "__metadata__" string-to-string map. Tensor bytes are little-endian.
 *
 * The reader is strict: it rejects (CLH_E_FORMAT, with a detail naming the
 * tensor, offset or size) a header length over 100 MB or past the end of the
 * data, invalid JSON or UTF-8, a non-object header, duplicate names, unknown
 * keys or dtypes, negative or non-integer shapes and offsets, offsets that
 * disagree with shape x dtype size, overlap, leave holes or leave trailing
 * bytes after the last tensor, and any size arithmetic that overflows. No
 * input makes it read out of bounds.
 *
 * A parsed file owns its bytes (a copy); tensor views stay valid until
 * clh_st_free. The data section is copied to malloc-aligned memory, so a
 * tensor's data is as aligned as its data offset is (check before casting
 * to float *); clh_st_to_f32 needs no alignment.
 *
 * The writer lays tensors out in the order given, starts the header with '{'
 * and pads it with spaces to a multiple of 8, and replaces the target file
 * atomically: a temporary file in the same directory is written, flushed and
 * fsynced, then renamed over the target, and the directory is fsynced. If any
 * step before the rename fails, the previous file is left untouched and the
 * save fails. Once the rename succeeded the save has succeeded (CLH_OK): the
 * directory fsync after it is best effort (it only makes the rename survive
 * a power loss), so its failure is not reported.
 *
 * Threads: a parsed clh_st_file is read-only, so any number of threads may
 * read its tensors and metadata at once; clh_st_free needs it to itself. Two
 * savers of one path (threads or processes) each write their own temporary
 * file: the target ends up as one complete file, never a mix.
 */
#ifndef CLHEADS_SAFETENSORS_H
#define CLHEADS_SAFETENSORS_H

#include <stddef.h>
#include <stdint.h>

#include "export.h"
#include "status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The dtypes of the safetensors format. */
typedef enum clh_dtype {
    CLH_DT_F32 = 0,
    CLH_DT_F16,
    CLH_DT_BF16,
    CLH_DT_F64,
    CLH_DT_I64,
    CLH_DT_I32,
    CLH_DT_I16,
    CLH_DT_I8,
    CLH_DT_U64,
    CLH_DT_U32,
    CLH_DT_U16,
    CLH_DT_U8,
    CLH_DT_BOOL,
    CLH_DT_F8_E4M3,
    CLH_DT_F8_E5M2,
    CLH_DT_COUNT
} clh_dtype;

/* "F32", "F16", "BF16", ...; NULL for a value outside the enum. */
CLH_API const char *clh_dtype_name(clh_dtype dtype);
/* Bytes per element (4 for F32); 0 for a value outside the enum. */
CLH_API size_t clh_dtype_size(clh_dtype dtype);
/* Parses an exact, case-sensitive dtype name ("F32") into *out.
 * CLH_E_INVALID_ARG for anything else. */
CLH_API clh_status clh_dtype_parse(const char *name, clh_dtype *out);

/* Largest rank the reader and writer handle (a file with a larger rank is
 * CLH_E_FORMAT). */
#define CLH_ST_MAX_DIMS 16

/* One tensor: a view (the reader) or a description to write (the writer).
 * nbytes must equal the product of shape x clh_dtype_size(dtype); a scalar
 * has ndim 0 and one element. data may be NULL only when nbytes is 0 (and in
 * a file opened with clh_st_open_header).
 * ABI: frozen, never grows (the writers take arrays of it); a later
 * version that needs more members adds a new struct and new functions beside
 * these, which stay as they are. */
typedef struct clh_st_tensor {
    const char *name;
    clh_dtype dtype;
    size_t ndim;
    int64_t shape[CLH_ST_MAX_DIMS];
    const void *data;
    size_t nbytes;
} clh_st_tensor;

/* One "__metadata__" entry (both strings UTF-8, NUL-terminated).
 * ABI: frozen, never grows (the writers take arrays of it); a later
 * version that needs more members adds a new struct and new functions beside
 * these, which stay as they are. */
typedef struct clh_st_meta {
    const char *key;
    const char *value;
} clh_st_meta;

/* ---- reading ------------------------------------------------------------ */

/* A parsed, validated file. Opaque. */
typedef struct clh_st_file clh_st_file;

/* Reads and validates the file at path. On success *out owns everything.
 * The data section is read only after the 8-byte length (against the file's
 * size and the 100 MB limit) and the whole header were checked, so a file
 * with a bad header costs no more than reading its header. */
CLH_API clh_status clh_st_open(clh_st_file **out, const char *path);
/* Reads only the 8-byte length and the header (checked as strictly as by
 * clh_st_open, data_offsets against the file's size): every tensor is
 * listed with its dtype, shape and nbytes, but its data is NULL (so
 * clh_st_to_f32 on it fails). For tools that describe a file without its
 * tensors' bytes; memory and time depend on the header only. */
CLH_API clh_status clh_st_open_header(clh_st_file **out, const char *path);
/* Validates len bytes from memory (copied; the caller keeps its buffer). */
CLH_API clh_status clh_st_parse(clh_st_file **out, const void *bytes, size_t len);
/* Releases the file. NULL is accepted and ignored. */
CLH_API void clh_st_free(clh_st_file *file);

/* Number of tensors. */
CLH_API size_t clh_st_count(const clh_st_file *file);
/* The i-th tensor in data order (by data_offsets), or NULL if i >= count. */
CLH_API const clh_st_tensor *clh_st_at(const clh_st_file *file, size_t i);
/* The tensor named `name`, or NULL. */
CLH_API const clh_st_tensor *clh_st_find(const clh_st_file *file, const char *name);

/* Number of "__metadata__" entries (0 when the file has none). */
CLH_API size_t clh_st_meta_count(const clh_st_file *file);
/* The i-th metadata entry in file order, or NULL if i >= count. */
CLH_API const clh_st_meta *clh_st_meta_at(const clh_st_file *file, size_t i);
/* The value of metadata key `key`, or NULL when absent. */
CLH_API const char *clh_st_meta_get(const clh_st_file *file, const char *key);

/* ---- what a reader expects of a tensor ------------------------------------
 * The one check every reader of a file applies before it uses a byte of a
 * tensor: its dtype is one of a set, its rank and every extent are the
 * expected ones, and its byte size is exactly extent product x element size.
 * A reader then converts (clh_st_to_f32) or copies exactly that many
 * elements, so nothing is trusted by element count alone. The heads and
 * optimizer loaders, the rehearsal memory and the clheads tool all use it. */

/* The bit of one dtype in a dtype set: CLH_ST_DTYPE_BIT(CLH_DT_I64). */
#define CLH_ST_DTYPE_BIT(dtype) (1u << (unsigned)(dtype))
/* The floating dtypes clh_st_to_f32 converts (F64 rounds to nearest). */
#define CLH_ST_FLOATING                                                             \
    (CLH_ST_DTYPE_BIT(CLH_DT_F32) | CLH_ST_DTYPE_BIT(CLH_DT_F16) |                 \
     CLH_ST_DTYPE_BIT(CLH_DT_BF16) | CLH_ST_DTYPE_BIT(CLH_DT_F64))
/* An extent in an expected shape that may take any value >= 0. */
#define CLH_ST_ANY_EXTENT (-1)

/* Checks `tensor` against what its reader expects: dtype in the set `dtypes`
 * (CLH_ST_DTYPE_BIT values or'ed), rank ndim, each extent equal to shape[d]
 * or any when shape[d] is CLH_ST_ANY_EXTENT (shape may be NULL for ndim 0),
 * and nbytes equal to the element count x dtype size. CLH_E_MISMATCH with a
 * detail naming `source` (the file), the tensor, what it has and what was
 * expected ("model.safetensors: tensor 'x' has shape [3], expected [any, 4]");
 * CLH_E_NULL when tensor is NULL (or shape is NULL with ndim > 0). */
CLH_API clh_status clh_st_expect_tensor(const clh_st_tensor *tensor, const char *source,
                                        unsigned dtypes, size_t ndim, const int64_t *shape);
/* Finds tensor `name` in file and checks it as clh_st_expect_tensor does; a
 * missing tensor is CLH_E_MISMATCH too. On success *out is the tensor (it is
 * left untouched on failure). */
CLH_API clh_status clh_st_expect(const clh_st_file *file, const char *source, const char *name,
                                 unsigned dtypes, size_t ndim, const int64_t *shape,
                                 const clh_st_tensor **out);

/* Converts a floating tensor (F32, F16, BF16, F64) to float32: writes its
 * element count into `out`, which has room for `count` floats. count must
 * equal the tensor's element count (else CLH_E_MISMATCH naming the tensor);
 * other dtypes are CLH_E_MISMATCH. F64 values are rounded to nearest. */
CLH_API clh_status clh_st_to_f32(const clh_st_tensor *tensor, float *out, size_t count);
/* The tensor's element count (product of its shape; 1 for a scalar). */
CLH_API size_t clh_st_numel(const clh_st_tensor *tensor);

/* ---- writing ------------------------------------------------------------ */

/* Writes tensors[0..n) (in that order) and the metadata (may be NULL when
 * n_meta is 0) to path, atomically (see above). Names must be distinct,
 * non-empty, valid UTF-8 and not "__metadata__"; metadata keys distinct.
 * Nothing is written (CLH_E_INVALID_ARG naming the tensor) if a tensor's
 * nbytes disagrees with its shape and dtype, nor (CLH_E_INVALID_ARG) if the
 * header would pass the format's 100 MB limit, which readers refuse (with
 * Adam's state a TIL checkpoint takes about 730 header bytes a head). */
CLH_API clh_status clh_st_save(const char *path, const clh_st_tensor *tensors, size_t n,
                               const clh_st_meta *meta, size_t n_meta);

/* The same file contents in memory: *bytes (free with clh_st_bytes_free) and
 * *len. Useful for tests and for callers that store the bytes elsewhere. */
CLH_API clh_status clh_st_encode(const clh_st_tensor *tensors, size_t n, const clh_st_meta *meta,
                                 size_t n_meta, unsigned char **bytes, size_t *len);
CLH_API void clh_st_bytes_free(unsigned char *bytes);

/* ---- half precision ----------------------------------------------------- */

/* IEEE binary16 and bfloat16 bit patterns to and from float32. The narrowing
 * conversions round to nearest even (as PyTorch's .half() / .bfloat16()),
 * overflow to infinity and keep NaN a NaN. */
CLH_API float clh_f16_to_f32(uint16_t bits);
CLH_API uint16_t clh_f32_to_f16(float value);
CLH_API float clh_bf16_to_f32(uint16_t bits);
CLH_API uint16_t clh_f32_to_bf16(float value);

#ifdef __cplusplus
}
#endif
#endif
