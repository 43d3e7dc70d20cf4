/* The safetensors header's JSON, read in one pass (rules in
 * safetensors_internal.h).
 *
 * Why not a JSON library: the header has one fixed shape (an object of
 * tensor entries {dtype, shape, data_offsets} and one object of strings),
 * and a general parser builds a tree of every value first. For 100,000 heads
 * (a 21 MB header of 200,000 entries) jansson's json_loadb alone executed
 * about 4 of the 5.5 billion instructions of opening the file, most of them
 * allocating and freeing the tree's values. Here each value is checked as it
 * is read and stored straight into the arrays the file keeps, so the first
 * violation stops the parse and nothing else is allocated per tensor. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "common/alloc.h"
#include "common/checked.h"
#include "common/error.h"
#include "io/safetensors_internal.h"
#include "common/utf8.h"

/* Detail texts quote at most this many bytes of a tensor name. */
#define NAME_FMT "'%.120s'"

/* Extents and offsets are int64 in memory (JSON integers up to 2^63 - 1). */
#define MAX_INTEGER ((uint64_t)INT64_MAX)

typedef struct parser {
    const unsigned char *start, *at, *end;
    const char *source;
    uint64_t data_len;
    clh_st_header *out;
} parser;

/* A syntax error at the current byte. */
static clh_status syntax(const parser *p, const char *fmt, ...) CLH_PRINTF(2, 3);
static clh_status syntax(const parser *p, const char *fmt, ...) {
    char what[200];
    va_list args;
    va_start(args, fmt);
    vsnprintf(what, sizeof what, fmt, args);
    va_end(args);
    return clh_fail(CLH_E_FORMAT, "%s: invalid JSON header at byte %zu: %s", p->source,
                    (size_t)(p->at - p->start), what);
}

/* The string at offset `at` of the arena (valid until the arena grows). */
static const char *string_at(const parser *p, size_t at) { return p->out->strings + at; }

static void skip_space(parser *p) {
    while (p->at < p->end &&
           (*p->at == ' ' || *p->at == '\n' || *p->at == '\r' || *p->at == '\t'))
        p->at++;
}

/* The next byte after whitespace, or -1 at the end. */
static int peek(parser *p) {
    skip_space(p);
    return p->at < p->end ? *p->at : -1;
}

/* Room for `more` bytes at the end of the arena (which may move). */
static clh_status reserve_strings(parser *p, size_t more) {
    clh_st_header *h = p->out;
    size_t need;
    if (!clh_add_size(h->strings_len, more, &need))
        return clh_fail(CLH_E_FORMAT, "%s: header strings overflow", p->source);
    if (need <= h->strings_capacity) return CLH_OK;
    size_t capacity = h->strings_capacity ? h->strings_capacity : 4096;
    while (capacity < need) capacity = capacity > SIZE_MAX / 2 ? need : 2 * capacity;
    char *grown = clh_realloc(h->strings, capacity);
    if (!grown)
        return clh_fail(CLH_E_NOMEM, "%s: no memory for %zu bytes of header strings", p->source,
                        capacity);
    h->strings = grown;
    h->strings_capacity = capacity;
    return CLH_OK;
}

static int hex_value(unsigned char c) {
    return c >= '0' && c <= '9' ? c - '0'
           : c >= 'a' && c <= 'f' ? c - 'a' + 10
           : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                  : -1;
}

/* The 4 hex digits of a \uXXXX escape at c (which is at the 'u'), or -1. */
static long hex4(const unsigned char *c, const unsigned char *end) {
    if (end - c < 5) return -1;
    long value = 0;
    for (int k = 1; k <= 4; k++) {
        int digit = hex_value(c[k]);
        if (digit < 0) return -1;
        value = value * 16 + digit;
    }
    return value;
}

/* Writes code point `code` as UTF-8 at d; returns the bytes written. */
static size_t put_utf8(char *d, uint32_t code) {
    if (code < 0x80) {
        d[0] = (char)code;
        return 1;
    }
    if (code < 0x800) {
        d[0] = (char)(0xc0 | (code >> 6));
        d[1] = (char)(0x80 | (code & 0x3f));
        return 2;
    }
    if (code < 0x10000) {
        d[0] = (char)(0xe0 | (code >> 12));
        d[1] = (char)(0x80 | ((code >> 6) & 0x3f));
        d[2] = (char)(0x80 | (code & 0x3f));
        return 3;
    }
    d[0] = (char)(0xf0 | (code >> 18));
    d[1] = (char)(0x80 | ((code >> 12) & 0x3f));
    d[2] = (char)(0x80 | ((code >> 6) & 0x3f));
    d[3] = (char)(0x80 | (code & 0x3f));
    return 4;
}

/* Decodes one escape at *c (the backslash) into d; advances *c past it.
 * Returns the bytes written, 0 on error (p->at then points at it). */
static size_t decode_escape(parser *p, const unsigned char **c, const unsigned char *close,
                            char *d, clh_status *status) {
    const unsigned char *e = *c + 1; /* the scan that found `close` put a byte here */
    static const char simple_in[] = "\"\\/bfnrt", simple_out[] = "\"\\/\b\f\n\r\t";
    const char *simple = *e ? strchr(simple_in, *e) : NULL;
    if (simple) {
        *d = simple_out[simple - simple_in];
        *c = e + 1;
        return 1;
    }
    p->at = *c;
    if (*e != 'u') {
        *status = syntax(p, "invalid escape in a string");
        return 0;
    }
    long code = hex4(e, close);
    if (code < 0) {
        *status = syntax(p, "invalid \\u escape in a string");
        return 0;
    }
    e += 5;
    if (code >= 0xdc00 && code <= 0xdfff) {
        *status = syntax(p, "a lone UTF-16 low surrogate \\u%04lx in a string", code);
        return 0;
    }
    if (code >= 0xd800 && code <= 0xdbff) {
        long low = close - e >= 6 && e[0] == '\\' && e[1] == 'u' ? hex4(e + 1, close) : -1;
        if (low < 0xdc00 || low > 0xdfff) {
            *status = syntax(p, "a UTF-16 high surrogate \\u%04lx without its low half", code);
            return 0;
        }
        code = 0x10000 + ((code - 0xd800) << 10) + (low - 0xdc00);
        e += 6;
    }
    if (code == 0) {
        /* A NUL would make the C string end early: "a\u0000b" would read "a". */
        *status = syntax(p, "\\u0000 in a string (a NUL cannot be part of a name, key or value)");
        return 0;
    }
    *c = e;
    return put_utf8(d, (uint32_t)code);
}

/* Reads the string at p->at (its opening quote) into the arena, NUL-
 * terminated; *offset is where it starts. Decoded text is never longer than
 * its JSON form, so the room for the raw bytes suffices. */
static clh_status parse_string(parser *p, size_t *offset) {
    const unsigned char *first = p->at + 1, *close = first;
    while (close < p->end && *close != '"') close += *close == '\\' ? 2 : 1;
    if (close >= p->end) return syntax(p, "a string is not closed");
    clh_status status = reserve_strings(p, (size_t)(close - first) + 1);
    if (status) return status;
    char *start = p->out->strings + p->out->strings_len, *d = start;
    const unsigned char *c = first;
    while (c < close) {
        unsigned char b = *c;
        if (b >= 0x20 && b < 0x80 && b != '\\') {
            *d++ = (char)b;
            c++;
            continue;
        }
        if (b == '\\') {
            size_t written = decode_escape(p, &c, close, d, &status);
            if (!written) return status;
            d += written;
            continue;
        }
        p->at = c;
        if (b < 0x20) return syntax(p, "control character 0x%02x in a string", b);
        size_t length = clh_utf8_length(c, (size_t)(close - c));
        if (!length) return syntax(p, "invalid UTF-8: unable to decode byte 0x%02x", b);
        memcpy(d, c, length);
        d += length;
        c += length;
    }
    *d++ = '\0';
    *offset = p->out->strings_len;
    p->out->strings_len += (size_t)(d - start);
    p->at = close + 1;
    return CLH_OK;
}

typedef enum { NUMBER_OK, NUMBER_NOT_INDEX, NUMBER_TOO_BIG } number_kind;

/* Reads a JSON integer in [0, 2^63) at p->at. Anything else that may start
 * there (a sign, a fraction, an exponent, another kind of value) is
 * NUMBER_NOT_INDEX, which its caller reports by name; a leading zero is a
 * syntax error. */
static clh_status parse_index(parser *p, uint64_t *value, number_kind *kind) {
    const unsigned char *c = p->at;
    *kind = NUMBER_NOT_INDEX;
    if (c >= p->end || *c < '0' || *c > '9') return CLH_OK;
    if (*c == '0' && c + 1 < p->end && c[1] >= '0' && c[1] <= '9')
        return syntax(p, "a number with a leading zero");
    uint64_t v = 0;
    int too_big = 0;
    for (; c < p->end && *c >= '0' && *c <= '9'; c++) {
        unsigned digit = (unsigned)(*c - '0');
        if (v > (MAX_INTEGER - digit) / 10) too_big = 1;
        else v = v * 10 + digit;
    }
    p->at = c;
    if (c < p->end && (*c == '.' || *c == 'e' || *c == 'E')) return CLH_OK;
    *kind = too_big ? NUMBER_TOO_BIG : NUMBER_OK;
    *value = v;
    return CLH_OK;
}

/* After an element of an array: ',' (1, more follow) or ']' (0, the end). */
static clh_status array_next(parser *p, int *more, const char *what, const char *name) {
    int c = peek(p);
    if (c != ',' && c != ']')
        return syntax(p, "expected ',' or ']' in the %s of tensor " NAME_FMT, what, name);
    p->at++;
    *more = c == ',';
    return CLH_OK;
}

/* "shape": [extent, ...] */
static clh_status parse_shape(parser *p, size_t name, clh_st_tensor *t) {
    if (peek(p) != '[')
        return clh_fail(CLH_E_FORMAT, "%s: tensor " NAME_FMT ": shape is not an array", p->source,
                        string_at(p, name));
    p->at++;
    size_t rank = 0;
    int more = peek(p) != ']';
    if (!more) p->at++;
    while (more) {
        uint64_t extent = 0;
        number_kind kind;
        skip_space(p);
        clh_status status = parse_index(p, &extent, &kind);
        if (status) return status;
        if (kind != NUMBER_OK)
            return clh_fail(CLH_E_FORMAT, "%s: tensor " NAME_FMT ": shape[%zu] is not a "
                            "non-negative integer%s", p->source, string_at(p, name), rank,
                            kind == NUMBER_TOO_BIG ? " (too big an integer: over 2^63 - 1)" : "");
        if (rank < CLH_ST_MAX_DIMS) t->shape[rank] = (int64_t)extent;
        rank++; /* counted on past the limit, for the message */
        if ((status = array_next(p, &more, "shape", string_at(p, name)))) return status;
    }
    if (rank > CLH_ST_MAX_DIMS)
        return clh_fail(CLH_E_FORMAT, "%s: tensor " NAME_FMT ": rank %zu exceeds the limit of %d",
                        p->source, string_at(p, name), rank, CLH_ST_MAX_DIMS);
    t->ndim = rank;
    return CLH_OK;
}

/* "data_offsets": [begin, end] */
static clh_status parse_offsets(parser *p, size_t name, clh_st_span *span) {
    uint64_t offsets[2] = {0, 0};
    size_t count = 0;
    int more = peek(p) == '[';
    if (more) {
        p->at++;
        more = peek(p) != ']';
        if (!more) p->at++;
    }
    while (more && count < 2) {
        number_kind kind;
        skip_space(p);
        clh_status status = parse_index(p, &offsets[count], &kind);
        if (status) return status;
        if (kind != NUMBER_OK) {
            count = kind == NUMBER_TOO_BIG ? 3 : 0; /* 3: too big, reported as such */
            break;
        }
        count++;
        if ((status = array_next(p, &more, "data_offsets", string_at(p, name)))) return status;
    }
    if (count != 2 || more)
        return clh_fail(CLH_E_FORMAT, "%s: tensor " NAME_FMT ": data_offsets is not a pair of "
                        "non-negative integers%s", p->source, string_at(p, name),
                        count == 3 ? " (too big an integer: over 2^63 - 1)" : "");
    span->begin = offsets[0];
    span->end = offsets[1];
    return CLH_OK;
}

/* "dtype": "F32" */
static clh_status parse_dtype(parser *p, size_t name, clh_st_tensor *t) {
    if (peek(p) != '"')
        return clh_fail(CLH_E_FORMAT, "%s: tensor " NAME_FMT ": dtype is not a string", p->source,
                        string_at(p, name));
    size_t at;
    clh_status status = parse_string(p, &at);
    if (status) return status;
    p->out->strings_len = at; /* not kept */
    if (clh_dtype_parse(string_at(p, at), &t->dtype) != CLH_OK)
        return clh_fail(CLH_E_FORMAT, "%s: tensor " NAME_FMT ": unknown dtype \"%.32s\"", p->source,
                        string_at(p, name), string_at(p, at));
    return CLH_OK;
}

/* The byte size of a complete entry against its offsets and the data. */
static clh_status check_size(const parser *p, size_t name, clh_st_tensor *t,
                             const clh_st_span *span) {
    const char *text = string_at(p, name);
    if (span->begin > span->end)
        return clh_fail(CLH_E_FORMAT, "%s: tensor " NAME_FMT ": data_offsets [%llu, %llu] end "
                        "before they begin", p->source, text, (unsigned long long)span->begin,
                        (unsigned long long)span->end);
    if (span->end > p->data_len)
        return clh_fail(CLH_E_FORMAT, "%s: tensor " NAME_FMT ": data_offsets end %llu lies past "
                        "the end of the data section (%llu bytes; truncated file?)", p->source,
                        text, (unsigned long long)span->end, (unsigned long long)p->data_len);
    /* A product that overflows is fine if some extent is 0. */
    size_t numel, nbytes;
    if (!clh_shape_numel(t->shape, t->ndim, &numel) ||
        !clh_mul_size(numel, clh_dtype_size(t->dtype), &nbytes))
        return clh_fail(CLH_E_FORMAT, "%s: tensor " NAME_FMT ": shape x %s size overflows",
                        p->source, text, clh_dtype_name(t->dtype));
    if ((uint64_t)nbytes != span->end - span->begin)
        return clh_fail(CLH_E_FORMAT, "%s: tensor " NAME_FMT ": data_offsets [%llu, %llu] hold "
                        "%llu bytes, but its shape and dtype %s need %zu", p->source, text,
                        (unsigned long long)span->begin, (unsigned long long)span->end,
                        (unsigned long long)(span->end - span->begin), clh_dtype_name(t->dtype),
                        nbytes);
    t->nbytes = nbytes;
    return CLH_OK;
}

/* A tensor entry {"dtype": ..., "shape": [...], "data_offsets": [b, e]}, in
 * any order, each key once. */
static clh_status parse_entry(parser *p, size_t name, clh_st_tensor *t, clh_st_span *span) {
    static const char *const keys[3] = {"dtype", "shape", "data_offsets"};
    if (peek(p) != '{')
        return clh_fail(CLH_E_FORMAT, "%s: tensor " NAME_FMT ": entry is not a JSON object",
                        p->source, string_at(p, name));
    p->at++;
    memset(t, 0, sizeof *t);
    span->name = name;
    unsigned seen = 0;
    int more = peek(p) != '}';
    if (!more) p->at++;
    while (more) {
        if (peek(p) != '"')
            return syntax(p, "expected a key in the entry of tensor " NAME_FMT,
                          string_at(p, name));
        size_t at;
        clh_status status = parse_string(p, &at);
        if (status) return status;
        p->out->strings_len = at; /* not kept */
        int key = 0;
        while (key < 3 && strcmp(string_at(p, at), keys[key]) != 0) key++;
        if (key == 3 || (seen & (1u << key)))
            return clh_fail(CLH_E_FORMAT, "%s: tensor " NAME_FMT ": entry must have exactly the "
                            "keys dtype, shape and data_offsets (%s \"%.40s\")", p->source,
                            string_at(p, name), key == 3 ? "unknown key" : "repeated key",
                            string_at(p, at));
        seen |= 1u << key;
        if (peek(p) != ':') return syntax(p, "expected ':' after a key");
        p->at++;
        status = key == 0   ? parse_dtype(p, name, t)
                 : key == 1 ? parse_shape(p, name, t)
                            : parse_offsets(p, name, span);
        if (status) return status;
        int c = peek(p);
        if (c != ',' && c != '}')
            return syntax(p, "expected ',' or '}' in the entry of tensor " NAME_FMT,
                          string_at(p, name));
        p->at++;
        more = c == ',';
    }
    if (seen != 7)
        return clh_fail(CLH_E_FORMAT, "%s: tensor " NAME_FMT ": entry must have exactly the keys "
                        "dtype, shape and data_offsets (%s is missing)", p->source,
                        string_at(p, name), keys[!(seen & 1) ? 0 : !(seen & 2) ? 1 : 2]);
    return check_size(p, name, t, span);
}

/* Room for one more tensor. */
static clh_status grow_tensors(parser *p) {
    clh_st_header *h = p->out;
    if (h->count < h->capacity) return CLH_OK;
    size_t capacity = h->capacity ? 2 * h->capacity : 64, tensor_bytes, span_bytes;
    if (capacity < h->capacity || !clh_mul_size(capacity, sizeof *h->tensors, &tensor_bytes) ||
        !clh_mul_size(capacity, sizeof *h->spans, &span_bytes))
        return clh_fail(CLH_E_FORMAT, "%s: too many tensors", p->source);
    clh_st_tensor *tensors = clh_realloc(h->tensors, tensor_bytes);
    if (tensors) h->tensors = tensors;
    clh_st_span *spans = tensors ? clh_realloc(h->spans, span_bytes) : NULL;
    if (spans) h->spans = spans;
    if (!tensors || !spans)
        return clh_fail(CLH_E_NOMEM, "%s: no memory for %zu tensor entries", p->source, capacity);
    h->capacity = capacity;
    return CLH_OK;
}

/* Room for one more metadata entry. */
static clh_status grow_meta(parser *p) {
    clh_st_header *h = p->out;
    if (h->meta_count < h->meta_capacity) return CLH_OK;
    size_t capacity = h->meta_capacity ? 2 * h->meta_capacity : 16, bytes;
    if (capacity < h->meta_capacity || !clh_mul_size(capacity, 2 * sizeof *h->meta, &bytes))
        return clh_fail(CLH_E_FORMAT, "%s: too many metadata entries", p->source);
    size_t *meta = clh_realloc(h->meta, bytes);
    if (!meta)
        return clh_fail(CLH_E_NOMEM, "%s: no memory for %zu metadata entries", p->source,
                        capacity);
    h->meta = meta;
    h->meta_capacity = capacity;
    return CLH_OK;
}

/* "__metadata__": {"key": "value", ...} */
static clh_status parse_metadata(parser *p) {
    clh_st_header *h = p->out;
    if (peek(p) != '{')
        return clh_fail(CLH_E_FORMAT, "%s: __metadata__ is not a JSON object", p->source);
    p->at++;
    int more = peek(p) != '}';
    if (!more) p->at++;
    while (more) {
        if (peek(p) != '"') return syntax(p, "expected a key in __metadata__");
        size_t key, value;
        clh_status status = parse_string(p, &key);
        if (status) return status;
        if (peek(p) != ':') return syntax(p, "expected ':' after a key");
        p->at++;
        if (peek(p) != '"')
            return clh_fail(CLH_E_FORMAT, "%s: __metadata__ value of key " NAME_FMT
                            " is not a string", p->source, string_at(p, key));
        if ((status = parse_string(p, &value)) || (status = grow_meta(p))) return status;
        h->meta[2 * h->meta_count] = key;
        h->meta[2 * h->meta_count + 1] = value;
        h->meta_count++;
        int c = peek(p);
        if (c != ',' && c != '}') return syntax(p, "expected ',' or '}' in __metadata__");
        p->at++;
        more = c == ',';
    }
    return CLH_OK;
}

/* The top-level object: tensor entries and at most one __metadata__. */
static clh_status parse_top(parser *p) {
    clh_st_header *h = p->out;
    if (p->at == p->end || *p->at != '{')
        return clh_fail(CLH_E_FORMAT, "%s: the JSON header is not an object (it does not start "
                        "with '{')", p->source);
    p->at++;
    int more = peek(p) != '}', seen_metadata = 0;
    if (!more) p->at++;
    while (more) {
        if (peek(p) != '"') return syntax(p, "expected a tensor name");
        size_t name;
        clh_status status = parse_string(p, &name);
        if (status) return status;
        if (peek(p) != ':') return syntax(p, "expected ':' after a tensor name");
        p->at++;
        if (strcmp(string_at(p, name), "__metadata__") == 0) {
            if (seen_metadata)
                return clh_fail(CLH_E_FORMAT, "%s: __metadata__ appears twice", p->source);
            seen_metadata = 1;
            h->strings_len = name; /* not kept */
            status = parse_metadata(p);
        } else if ((status = grow_tensors(p)) == CLH_OK) {
            status = parse_entry(p, name, &h->tensors[h->count], &h->spans[h->count]);
            if (status == CLH_OK) h->count++;
        }
        if (status) return status;
        int c = peek(p);
        if (c != ',' && c != '}') return syntax(p, "expected ',' or '}' after a tensor entry");
        p->at++;
        more = c == ',';
    }
    skip_space(p); /* writers pad the header with spaces */
    if (p->at != p->end) return syntax(p, "bytes after the end of the header object");
    return CLH_OK;
}

void clh_st_header_release(clh_st_header *header) {
    if (!header) return;
    clh_free(header->tensors);
    clh_free(header->spans);
    clh_free(header->meta);
    clh_free(header->strings);
    memset(header, 0, sizeof *header);
}

clh_status clh_st_header_parse(clh_st_header *header, const char *source,
                               const unsigned char *json, size_t len, uint64_t data_len) {
    memset(header, 0, sizeof *header);
    parser p = {json, json, json + len, source, data_len, header};
    clh_status status = parse_top(&p);
    if (status) clh_st_header_release(header);
    return status;
}
