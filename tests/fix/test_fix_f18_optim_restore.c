/* Finding 18 (the part about clh_optim_restore): every rejection of its
 * validation is exercised, each leaving the optimizer as it was (unbound),
 * and one valid restore succeeds with the buffers copied. */
#include <string.h>

#include "check.h"

static clh_optim *optim;

/* A restore that must fail with `want`, leaving the optimizer unbound. */
static void rejected(const clh_optim_layout *layout, const clh_optim_buffer *buffers, size_t n,
                     clh_status want, const char *word) {
    CHECK_STATUS(clh_optim_restore(optim, layout, buffers, n), want);
    CHECK(strstr(clh_last_error(), word) != NULL);
    if (!strstr(clh_last_error(), word)) fprintf(stderr, "  detail: %s\n", clh_last_error());
    clh_optim_layout now;
    CHECK_OK(clh_optim_get_layout(optim, &now));
    CHECK(now.binding == CLH_OPTIM_UNBOUND);
}

int main(void) {
    clh_optim_config config;
    clh_optim_config_init(&config, CLH_OPTIM_ADAM, 0.1);
    CHECK_OK(clh_optim_create(&optim, &config));
    const int64_t ids[2] = {4, 2}, classes[2] = {1, 2};
    /* 3 rows of 2 inputs + bias = 9 parameters. */
    clh_optim_layout good = {CLH_OPTIM_HEADS, CLH_TIL, 9, 2, 2, ids, classes};
    float avg[9] = {1, 2, 3, 4, 5, 6, 7, 8, 9}, sq[9] = {9, 8, 7, 6, 5, 4, 3, 2, 1};
    int64_t steps[2] = {3, 1};
    clh_optim_buffer buffers[4] = {{"exp_avg", 0, avg, 9}, {"exp_avg_sq", 0, sq, 9},
                                   {"step", 1, steps, 2}, {"exp_avg", 0, avg, 9}};
    clh_optim_layout l;
    clh_optim_buffer b[3];

    CHECK_STATUS(clh_optim_restore(NULL, &good, buffers, 3), CLH_E_NULL);
    CHECK_STATUS(clh_optim_restore(optim, NULL, buffers, 3), CLH_E_NULL);
    rejected(&good, NULL, 3, CLH_E_NULL, "buffers is NULL");
    l = good, l.binding = (clh_optim_binding)7;
    rejected(&l, buffers, 3, CLH_E_INVALID_ARG, "binding 7");
    l = good, l.binding = CLH_OPTIM_FLAT;
    rejected(&l, buffers, 3, CLH_E_MISMATCH, "1 segment, not 2");
    l = good, l.paradigm = (clh_paradigm)9;
    rejected(&l, buffers, 3, CLH_E_INVALID_ARG, "unknown paradigm 9");
    l = good, l.paradigm = CLH_DIL;
    rejected(&l, buffers, 3, CLH_E_MISMATCH, "one head, not 2");
    l = good, l.in_features = 0;
    rejected(&l, buffers, 3, CLH_E_MISMATCH, "in_features 0");
    l = good, l.task_ids = NULL;
    rejected(&l, buffers, 3, CLH_E_NULL, "task_ids or num_classes is NULL");
    const int64_t zero_classes[2] = {1, 0}, same_ids[2] = {4, 4};
    l = good, l.num_classes = zero_classes;
    rejected(&l, buffers, 3, CLH_E_MISMATCH, "invalid class count 0");
    l = good, l.task_ids = same_ids;
    rejected(&l, buffers, 3, CLH_E_MISMATCH, "task id 4 appears twice");
    l = good, l.count = 8;
    rejected(&l, buffers, 3, CLH_E_MISMATCH, "8 parameters do not match 3 rows");

    memcpy(b, buffers, sizeof b), b[0].name = "momentum_buffer";
    rejected(&good, b, 3, CLH_E_MISMATCH, "\"momentum_buffer\" is not kept");
    memcpy(b, buffers, sizeof b), b[0].name = NULL;
    rejected(&good, b, 3, CLH_E_MISMATCH, "(null)");
    rejected(&good, buffers, 4, CLH_E_MISMATCH, "\"exp_avg\" given twice");
    memcpy(b, buffers, sizeof b), b[0].is_int64 = 1;
    rejected(&good, b, 3, CLH_E_MISMATCH, "expected 9 float32");
    memcpy(b, buffers, sizeof b), b[2].is_int64 = 0;
    rejected(&good, b, 3, CLH_E_MISMATCH, "expected 2 int64");
    memcpy(b, buffers, sizeof b), b[2].is_int64 = 2;
    rejected(&good, b, 3, CLH_E_MISMATCH, "expected 2 int64");
    memcpy(b, buffers, sizeof b), b[1].count = 8;
    rejected(&good, b, 3, CLH_E_MISMATCH, "has 8 float32 elements, expected 9");
    memcpy(b, buffers, sizeof b), b[1].data = NULL;
    rejected(&good, b, 3, CLH_E_MISMATCH, "\"exp_avg_sq\"");
    int64_t negative[2] = {3, -1};
    memcpy(b, buffers, sizeof b), b[2].data = negative;
    rejected(&good, b, 3, CLH_E_MISMATCH, "step of segment 1 is negative");
    rejected(&good, buffers + 1, 2, CLH_E_MISMATCH, "\"exp_avg\" is missing");
    rejected(&good, buffers, 2, CLH_E_MISMATCH, "\"step\" is missing");

    CHECK_OK(clh_optim_restore(optim, &good, buffers, 3));
    clh_optim_buffer got;
    CHECK_OK(clh_optim_buffer_at(optim, 1, &got));
    CHECK(got.count == 9 && memcmp(got.data, sq, sizeof sq) == 0);
    CHECK_OK(clh_optim_buffer_at(optim, 2, &got));
    CHECK(got.is_int64 && ((int64_t *)got.data)[0] == 3 && ((int64_t *)got.data)[1] == 1);
    clh_optim_free(optim);
    return check_done("test_fix_f18_optim_restore");
}
