/* The strict safetensors reader (rules in include/clheads/safetensors.h).
 *
 * Order of checks: the 8-byte length, then the JSON (jansson rejects invalid
 * UTF-8, duplicate keys and integers that overflow), then each entry's
 * schema, then each tensor's byte size against its data_offsets, and last the
 * tiling of the data section: sorted by offset, the tensors must cover it
 * exactly, with no overlap, hole or trailing byte. Only then is anything
 * copied, so a rejected input costs no more than its JSON parse. A file is
 * read the same way: the 8-byte length (checked against the file size and
 * the limit), then the header, which is parsed and checked in full, and only
 * then the data section. */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <jansson.h>

#include "common/alloc.h"
#include "common/checked.h"
#include "clheads/safetensors.h"
#include "common/little_endian.h"
#include "common/error.h"
#include "io/safetensors_internal.h"

/* The format's limit on the header: 100 MB. */
#define ST_MAX_HEADER_BYTES ((uint64_t)100000000)

/* Detail texts quote at most this many bytes of a tensor name. */
#define NAME_FMT "'%.120s'"

struct clh_st_file {
    clh_st_tensor *tensors; /* [count], in data order */
    size_t count;
    clh_st_meta *meta; /* [meta_count], in file order */
    size_t meta_count;
    char *strings;       /* every name, key and value, NUL-terminated */
    unsigned char *data; /* the data section (owned, malloc-aligned); NULL when header-only */
    size_t data_len;
    size_t *by_name; /* [count] tensor indices sorted by name (clh_st_find) */
};

/* One tensor entry as validated from the JSON, before anything is copied. */
typedef struct entry {
    const char *name; /* borrowed from the JSON tree */
    size_t name_len;
    clh_dtype dtype;
    size_t ndim;
    int64_t shape[CLH_ST_MAX_DIMS];
    uint64_t begin, end;
} entry;

/* A JSON integer >= 0, else 0. */
static int json_nonnegative(const json_t *value, uint64_t *out) {
    if (!json_is_integer(value)) return 0;
    json_int_t v = json_integer_value(value);
    if (v < 0) return 0;
    *out = (uint64_t)v;
    return 1;
}

/* Validates one tensor entry's schema and its byte size. */
static clh_status read_entry(const char *source, const char *name, size_t name_len,
                             const json_t *info, uint64_t data_len, entry *out) {
    if (!json_is_object(info))
        return clh_fail(CLH_E_FORMAT, "%s: tensor " NAME_FMT ": entry is not a JSON object", source,
                        name);
    const json_t *dtype = json_object_get(info, "dtype");
    const json_t *shape = json_object_get(info, "shape");
    const json_t *offsets = json_object_get(info, "data_offsets");
    if (!dtype || !shape || !offsets || json_object_size(info) != 3)
        return clh_fail(CLH_E_FORMAT,
                        "%s: tensor " NAME_FMT
                        ": entry must have exactly the keys dtype, shape and data_offsets",
                        source, name);

    out->name = name;
    out->name_len = name_len;
    if (!json_is_string(dtype))
        return clh_fail(CLH_E_FORMAT, "%s: tensor " NAME_FMT ": dtype is not a string", source,
                        name);
    if (clh_dtype_parse(json_string_value(dtype), &out->dtype) != CLH_OK)
        return clh_fail(CLH_E_FORMAT, "%s: tensor " NAME_FMT ": unknown dtype \"%.32s\"", source,
                        name, json_string_value(dtype));

    if (!json_is_array(shape))
        return clh_fail(CLH_E_FORMAT, "%s: tensor " NAME_FMT ": shape is not an array", source,
                        name);
    out->ndim = json_array_size(shape);
    if (out->ndim > CLH_ST_MAX_DIMS)
        return clh_fail(CLH_E_FORMAT, "%s: tensor " NAME_FMT ": rank %zu exceeds the limit of %d",
                        source, name, out->ndim, CLH_ST_MAX_DIMS);
    for (size_t d = 0; d < out->ndim; d++) {
        uint64_t extent;
        if (!json_nonnegative(json_array_get(shape, d), &extent))
            return clh_fail(CLH_E_FORMAT,
                            "%s: tensor " NAME_FMT ": shape[%zu] is not a non-negative integer",
                            source, name, d);
        out->shape[d] = (int64_t)extent;
    }
    /* A product that overflows is fine if some extent is 0. */
    size_t numel = 0;
    int numel_overflows = !clh_shape_numel(out->shape, out->ndim, &numel);

    if (!json_is_array(offsets) || json_array_size(offsets) != 2 ||
        !json_nonnegative(json_array_get(offsets, 0), &out->begin) ||
        !json_nonnegative(json_array_get(offsets, 1), &out->end))
        return clh_fail(CLH_E_FORMAT,
                        "%s: tensor " NAME_FMT
                        ": data_offsets is not a pair of non-negative integers",
                        source, name);
    if (out->begin > out->end)
        return clh_fail(CLH_E_FORMAT,
                        "%s: tensor " NAME_FMT ": data_offsets [%llu, %llu] end before they begin",
                        source, name, (unsigned long long)out->begin,
                        (unsigned long long)out->end);
    if (out->end > data_len)
        return clh_fail(CLH_E_FORMAT,
                        "%s: tensor " NAME_FMT
                        ": data_offsets end %llu lies past the end of the data section (%llu "
                        "bytes; truncated file?)",
                        source, name, (unsigned long long)out->end, (unsigned long long)data_len);

    size_t nbytes;
    if (numel_overflows || !clh_mul_size(numel, clh_dtype_size(out->dtype), &nbytes))
        return clh_fail(CLH_E_FORMAT, "%s: tensor " NAME_FMT ": shape x %s size overflows", source,
                        name, clh_dtype_name(out->dtype));
    if ((uint64_t)nbytes != out->end - out->begin)
        return clh_fail(CLH_E_FORMAT,
                        "%s: tensor " NAME_FMT
                        ": data_offsets [%llu, %llu] hold %llu bytes, but its shape and dtype "
                        "%s need %zu",
                        source, name, (unsigned long long)out->begin,
                        (unsigned long long)out->end,
                        (unsigned long long)(out->end - out->begin), clh_dtype_name(out->dtype),
                        nbytes);
    return CLH_OK;
}

/* Validates __metadata__ and adds its strings' sizes to *string_bytes. */
static clh_status read_metadata(const char *source, const json_t *meta, size_t *string_bytes) {
    if (!json_is_object(meta))
        return clh_fail(CLH_E_FORMAT, "%s: __metadata__ is not a JSON object", source);
    const char *key;
    const json_t *value;
    json_object_foreach((json_t *)meta, key, value) {
        if (!json_is_string(value))
            return clh_fail(CLH_E_FORMAT, "%s: __metadata__ value of key " NAME_FMT
                                          " is not a string",
                            source, key);
        size_t total;
        if (!clh_add_size(strlen(key), json_string_length(value), &total) ||
            !clh_add_size(total, 2, &total) || !clh_add_size(*string_bytes, total, string_bytes))
            return clh_fail(CLH_E_FORMAT, "%s: __metadata__ sizes overflow", source);
    }
    return CLH_OK;
}

static int entry_order(const void *a, const void *b) {
    const entry *x = a, *y = b;
    if (x->begin != y->begin) return x->begin < y->begin ? -1 : 1;
    if (x->end != y->end) return x->end < y->end ? -1 : 1;
    return strcmp(x->name, y->name);
}

/* Sorted by offsets, the tensors must tile [0, data_len) exactly. */
static clh_status check_tiling(const char *source, const entry *entries, size_t n,
                               uint64_t data_len) {
    uint64_t covered = 0;
    for (size_t i = 0; i < n; i++) {
        if (entries[i].begin < covered)
            return clh_fail(CLH_E_FORMAT,
                            "%s: tensor " NAME_FMT " at data_offsets [%llu, %llu] overlaps tensor " NAME_FMT
                            " (which ends at %llu)",
                            source, entries[i].name, (unsigned long long)entries[i].begin,
                            (unsigned long long)entries[i].end, entries[i - 1].name,
                            (unsigned long long)covered);
        if (entries[i].begin > covered)
            return clh_fail(CLH_E_FORMAT,
                            "%s: hole in the data section: bytes [%llu, %llu) before tensor " NAME_FMT
                            " belong to no tensor",
                            source, (unsigned long long)covered,
                            (unsigned long long)entries[i].begin, entries[i].name);
        covered = entries[i].end;
    }
    if (covered != data_len)
        return clh_fail(CLH_E_FORMAT,
                        "%s: %llu trailing bytes after the last tensor (tensors end at offset "
                        "%llu, the data section has %llu bytes)",
                        source, (unsigned long long)(data_len - covered),
                        (unsigned long long)covered, (unsigned long long)data_len);
    return CLH_OK;
}

static char *copy_string(char **cursor, const char *text, size_t len) {
    char *start = *cursor;
    memcpy(start, text, len);
    start[len] = '\0';
    *cursor = start + len + 1;
    return start;
}

void clh_st_free(clh_st_file *file) {
    if (!file) return;
    clh_free(file->tensors);
    clh_free(file->meta);
    clh_free(file->strings);
    clh_free(file->data);
    clh_free(file->by_name);
    clh_free(file);
}

/* Sorting the name index: qsort's comparator gets no context, so the
 * tensors it refers to travel in a thread-local (the sort is not reentrant
 * otherwise). */
static _Thread_local const clh_st_tensor *sorting_tensors;

static int by_tensor_name(const void *a, const void *b) {
    return strcmp(sorting_tensors[*(const size_t *)a].name,
                  sorting_tensors[*(const size_t *)b].name);
}

/* Builds the file from its JSON tree; data (data_len bytes) is copied from
 * `data` unless `owned_data` is given, which it then takes over. With
 * neither, the file is header-only: every tensor's data is NULL. */
static clh_status build(clh_st_file **out, const char *source, json_t *root,
                        const unsigned char *data, unsigned char *owned_data,
                        uint64_t data_len) {
    int header_only = !data && !owned_data;
    size_t n_entries = json_object_size(root);
    const json_t *meta = json_object_get(root, "__metadata__");
    size_t n = n_entries - (meta ? 1 : 0);
    size_t n_meta = meta && json_is_object(meta) ? json_object_size(meta) : 0;
    size_t string_bytes = 0, bytes;
    clh_status status = CLH_OK;
    clh_st_file *file = NULL;
    entry *entries = NULL;

    if (meta && (status = read_metadata(source, meta, &string_bytes)) != CLH_OK) goto fail;
    if (!clh_mul_size(n, sizeof *entries, &bytes)) {
        status = clh_fail(CLH_E_FORMAT, "%s: too many tensors (%zu)", source, n);
        goto fail;
    }
    entries = clh_malloc(bytes ? bytes : 1);
    if (!entries) {
        status = clh_fail(CLH_E_NOMEM, "%s: no memory for %zu tensor entries", source, n);
        goto fail;
    }
    size_t i = 0;
    const char *key;
    json_t *value;
    json_object_foreach(root, key, value) {
        if (strcmp(key, "__metadata__") == 0) continue;
        size_t len = strlen(key);
        status = read_entry(source, key, len, value, data_len, &entries[i]);
        if (status != CLH_OK) goto fail;
        if (!clh_add_size(string_bytes, len, &string_bytes) ||
            !clh_add_size(string_bytes, 1, &string_bytes)) {
            status = clh_fail(CLH_E_FORMAT, "%s: tensor name sizes overflow", source);
            goto fail;
        }
        i++;
    }
    if (n > 0) qsort(entries, n, sizeof *entries, entry_order);
    if ((status = check_tiling(source, entries, n, data_len)) != CLH_OK) goto fail;

    /* Everything is valid: copy it out of the JSON tree. */
    size_t tensor_bytes, meta_bytes;
    if (data_len > SIZE_MAX || !clh_mul_size(n, sizeof(clh_st_tensor), &tensor_bytes) ||
        !clh_mul_size(n_meta, sizeof(clh_st_meta), &meta_bytes)) {
        status = clh_fail(CLH_E_FORMAT, "%s: sizes overflow", source);
        goto fail;
    }
    file = clh_calloc(1, sizeof *file);
    if (!file) goto nomem;
    file->tensors = clh_malloc(tensor_bytes ? tensor_bytes : 1);
    file->meta = clh_malloc(meta_bytes ? meta_bytes : 1);
    file->strings = clh_malloc(string_bytes ? string_bytes : 1);
    file->by_name = clh_malloc(n ? n * sizeof *file->by_name : 1);
    if (owned_data) {
        file->data = owned_data;
        owned_data = NULL;
    } else if (!header_only) {
        file->data = clh_malloc(data_len ? (size_t)data_len : 1);
        if (file->data && data_len) memcpy(file->data, data, (size_t)data_len);
    }
    if (!file->tensors || !file->meta || !file->strings || !file->by_name ||
        (!header_only && !file->data))
        goto nomem;
    file->count = n;
    file->meta_count = n_meta;
    file->data_len = (size_t)data_len;

    char *cursor = file->strings;
    for (size_t t = 0; t < n; t++) {
        clh_st_tensor *tensor = &file->tensors[t];
        memset(tensor, 0, sizeof *tensor);
        tensor->name = copy_string(&cursor, entries[t].name, entries[t].name_len);
        tensor->dtype = entries[t].dtype;
        tensor->ndim = entries[t].ndim;
        memcpy(tensor->shape, entries[t].shape, sizeof tensor->shape);
        tensor->data = header_only ? NULL : file->data + entries[t].begin;
        tensor->nbytes = (size_t)(entries[t].end - entries[t].begin);
        file->by_name[t] = t;
    }
    sorting_tensors = file->tensors;
    if (n > 1) qsort(file->by_name, n, sizeof *file->by_name, by_tensor_name);
    sorting_tensors = NULL;
    if (n_meta) {
        size_t m = 0;
        json_object_foreach((json_t *)meta, key, value) {
            file->meta[m].key = copy_string(&cursor, key, strlen(key));
            file->meta[m].value =
                copy_string(&cursor, json_string_value(value), json_string_length(value));
            m++;
        }
    }
    clh_free(entries);
    *out = file;
    return CLH_OK;

nomem:
    status = clh_fail(CLH_E_NOMEM, "%s: no memory for the parsed file", source);
fail:
    clh_free(entries);
    clh_free(owned_data);
    clh_st_free(file);
    return status;
}

/* Parses and checks the header (N bytes at `header`). */
static clh_status parse_header(json_t **out, const char *source, const unsigned char *header,
                               size_t header_len) {
    if (header_len == 0 || header[0] != '{')
        return clh_fail(CLH_E_FORMAT, "%s: the JSON header is not an object (it does not start with '{')",
                        source);
    /* A header with a metadata value such as "a\u0000b" would make C strings
     * lie; jansson rejects NUL in strings unless asked otherwise. */
    json_error_t error;
    json_t *root = json_loadb((const char *)header, header_len, JSON_REJECT_DUPLICATES, &error);
    if (!root)
        return clh_fail(CLH_E_FORMAT, "%s: invalid JSON header at byte %d: %.200s", source,
                        error.position, error.text);
    if (!json_is_object(root)) {
        json_decref(root);
        return clh_fail(CLH_E_FORMAT, "%s: the JSON header is not an object", source);
    }
    *out = root;
    return CLH_OK;
}

/* Checks the header length N against the limit and the input size. */
static clh_status check_header_length(const char *source, uint64_t header_len,
                                      uint64_t bytes_after_length) {
    if (header_len > ST_MAX_HEADER_BYTES)
        return clh_fail(CLH_E_FORMAT, "%s: header length %llu exceeds the 100 MB limit", source,
                        (unsigned long long)header_len);
    if (header_len > bytes_after_length)
        return clh_fail(CLH_E_FORMAT,
                        "%s: header length %llu runs past the end of the file (%llu bytes "
                        "follow the length; truncated file?)",
                        source, (unsigned long long)header_len,
                        (unsigned long long)bytes_after_length);
    return CLH_OK;
}

clh_status clh_st_parse(clh_st_file **out, const void *bytes, size_t len) {
    if (!out || (!bytes && len > 0))
        return clh_fail(CLH_E_NULL, "clh_st_parse: out and bytes are required");
    const char *source = "<memory>";
    if (len < 8)
        return clh_fail(CLH_E_FORMAT,
                        "%s: %zu bytes are too short for the 8-byte header length (truncated "
                        "file?)",
                        source, len);
    const unsigned char *p = bytes;
    uint64_t header_len = clh_load_le64(p);
    clh_status status = check_header_length(source, header_len, len - 8);
    if (status != CLH_OK) return status;
    json_t *root;
    if ((status = parse_header(&root, source, p + 8, (size_t)header_len)) != CLH_OK) return status;
    size_t data_start = 8 + (size_t)header_len;
    status = build(out, source, root, p + data_start, NULL, len - data_start);
    json_decref(root);
    return status;
}

/* Reads exactly len bytes or fails naming the file. */
static clh_status read_exact(FILE *stream, const char *path, void *into, size_t len,
                             const char *what) {
    if (len > 0 && fread(into, 1, len, stream) != len)
        return ferror(stream) ? clh_fail(CLH_E_IO, "%s: reading the %s failed: %s", path, what,
                                         strerror(errno))
                              : clh_fail(CLH_E_FORMAT, "%s: file ends inside the %s (truncated)",
                                         path, what);
    return CLH_OK;
}

/* Opens path: the length, the header, and (unless header_only) the data
 * section, each read only once everything before it was checked. */
static clh_status open_file(clh_st_file **out, const char *path, int header_only) {
    FILE *stream = fopen(path, "rb");
    if (!stream) return clh_fail(CLH_E_IO, "cannot open '%s': %s", path, strerror(errno));
    struct stat info;
    if (fstat(fileno(stream), &info) != 0 || !S_ISREG(info.st_mode)) {
        fclose(stream);
        return clh_fail(CLH_E_IO, "'%s' is not a readable regular file", path);
    }
    uint64_t file_len = (uint64_t)info.st_size;
    unsigned char length_bytes[8];
    unsigned char *header = NULL, *data = NULL;
    json_t *root = NULL;
    clh_st_file *file = NULL;
    clh_status status;
    if (file_len < 8) {
        status = clh_fail(CLH_E_FORMAT,
                          "%s: %llu bytes are too short for the 8-byte header length (truncated "
                          "file?)",
                          path, (unsigned long long)file_len);
        goto done;
    }
    if ((status = read_exact(stream, path, length_bytes, 8, "header length")) != CLH_OK) goto done;
    uint64_t header_len = clh_load_le64(length_bytes);
    if ((status = check_header_length(path, header_len, file_len - 8)) != CLH_OK) goto done;
    uint64_t data_len = file_len - 8 - header_len;
    if (data_len > SIZE_MAX - 1) {
        status = clh_fail(CLH_E_FORMAT, "%s: data section of %llu bytes is too large", path,
                          (unsigned long long)data_len);
        goto done;
    }
    header = clh_malloc((size_t)header_len ? (size_t)header_len : 1);
    if (!header) {
        status = clh_fail(CLH_E_NOMEM, "%s: no memory to read the %llu-byte header", path,
                          (unsigned long long)header_len);
        goto done;
    }
    if ((status = read_exact(stream, path, header, (size_t)header_len, "JSON header")) != CLH_OK ||
        (status = parse_header(&root, path, header, (size_t)header_len)) != CLH_OK ||
        (status = build(&file, path, root, NULL, NULL, data_len)) != CLH_OK)
        goto done;
    if (!header_only) {
        data = clh_malloc(data_len ? (size_t)data_len : 1);
        if (!data) {
            status = clh_fail(CLH_E_NOMEM, "%s: no memory to read the %llu-byte data section",
                              path, (unsigned long long)data_len);
            goto done;
        }
        if ((status = read_exact(stream, path, data, (size_t)data_len, "data section")) != CLH_OK)
            goto done;
        /* The tensors tile the data section in order (checked by build). */
        file->data = data;
        data = NULL;
        size_t offset = 0;
        for (size_t t = 0; t < file->count; t++) {
            file->tensors[t].data = file->data + offset;
            offset += file->tensors[t].nbytes;
        }
    }
    *out = file;
    file = NULL;
done:
    json_decref(root);
    clh_free(header);
    clh_free(data);
    clh_st_free(file);
    fclose(stream);
    return status;
}

clh_status clh_st_open(clh_st_file **out, const char *path) {
    if (!out || !path) return clh_fail(CLH_E_NULL, "clh_st_open: out and path are required");
    return open_file(out, path, 0);
}

clh_status clh_st_open_header(clh_st_file **out, const char *path) {
    if (!out || !path) return clh_fail(CLH_E_NULL, "clh_st_open_header: out and path are required");
    return open_file(out, path, 1);
}

size_t clh_st_count(const clh_st_file *file) { return file ? file->count : 0; }

const clh_st_tensor *clh_st_at(const clh_st_file *file, size_t i) {
    return file && i < file->count ? &file->tensors[i] : NULL;
}

const clh_st_tensor *clh_st_find(const clh_st_file *file, const char *name) {
    if (!file || !name) return NULL;
    size_t lo = 0, hi = file->count; /* binary search over the name index */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const clh_st_tensor *t = &file->tensors[file->by_name[mid]];
        int order = strcmp(t->name, name);
        if (order == 0) return t;
        if (order < 0) lo = mid + 1;
        else hi = mid;
    }
    return NULL;
}

size_t clh_st_meta_count(const clh_st_file *file) { return file ? file->meta_count : 0; }

const clh_st_meta *clh_st_meta_at(const clh_st_file *file, size_t i) {
    return file && i < file->meta_count ? &file->meta[i] : NULL;
}

const char *clh_st_meta_get(const clh_st_file *file, const char *key) {
    if (!file || !key) return NULL;
    for (size_t i = 0; i < file->meta_count; i++)
        if (strcmp(file->meta[i].key, key) == 0) return file->meta[i].value;
    return NULL;
}
