/* The safetensors writer: the header (safetensors_header_write.c) and the
 * data, in memory or saved through the atomic file writer (atomic_file.c). */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "clheads/atomic_file.h"
#include "common/checked.h"
#include "clheads/safetensors.h"
#include "common/error.h"
#include "io/safetensors_internal.h"

/* The bytes before the data (safetensors_header_write.c). */
typedef struct header {
    unsigned char *bytes;
    size_t len;
    size_t data_len;
} header;

static clh_status build_header(header *out, const clh_st_tensor *tensors, size_t n,
                               const clh_st_meta *meta, size_t n_meta) {
    return clh_st_header_write(&out->bytes, &out->len, &out->data_len, tensors, n, meta, n_meta);
}

clh_status clh_st_encode(const clh_st_tensor *tensors, size_t n, const clh_st_meta *meta,
                         size_t n_meta, unsigned char **bytes, size_t *len) {
    if (!bytes || !len) return clh_fail(CLH_E_NULL, "clh_st_encode: bytes and len are required");
    header head;
    clh_status status = build_header(&head, tensors, n, meta, n_meta);
    if (status != CLH_OK) return status;
    size_t total;
    if (!clh_add_size(head.len, head.data_len, &total)) {
        clh_free(head.bytes);
        return clh_fail(CLH_E_OVERFLOW, "clh_st_encode: the file size overflows");
    }
    unsigned char *buffer = clh_realloc(head.bytes, total);
    if (!buffer) {
        clh_free(head.bytes);
        return clh_fail(CLH_E_NOMEM, "clh_st_encode: no memory for %zu bytes", total);
    }
    size_t at = head.len;
    for (size_t i = 0; i < n; i++) {
        if (tensors[i].nbytes) memcpy(buffer + at, tensors[i].data, tensors[i].nbytes);
        at += tensors[i].nbytes;
    }
    *bytes = buffer;
    *len = total;
    return CLH_OK;
}

void clh_st_bytes_free(unsigned char *bytes) { clh_free(bytes); }

/* ---- the atomic save (through clh_atomic_file) -------------------------------- */

/* Writes to the temporary file; with the WRITE hook armed it stops half way
 * through the file, like a full disk. */
typedef struct sink {
    FILE *stream;
    size_t written;
    size_t limit; /* SIZE_MAX unless a failure is injected */
} sink;

static int put(sink *s, const void *bytes, size_t len) {
    size_t allowed = s->limit - s->written < len ? s->limit - s->written : len;
    if (allowed && fwrite(bytes, 1, allowed, s->stream) != allowed) return 0;
    s->written += allowed;
    if (allowed < len) {
        errno = EIO;
        return 0;
    }
    return 1;
}

clh_status clh_st_save(const char *path, const clh_st_tensor *tensors, size_t n,
                       const clh_st_meta *meta, size_t n_meta) {
    if (!path || !path[0]) return clh_fail(CLH_E_NULL, "clh_st_save: a path is required");
    header head;
    clh_status status = build_header(&head, tensors, n, meta, n_meta);
    if (status != CLH_OK) return status;

    clh_atomic_file *file = NULL;
    if ((status = clh_atomic_open(&file, path)) != CLH_OK) goto done;
    sink s = {clh_atomic_stream(file), 0, SIZE_MAX};
    if (clh_test_save_fails_at(CLH_SAVE_STEP_WRITE)) s.limit = (head.len + head.data_len) / 2;
    int ok = put(&s, head.bytes, head.len);
    for (size_t i = 0; ok && i < n; i++)
        if (tensors[i].nbytes) ok = put(&s, tensors[i].data, tensors[i].nbytes);
    status = ok ? clh_atomic_commit(file) : clh_atomic_discard(file, "writing", errno);
done:
    clh_free(head.bytes);
    return status;
}
