/* The strict safetensors reader (rules in include/clheads/safetensors.h).
 *
 * Order of checks: the 8-byte length, then the header's JSON in one pass
 * (safetensors_header.c: syntax, UTF-8, each entry's schema and its byte
 * size against its data_offsets), then distinct tensor names and metadata
 * keys, and last the tiling of the data section: sorted by offset, the
 * tensors must cover it exactly, with no overlap, hole or trailing byte.
 * Only then is the data copied, so a rejected input costs no more than its
 * header. A file is read the same way: the 8-byte length (checked against
 * the file size and the limit), then the header, which is parsed and
 * checked in full, and only then the data section. */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/alloc.h"
#include "common/checked.h"
#include "clheads/safetensors.h"
#include "common/little_endian.h"
#include "common/error.h"
#include "common/thread_local.h"
#include "io/safetensors_internal.h"

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

/* Sorted by offsets, the tensors must tile [0, data_len) exactly. */
static clh_status check_tiling(const char *source, const clh_st_tensor *tensors,
                               const clh_st_span *spans, size_t n, uint64_t data_len) {
    uint64_t covered = 0;
    for (size_t i = 0; i < n; i++) {
        if (spans[i].begin < covered)
            return clh_fail(CLH_E_FORMAT,
                            "%s: tensor " NAME_FMT " at data_offsets [%llu, %llu] overlaps tensor " NAME_FMT
                            " (which ends at %llu)",
                            source, tensors[i].name, (unsigned long long)spans[i].begin,
                            (unsigned long long)spans[i].end, tensors[i - 1].name,
                            (unsigned long long)covered);
        if (spans[i].begin > covered)
            return clh_fail(CLH_E_FORMAT,
                            "%s: hole in the data section: bytes [%llu, %llu) before tensor " NAME_FMT
                            " belong to no tensor",
                            source, (unsigned long long)covered,
                            (unsigned long long)spans[i].begin, tensors[i].name);
        covered = spans[i].end;
    }
    if (covered != data_len)
        return clh_fail(CLH_E_FORMAT,
                        "%s: %llu trailing bytes after the last tensor (tensors end at offset "
                        "%llu, the data section has %llu bytes)",
                        source, (unsigned long long)(data_len - covered),
                        (unsigned long long)covered, (unsigned long long)data_len);
    return CLH_OK;
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

/* qsort's comparator gets no context, so what the indices being sorted refer
 * to travels in a thread-local (the sorts are not reentrant otherwise). */
static CLH_THREAD_LOCAL const clh_st_tensor *sorting_tensors;
static CLH_THREAD_LOCAL const clh_st_span *sorting_spans;
static CLH_THREAD_LOCAL const clh_st_meta *sorting_meta;

static int by_tensor_name(const void *a, const void *b) {
    return strcmp(sorting_tensors[*(const size_t *)a].name,
                  sorting_tensors[*(const size_t *)b].name);
}

/* Data order: by offsets, then (empty tensors at one offset) by name. */
static int data_order(size_t a, size_t b) {
    const clh_st_span *x = &sorting_spans[a], *y = &sorting_spans[b];
    if (x->begin != y->begin) return x->begin < y->begin ? -1 : 1;
    if (x->end != y->end) return x->end < y->end ? -1 : 1;
    return strcmp(sorting_tensors[a].name, sorting_tensors[b].name);
}

static int by_data_order(const void *a, const void *b) {
    return data_order(*(const size_t *)a, *(const size_t *)b);
}

static int by_meta_key(const void *a, const void *b) {
    return strcmp(sorting_meta[*(const size_t *)a].key, sorting_meta[*(const size_t *)b].key);
}

/* 0, 1, ..., n - 1 in a new array (NULL when out of memory). */
static size_t *identity(size_t n) {
    size_t *index = clh_malloc(n ? n * sizeof *index : 1);
    for (size_t i = 0; index && i < n; i++) index[i] = i;
    return index;
}

/* Puts the header's tensors in data order. A file written in that order
 * (every writer's) costs one pass; any other is sorted. */
static clh_status sort_by_data(const char *source, clh_st_header *h) {
    size_t n = h->count, i = 1;
    sorting_tensors = h->tensors;
    sorting_spans = h->spans;
    while (i < n && data_order(i - 1, i) <= 0) i++;
    if (i >= n) return CLH_OK;
    size_t *order = identity(n);
    clh_st_tensor *tensors = clh_malloc(n * sizeof *tensors);
    clh_st_span *spans = clh_malloc(n * sizeof *spans);
    if (!order || !tensors || !spans) {
        clh_free(order);
        clh_free(tensors);
        clh_free(spans);
        return clh_fail(CLH_E_NOMEM, "%s: no memory to sort %zu tensors", source, n);
    }
    qsort(order, n, sizeof *order, by_data_order);
    for (size_t k = 0; k < n; k++) {
        tensors[k] = h->tensors[order[k]];
        spans[k] = h->spans[order[k]];
    }
    clh_free(order);
    clh_free(h->tensors);
    clh_free(h->spans);
    h->tensors = tensors;
    h->spans = spans;
    h->capacity = n;
    return CLH_OK;
}

/* Names must be distinct: the name index, sorted, shows a repeat as two
 * equal neighbours. */
static clh_status index_names(const char *source, const clh_st_header *h, size_t **out) {
    size_t n = h->count, *by_name = identity(n);
    if (!by_name) return clh_fail(CLH_E_NOMEM, "%s: no memory for the name index", source);
    sorting_tensors = h->tensors;
    if (n > 1) qsort(by_name, n, sizeof *by_name, by_tensor_name);
    for (size_t i = 1; i < n; i++)
        if (strcmp(h->tensors[by_name[i - 1]].name, h->tensors[by_name[i]].name) == 0) {
            const char *name = h->tensors[by_name[i]].name;
            clh_free(by_name);
            return clh_fail(CLH_E_FORMAT, "%s: tensor " NAME_FMT " appears twice in the header",
                            source, name);
        }
    *out = by_name;
    return CLH_OK;
}

/* Metadata keys must be distinct too. */
static clh_status check_meta_keys(const char *source, const clh_st_meta *meta, size_t n) {
    if (n < 2) return CLH_OK;
    size_t *order = identity(n);
    if (!order) return clh_fail(CLH_E_NOMEM, "%s: no memory to check the metadata", source);
    sorting_meta = meta;
    qsort(order, n, sizeof *order, by_meta_key);
    clh_status status = CLH_OK;
    for (size_t i = 1; i < n && status == CLH_OK; i++)
        if (strcmp(meta[order[i - 1]].key, meta[order[i]].key) == 0)
            status = clh_fail(CLH_E_FORMAT, "%s: __metadata__ key " NAME_FMT " appears twice",
                              source, meta[order[i]].key);
    clh_free(order);
    return status;
}

/* Builds the file from its parsed header, which it takes over (and releases
 * on failure). data (data_len bytes) is copied when given; without it the
 * file is header-only: every tensor's data is NULL. */
static clh_status build(clh_st_file **out, const char *source, clh_st_header *h,
                        const unsigned char *data, uint64_t data_len) {
    size_t n = h->count, n_meta = h->meta_count;
    clh_status status = CLH_OK;
    clh_st_file *file = NULL;
    if (data_len > SIZE_MAX) {
        status = clh_fail(CLH_E_FORMAT, "%s: data section of %llu bytes is too large", source,
                          (unsigned long long)data_len);
        goto fail;
    }
    /* The arena holds its final strings: trimmed, it stays where it is named. */
    if (h->strings_len < h->strings_capacity) {
        char *trimmed = clh_realloc(h->strings, h->strings_len ? h->strings_len : 1);
        if (trimmed) {
            h->strings = trimmed;
            h->strings_capacity = h->strings_len;
        }
    }
    for (size_t t = 0; t < n; t++) h->tensors[t].name = h->strings + h->spans[t].name;
    file = clh_calloc(1, sizeof *file);
    if (!file) goto nomem;
    file->meta = clh_malloc(n_meta ? n_meta * sizeof *file->meta : 1);
    if (!file->meta) goto nomem;
    for (size_t m = 0; m < n_meta; m++) {
        file->meta[m].key = h->strings + h->meta[2 * m];
        file->meta[m].value = h->strings + h->meta[2 * m + 1];
    }
    if ((status = check_meta_keys(source, file->meta, n_meta)) != CLH_OK ||
        (status = sort_by_data(source, h)) != CLH_OK ||
        (status = index_names(source, h, &file->by_name)) != CLH_OK ||
        (status = check_tiling(source, h->tensors, h->spans, n, data_len)) != CLH_OK)
        goto fail;

    /* Everything is valid: the file takes the header's arrays over. */
    if (data) {
        file->data = clh_malloc(data_len ? (size_t)data_len : 1);
        if (!file->data) goto nomem;
        if (data_len) memcpy(file->data, data, (size_t)data_len);
    }
    if (n < h->capacity) {
        clh_st_tensor *trimmed = clh_realloc(h->tensors, n ? n * sizeof *trimmed : 1);
        if (trimmed) h->tensors = trimmed;
    }
    for (size_t t = 0; t < n; t++)
        h->tensors[t].data = file->data ? file->data + h->spans[t].begin : NULL;
    file->tensors = h->tensors;
    file->count = n;
    file->meta_count = n_meta;
    file->strings = h->strings;
    file->data_len = (size_t)data_len;
    h->tensors = NULL;
    h->strings = NULL;
    clh_st_header_release(h);
    *out = file;
    return CLH_OK;

nomem:
    status = clh_fail(CLH_E_NOMEM, "%s: no memory for the parsed file", source);
fail:
    clh_st_header_release(h);
    clh_st_free(file);
    return status;
}

/* Checks the header length N against the limit and the input size. */
static clh_status check_header_length(const char *source, uint64_t header_len,
                                      uint64_t bytes_after_length) {
    if (header_len > CLH_ST_MAX_HEADER_BYTES)
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
    size_t data_start = 8 + (size_t)header_len;
    clh_st_header header;
    status = clh_st_header_parse(&header, source, p + 8, (size_t)header_len, len - data_start);
    if (status != CLH_OK) return status;
    return build(out, source, &header, p + data_start, len - data_start);
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
    clh_st_header parsed;
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
        (status = clh_st_header_parse(&parsed, path, header, (size_t)header_len, data_len)) !=
            CLH_OK ||
        (status = build(&file, path, &parsed, NULL, data_len)) != CLH_OK)
        goto done;
    clh_free(header); /* not needed with the data */
    header = NULL;
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
