/* The safetensors writer and reader together: files laid out as the format
 * says (header starts with '{', padded with spaces to 8, tensors in the given
 * order), every dtype, metadata, conversions to float32 (F16 and BF16
 * against PyTorch's own roundings), writer argument checks, and allocation
 * failures that leave nothing behind. */
#define _POSIX_C_SOURCE 200809L
#include <unistd.h>

#include "common/testing.h"
#include "refdata.h"
#include "test_checkpoint_util.h"

static uint64_t le64(const unsigned char *p) {
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--) v = (v << 8) | p[i];
    return v;
}

static void test_layout_and_round_trip(void) {
    static const unsigned char bytes8[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    float w[6] = {1, -2, 3.5f, 0, -0.0f, 1e-30f};
    double d[2] = {0.1, -1e300};
    clh_st_tensor tensors[] = {
        {"w", CLH_DT_F32, 2, {2, 3}, w, sizeof w},
        {"d", CLH_DT_F64, 1, {2}, d, sizeof d},
        {"empty", CLH_DT_F16, 2, {0, 4}, NULL, 0},
        {"scalar", CLH_DT_I64, 0, {0}, bytes8, 8},
        {"b", CLH_DT_U8, 1, {3}, bytes8, 3},
        {"\xc3\xa9t\xc3\xa9", CLH_DT_BOOL, 1, {1}, bytes8, 1},
    };
    clh_st_meta meta[] = {{"format", "pt"}, {"note", "caf\xc3\xa9"}, {"", ""}};
    unsigned char *bytes;
    size_t len;
    CHECK_OK(clh_st_encode(tensors, 6, meta, 3, &bytes, &len));
    uint64_t n = le64(bytes);
    CHECK(n % 8 == 0 && bytes[8] == '{');
    CHECK(bytes[8 + n - 1] == ' ' || bytes[8 + n - 1] == '}');
    CHECK(len == 8 + n + sizeof w + sizeof d + 8 + 3 + 1);
    /* Data in the order given: w first, then d. */
    CHECK(memcmp(bytes + 8 + n, w, sizeof w) == 0);
    CHECK(memcmp(bytes + 8 + n + sizeof w, d, sizeof d) == 0);

    clh_st_file *file = NULL;
    CHECK_OK(clh_st_parse(&file, bytes, len));
    CHECK(clh_st_count(file) == 6 && clh_st_meta_count(file) == 3);
    const char *order[] = {"w", "d", "empty", "scalar", "b", "\xc3\xa9t\xc3\xa9"};
    for (size_t i = 0; i < 6 && file; i++) {
        const clh_st_tensor *t = clh_st_at(file, i);
        CHECK(t && strcmp(t->name, order[i]) == 0);
        CHECK(clh_st_find(file, order[i]) == t);
        CHECK(t->dtype == tensors[i].dtype && t->ndim == tensors[i].ndim &&
              t->nbytes == tensors[i].nbytes);
        CHECK(memcmp(t->shape, tensors[i].shape, t->ndim * sizeof t->shape[0]) == 0);
        CHECK(t->nbytes == 0 || memcmp(t->data, tensors[i].data, t->nbytes) == 0);
        CHECK((uintptr_t)t->data % 8 == 0 || t->nbytes % 8 != 0 || i > 1);
    }
    CHECK(clh_st_at(file, 6) == NULL && clh_st_find(file, "nope") == NULL);
    CHECK(clh_st_numel(clh_st_find(file, "scalar")) == 1);
    CHECK(clh_st_numel(clh_st_find(file, "empty")) == 0);
    CHECK(strcmp(clh_st_meta_get(file, "note"), "caf\xc3\xa9") == 0);
    CHECK(strcmp(clh_st_meta_get(file, ""), "") == 0);
    CHECK(clh_st_meta_get(file, "missing") == NULL);
    const clh_st_meta *m0 = clh_st_meta_at(file, 0);
    CHECK(m0 && strcmp(m0->key, "format") == 0 && strcmp(m0->value, "pt") == 0);
    CHECK(clh_st_meta_at(file, 3) == NULL);

    float got[6];
    CHECK_OK(clh_st_to_f32(clh_st_find(file, "w"), got, 6));
    CHECK(memcmp(got, w, sizeof w) == 0);
    CHECK_OK(clh_st_to_f32(clh_st_find(file, "d"), got, 2));
    CHECK(got[0] == (float)0.1 && isinf(got[1]) && got[1] < 0);
    CHECK_STATUS(clh_st_to_f32(clh_st_find(file, "w"), got, 5), CLH_E_MISMATCH);
    CHECK_DETAIL("tensor 'w' has 6 elements, the caller expects 5");
    CHECK_STATUS(clh_st_to_f32(clh_st_find(file, "scalar"), got, 1), CLH_E_MISMATCH);
    CHECK_DETAIL("tensor 'scalar' has dtype I64, not a floating type");
    CHECK_OK(clh_st_to_f32(clh_st_find(file, "empty"), NULL, 0));
    clh_st_free(file);
    clh_st_free(NULL);

    /* The same bytes through a file. */
    char dir[] = "/tmp/clh_format_XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    char path[64];
    snprintf(path, sizeof path, "%s/t.safetensors", dir);
    CHECK_OK(clh_st_save(path, tensors, 6, meta, 3));
    size_t disk_len;
    unsigned char *disk = read_whole(path, &disk_len);
    CHECK(disk && disk_len == len && memcmp(disk, bytes, len) == 0);
    free(disk);
    CHECK_OK(clh_st_open(&file, path));
    CHECK(clh_st_count(file) == 6);
    CHECK((uintptr_t)clh_st_at(file, 0)->data % 8 == 0);
    clh_st_free(file);
    unlink(path);
    rmdir(dir);
    clh_st_bytes_free(bytes);

    /* No tensors, no metadata: "{}" padded. */
    CHECK_OK(clh_st_encode(NULL, 0, NULL, 0, &bytes, &len));
    CHECK(len == 16 && le64(bytes) == 8 && memcmp(bytes + 8, "{}      ", 8) == 0);
    clh_st_bytes_free(bytes);
}

static void test_writer_rejects(void) {
    float w[2] = {1, 2};
    unsigned char *bytes = NULL;
    size_t len = 0;
    clh_st_tensor dup[] = {{"a", CLH_DT_F32, 1, {2}, w, 8}, {"a", CLH_DT_F32, 1, {2}, w, 8}};
    CHECK_STATUS(clh_st_encode(dup, 2, NULL, 0, &bytes, &len), CLH_E_INVALID_ARG);
    CHECK_DETAIL("tensor name 'a' appears twice");
    clh_st_tensor bad_size = {"a", CLH_DT_F32, 1, {3}, w, 8};
    CHECK_STATUS(clh_st_encode(&bad_size, 1, NULL, 0, &bytes, &len), CLH_E_INVALID_ARG);
    CHECK_DETAIL("tensor 'a': nbytes 8 disagrees with its shape (3 elements of F32)");
    clh_st_tensor reserved = {"__metadata__", CLH_DT_F32, 1, {2}, w, 8};
    CHECK_STATUS(clh_st_encode(&reserved, 1, NULL, 0, &bytes, &len), CLH_E_INVALID_ARG);
    CHECK_DETAIL("reserved");
    clh_st_tensor unnamed = {"", CLH_DT_F32, 1, {2}, w, 8};
    CHECK_STATUS(clh_st_encode(&unnamed, 1, NULL, 0, &bytes, &len), CLH_E_INVALID_ARG);
    CHECK_DETAIL("tensor 0 has no name");
    clh_st_tensor bad_utf8 = {"\xff", CLH_DT_F32, 1, {2}, w, 8};
    CHECK_STATUS(clh_st_encode(&bad_utf8, 1, NULL, 0, &bytes, &len), CLH_E_INVALID_ARG);
    CHECK_DETAIL("not valid UTF-8");
    clh_st_tensor negative = {"a", CLH_DT_F32, 1, {-2}, w, 8};
    CHECK_STATUS(clh_st_encode(&negative, 1, NULL, 0, &bytes, &len), CLH_E_INVALID_ARG);
    CHECK_DETAIL("shape[0] = -2 is negative");
    clh_st_tensor no_data = {"a", CLH_DT_F32, 1, {2}, NULL, 8};
    CHECK_STATUS(clh_st_encode(&no_data, 1, NULL, 0, &bytes, &len), CLH_E_NULL);
    clh_st_tensor bad_dtype = {"a", (clh_dtype)99, 1, {2}, w, 8};
    CHECK_STATUS(clh_st_encode(&bad_dtype, 1, NULL, 0, &bytes, &len), CLH_E_INVALID_ARG);
    clh_st_meta dup_meta[] = {{"k", "1"}, {"k", "2"}};
    CHECK_STATUS(clh_st_encode(NULL, 0, dup_meta, 2, &bytes, &len), CLH_E_INVALID_ARG);
    CHECK_DETAIL("metadata key 'k' appears twice");
    clh_st_meta null_meta = {"k", NULL};
    CHECK_STATUS(clh_st_encode(NULL, 0, &null_meta, 1, &bytes, &len), CLH_E_NULL);
    CHECK(bytes == NULL && len == 0);
    /* A failed save creates no file. */
    CHECK_STATUS(clh_st_save("/tmp/clh_never_written.safetensors", dup, 2, NULL, 0),
                 CLH_E_INVALID_ARG);
    CHECK(access("/tmp/clh_never_written.safetensors", F_OK) != 0);
    CHECK_STATUS(clh_st_save("/nonexistent-dir/x.safetensors", dup, 1, NULL, 0), CLH_E_IO);
    CHECK_DETAIL("/nonexistent-dir/x.safetensors");
}

static void test_dtype_names(void) {
    for (int d = 0; d < CLH_DT_COUNT; d++) {
        clh_dtype parsed;
        CHECK_OK(clh_dtype_parse(clh_dtype_name((clh_dtype)d), &parsed));
        CHECK(parsed == (clh_dtype)d && clh_dtype_size((clh_dtype)d) > 0);
    }
    CHECK(clh_dtype_name(CLH_DT_COUNT) == NULL && clh_dtype_size(CLH_DT_COUNT) == 0);
    CHECK(clh_dtype_size(CLH_DT_BF16) == 2 && clh_dtype_size(CLH_DT_F64) == 8);
    clh_dtype parsed;
    CHECK_STATUS(clh_dtype_parse("F31", &parsed), CLH_E_INVALID_ARG);
}

static uint32_t bits_of(float f) {
    uint32_t b;
    memcpy(&b, &f, 4);
    return b;
}

static void test_half_conversions(void) {
    /* Every binary16 pattern survives f16 -> f32 -> f16 (NaNs stay NaNs). */
    int exact = 1;
    for (uint32_t h = 0; h <= 0xffff; h++) {
        float f = clh_f16_to_f32((uint16_t)h);
        uint16_t back = clh_f32_to_f16(f);
        int is_nan = (h & 0x7c00) == 0x7c00 && (h & 0x3ff);
        if (is_nan ? !(isnan(f) && (back & 0x7c00) == 0x7c00 && (back & 0x3ff)) : back != h)
            exact = 0;
        float b = clh_bf16_to_f32((uint16_t)h);
        if (!isnan(b) && clh_f32_to_bf16(b) != h) exact = 0;
    }
    CHECK(exact);
    CHECK(clh_f16_to_f32(0x3c00) == 1.0f && clh_f16_to_f32(0xc000) == -2.0f);
    CHECK(clh_f16_to_f32(0x0001) == ldexpf(1, -24) && clh_f16_to_f32(0x7bff) == 65504.0f);
    CHECK(isinf(clh_f16_to_f32(0x7c00)) && bits_of(clh_f16_to_f32(0x8000)) == 0x80000000u);

    /* float32 -> F16 / BF16 against PyTorch's .half() and .bfloat16(). */
    refdata *ref = refdata_load_test_file("checkpoint/reference.bin");
    CHECK(ref != NULL);
    if (!ref) return;
    size_t n = 0, n16 = 0, nbf = 0;
    const float *in = refdata_f32(ref, &n, "half_in");
    const int64_t *f16 = refdata_i64(ref, &n16, "f16_bits");
    const int64_t *bf16 = refdata_i64(ref, &nbf, "bf16_bits");
    CHECK(in && f16 && bf16 && n > 200 && n16 == n && nbf == n);
    size_t f16_wrong = 0, bf16_wrong = 0;
    for (size_t i = 0; in && f16 && bf16 && i < n; i++) {
        if (clh_f32_to_f16(in[i]) != (uint16_t)f16[i]) {
            f16_wrong++;
            fprintf(stderr, "f16(%.9g) = 0x%04x, torch 0x%04x\n", in[i], clh_f32_to_f16(in[i]),
                    (unsigned)f16[i]);
        }
        if (clh_f32_to_bf16(in[i]) != (uint16_t)bf16[i]) {
            bf16_wrong++;
            fprintf(stderr, "bf16(%.9g) = 0x%04x, torch 0x%04x\n", in[i], clh_f32_to_bf16(in[i]),
                    (unsigned)bf16[i]);
        }
    }
    CHECK(f16_wrong == 0 && bf16_wrong == 0);
    refdata_free(ref);
    CHECK(clh_f32_to_f16(NAN) & 0x3ff && (clh_f32_to_f16(NAN) & 0x7c00) == 0x7c00);
    CHECK((clh_f32_to_bf16(NAN) & 0x7f80) == 0x7f80 && (clh_f32_to_bf16(NAN) & 0x7f));
}

/* Every allocation of a parse or an encode may fail: the call reports
 * CLH_E_NOMEM, leaks nothing (ASan checks) and leaves *out alone. */
static void test_allocation_failures(void) {
    float w[4] = {1, 2, 3, 4};
    clh_st_tensor tensors[] = {{"a", CLH_DT_F32, 1, {2}, w, 8}, {"b", CLH_DT_F32, 1, {2}, w + 2, 8}};
    clh_st_meta meta = {"k", "v"};
    unsigned char *bytes;
    size_t len;
    CHECK_OK(clh_st_encode(tensors, 2, &meta, 1, &bytes, &len));
    int parse_failures = 0, encode_failures = 0, parse_ok = 0;
    for (long k = 1; k < 20; k++) {
        clh_st_file *file = (clh_st_file *)(uintptr_t)1;
        clh_test_fail_alloc_after(k);
        clh_status s = clh_st_parse(&file, bytes, len);
        clh_test_fail_alloc_after(0);
        if (s == CLH_E_NOMEM) {
            parse_failures++;
            CHECK(file == (clh_st_file *)(uintptr_t)1);
        } else {
            CHECK(s == CLH_OK);
            parse_ok += s == CLH_OK;
            clh_st_free(file);
        }
        unsigned char *again = NULL;
        size_t again_len = 0;
        clh_test_fail_alloc_after(k);
        s = clh_st_encode(tensors, 2, &meta, 1, &again, &again_len);
        clh_test_fail_alloc_after(0);
        if (s == CLH_E_NOMEM) encode_failures++;
        else CHECK(s == CLH_OK && again_len == len && memcmp(again, bytes, len) == 0);
        clh_st_bytes_free(again);
    }
    CHECK(parse_failures >= 4 && encode_failures >= 1 && parse_ok > 0);
    clh_st_bytes_free(bytes);
}

int main(void) {
    test_layout_and_round_trip();
    test_writer_rejects();
    test_dtype_names();
    test_half_conversions();
    test_allocation_failures();
    return check_done("test_safetensors_format");
}
