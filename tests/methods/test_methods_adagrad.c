/* torch.optim.Adagrad: trajectories of clh_optim_step against torch (the
 * default configuration and one with lr_decay, weight decay, an initial
 * accumulator and eps), its state buffer "sum" after the run, a save/load
 * round trip that continues bit-identically, and the configuration errors. */
#define _POSIX_C_SOURCE 200809L
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "clheads.h"
#include "refdata.h"

#define TOL 1e-6
#define NP 23
#define STEPS 8

static double from_bits(int64_t bits) {
    double d;
    memcpy(&d, &bits, sizeof d);
    return d;
}

static void config_from(const refdata *rd, const char *name, clh_optim_config *c) {
    const int64_t *bits = refdata_i64(rd, NULL, "adagrad.%s.config", name);
    CHECK(bits != NULL);
    clh_optim_config_init(c, CLH_OPTIM_ADAGRAD, bits ? from_bits(bits[0]) : 0.01);
    if (!bits) return;
    c->lr_decay = from_bits(bits[1]);
    c->weight_decay = from_bits(bits[2]);
    c->initial_accumulator_value = from_bits(bits[3]);
    c->eps = from_bits(bits[4]);
}

static void test_trajectory(const refdata *rd, const char *name) {
    const float *init = refdata_f32(rd, NULL, "adagrad.init");
    const float *grads = refdata_f32(rd, NULL, "adagrad.grads");
    const float *want = refdata_f32(rd, NULL, "adagrad.%s.params", name);
    const float *want_sum = refdata_f32(rd, NULL, "adagrad.%s.sum", name);
    CHECK(init && grads && want && want_sum);
    if (!init || !grads || !want || !want_sum) return;
    clh_optim_config c;
    config_from(rd, name, &c);
    clh_optim *opt = NULL;
    CHECK_OK(clh_optim_create(&opt, &c));
    float p[NP];
    memcpy(p, init, sizeof p);
    for (int s = 0; s < STEPS; s++) {
        CHECK_OK(clh_optim_step(opt, p, grads + s * NP, NP));
        double scale = check_max_abs(want + s * NP, NP);
        for (int i = 0; i < NP; i++) CHECK_CLOSE(p[i], want[s * NP + i], TOL, scale);
    }
    clh_optim_buffer b;
    CHECK(clh_optim_buffer_count(opt) == 2);
    CHECK_OK(clh_optim_buffer_at(opt, 0, &b));
    CHECK(strcmp(b.name, "sum") == 0 && b.count == NP && !b.is_int64);
    double scale = check_max_abs(want_sum, NP);
    for (int i = 0; i < NP; i++) CHECK_CLOSE(((float *)b.data)[i], want_sum[i], TOL, scale);

    /* save, load into a fresh optimizer, continue both: bit-identical */
    char path[] = "/tmp/clh_adagrad_XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    if (fd >= 0) close(fd);
    CHECK_OK(clh_optim_save(opt, path));
    clh_st_file *file = NULL;
    CHECK_OK(clh_st_open(&file, path));
    clh_optim_config read;
    clh_optim_config_init(&read, CLH_OPTIM_SGD, 0.0);
    CHECK_OK(clh_optim_read_config(file, &read));
    CHECK(read.kind == CLH_OPTIM_ADAGRAD && read.lr_decay == c.lr_decay &&
          read.initial_accumulator_value == c.initial_accumulator_value && read.eps == c.eps);
    clh_optim *copy = NULL;
    CHECK_OK(clh_optim_create(&copy, &read));
    CHECK_OK(clh_optim_load_file(copy, file));
    clh_st_free(file);
    unlink(path);
    float q[NP];
    memcpy(q, p, sizeof q);
    for (int s = 0; s < 3; s++) {
        CHECK_OK(clh_optim_step(opt, p, grads + s * NP, NP));
        CHECK_OK(clh_optim_step(copy, q, grads + s * NP, NP));
    }
    CHECK(memcmp(p, q, sizeof p) == 0);
    clh_optim_free(copy);
    clh_optim_free(opt);
}

static void test_errors(void) {
    clh_optim_kind kind;
    CHECK_OK(clh_optim_kind_parse("AdaGrad", &kind));
    CHECK(kind == CLH_OPTIM_ADAGRAD);
    CHECK(strcmp(clh_optim_kind_name(CLH_OPTIM_ADAGRAD), "adagrad") == 0);
    clh_optim_config c;
    clh_optim_config_init(&c, CLH_OPTIM_ADAGRAD, 0.01);
    CHECK(c.eps == 1e-10 && c.lr_decay == 0 && c.initial_accumulator_value == 0);
    CHECK_OK(clh_optim_config_check(&c));
    clh_optim_config bad = c;
    bad.lr_decay = -1;
    CHECK_STATUS(clh_optim_config_check(&bad), CLH_E_INVALID_ARG);
    CHECK(strstr(clh_last_error(), "lr_decay") != NULL);
    bad = c;
    bad.initial_accumulator_value = NAN;
    CHECK_STATUS(clh_optim_config_check(&bad), CLH_E_INVALID_ARG);
    CHECK(strstr(clh_last_error(), "initial_accumulator_value") != NULL);
    bad = c;
    bad.eps = -1e-10;
    CHECK_STATUS(clh_optim_config_check(&bad), CLH_E_INVALID_ARG);
    bad = c;
    bad.weight_decay = -0.1;
    CHECK_STATUS(clh_optim_config_check(&bad), CLH_E_INVALID_ARG);
    clh_optim *opt = NULL;
    CHECK_STATUS(clh_optim_create(&opt, &bad), CLH_E_INVALID_ARG);
    CHECK(opt == NULL);
}

/* A head added after the first steps starts its "sum" at the initial value. */
static void test_growth(void) {
    clh_heads *h = NULL;
    CHECK_OK(clh_heads_create(&h, CLH_TIL, 3, 5));
    CHECK_OK(clh_heads_setup_task(h, 0, 2));
    clh_optim_config c;
    clh_optim_config_init(&c, CLH_OPTIM_ADAGRAD, 0.1);
    c.initial_accumulator_value = 0.5;
    clh_optim *opt = NULL;
    CHECK_OK(clh_optim_create(&opt, &c));
    float x[3] = {1, 2, 3}, d[2] = {0.5f, -0.25f};
    CHECK_OK(clh_heads_backward(h, x, 1, 0, d, NULL));
    CHECK_OK(clh_optim_step_heads(opt, h));
    CHECK_OK(clh_heads_setup_task(h, 1, 2));
    clh_heads_zero_grad(h);
    CHECK_OK(clh_optim_step_heads(opt, h)); /* task 1 has no gradient yet: not stepped */
    clh_optim_buffer b;
    CHECK_OK(clh_optim_buffer_at(opt, 0, &b));
    const float *sum = b.data;
    CHECK(b.count == 4 * 4);
    /* task 0's weight row 0: 0.5 + (0.5*x)^2 ; task 1's rows (6..11) untouched at 0.5 */
    CHECK_CLOSE(sum[0], 0.5 + 0.25, 1e-6, 1);
    CHECK_CLOSE(sum[2], 0.5 + 0.25 * 9, 1e-6, 1);
    for (int i = 6; i < 12; i++) CHECK(sum[i] == 0.5f);
    CHECK(sum[14] == 0.5f && sum[15] == 0.5f); /* task 1's biases */
    clh_optim_free(opt);
    clh_heads_free(h);
}

int main(void) {
    refdata *rd = refdata_load_test_file("methods/methods.ref");
    if (!rd) return EXIT_FAILURE;
    test_trajectory(rd, "default");
    test_trajectory(rd, "full");
    refdata_free(rd);
    test_errors();
    test_growth();
    return check_done("test_methods_adagrad");
}
