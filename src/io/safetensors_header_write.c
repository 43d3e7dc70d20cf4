/* The safetensors header's bytes, written in one pass (rules in
 * safetensors_internal.h).
 *
 * Why not a JSON library: the header has one fixed shape, and building it
 * as a jansson tree cost most of a save. For 100,000 TIL heads with Adam's
 * state (700,000 tensor entries, a 73 MB header) bench_save measured about
 * 2.3-3.6 s building the tree, 3.1-4.7 s for each of the two json_dumpb
 * calls (the size, then the text: every container goes through jansson's
 * loop check, every integer through snprintf) and 2.2-4.5 s freeing it,
 * of a 12-17 s save. Here each entry is checked and written straight into
 * one growing buffer. The text is exactly what jansson wrote with
 * JSON_COMPACT, which test_safetensors_header_bytes checks against jansson
 * and against a file Python's json module wrote: entries in the order
 * given, "__metadata__" first; integers in decimal; UTF-8 as is, with '"',
 * '\\' and control characters escaped (\b \f \n \r \t, else \u00XX in
 * upper-case hex), '/' and DEL not. */
#include <stdint.h>
#include <string.h>

#include "common/alloc.h"
#include "common/checked.h"
#include "common/error.h"
#include "common/number.h"
#include "common/string_set.h"
#include "common/utf8.h"
#include "io/safetensors_internal.h"

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
        size_t extent; /* converted checked: 2^32 is 0 in a 32-bit size_t */
        if (!clh_i64_to_size(tensor->shape[d], &extent) || !clh_mul_size(numel, extent, &numel))
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

/* Everything the header will say, checked entry by entry in the order the
 * entries are given (metadata first), so the first bad entry is the one
 * named: keys and values present and UTF-8, keys distinct; each tensor as
 * check_tensor wants it, names distinct, offsets within int64. */
static clh_status check_entries(const clh_st_tensor *tensors, size_t n, const clh_st_meta *meta,
                                size_t n_meta, size_t *data_len) {
    clh_string_set seen;
    if (!clh_string_set_init(&seen, n_meta))
        return clh_fail(CLH_E_NOMEM, "safetensors: no memory for the header");
    clh_status status = CLH_OK;
    for (size_t m = 0; m < n_meta && status == CLH_OK; m++) {
        const char *key = meta[m].key, *value = meta[m].value;
        if (!key || !value)
            status = clh_fail(CLH_E_NULL, "metadata entry %zu has no key or value", m);
        else if (!utf8_valid(key) || !utf8_valid(value))
            status = clh_fail(CLH_E_INVALID_ARG, "metadata entry %zu is not valid UTF-8", m);
        else if (clh_string_set_add(&seen, key) != 1)
            status = clh_fail(CLH_E_INVALID_ARG, "metadata key '%.120s' appears twice", key);
    }
    clh_string_set_release(&seen);
    if (status) return status;

    if (!clh_string_set_init(&seen, n))
        return clh_fail(CLH_E_NOMEM, "safetensors: no memory for the header");
    size_t offset = 0;
    for (size_t i = 0; i < n && status == CLH_OK; i++) {
        size_t end;
        if ((status = check_tensor(&tensors[i], i)) != CLH_OK) break;
        if (clh_string_set_add(&seen, tensors[i].name) != 1)
            status = clh_fail(CLH_E_INVALID_ARG, "tensor name '%.120s' appears twice",
                              tensors[i].name);
        else if (!clh_add_size(offset, tensors[i].nbytes, &end) || end > (size_t)INT64_MAX)
            status = clh_fail(CLH_E_OVERFLOW, "tensor '%.120s': data offsets overflow",
                              tensors[i].name);
        else
            offset = end;
    }
    clh_string_set_release(&seen);
    *data_len = offset;
    return status;
}

/* ---- the text ------------------------------------------------------------- */

/* The header's bytes as they are written; `failed` remembers the first
 * failure (1 out of memory, 2 a size past SIZE_MAX), after which nothing is
 * appended. */
typedef struct text {
    unsigned char *bytes;
    size_t len, capacity;
    int failed;
} text;

/* Room for `more` bytes after len. */
static int reserve(text *t, size_t more) {
    size_t need;
    if (t->failed) return 0;
    if (!clh_add_size(t->len, more, &need)) {
        t->failed = 2;
        return 0;
    }
    if (need <= t->capacity) return 1;
    size_t capacity = t->capacity ? t->capacity : 64;
    while (capacity < need) capacity = capacity > SIZE_MAX / 2 ? need : 2 * capacity;
    unsigned char *grown = clh_realloc(t->bytes, capacity);
    if (!grown) {
        t->failed = 1;
        return 0;
    }
    t->bytes = grown;
    t->capacity = capacity;
    return 1;
}

static void put(text *t, const char *bytes, size_t len) {
    if (!reserve(t, len)) return;
    memcpy(t->bytes + t->len, bytes, len);
    t->len += len;
}

#define PUT_LITERAL(t, literal) put((t), (literal), sizeof(literal) - 1)

/* A non-negative integer in decimal, as "%lld" writes it. */
static void put_integer(text *t, uint64_t value) {
    char digits[20];
    size_t n = clh_digits_before(digits + sizeof digits, value);
    put(t, digits + sizeof digits - n, n);
}

/* A JSON string of UTF-8 text (already checked), escaped as jansson does. */
static void put_string(text *t, const char *value) {
    static const char hex[] = "0123456789ABCDEF";
    size_t len = strlen(value), worst;
    /* An escape is at most 6 bytes for 1, plus the quotes. */
    if (!clh_mul_size(len, 6, &worst) || !clh_add_size(worst, 2, &worst)) {
        if (!t->failed) t->failed = 2;
        return;
    }
    if (!reserve(t, worst)) return;
    unsigned char *d = t->bytes + t->len;
    *d++ = '"';
    for (const unsigned char *c = (const unsigned char *)value; *c; c++) {
        unsigned char b = *c;
        if (b >= 0x20 && b != '"' && b != '\\') {
            *d++ = b; /* bytes of multi-byte UTF-8 too: written as they are */
            continue;
        }
        *d++ = '\\';
        switch (b) {
        case '"': *d++ = '"'; break;
        case '\\': *d++ = '\\'; break;
        case '\b': *d++ = 'b'; break;
        case '\f': *d++ = 'f'; break;
        case '\n': *d++ = 'n'; break;
        case '\r': *d++ = 'r'; break;
        case '\t': *d++ = 't'; break;
        default:
            memcpy(d, "u00", 3);
            d[3] = (unsigned char)hex[b >> 4];
            d[4] = (unsigned char)hex[b & 15];
            d += 5;
        }
    }
    *d++ = '"';
    t->len = (size_t)(d - t->bytes);
}

/* {"dtype":"F32","shape":[2,64],"data_offsets":[begin,end]} */
static void put_tensor(text *t, const clh_st_tensor *tensor, size_t begin) {
    put_string(t, tensor->name);
    PUT_LITERAL(t, ":{\"dtype\":");
    put_string(t, clh_dtype_name(tensor->dtype));
    PUT_LITERAL(t, ",\"shape\":[");
    for (size_t d = 0; d < tensor->ndim; d++) {
        if (d) PUT_LITERAL(t, ",");
        put_integer(t, (uint64_t)tensor->shape[d]);
    }
    PUT_LITERAL(t, "],\"data_offsets\":[");
    put_integer(t, begin);
    PUT_LITERAL(t, ",");
    put_integer(t, begin + tensor->nbytes);
    PUT_LITERAL(t, "]}");
}

clh_status clh_st_header_write(unsigned char **bytes, size_t *len, size_t *data_len,
                               const clh_st_tensor *tensors, size_t n, const clh_st_meta *meta,
                               size_t n_meta) {
    if ((n > 0 && !tensors) || (n_meta > 0 && !meta))
        return clh_fail(CLH_E_NULL, "safetensors: tensors and meta are required when counted");
    clh_status status = check_entries(tensors, n, meta, n_meta, data_len);
    if (status) return status;

    /* A first guess at the size (a tensor entry of a checkpoint takes 70 to
     * 110 bytes); the buffer grows when it is short. */
    text t = {NULL, 0, 0, 0};
    size_t guess;
    if (!clh_add_size(n, n_meta, &guess) || !clh_mul_size(guess, 96, &guess) ||
        !clh_add_size(guess, 64, &guess))
        guess = 4096;
    reserve(&t, guess);
    t.len = 8; /* the length goes first, once it is known */
    PUT_LITERAL(&t, "{");
    if (n_meta) {
        PUT_LITERAL(&t, "\"__metadata__\":{");
        for (size_t m = 0; m < n_meta; m++) {
            if (m) PUT_LITERAL(&t, ",");
            put_string(&t, meta[m].key);
            PUT_LITERAL(&t, ":");
            put_string(&t, meta[m].value);
        }
        PUT_LITERAL(&t, "}");
    }
    size_t offset = 0;
    for (size_t i = 0; i < n; i++) {
        if (i || n_meta) PUT_LITERAL(&t, ",");
        put_tensor(&t, &tensors[i], offset);
        offset += tensors[i].nbytes;
    }
    PUT_LITERAL(&t, "}");
    /* Spaces up to a multiple of 8, then the length of the padded JSON. */
    size_t json_len = t.len - 8, padded = json_len + (8 - json_len % 8) % 8;
    if (reserve(&t, padded - json_len)) {
        memset(t.bytes + t.len, ' ', padded - json_len);
        t.len += padded - json_len;
        for (int k = 0; k < 8; k++) t.bytes[k] = (unsigned char)((uint64_t)padded >> (8 * k));
    }
    if (t.failed) {
        clh_free(t.bytes);
        return t.failed == 2 ? clh_fail(CLH_E_OVERFLOW, "safetensors: the header is too large")
                             : clh_fail(CLH_E_NOMEM, "safetensors: no memory for the header");
    }
    if ((uint64_t)padded > CLH_ST_MAX_HEADER_BYTES) {
        clh_free(t.bytes);
        return clh_fail(CLH_E_INVALID_ARG, "safetensors: the header would take %zu bytes (%zu "
                        "tensors, %zu metadata entries), past the format's limit of 100 MB: no "
                        "reader would load the file", padded, n, n_meta);
    }
    *bytes = t.bytes;
    *len = t.len;
    return CLH_OK;
}
