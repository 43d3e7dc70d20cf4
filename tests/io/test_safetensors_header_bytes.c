/* The bytes the safetensors writer produces, compared with two references
 * computed another way:
 *
 * 1. A checkpoint of three TIL heads with Adam's state, extra tensors (odd
 *    names, a scalar, an empty tensor) and metadata that needs escaping,
 *    against tests/data/checkpoint/header_bytes.safetensors, which
 *    scripts/gen_header_bytes_reference.py writes with Python's json module.
 * 2. Random tensors and metadata (names drawn from quotes, backslashes,
 *    slashes, every control character, DEL and multi-byte UTF-8, ranks 0 to
 *    3, empty tensors) against the header jansson serialises from the same
 *    entries (json_dumpb, JSON_COMPACT), as the writer did before it wrote the
 *    JSON itself: same text, key order, numbers and padding.
 * 3. The writer's refusals keep their order: for the first entry with a
 *    problem, the problem the entry-by-entry checks name first. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "check.h"
#include "clheads.h"
#include "clheads/optim.h"
#include "io/safetensors_internal.h" /* clh_st_view */

/* ---- 1. the committed reference checkpoint ------------------------------- */

static unsigned char *read_all(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *bytes = size > 0 ? malloc((size_t)size) : NULL;
    if (bytes && fread(bytes, 1, (size_t)size, f) != (size_t)size) {
        free(bytes);
        bytes = NULL;
    }
    fclose(f);
    *len = bytes ? (size_t)size : 0;
    return bytes;
}

/* The checkpoint the generator script describes (keep the two in step). */
static void test_reference_checkpoint(void) {
    clh_heads *heads = NULL;
    CHECK_OK(clh_heads_create(&heads, CLH_TIL, 3, 1));
    CHECK_OK(clh_heads_setup_task(heads, 5, 2));
    CHECK_OK(clh_heads_setup_task(heads, 2, 3));
    CHECK_OK(clh_heads_setup_task(heads, 9, 2));
    CHECK_OK(clh_heads_set_frozen(heads, 2, 1));
    float *params = NULL;
    size_t count = 0;
    clh_heads_flat(heads, &params, NULL, &count);
    CHECK(count == 7 * 3 + 7);
    for (size_t i = 0; i < count; i++) params[i] = (float)((int)(i % 13) - 6) * 0.25f;
    clh_heads_zero_grad(heads);
    clh_optim_config config;
    clh_optim_config_init(&config, CLH_OPTIM_ADAM, 1e-3);
    clh_optim *optim = NULL;
    CHECK_OK(clh_optim_create(&optim, &config));
    CHECK_OK(clh_optim_step_heads(optim, heads)); /* zero gradients: the weights stay */
    clh_optim_export *exported = NULL;
    CHECK_OK(clh_optim_export_create_prefixed(optim, "optimizer.heads", &exported));
    size_t n_optim = 0, n_optim_meta = 0;
    const clh_st_tensor *optim_tensors = clh_optim_export_tensors(exported, &n_optim);
    const clh_st_meta *optim_meta = clh_optim_export_meta(exported, &n_optim_meta);

    static const float odd_values[2] = {1.5f, -2.0f};
    static const int64_t scalar_value = 7;
    clh_st_tensor tensors[40];
    size_t n = 0;
    for (size_t i = 0; i < n_optim && n < 37; i++) tensors[n++] = optim_tensors[i];
    CHECK(n == n_optim);
    tensors[n++] = clh_st_view("odd \"name\" \\ / \x01\x1f\t\n\x7f \xc3\xa9 \xf0\x9f\x98\x80",
                               CLH_DT_F32, 1, 2, 0, odd_values);
    tensors[n] = clh_st_view("scalar.i64", CLH_DT_I64, 0, 0, 0, &scalar_value);
    tensors[n].nbytes = sizeof scalar_value; /* rank 0: one element */
    tensors[n++].data = &scalar_value;
    tensors[n++] = clh_st_view("empty", CLH_DT_F32, 2, 0, 3, NULL);
    clh_st_meta meta[24];
    size_t n_meta = 0;
    for (size_t i = 0; i < n_optim_meta && n_meta < 22; i++) meta[n_meta++] = optim_meta[i];
    CHECK(n_meta == n_optim_meta);
    meta[n_meta++] = (clh_st_meta){"note", "tab\there \"quoted\" back\\slash /slash \x7f "
                                           "ctrl\x02\x1b \xc3\xa9 \xf0\x9f\x98\x80"};
    meta[n_meta++] = (clh_st_meta){"\xc3\xbcn\xc3\xaf" "code key", "v"};

    unsigned char *bytes = NULL;
    size_t len = 0;
    CHECK_OK(clh_heads_save_mem_ex(heads, &bytes, &len, tensors, n, meta, n_meta));
    char path[512];
    snprintf(path, sizeof path, "%s/checkpoint/header_bytes.safetensors", CLH_TEST_DATA_DIR);
    size_t want_len = 0;
    unsigned char *want = read_all(path, &want_len);
    CHECK(want != NULL);
    CHECK(len == want_len);
    if (bytes && want && len == want_len) {
        size_t first = 0;
        while (first < len && bytes[first] == want[first]) first++;
        CHECK(first == len);
        if (first < len) fprintf(stderr, "first differing byte: %zu of %zu\n", first, len);
    }
    const char *dump = getenv("CLH_HEADER_BYTES_DUMP"); /* to look at what the writer wrote */
    if (dump && bytes) {
        FILE *f = fopen(dump, "wb");
        if (f) {
            fwrite(bytes, 1, len, f);
            fclose(f);
        }
    }
    free(want);
    clh_st_bytes_free(bytes);
    clh_optim_export_free(exported);
    clh_optim_free(optim);
    clh_heads_free(heads);
}

/* ---- 2. random entries against jansson --------------------------------- */

/* The library's splitmix64 stream (rng.h) for the random cases. */
static clh_rng rng = {0x243F6A8885A308D3ull};
static uint64_t next_u64(void) { return clh_rng_next(&rng); }
static size_t below(size_t n) { return (size_t)(next_u64() % n); }

/* A random UTF-8 text of 1 to 12 pieces; `salt` keeps it distinct. */
static void random_text(char *out, size_t cap, size_t salt) {
    static const char *const pieces[] = {
        "a", "Z", "0", ".", "\"", "\\", "/", " ", "\t", "\n", "\r", "\b", "\f", "\x01", "\x1f",
        "\x7f", "\xc3\xa9", "\xe2\x82\xac", "\xf0\x9f\x98\x80", "\xef\xbf\xbf", "u0041", "\\u"};
    size_t used = (size_t)snprintf(out, cap, "%zu:", salt); /* ":" is no piece */
    size_t count = 1 + below(12);
    for (size_t k = 0; k < count; k++) {
        const char *piece = pieces[below(sizeof pieces / sizeof *pieces)];
        size_t len = strlen(piece);
        if (used + len + 1 > cap) break;
        memcpy(out + used, piece, len + 1);
        used += len;
    }
}

/* The header as jansson writes it: the previous writer's tree and dump. */
static unsigned char *jansson_header(const clh_st_tensor *tensors, size_t n,
                                     const clh_st_meta *meta, size_t n_meta, size_t *len) {
    json_t *root = json_object();
    if (n_meta) {
        json_t *object = json_object();
        for (size_t m = 0; m < n_meta; m++)
            json_object_set_new(object, meta[m].key, json_string(meta[m].value));
        json_object_set_new(root, "__metadata__", object);
    }
    size_t offset = 0;
    for (size_t i = 0; i < n; i++) {
        json_t *info = json_object(), *shape = json_array(), *offsets = json_array();
        for (size_t d = 0; d < tensors[i].ndim; d++)
            json_array_append_new(shape, json_integer(tensors[i].shape[d]));
        json_array_append_new(offsets, json_integer((json_int_t)offset));
        json_array_append_new(offsets, json_integer((json_int_t)(offset + tensors[i].nbytes)));
        json_object_set_new(info, "dtype", json_string(clh_dtype_name(tensors[i].dtype)));
        json_object_set_new(info, "shape", shape);
        json_object_set_new(info, "data_offsets", offsets);
        json_object_set_new(root, tensors[i].name, info);
        offset += tensors[i].nbytes;
    }
    size_t json_len = json_dumpb(root, NULL, 0, JSON_COMPACT);
    size_t padded = (json_len + 7) & ~(size_t)7;
    unsigned char *bytes = malloc(8 + padded);
    if (bytes) {
        json_dumpb(root, (char *)bytes + 8, json_len, JSON_COMPACT);
        memset(bytes + 8 + json_len, ' ', padded - json_len);
        for (int k = 0; k < 8; k++) bytes[k] = (unsigned char)((uint64_t)padded >> (8 * k));
    }
    json_decref(root);
    *len = 8 + padded;
    return bytes;
}

enum { MAX_TENSORS = 12, MAX_META = 6, TEXT_CAP = 64 };

static void test_random_against_jansson(void) {
    static const clh_dtype dtypes[] = {CLH_DT_F32, CLH_DT_F16, CLH_DT_BF16, CLH_DT_F64,
                                       CLH_DT_I64, CLH_DT_I32, CLH_DT_U8,   CLH_DT_BOOL};
    static unsigned char data[4096];
    for (size_t i = 0; i < sizeof data; i++) data[i] = (unsigned char)(i * 7 % 251);
    int mismatches = 0;
    for (int round = 0; round < 300; round++) {
        char names[MAX_TENSORS][TEXT_CAP], keys[MAX_META][TEXT_CAP], values[MAX_META][TEXT_CAP];
        clh_st_tensor tensors[MAX_TENSORS];
        clh_st_meta meta[MAX_META];
        size_t n = below(MAX_TENSORS + 1), n_meta = below(MAX_META + 1);
        for (size_t i = 0; i < n; i++) {
            random_text(names[i], TEXT_CAP, i);
            memset(&tensors[i], 0, sizeof tensors[i]);
            tensors[i].name = names[i];
            tensors[i].dtype = dtypes[below(sizeof dtypes / sizeof *dtypes)];
            tensors[i].ndim = below(4);
            size_t numel = 1;
            for (size_t d = 0; d < tensors[i].ndim; d++) {
                tensors[i].shape[d] = (int64_t)below(6); /* 0 makes an empty tensor */
                numel *= (size_t)tensors[i].shape[d];
            }
            tensors[i].nbytes = numel * clh_dtype_size(tensors[i].dtype);
            tensors[i].data = tensors[i].nbytes ? data : NULL;
        }
        for (size_t m = 0; m < n_meta; m++) {
            random_text(keys[m], TEXT_CAP, m);
            random_text(values[m], TEXT_CAP, 100 + m);
            meta[m] = (clh_st_meta){keys[m], values[m]};
        }
        unsigned char *ours = NULL;
        size_t ours_len = 0, want_len = 0;
        CHECK_OK(clh_st_encode(tensors, n, meta, n_meta, &ours, &ours_len));
        unsigned char *want = jansson_header(tensors, n, meta, n_meta, &want_len);
        size_t data_len = 0;
        for (size_t i = 0; i < n; i++) data_len += tensors[i].nbytes;
        int same = ours && want && ours_len == want_len + data_len &&
                   memcmp(ours, want, want_len) == 0;
        for (size_t i = 0, at = want_len; same && i < n; at += tensors[i++].nbytes)
            same = tensors[i].nbytes == 0 || memcmp(ours + at, data, tensors[i].nbytes) == 0;
        if (!same && mismatches++ < 3)
            fprintf(stderr, "round %d: header differs from jansson's:\n  ours: %.*s\n  want: %.*s\n",
                    round, ours ? (int)(ours_len < 400 ? ours_len : 400) - 8 : 0,
                    ours ? (const char *)ours + 8 : "", (int)want_len - 8, (const char *)want + 8);
        CHECK(same);
        clh_st_bytes_free(ours);
        free(want);
    }
    CHECK(mismatches == 0);
}

/* ---- 3. the order of the refusals ---------------------------------------- */

static clh_status encode(const clh_st_tensor *tensors, size_t n, const clh_st_meta *meta,
                         size_t n_meta) {
    unsigned char *bytes = (unsigned char *)"untouched";
    size_t len = 12345;
    clh_status st = clh_st_encode(tensors, n, meta, n_meta, &bytes, &len);
    if (st == CLH_OK) clh_st_bytes_free(bytes);
    else CHECK(len == 12345 && strcmp((const char *)bytes, "untouched") == 0);
    return st;
}

static void test_refusals(void) {
    static const float v[1] = {1.0f};
    clh_st_tensor t[4];
    t[0] = clh_st_view("a", CLH_DT_F32, 1, 1, 0, v);
    t[1] = clh_st_view("b", CLH_DT_F32, 1, 1, 0, v);
    t[2] = clh_st_view("a", CLH_DT_F32, 1, 1, 0, v); /* repeats tensor 0 */
    t[3] = clh_st_view("c", CLH_DT_F32, 1, 1, 0, v);
    CHECK_STATUS(encode(t, 4, NULL, 0), CLH_E_INVALID_ARG);
    CHECK(strstr(clh_last_error(), "tensor name 'a' appears twice") != NULL);
    /* A bad dtype after the repeat: the repeat comes first. */
    t[3].dtype = (clh_dtype)99;
    CHECK_STATUS(encode(t, 4, NULL, 0), CLH_E_INVALID_ARG);
    CHECK(strstr(clh_last_error(), "appears twice") != NULL);
    /* A bad entry before the repeat: it comes first. */
    t[1].nbytes = 8;
    CHECK_STATUS(encode(t, 4, NULL, 0), CLH_E_INVALID_ARG);
    CHECK(strstr(clh_last_error(), "tensor 'b': nbytes 8 disagrees") != NULL);
    /* A repeat of a bad entry's name is not reached. */
    t[1] = clh_st_view("a", CLH_DT_F32, 1, 1, 0, NULL); /* no data, and a repeat */
    CHECK_STATUS(encode(t, 2, NULL, 0), CLH_E_NULL);
    CHECK(strstr(clh_last_error(), "tensor 'a' has no data") != NULL);
    /* Names that differ only after a byte the escaping changes stay distinct. */
    t[0] = clh_st_view("x\"", CLH_DT_F32, 1, 1, 0, v);
    t[1] = clh_st_view("x\\\"", CLH_DT_F32, 1, 1, 0, v);
    CHECK_OK(encode(t, 2, NULL, 0));

    clh_st_meta m[4] = {{"k", "1"}, {"j", "2"}, {"k", "3"}, {NULL, "4"}};
    CHECK_STATUS(encode(NULL, 0, m, 4), CLH_E_INVALID_ARG);
    CHECK(strstr(clh_last_error(), "metadata key 'k' appears twice") != NULL);
    m[1].value = "\xc3"; /* invalid UTF-8 before the repeat */
    CHECK_STATUS(encode(NULL, 0, m, 4), CLH_E_INVALID_ARG);
    CHECK(strstr(clh_last_error(), "metadata entry 1 is not valid UTF-8") != NULL);
    m[1].value = "2";
    m[2].key = "l";
    CHECK_STATUS(encode(NULL, 0, m, 4), CLH_E_NULL);
    CHECK(strstr(clh_last_error(), "metadata entry 3 has no key or value") != NULL);
    /* Metadata is checked before the tensors. */
    t[0] = clh_st_view("a", CLH_DT_F32, 1, 1, 0, v);
    t[1] = t[0];
    CHECK_STATUS(encode(t, 2, m, 4), CLH_E_NULL);
    CHECK_STATUS(encode(t, 2, m, 3), CLH_E_INVALID_ARG);
    CHECK(strstr(clh_last_error(), "tensor name 'a' appears twice") != NULL);
    /* A tensor may share its name with a metadata key. */
    CHECK_OK(encode(t, 1, (clh_st_meta[]){{"a", "b"}}, 1));

    /* An extent past size_t (32-bit targets) is refused, not wrapped to 0:
     * shape [2^32, 0] holds no element, so 64-bit targets write it. */
    clh_st_tensor wide = clh_st_view("wide", CLH_DT_F32, 2, 1, 0, v);
    wide.shape[0] = (int64_t)1 << 32;
    wide.nbytes = 0;
    if ((uint64_t)SIZE_MAX < ((uint64_t)1 << 32)) {
        CHECK_STATUS(encode(&wide, 1, NULL, 0), CLH_E_INVALID_ARG);
        CHECK(strstr(clh_last_error(), "tensor 'wide': shape product overflows") != NULL);
    } else {
        CHECK_OK(encode(&wide, 1, NULL, 0));
    }

    /* A header past the format's 100 MB, which the reader would refuse, is
     * not written; one just under it is, and reads back. */
    size_t big = 100000000 - 64;
    char *value = malloc(big + 1);
    CHECK(value != NULL);
    if (!value) return;
    memset(value, 'v', big);
    value[big] = '\0';
    clh_st_meta huge = {"k", value};
    unsigned char *bytes = NULL;
    size_t len = 0;
    CHECK_OK(clh_st_encode(NULL, 0, &huge, 1, &bytes, &len));
    clh_st_file *file = NULL;
    CHECK_OK(clh_st_parse(&file, bytes, len));
    clh_st_free(file);
    clh_st_bytes_free(bytes);
    /* The JSON is the value and 25 bytes: 99,999,961. Ten control bytes,
     * escaped as \u0001, add 50: past the limit. */
    memset(value + big - 10, 1, 10);
    bytes = NULL;
    CHECK_STATUS(clh_st_encode(NULL, 0, &huge, 1, &bytes, &len), CLH_E_INVALID_ARG);
    CHECK(bytes == NULL);
    CHECK(strstr(clh_last_error(), "past the format's limit of 100 MB") != NULL);
    free(value);
}

int main(void) {
    test_reference_checkpoint();
    test_random_against_jansson();
    test_refusals();
    return check_done("test_safetensors_header_bytes");
}
