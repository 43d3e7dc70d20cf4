/* Helpers shared by the checkpoint and safetensors tests: raw file bytes
 * from a header string and error-detail checks (whole-file reads: file_util.h). */
#ifndef CLH_TEST_CHECKPOINT_UTIL_H
#define CLH_TEST_CHECKPOINT_UTIL_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "clheads.h"
#include "file_util.h"

/* 8-byte length + header (+ spaces to a multiple of 8 when pad) + data_len
 * bytes of data (counting up from 0). `length` overrides the stored header
 * length when not UINT64_MAX. */
static inline unsigned char *raw_file(const char *header, size_t data_len, int pad,
                                      uint64_t length, size_t *len) {
    size_t h = strlen(header), padded = pad ? (h + 7) / 8 * 8 : h;
    unsigned char *bytes = malloc(8 + padded + data_len + 1);
    if (!bytes) abort();
    uint64_t stored = length == UINT64_MAX ? padded : length;
    for (int i = 0; i < 8; i++) bytes[i] = (unsigned char)(stored >> (8 * i));
    memcpy(bytes + 8, header, h);
    memset(bytes + 8 + h, ' ', padded - h);
    for (size_t i = 0; i < data_len; i++) bytes[8 + padded + i] = (unsigned char)i;
    *len = 8 + padded + data_len;
    return bytes;
}

/* Parses the raw file; returns the status and frees everything. */
static inline clh_status parse_raw(const char *header, size_t data_len) {
    size_t len;
    unsigned char *bytes = raw_file(header, data_len, 1, UINT64_MAX, &len);
    clh_st_file *file = NULL;
    clh_status s = clh_st_parse(&file, bytes, len);
    clh_st_free(file);
    free(bytes);
    return s;
}

/* Checks that the last error detail contains `needle`. */
#define CHECK_DETAIL(needle)                                                              \
    do {                                                                                  \
        check_count++;                                                                    \
        if (!strstr(clh_last_error(), (needle))) {                                        \
            check_failures++;                                                             \
            fprintf(stderr, "%s:%d: detail \"%s\" lacks \"%s\"\n", __FILE__, __LINE__,    \
                    clh_last_error(), (needle));                                          \
        }                                                                                 \
    } while (0)

#endif
