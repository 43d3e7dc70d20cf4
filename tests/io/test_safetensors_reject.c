/* One test per rejection rule of the strict safetensors reader: each checks
 * the status and that the detail names the problem (tensor, offset, size). */
#define _POSIX_C_SOURCE 200809L
#include <unistd.h>

#include "test_checkpoint_util.h"

#define REJECT(header, data_len, needle)                              \
    do {                                                              \
        CHECK_STATUS(parse_raw((header), (data_len)), CLH_E_FORMAT);  \
        CHECK_DETAIL(needle);                                         \
    } while (0)

#define ACCEPT(header, data_len) CHECK_OK(parse_raw((header), (data_len)))

static const char *const one_f32 = "{\"x\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}";

static void test_truncated(void) {
    size_t len;
    unsigned char *bytes = raw_file(one_f32, 8, 1, UINT64_MAX, &len);
    clh_st_file *file = NULL;
    CHECK_OK(clh_st_parse(&file, bytes, len));
    clh_st_free(file);
    file = NULL;
    /* Cut inside the data: the tensor's end offset lies past the data. */
    CHECK_STATUS(clh_st_parse(&file, bytes, len - 3), CLH_E_FORMAT);
    CHECK_DETAIL("tensor 'x': data_offsets end 8 lies past the end of the data section (5 bytes");
    /* Cut inside the header and inside the length. */
    CHECK_STATUS(clh_st_parse(&file, bytes, 20), CLH_E_FORMAT);
    CHECK_DETAIL("runs past the end of the file");
    CHECK_STATUS(clh_st_parse(&file, bytes, 5), CLH_E_FORMAT);
    CHECK_DETAIL("5 bytes are too short for the 8-byte header length");
    CHECK_STATUS(clh_st_parse(&file, bytes, 0), CLH_E_FORMAT);
    CHECK(file == NULL);

    /* The same through a file on disk: the detail names the file. */
    char path[] = "/tmp/clh_reject_XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    if (fd >= 0) {
        close(fd);
        CHECK(write_whole(path, bytes, len - 3));
        CHECK_STATUS(clh_st_open(&file, path), CLH_E_FORMAT);
        CHECK_DETAIL(path);
        CHECK_DETAIL("truncated");
        CHECK(write_whole(path, bytes, 30));
        CHECK_STATUS(clh_st_open(&file, path), CLH_E_FORMAT);
        CHECK_DETAIL("runs past the end of the file");
        CHECK(write_whole(path, bytes, len));
        CHECK_OK(clh_st_open(&file, path));
        clh_st_free(file);
        unlink(path);
    }
    CHECK_STATUS(clh_st_open(&file, "/nonexistent/clh.safetensors"), CLH_E_IO);
    CHECK_DETAIL("/nonexistent/clh.safetensors");
    free(bytes);
}

static void test_header_length(void) {
    size_t len;
    clh_st_file *file = NULL;
    struct {
        uint64_t length;
        const char *needle;
    } cases[] = {
        {100000001u, "header length 100000001 exceeds the 100 MB limit"},
        {UINT64_MAX - 1, "header length 18446744073709551614 exceeds the 100 MB limit"},
        {(uint64_t)1 << 63, "exceeds the 100 MB limit"},
        {100000000u, "header length 100000000 runs past the end of the file (8 bytes follow"},
        {9, "header length 9 runs past the end of the file (8 bytes follow"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        unsigned char *bytes = raw_file("{}", 0, 1, cases[i].length, &len);
        CHECK_STATUS(clh_st_parse(&file, bytes, len), CLH_E_FORMAT);
        CHECK_DETAIL(cases[i].needle);
        free(bytes);
    }
    /* N = 0: no JSON at all. */
    unsigned char *bytes = raw_file("", 0, 0, UINT64_MAX, &len);
    CHECK_STATUS(clh_st_parse(&file, bytes, len), CLH_E_FORMAT);
    CHECK_DETAIL("not an object");
    free(bytes);
}

static void test_not_object_or_invalid_json(void) {
    REJECT("[1,2,3]", 0, "the JSON header is not an object");
    REJECT("\"x\"", 0, "not an object");
    REJECT(" {}", 0, "does not start with '{'");
    REJECT("{\"x\": {\"dtype\": \"F32\",", 0, "invalid JSON header");
    REJECT("{\"x\":{\"dtype\":\"U8\",\"shape\":[0],\"data_offsets\":[0,0]},}", 0,
           "invalid JSON header at byte 53: expected a tensor name");
    REJECT("{\"x\":{\"dtype\":\"U8\",\"shape\":[0,],\"data_offsets\":[0,0]}}", 0,
           "tensor 'x': shape[1] is not a non-negative integer");
    REJECT("{\"x\":{\"dtype\":\"U8\",\"shape\":[01],\"data_offsets\":[0,1]}}", 1,
           "a number with a leading zero");
    REJECT("{\"x\":{\"dtype\":\"U8\",\"shape\":[0] \"data_offsets\":[0,0]}}", 0,
           "expected ',' or '}' in the entry of tensor 'x'");
    REJECT("{\"x\":{\"dtype\":\"U8\",\"shape\":[0],\"data_offsets\":[0,0]}\f}", 0,
           "invalid JSON header"); /* form feed is not JSON whitespace */
    REJECT("{\"x\" {}}", 0, "expected ':' after a tensor name");
    REJECT("{\"x", 0, "a string is not closed");
    REJECT("{} {}", 0, "invalid JSON header");
    REJECT("{\"x\":1}", 0, "tensor 'x': entry is not a JSON object");
    REJECT("{\"x\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[0,0]}}\x01", 0,
           "invalid JSON header");
}

static void test_invalid_utf8(void) {
    REJECT("{\"\xff\":{\"dtype\":\"U8\",\"shape\":[0],\"data_offsets\":[0,0]}}", 0,
           "unable to decode byte 0xff");
    /* An overlong encoding of '/', and a UTF-16 surrogate. */
    REJECT("{\"\xc0\xaf\":{\"dtype\":\"U8\",\"shape\":[0],\"data_offsets\":[0,0]}}", 0,
           "unable to decode byte 0xc0");
    REJECT("{\"\xed\xa0\x80\":{\"dtype\":\"U8\",\"shape\":[0],\"data_offsets\":[0,0]}}", 0,
           "unable to decode byte 0xed");
    REJECT("{\"__metadata__\":{\"k\":\"\xe2\x82\"}}", 0, "invalid JSON header");
    /* A NUL inside a name would make C strings lie. */
    REJECT("{\"a\\u0000b\":{\"dtype\":\"U8\",\"shape\":[0],\"data_offsets\":[0,0]}}", 0,
           "invalid JSON header at byte 3: \\u0000 in a string");
    REJECT("{\"__metadata__\":{\"k\":\"a\\u0000b\"}}", 0, "invalid JSON header");
}

/* What a JSON writer may produce and the reader must take: every escape
 * (Python's json.dumps escapes all non-ASCII text, astral characters as
 * surrogate pairs), raw UTF-8, JSON whitespace between any two tokens, and
 * entry keys in any order. Names and values come back decoded. */
static void test_json_accepted(void) {
    const char *header =
        "{ \"caf\\u00e9\\n\\t\\\"q\\\"\\\\\\/\\b\\f\\r\" :\t{\"shape\" : [ 2 ] ,"
        "\"data_offsets\":[0 ,2],\r\n\"dtype\":\"U8\"},\n"
        "\"\\ud83d\\ude00\":{\"dtype\":\"U8\",\"shape\":[],\"data_offsets\":[2,3]},"
        "\"\xf0\x9f\x98\x80!\":{\"dtype\":\"U8\",\"shape\":[0],\"data_offsets\":[3,3]},"
        "\"__metadata__\":{\"k\\u00E9y\":\"v\\u20acl\", \"raw\":\"\xe2\x82\xac\"}}";
    size_t len;
    unsigned char *bytes = raw_file(header, 3, 1, UINT64_MAX, &len);
    clh_st_file *file = NULL;
    CHECK_OK(clh_st_parse(&file, bytes, len));
    const clh_st_tensor *t = clh_st_find(file, "caf\xc3\xa9\n\t\"q\"\\/\b\f\r");
    CHECK(t && t->dtype == CLH_DT_U8 && t->ndim == 1 && t->shape[0] == 2 && t->nbytes == 2);
    CHECK(t && ((const unsigned char *)t->data)[1] == 1);
    t = clh_st_find(file, "\xf0\x9f\x98\x80"); /* U+1F600 from its surrogate pair */
    CHECK(t && t->ndim == 0 && t->nbytes == 1 && ((const unsigned char *)t->data)[0] == 2);
    CHECK(clh_st_find(file, "\xf0\x9f\x98\x80!") != NULL);
    CHECK(clh_st_count(file) == 3 && clh_st_meta_count(file) == 2);
    const char *value = clh_st_meta_get(file, "k\xc3\xa9y");
    CHECK(value && strcmp(value, "v\xe2\x82\xac" "l") == 0);
    value = clh_st_meta_get(file, "raw");
    CHECK(value && strcmp(value, "\xe2\x82\xac") == 0);
    clh_st_free(file);
    free(bytes);
    /* Offsets and extents up to 2^63 - 1 are integers (the empty tensor's
     * other extent makes the product 0). */
    ACCEPT("{\"a\":{\"dtype\":\"U8\",\"shape\":[9223372036854775807,0],\"data_offsets\":[0,0]}}", 0);
}

/* Strings and values the strict syntax refuses. */
static void test_json_rejected(void) {
#define ENTRY(name) "{\"" name "\":{\"dtype\":\"U8\",\"shape\":[0],\"data_offsets\":[0,0]}}"
    REJECT(ENTRY("\\udc00"), 0, "a lone UTF-16 low surrogate \\udc00");
    REJECT(ENTRY("\\ud83dx"), 0, "a UTF-16 high surrogate \\ud83d without its low half");
    REJECT(ENTRY("\\ud83d\\ud83d"), 0, "without its low half");
    REJECT(ENTRY("\\x"), 0, "invalid escape in a string");
    REJECT(ENTRY("\\u12G4"), 0, "invalid \\u escape in a string");
    REJECT(ENTRY("\\u12"), 0, "invalid \\u escape in a string");
    REJECT(ENTRY("a\x01"), 0, "invalid JSON header at byte 3: control character 0x01 in a string");
    REJECT(ENTRY("\xf4\x90\x80\x80"), 0, "unable to decode byte 0xf4"); /* past U+10FFFF */
    REJECT(ENTRY("\x80"), 0, "unable to decode byte 0x80");
    REJECT(ENTRY("x") "}", 0,
           "invalid JSON header at byte 53: bytes after the end of the header object");
    REJECT("{\"x\":{\"dtype\":\"U8\",\"shape\":[true],\"data_offsets\":[0,0]}}", 0,
           "tensor 'x': shape[0] is not a non-negative integer");
    REJECT("{\"x\":{\"dtype\":\"U8\",\"shape\":[1e0],\"data_offsets\":[0,1]}}", 1,
           "tensor 'x': shape[0] is not a non-negative integer");
    REJECT("{\"x\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1.5]}}", 1,
           "tensor 'x': data_offsets is not a pair of non-negative integers");
    REJECT("{\"x\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1,2]}}", 1,
           "tensor 'x': data_offsets is not a pair of non-negative integers");
    REJECT("{\"x\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":{}}}", 1,
           "tensor 'x': data_offsets is not a pair of non-negative integers");
    REJECT("{\"x\":{\"dtype\":\"U8\",\"shape\":[0],\"data_offsets\":[0,0]}", 0,
           "expected ',' or '}' after a tensor entry");
    REJECT("{\"x\":{}}", 0, "tensor 'x': entry must have exactly the keys dtype, shape and "
                            "data_offsets (dtype is missing)");
    REJECT("{\"x\":{\"dtype\":\"U8\",\"data_offsets\":[0,0]}}", 0, "(shape is missing)");
    REJECT("{\"__metadata__\":{\"k\":\"v\",}}", 0, "invalid JSON header");
    REJECT("{\"__metadata__\":{\"k\" \"v\"}}", 0, "expected ':' after a key");
    REJECT("{\"__metadata__\":{\"k\":null}}", 0, "__metadata__ value of key 'k' is not a string");
#undef ENTRY
}

static void test_duplicate_names(void) {
    REJECT("{\"x\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1]},"
           "\"x\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[1,2]}}",
           2, "tensor 'x' appears twice in the header");
    REJECT("{\"__metadata__\":{\"k\":\"1\",\"k\":\"2\"}}", 0, "__metadata__ key 'k' appears twice");
    REJECT("{\"__metadata__\":{},\"__metadata__\":{}}", 0, "__metadata__ appears twice");
    REJECT("{\"x\":{\"dtype\":\"U8\",\"dtype\":\"U8\",\"shape\":[0],\"data_offsets\":[0,0]}}", 0,
           "tensor 'x': entry must have exactly the keys dtype, shape and data_offsets (repeated "
           "key \"dtype\")");
    /* Names equal once decoded: "\u0078" is "x". */
    REJECT("{\"x\":{\"dtype\":\"U8\",\"shape\":[0],\"data_offsets\":[0,0]},"
           "\"\\u0078\":{\"dtype\":\"U8\",\"shape\":[0],\"data_offsets\":[0,0]}}",
           0, "tensor 'x' appears twice in the header");
}

static void test_unknown_dtype(void) {
    REJECT("{\"x\":{\"dtype\":\"F128\",\"shape\":[1],\"data_offsets\":[0,16]}}", 16,
           "tensor 'x': unknown dtype \"F128\"");
    REJECT("{\"x\":{\"dtype\":\"f32\",\"shape\":[1],\"data_offsets\":[0,4]}}", 4,
           "tensor 'x': unknown dtype \"f32\"");
    REJECT("{\"x\":{\"dtype\":4,\"shape\":[1],\"data_offsets\":[0,4]}}", 4,
           "tensor 'x': dtype is not a string");
}

static void test_schema(void) {
    REJECT("{\"x\":{\"dtype\":\"U8\",\"shape\":[1]}}", 1,
           "tensor 'x': entry must have exactly the keys dtype, shape and data_offsets");
    REJECT("{\"x\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1],\"y\":0}}", 1,
           "tensor 'x': entry must have exactly the keys");
    REJECT("{\"x\":{\"dtype\":\"U8\",\"shape\":1,\"data_offsets\":[0,1]}}", 1,
           "tensor 'x': shape is not an array");
    REJECT("{\"x\":{\"dtype\":\"U8\",\"shape\":[-1],\"data_offsets\":[0,1]}}", 1,
           "tensor 'x': shape[0] is not a non-negative integer");
    REJECT("{\"x\":{\"dtype\":\"U8\",\"shape\":[1.0],\"data_offsets\":[0,1]}}", 1,
           "tensor 'x': shape[0] is not a non-negative integer");
    REJECT("{\"x\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0]}}", 1,
           "tensor 'x': data_offsets is not a pair of non-negative integers");
    REJECT("{\"x\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[-1,0]}}", 1,
           "tensor 'x': data_offsets is not a pair");
    REJECT("{\"x\":{\"dtype\":\"U8\",\"shape\":[0],\"data_offsets\":[1,0]}}", 1,
           "tensor 'x': data_offsets [1, 0] end before they begin");
    REJECT("{\"x\":{\"dtype\":\"U8\",\"shape\":[1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1],"
           "\"data_offsets\":[0,1]}}",
           1, "tensor 'x': rank 17 exceeds the limit of 16");
    REJECT("{\"__metadata__\":[1]}", 0, "__metadata__ is not a JSON object");
    REJECT("{\"__metadata__\":{\"k\":1}}", 0, "__metadata__ value of key 'k' is not a string");
}

static void test_shape_and_offsets_disagree(void) {
    REJECT("{\"x\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,4]}}", 4,
           "tensor 'x': data_offsets [0, 4] hold 4 bytes, but its shape and dtype F32 need 8");
    REJECT("{\"x\":{\"dtype\":\"BF16\",\"shape\":[2,3],\"data_offsets\":[0,13]}}", 13,
           "tensor 'x': data_offsets [0, 13] hold 13 bytes, but its shape and dtype BF16 need 12");
    REJECT("{\"x\":{\"dtype\":\"F64\",\"shape\":[],\"data_offsets\":[0,0]}}", 0,
           "hold 0 bytes, but its shape and dtype F64 need 8");
}

static void test_overlap(void) {
    REJECT("{\"a\":{\"dtype\":\"U8\",\"shape\":[4],\"data_offsets\":[0,4]},"
           "\"b\":{\"dtype\":\"U8\",\"shape\":[4],\"data_offsets\":[2,6]}}",
           6, "tensor 'b' at data_offsets [2, 6] overlaps tensor 'a' (which ends at 4)");
    /* Two tensors on the same bytes. */
    REJECT("{\"a\":{\"dtype\":\"U8\",\"shape\":[4],\"data_offsets\":[0,4]},"
           "\"b\":{\"dtype\":\"I32\",\"shape\":[1],\"data_offsets\":[0,4]}}",
           4, "overlaps tensor 'a'");
    /* An empty tensor inside another one. */
    REJECT("{\"a\":{\"dtype\":\"U8\",\"shape\":[4],\"data_offsets\":[0,4]},"
           "\"z\":{\"dtype\":\"U8\",\"shape\":[0],\"data_offsets\":[2,2]}}",
           4, "tensor 'z' at data_offsets [2, 2] overlaps tensor 'a'");
}

static void test_holes(void) {
    REJECT("{\"a\":{\"dtype\":\"U8\",\"shape\":[2],\"data_offsets\":[0,2]},"
           "\"b\":{\"dtype\":\"U8\",\"shape\":[2],\"data_offsets\":[4,6]}}",
           6, "hole in the data section: bytes [2, 4) before tensor 'b' belong to no tensor");
    REJECT("{\"b\":{\"dtype\":\"U8\",\"shape\":[2],\"data_offsets\":[1,3]}}", 3,
           "bytes [0, 1) before tensor 'b'");
}

static void test_trailing_bytes(void) {
    REJECT("{\"a\":{\"dtype\":\"U8\",\"shape\":[2],\"data_offsets\":[0,2]}}", 5,
           "3 trailing bytes after the last tensor (tensors end at offset 2, the data section has 5");
    REJECT("{}", 1, "1 trailing bytes after the last tensor");
}

static void test_integer_overflow(void) {
    /* Beyond int64 in the JSON itself. */
    REJECT("{\"a\":{\"dtype\":\"U8\",\"shape\":[99999999999999999999],\"data_offsets\":[0,2]}}", 2,
           "tensor 'a': shape[0] is not a non-negative integer (too big an integer: over 2^63 - 1)");
    REJECT("{\"a\":{\"dtype\":\"U8\",\"shape\":[9223372036854775808],\"data_offsets\":[0,2]}}", 2,
           "too big an integer");
    REJECT("{\"a\":{\"dtype\":\"U8\",\"shape\":[2],\"data_offsets\":[0,18446744073709551616]}}", 2,
           "tensor 'a': data_offsets is not a pair of non-negative integers (too big an integer");
    /* The element count overflows; and elements x dtype size overflows. */
    REJECT("{\"a\":{\"dtype\":\"U8\",\"shape\":[4294967296,4294967296],\"data_offsets\":[0,0]}}", 0,
           "tensor 'a': shape x U8 size overflows");
    REJECT("{\"a\":{\"dtype\":\"F64\",\"shape\":[2305843009213693952],\"data_offsets\":[0,0]}}", 0,
           "tensor 'a': shape x F64 size overflows");
    /* Offsets near INT64_MAX stay offsets past the end, with no wrap. */
    REJECT("{\"a\":{\"dtype\":\"U8\",\"shape\":[1],"
           "\"data_offsets\":[9223372036854775806,9223372036854775807]}}",
           1, "tensor 'a': data_offsets end 9223372036854775807 lies past the end");
    /* A zero extent after an overflowing product is a legal empty tensor. */
    ACCEPT("{\"a\":{\"dtype\":\"U8\",\"shape\":[4294967296,4294967296,0],\"data_offsets\":[0,0]}}", 0);
    /* ... and the accessors agree with the reader: 0 elements, converted as such. */
    size_t len;
    unsigned char *bytes = raw_file(
        "{\"a\":{\"dtype\":\"F32\",\"shape\":[4294967296,4294967296,0],\"data_offsets\":[0,0]}}", 0,
        1, UINT64_MAX, &len);
    clh_st_file *file = NULL;
    CHECK_OK(clh_st_parse(&file, bytes, len));
    CHECK(clh_st_numel(clh_st_at(file, 0)) == 0);
    CHECK_OK(clh_st_to_f32(clh_st_at(file, 0), NULL, 0));
    clh_st_free(file);
    free(bytes);
}

static void test_accepted_edges(void) {
    ACCEPT("{}", 0);
    ACCEPT("{\"__metadata__\":{}}", 0);
    ACCEPT("{\"s\":{\"dtype\":\"F64\",\"shape\":[],\"data_offsets\":[0,8]},"
           "\"e\":{\"dtype\":\"F32\",\"shape\":[0,3],\"data_offsets\":[8,8]}}",
           8);
    /* An unpadded header leaves the data unaligned in the input; the parsed
     * copy is aligned anyway. */
    size_t len;
    unsigned char *bytes =
        raw_file("{\"x\":{\"dtype\":\"F64\",\"shape\":[1],\"data_offsets\":[0,8]}}", 8, 0, UINT64_MAX, &len);
    clh_st_file *file = NULL;
    CHECK_OK(clh_st_parse(&file, bytes, len));
    const clh_st_tensor *t = clh_st_at(file, 0);
    CHECK(t && ((uintptr_t)t->data % 8) == 0);
    clh_st_free(file);
    free(bytes);
}

int main(void) {
    test_truncated();
    test_header_length();
    test_not_object_or_invalid_json();
    test_invalid_utf8();
    test_json_accepted();
    test_json_rejected();
    test_duplicate_names();
    test_unknown_dtype();
    test_schema();
    test_shape_and_offsets_disagree();
    test_overlap();
    test_holes();
    test_trailing_bytes();
    test_integer_overflow();
    test_accepted_edges();
    return check_done("test_safetensors_reject");
}
