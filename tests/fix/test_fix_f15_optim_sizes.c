/* Finding 15: the optimizer-state loader checks that the tensors exist with
 * their dtype and shape before it allocates anything sized by the metadata,
 * so a file of a few hundred bytes claiming 4e12 parameters (flat) or 1e18
 * (heads) (a billion where size_t has 32 bits) fails with CLH_E_MISMATCH
 * naming the missing tensor, and no allocation of more than a kilobyte is ever requested (alloc.h hook). */
#include <stdint.h>
#include <string.h>

#include "common/testing.h"
#include "check.h"

static clh_status load_meta_only(const clh_st_meta *extra, size_t n_extra,
                                 const clh_st_tensor *tensors, size_t n_tensors) {
    clh_st_meta meta[20] = {
        {"optim.format", "1"},       {"optim.kind", "sgd"},      {"optim.lr", "0.5"},
        {"optim.weight_decay", "0"}, {"optim.momentum", "0.9"},  {"optim.dampening", "0"},
        {"optim.nesterov", "0"},     {"optim.beta1", "0.9"},     {"optim.beta2", "0.999"},
        {"optim.eps", "1e-08"},      {"optim.amsgrad", "0"},
    };
    size_t n = 11;
    for (size_t i = 0; i < n_extra; i++) meta[n++] = extra[i];
    unsigned char *bytes = NULL;
    size_t len = 0;
    CHECK_OK(clh_st_encode(tensors, n_tensors, meta, n, &bytes, &len));
    CHECK(len < 1024);
    clh_st_file *file = NULL;
    CHECK_OK(clh_st_parse(&file, bytes, len));
    clh_optim_config config;
    clh_optim_config_init(&config, CLH_OPTIM_SGD, 0.5);
    config.momentum = 0.9;
    clh_optim *optim = NULL;
    CHECK_OK(clh_optim_create(&optim, &config));
    clh_test_largest_alloc(); /* reset */
    clh_status st = clh_optim_load_file(optim, file);
    size_t largest = clh_test_largest_alloc();
    printf("  %s: largest allocation %zu bytes (%s)\n", clh_status_name(st), largest,
           clh_last_error());
    CHECK(largest <= 1024);
    clh_optim_free(optim);
    clh_st_free(file);
    clh_st_bytes_free(bytes);
    return st;
}

/* The claimed sizes: far more than the file holds, yet (as sizes in bytes)
 * within size_t, so the loader must find the tensors missing rather than
 * fail on arithmetic. A 32-bit size_t (armhf) holds a billion floats at
 * most. */
#if SIZE_MAX > 0xffffffffu
#define BIG_COUNT "4000000000000"
#define BIG_IN "1000000000"
#define BIG_CLASSES "1000000000"
#else
#define BIG_COUNT "1000000000"
#define BIG_IN "1000"
#define BIG_CLASSES "1000000"
#endif

int main(void) {
    const clh_st_meta flat[] = {{"optim.binding", "flat"}, {"optim.count", BIG_COUNT}};
    CHECK_STATUS(load_meta_only(flat, 2, NULL, 0), CLH_E_MISMATCH);
    CHECK(strstr(clh_last_error(), "optim.params.momentum_buffer") != NULL);

    const clh_st_meta heads[] = {{"optim.binding", "heads"},
                                 {"optim.paradigm", "TIL"},
                                 {"optim.in_features", BIG_IN},
                                 {"optim.task_ids", "0"},
                                 {"optim.num_classes", BIG_CLASSES}};
    CHECK_STATUS(load_meta_only(heads, 5, NULL, 0), CLH_E_MISMATCH);
    CHECK(strstr(clh_last_error(), "optim.heads.0.weight.momentum_buffer") != NULL);

    /* A tensor that exists but is smaller than the metadata says. */
    float small[2] = {1, 2};
    clh_st_tensor t;
    memset(&t, 0, sizeof t);
    t.name = "optim.params.momentum_buffer";
    t.dtype = CLH_DT_F32;
    t.ndim = 1;
    t.shape[0] = 2;
    t.data = small;
    t.nbytes = sizeof small;
    CHECK_STATUS(load_meta_only(flat, 2, &t, 1), CLH_E_MISMATCH);
    CHECK(strstr(clh_last_error(), "expected [" BIG_COUNT "]") != NULL);

    /* A count of 2^32 + 2 against a tensor of 2: a mismatch, or where size_t
     * has 32 bits an overflow (the count once became its low bits, 2, and
     * the tensor passed). */
    const clh_st_meta wraps[] = {{"optim.binding", "flat"}, {"optim.count", "4294967298"}};
#if SIZE_MAX > 0xffffffffu
    CHECK_STATUS(load_meta_only(wraps, 2, &t, 1), CLH_E_MISMATCH);
    CHECK(strstr(clh_last_error(), "expected [4294967298]") != NULL);
#else
    CHECK_STATUS(load_meta_only(wraps, 2, &t, 1), CLH_E_OVERFLOW);
    CHECK(strstr(clh_last_error(), "optim.count 4294967298 does not fit") != NULL);
    /* Rows x (in + 1) past a 32-bit size_t. */
    const clh_st_meta wide[] = {{"optim.binding", "heads"},
                                {"optim.paradigm", "TIL"},
                                {"optim.in_features", "1"},
                                {"optim.task_ids", "0"},
                                {"optim.num_classes", "4294967297"}};
    CHECK_STATUS(load_meta_only(wide, 5, NULL, 0), CLH_E_OVERFLOW);
    CHECK(strstr(clh_last_error(), "4294967297 rows overflow") != NULL);
#endif
    return check_done("test_fix_f15_optim_sizes");
}
