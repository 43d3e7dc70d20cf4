/* Whole-file reads and writes for the tests (header-only; the checkpoint,
 * CLI and reference-data tests share it). */
#ifndef CLH_TEST_FILE_UTIL_H
#define CLH_TEST_FILE_UTIL_H

#include <stdio.h>
#include <stdlib.h>

/* The bytes of the file at path, NUL-terminated (so text can be searched
 * directly), its length in *len (may be NULL). NULL when the file is missing
 * or cannot be read whole. The caller frees the result. */
static inline unsigned char *read_whole(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    long size = -1;
    if (fseek(f, 0, SEEK_END) == 0) size = ftell(f);
    unsigned char *bytes = NULL;
    if (size >= 0 && fseek(f, 0, SEEK_SET) == 0 && (bytes = malloc((size_t)size + 1)) &&
        fread(bytes, 1, (size_t)size, f) != (size_t)size) {
        free(bytes);
        bytes = NULL;
    }
    fclose(f);
    if (!bytes) return NULL;
    bytes[size] = '\0';
    if (len) *len = (size_t)size;
    return bytes;
}

/* Writes len bytes to path; 1 on success. */
static inline int write_whole(const char *path, const void *bytes, size_t len) {
    FILE *f = fopen(path, "wb");
    if (!f) return 0;
    int ok = fwrite(bytes, 1, len, f) == len;
    return fclose(f) == 0 && ok;
}

#endif
