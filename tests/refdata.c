/* Reader for scripts/refdata.py files (format in refdata.h). */
#include "refdata.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "file_util.h"

typedef struct cursor {
    const unsigned char *p;
    size_t left;
    const char *path;
} cursor;

static int take(cursor *c, void *out, size_t n) {
    if (n > c->left) return 0;
    if (out) memcpy(out, c->p, n);
    c->p += n;
    c->left -= n;
    return 1;
}

static uint64_t le(const unsigned char *b, int n) {
    uint64_t v = 0;
    for (int i = n - 1; i >= 0; i--) v = (v << 8) | b[i];
    return v;
}

static int take_le(cursor *c, int n, uint64_t *out) {
    unsigned char b[8];
    if (!take(c, b, (size_t)n)) return 0;
    *out = le(b, n);
    return 1;
}

/* Parses one array header + data; returns 0 on malformed input. */
static int parse_array(cursor *c, refdata_array *a) {
    uint64_t name_len, dtype, ndim, dim;
    if (!take_le(c, 2, &name_len) || name_len > c->left) return 0;
    a->name = malloc((size_t)name_len + 1);
    if (!a->name) return 0;
    take(c, a->name, (size_t)name_len);
    a->name[name_len] = '\0';
    if (!take_le(c, 1, &dtype) || !take_le(c, 1, &ndim)) return 0;
    if ((dtype != REFDATA_F32 && dtype != REFDATA_I64) || ndim > REFDATA_MAX_DIMS) return 0;
    a->dtype = (int)dtype;
    a->ndim = (int)ndim;
    a->count = 1;
    for (int i = 0; i < a->ndim; i++) {
        if (!take_le(c, 4, &dim)) return 0;
        a->dims[i] = (size_t)dim;
        if (__builtin_mul_overflow(a->count, a->dims[i], &a->count)) return 0;
    }
    size_t elem = dtype == REFDATA_F32 ? sizeof(float) : sizeof(int64_t), bytes;
    if (__builtin_mul_overflow(a->count, elem, &bytes) || bytes > c->left) return 0;
    a->data = malloc(bytes ? bytes : 1);
    if (!a->data) return 0;
    /* Elements are little-endian on disk; decode portably. */
    for (size_t i = 0; i < a->count; i++) {
        uint64_t v = 0;
        take_le(c, (int)elem, &v);
        if (dtype == REFDATA_F32) {
            uint32_t bits = (uint32_t)v;
            memcpy((float *)a->data + i, &bits, sizeof bits);
        } else {
            memcpy((int64_t *)a->data + i, &v, sizeof v);
        }
    }
    return 1;
}

refdata *refdata_load(const char *path) {
    size_t size = 0;
    unsigned char *buf = read_whole(path, &size);
    if (!buf) {
        fprintf(stderr, "refdata: cannot read %s\n", path);
        return NULL;
    }
    cursor c = {buf, size, path};
    refdata *rd = calloc(1, sizeof *rd);
    uint64_t count = 0;
    int ok = rd && size >= 12 && memcmp(buf, "CLHREF01", 8) == 0;
    if (ok) {
        take(&c, NULL, 8);
        ok = take_le(&c, 4, &count) && count <= size; /* each array takes >= 1 byte */
    }
    if (ok) ok = (rd->arrays = calloc(count ? (size_t)count : 1, sizeof *rd->arrays)) != NULL;
    for (uint64_t i = 0; ok && i < count; i++) {
        rd->count = (size_t)i + 1;
        ok = parse_array(&c, &rd->arrays[i]);
    }
    if (ok && c.left != 0) ok = 0;
    free(buf);
    if (!ok) {
        fprintf(stderr, "refdata: %s is malformed (array %zu)\n", path, rd ? rd->count : 0);
        refdata_free(rd);
        return NULL;
    }
    return rd;
}

#ifndef CLH_TEST_DATA_DIR
#define CLH_TEST_DATA_DIR "tests/data"
#endif

refdata *refdata_load_test_file(const char *relative_path) {
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", CLH_TEST_DATA_DIR, relative_path);
    return refdata_load(path);
}

void refdata_free(refdata *rd) {
    if (!rd) return;
    for (size_t i = 0; i < rd->count; i++) {
        free(rd->arrays[i].name);
        free(rd->arrays[i].data);
    }
    free(rd->arrays);
    free(rd);
}

const refdata_array *refdata_find(const refdata *rd, const char *name) {
    for (size_t i = 0; i < rd->count; i++)
        if (strcmp(rd->arrays[i].name, name) == 0) return &rd->arrays[i];
    return NULL;
}

__attribute__((format(printf, 4, 0))) static const refdata_array *find_typed(
    const refdata *rd, int dtype, size_t *count, const char *fmt, va_list args) {
    char name[512];
    vsnprintf(name, sizeof name, fmt, args);
    const refdata_array *a = refdata_find(rd, name);
    if (!a || a->dtype != dtype) return NULL;
    if (count) *count = a->count;
    return a;
}

const float *refdata_f32(const refdata *rd, size_t *count, const char *fmt, ...) {
    va_list args;
    va_start(args, fmt);
    const refdata_array *a = find_typed(rd, REFDATA_F32, count, fmt, args);
    va_end(args);
    return a ? (const float *)a->data : NULL;
}

const int64_t *refdata_i64(const refdata *rd, size_t *count, const char *fmt, ...) {
    va_list args;
    va_start(args, fmt);
    const refdata_array *a = find_typed(rd, REFDATA_I64, count, fmt, args);
    va_end(args);
    return a ? (const int64_t *)a->data : NULL;
}
