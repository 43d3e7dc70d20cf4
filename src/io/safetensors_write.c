/* The safetensors writer: the header JSON (built with jansson), its padding,
 * and the save through the atomic file writer (atomic_file.c). */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "common/alloc.h"
#include "clheads/atomic_file.h"
#include "common/checked.h"
#include "clheads/safetensors.h"
#include "common/error.h"
#include "io/safetensors_internal.h"
#include "common/utf8.h"

/* ---- validation ----------------------------------------------------------- */

/* 1 when text is well-formed UTF-8 (no overlong forms, surrogates or code
 * points past U+10FFFF), which JSON strings require. */
static int utf8_valid(const char *text) {
    const unsigned char *p = (const unsigned char *)text;
    size_t left = strlen(text);
    while (left > 0) {
        size_t length = clh_utf8_length(p, left);
        if (length == 0) return 0;
        p += length;
        left -= length;
    }
    return 1;
}

static clh_status check_tensor(const clh_st_tensor *tensor, size_t index) {
    if (!tensor->name || !tensor->name[0])
        return clh_fail(CLH_E_INVALID_ARG, "tensor %zu has no name", index);
    const char *name = tensor->name;
    if (!utf8_valid(name))
        return clh_fail(CLH_E_INVALID_ARG, "tensor %zu: name is not valid UTF-8", index);
    if (strcmp(name, "__metadata__") == 0)
        return clh_fail(CLH_E_INVALID_ARG, "tensor %zu: the name __metadata__ is reserved", index);
    if (!clh_dtype_name(tensor->dtype))
        return clh_fail(CLH_E_INVALID_ARG, "tensor '%.120s': invalid dtype %d", name,
                        (int)tensor->dtype);
    if (tensor->ndim > CLH_ST_MAX_DIMS)
        return clh_fail(CLH_E_INVALID_ARG, "tensor '%.120s': rank %zu exceeds the limit of %d",
                        name, tensor->ndim, CLH_ST_MAX_DIMS);
    size_t numel = 1, nbytes;
    for (size_t d = 0; d < tensor->ndim; d++) {
        if (tensor->shape[d] < 0)
            return clh_fail(CLH_E_INVALID_ARG, "tensor '%.120s': shape[%zu] = %lld is negative",
                            name, d, (long long)tensor->shape[d]);
        if (!clh_mul_size(numel, (size_t)tensor->shape[d], &numel))
            return clh_fail(CLH_E_INVALID_ARG, "tensor '%.120s': shape product overflows", name);
    }
    if (!clh_mul_size(numel, clh_dtype_size(tensor->dtype), &nbytes) || nbytes != tensor->nbytes)
        return clh_fail(CLH_E_INVALID_ARG,
                        "tensor '%.120s': nbytes %zu disagrees with its shape (%zu elements of %s)",
                        name, tensor->nbytes, numel, clh_dtype_name(tensor->dtype));
    if (nbytes > 0 && !tensor->data)
        return clh_fail(CLH_E_NULL, "tensor '%.120s' has no data", name);
    return CLH_OK;
}

/* ---- the header ------------------------------------------------------------- */

/* The bytes before the data: 8-byte length, JSON, spaces up to a multiple of 8. */
typedef struct header {
    unsigned char *bytes;
    size_t len;
    size_t data_len;
} header;

static json_t *tensor_info(const clh_st_tensor *tensor, size_t begin) {
    json_t *info = json_object();
    json_t *shape = json_array();
    json_t *offsets = json_array();
    int failed = !info || !shape || !offsets;
    for (size_t d = 0; !failed && d < tensor->ndim; d++)
        failed = json_array_append_new(shape, json_integer(tensor->shape[d])) != 0;
    if (!failed)
        failed = json_array_append_new(offsets, json_integer((json_int_t)begin)) ||
                 json_array_append_new(offsets, json_integer((json_int_t)(begin + tensor->nbytes)));
    if (!failed)
        failed = json_object_set_new(info, "dtype", json_string(clh_dtype_name(tensor->dtype))) ||
                 json_object_set(info, "shape", shape) ||
                 json_object_set(info, "data_offsets", offsets);
    json_decref(shape);
    json_decref(offsets);
    if (failed) {
        json_decref(info);
        return NULL;
    }
    return info;
}

/* Validates everything and builds the JSON tree; the header bytes follow. */
static clh_status build_json(json_t **out, size_t *data_len, const clh_st_tensor *tensors,
                             size_t n, const clh_st_meta *meta, size_t n_meta) {
    if ((n > 0 && !tensors) || (n_meta > 0 && !meta))
        return clh_fail(CLH_E_NULL, "safetensors: tensors and meta are required when counted");
    json_t *root = json_object();
    json_t *meta_object = n_meta ? json_object() : NULL;
    clh_status status = CLH_OK;
    if (!root || (n_meta && !meta_object)) goto nomem;
    for (size_t m = 0; m < n_meta; m++) {
        const char *key = meta[m].key, *value = meta[m].value;
        if (!key || !value) {
            status = clh_fail(CLH_E_NULL, "metadata entry %zu has no key or value", m);
            goto fail;
        }
        if (!utf8_valid(key) || !utf8_valid(value)) {
            status = clh_fail(CLH_E_INVALID_ARG, "metadata entry %zu is not valid UTF-8", m);
            goto fail;
        }
        if (json_object_get(meta_object, key)) {
            status = clh_fail(CLH_E_INVALID_ARG, "metadata key '%.120s' appears twice", key);
            goto fail;
        }
        if (json_object_set_new(meta_object, key, json_string(value))) goto nomem;
    }
    if (meta_object && json_object_set(root, "__metadata__", meta_object)) goto nomem;

    size_t offset = 0;
    for (size_t i = 0; i < n; i++) {
        if ((status = check_tensor(&tensors[i], i)) != CLH_OK) goto fail;
        if (json_object_get(root, tensors[i].name)) {
            status = clh_fail(CLH_E_INVALID_ARG, "tensor name '%.120s' appears twice",
                              tensors[i].name);
            goto fail;
        }
        size_t end;
        if (!clh_add_size(offset, tensors[i].nbytes, &end) || end > (size_t)INT64_MAX) {
            status = clh_fail(CLH_E_OVERFLOW, "tensor '%.120s': data offsets overflow",
                              tensors[i].name);
            goto fail;
        }
        json_t *info = tensor_info(&tensors[i], offset);
        if (!info || json_object_set_new(root, tensors[i].name, info)) goto nomem;
        offset = end;
    }
    json_decref(meta_object);
    *out = root;
    *data_len = offset;
    return CLH_OK;
nomem:
    status = clh_fail(CLH_E_NOMEM, "safetensors: no memory for the header");
fail:
    json_decref(meta_object);
    json_decref(root);
    return status;
}

static clh_status build_header(header *out, const clh_st_tensor *tensors, size_t n,
                               const clh_st_meta *meta, size_t n_meta) {
    json_t *root;
    size_t data_len = 0;
    clh_status status = build_json(&root, &data_len, tensors, n, meta, n_meta);
    if (status != CLH_OK) return status;
    size_t json_len = json_dumpb(root, NULL, 0, JSON_COMPACT);
    size_t padded, total;
    if (json_len == 0 || !clh_add_size(json_len, 7, &padded) ||
        !clh_add_size(padded & ~(size_t)7, 8, &total)) {
        json_decref(root);
        return clh_fail(CLH_E_OVERFLOW, "safetensors: the header is too large");
    }
    padded &= ~(size_t)7;
    unsigned char *bytes = clh_malloc(total);
    if (!bytes) {
        json_decref(root);
        return clh_fail(CLH_E_NOMEM, "safetensors: no memory for a %zu-byte header", total);
    }
    size_t written = json_dumpb(root, (char *)bytes + 8, json_len, JSON_COMPACT);
    json_decref(root);
    if (written != json_len) {
        clh_free(bytes);
        return clh_fail(CLH_E_NOMEM, "safetensors: serialising the header failed");
    }
    memset(bytes + 8 + json_len, ' ', padded - json_len);
    for (int i = 0; i < 8; i++) bytes[i] = (unsigned char)((uint64_t)padded >> (8 * i));
    out->bytes = bytes;
    out->len = total;
    out->data_len = data_len;
    return CLH_OK;
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
