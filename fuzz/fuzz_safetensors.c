/* libFuzzer target for the strict safetensors reader (and, through it, the
 * checkpoint loader). Any input must be rejected cleanly or parse into a file
 * whose every view lies inside it; a parsed file must survive a round trip
 * through the writer unchanged. Property failures trap, so the fuzzer
 * reports them like crashes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "clheads.h"
#include "fuzz_target.h"

#define REQUIRE(cond)                  \
    do {                               \
        if (!(cond)) __builtin_trap(); \
    } while (0)

/* Reads every view of a parsed file, converting floating tensors. */
static void touch_everything(const clh_st_file *file) {
    for (size_t i = 0; i < clh_st_count(file); i++) {
        const clh_st_tensor *t = clh_st_at(file, i);
        REQUIRE(t && clh_st_find(file, t->name) == t);
        size_t numel = clh_st_numel(t);
        REQUIRE(numel * clh_dtype_size(t->dtype) == t->nbytes);
        volatile unsigned char sum = 0;
        for (size_t b = 0; b < t->nbytes; b++) sum ^= ((const unsigned char *)t->data)[b];
        (void)sum;
        if (numel <= (1u << 16)) {
            float *values = malloc(numel ? numel * sizeof *values : 1);
            if (values) {
                clh_status s = clh_st_to_f32(t, values, numel);
                REQUIRE(s == CLH_OK || s == CLH_E_MISMATCH);
                free(values);
            }
        }
    }
    for (size_t m = 0; m < clh_st_meta_count(file); m++) {
        const clh_st_meta *meta = clh_st_meta_at(file, m);
        REQUIRE(meta && meta->key && meta->value);
        REQUIRE(clh_st_meta_get(file, meta->key) != NULL);
    }
}

/* Writes the parsed file back out and parses it again: the same tensors, in
 * the same order, with the same bytes, and the same metadata. */
static void check_round_trip(const clh_st_file *file) {
    size_t n = clh_st_count(file), n_meta = clh_st_meta_count(file);
    clh_st_tensor *tensors = malloc((n ? n : 1) * sizeof *tensors);
    clh_st_meta *meta = malloc((n_meta ? n_meta : 1) * sizeof *meta);
    REQUIRE(tensors && meta);
    for (size_t i = 0; i < n; i++) tensors[i] = *clh_st_at(file, i);
    for (size_t m = 0; m < n_meta; m++) meta[m] = *clh_st_meta_at(file, m);
    unsigned char *bytes;
    size_t len;
    clh_status s = clh_st_encode(tensors, n, meta, n_meta, &bytes, &len);
    /* The writer refuses only what it never writes: empty names. */
    int empty_name = 0;
    for (size_t i = 0; i < n; i++) empty_name |= tensors[i].name[0] == '\0';
    REQUIRE(s == CLH_OK || s == CLH_E_NOMEM || (s == CLH_E_INVALID_ARG && empty_name));
    if (s == CLH_OK) {
        clh_st_file *again;
        REQUIRE(clh_st_parse(&again, bytes, len) == CLH_OK);
        REQUIRE(clh_st_count(again) == n && clh_st_meta_count(again) == n_meta);
        for (size_t i = 0; i < n; i++) {
            const clh_st_tensor *a = clh_st_at(file, i), *b = clh_st_at(again, i);
            REQUIRE(strcmp(a->name, b->name) == 0 && a->dtype == b->dtype &&
                    a->ndim == b->ndim && a->nbytes == b->nbytes);
            REQUIRE(memcmp(a->shape, b->shape, a->ndim * sizeof a->shape[0]) == 0);
            REQUIRE(a->nbytes == 0 || memcmp(a->data, b->data, a->nbytes) == 0);
        }
        for (size_t m = 0; m < n_meta; m++)
            REQUIRE(strcmp(clh_st_meta_get(again, meta[m].key), meta[m].value) == 0);
        clh_st_free(again);
        clh_st_bytes_free(bytes);
    }
    free(tensors);
    free(meta);
}

const char clh_fuzz_target_name[] = "fuzz_safetensors";

int clh_fuzz_one_input(const uint8_t *data, size_t size) {
    clh_st_file *file = NULL;
    clh_status s = clh_st_parse(&file, data, size);
    if (s != CLH_OK) {
        REQUIRE(file == NULL);
        REQUIRE(s == CLH_E_FORMAT || s == CLH_E_NOMEM);
        REQUIRE(clh_last_error()[0] != '\0');
        return 0;
    }
    touch_everything(file);
    check_round_trip(file);
    clh_fuzz_load_heads(file);
    clh_st_free(file);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    return clh_fuzz_one_input(data, size);
}
