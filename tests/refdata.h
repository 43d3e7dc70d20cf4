/* Reader for the reference-data files that scripts/ write for the tests
 * (scripts/refdata.py has the writer). Little-endian layout:
 *   "CLHREF01", uint32 count, then per array: uint16 name length, name,
 *   uint8 dtype (1 = float32, 2 = int64), uint8 ndim (<= 4), uint32 dims[ndim],
 *   the elements.
 * Every size is checked against the file length before use. Arrays are copied
 * into their own aligned buffers. Test-support code: it prints what is wrong
 * to stderr and returns NULL, so a test can report and fail. */
#ifndef CLH_TEST_REFDATA_H
#define CLH_TEST_REFDATA_H

#include <stddef.h>
#include <stdint.h>

#define REFDATA_F32 1
#define REFDATA_I64 2
#define REFDATA_MAX_DIMS 4

typedef struct refdata_array {
    char *name;
    int dtype;
    int ndim;
    size_t dims[REFDATA_MAX_DIMS];
    size_t count; /* product of dims (1 for a scalar) */
    void *data;   /* float * or int64_t * */
} refdata_array;

typedef struct refdata {
    size_t count;
    refdata_array *arrays;
} refdata;

/* Loads a file; NULL (after printing why) on any error. */
refdata *refdata_load(const char *path);
/* Loads CLH_TEST_DATA_DIR "/" relative_path. */
refdata *refdata_load_test_file(const char *relative_path);
void refdata_free(refdata *rd);

/* The array with this exact name, or NULL. */
const refdata_array *refdata_find(const refdata *rd, const char *name);
/* printf-style name; NULL when missing or of another dtype. *count (may be NULL)
 * receives the element count. */
const float *refdata_f32(const refdata *rd, size_t *count, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
const int64_t *refdata_i64(const refdata *rd, size_t *count, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
