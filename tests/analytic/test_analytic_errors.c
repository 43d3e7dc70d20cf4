/* Bad inputs are clear errors that change nothing: NaN and infinite
 * features, labels out of range, unknown or missing task ids, a task whose
 * class count changes, a singular system (ridge λ = 0 with fewer samples
 * than features; LDA ε = 0 with a singular covariance), an NCM class without
 * samples, heads that do not fit (in_features, paradigm, tasks, CIL order),
 * bad configurations, and allocation failures. The statistics are compared
 * byte for byte (their encoded export) before and after every failing call,
 * and the heads' parameters likewise. */
#include <string.h>

#include "common/testing.h"
#include "test_analytic_util.h"

enum { D = 6 };

static float x[8 * D];
static int64_t y[8];

static void fill(void) {
    for (int i = 0; i < 8 * D; i++) x[i] = (float)((i * 7) % 11) * 0.25f + 0.1f;
    for (int i = 0; i < 8; i++) y[i] = i % 2;
}

static clh_analytic *make(clh_paradigm p, clh_analytic_method m, double lambda) {
    clh_analytic_config c;
    clh_analytic_config_init(&c, m);
    c.lambda = lambda;
    clh_analytic *a = NULL;
    CHECK_OK(clh_analytic_create(&a, &c, p, D));
    return a;
}

/* `call` must return `expected` and leave the statistics' bytes as before. */
#define CHECK_UNCHANGED(a, call, expected)                                       \
    do {                                                                         \
        size_t len0_, len1_;                                                     \
        unsigned char *before_ = analytic_snapshot((a), &len0_);                 \
        CHECK_STATUS((call), (expected));                                        \
        CHECK(clh_last_error()[0] != '\0');                                      \
        unsigned char *after_ = analytic_snapshot((a), &len1_);                  \
        CHECK(snapshot_equal(before_, len0_, after_, len1_));                    \
        clh_st_bytes_free(before_);                                              \
        clh_st_bytes_free(after_);                                               \
    } while (0)

static void bad_updates(clh_analytic_method m) {
    clh_analytic *a = make(CLH_TIL, m, 1.0);
    CHECK_STATUS(clh_analytic_update(a, x, 2, 0, y), CLH_E_NOT_SETUP);
    CHECK_OK(clh_analytic_setup_task(a, 3, 2));
    CHECK_OK(clh_analytic_update(a, x, 4, 3, y)); /* some statistics to keep */
    float bad[8 * D];
    memcpy(bad, x, sizeof bad);
    bad[5 * D + 2] = NAN;
    CHECK_UNCHANGED(a, clh_analytic_update(a, bad, 8, 3, y), CLH_E_INVALID_ARG);
    CHECK(strstr(clh_last_error(), "sample 5") && strstr(clh_last_error(), "NaN"));
    CHECK(strcmp(clh_analytic_last_error(a), clh_last_error()) == 0);
    bad[5 * D + 2] = INFINITY;
    CHECK_UNCHANGED(a, clh_analytic_update(a, bad, 8, 3, y), CLH_E_INVALID_ARG);
    int64_t labels[8] = {0, 1, 0, 1, 0, 1, 2, 0};
    CHECK_UNCHANGED(a, clh_analytic_update(a, x, 8, 3, labels), CLH_E_LABEL);
    CHECK(strstr(clh_last_error(), "sample 6") != NULL);
    labels[6] = -1;
    CHECK_UNCHANGED(a, clh_analytic_update(a, x, 8, 3, labels), CLH_E_LABEL);
    CHECK_UNCHANGED(a, clh_analytic_update(a, x, 8, 4, y), CLH_E_UNKNOWN_TASK);
    CHECK_UNCHANGED(a, clh_analytic_update(a, x, 8, CLH_NO_TASK, y), CLH_E_PARADIGM);
    CHECK_UNCHANGED(a, clh_analytic_update(a, x, -1, 3, y), CLH_E_INVALID_ARG);
    CHECK_UNCHANGED(a, clh_analytic_update(a, NULL, 2, 3, y), CLH_E_NULL);
    CHECK_UNCHANGED(a, clh_analytic_update(a, x, 2, 3, NULL), CLH_E_NULL);
    CHECK_UNCHANGED(a, clh_analytic_setup_task(a, 3, 5), CLH_E_TASK_CONFLICT);
    CHECK_UNCHANGED(a, clh_analytic_setup_task(a, -2, 5), CLH_E_INVALID_ARG);
    CHECK_UNCHANGED(a, clh_analytic_setup_task(a, 7, 0), CLH_E_INVALID_ARG);
    CHECK_UNCHANGED(a, clh_analytic_setup_single(a, 2), CLH_E_PARADIGM);
    /* An allocation failure in the update (LDA and float64 ridge allocate a
     * workspace) or in a set-up changes nothing either. */
    clh_analytic_config config;
    clh_analytic_config_init(&config, CLH_ANALYTIC_RIDGE);
    CHECK_OK(clh_analytic_get_config(a, &config));
    if (m != CLH_ANALYTIC_NCM && config.precision == CLH_DT_F64) {
        size_t l0, l1;
        unsigned char *s0 = analytic_snapshot(a, &l0);
        clh_test_fail_alloc_after(1);
        CHECK_STATUS(clh_analytic_update(a, x, 8, 3, y), CLH_E_NOMEM);
        clh_test_fail_alloc_after(0);
        unsigned char *s1 = analytic_snapshot(a, &l1);
        CHECK(snapshot_equal(s0, l0, s1, l1));
        clh_st_bytes_free(s0);
        clh_st_bytes_free(s1);
    }
    for (long k = 1; k <= 6; k++) {
        size_t n0 = clh_analytic_num_tasks(a);
        size_t l0, l1;
        unsigned char *s0 = analytic_snapshot(a, &l0);
        clh_test_fail_alloc_after(k);
        clh_status st = clh_analytic_setup_task(a, 9, 3);
        clh_test_fail_alloc_after(0);
        unsigned char *s1 = analytic_snapshot(a, &l1);
        if (st == CLH_OK) {
            CHECK(clh_analytic_num_tasks(a) == n0 + 1);
            clh_st_bytes_free(s0);
            clh_st_bytes_free(s1);
            break;
        }
        CHECK(st == CLH_E_NOMEM);
        CHECK(clh_analytic_num_tasks(a) == n0);
        CHECK(snapshot_equal(s0, l0, s1, l1));
        clh_st_bytes_free(s0);
        clh_st_bytes_free(s1);
    }
    CHECK_STATUS(clh_analytic_update(NULL, x, 1, 3, y), CLH_E_NULL);
    clh_analytic_free(a);
}

/* Snapshot of a heads handle's parameters. */
static float *params_copy(clh_heads *h, size_t *n) {
    float *p;
    clh_heads_flat(h, &p, NULL, n);
    float *copy = malloc((*n ? *n : 1) * sizeof *copy);
    memcpy(copy, p, *n * sizeof *copy);
    return copy;
}

#define CHECK_HEADS_UNCHANGED(h, call, expected)                         \
    do {                                                                 \
        size_t n0_, n1_;                                                 \
        float *before_ = params_copy((h), &n0_);                         \
        CHECK_STATUS((call), (expected));                                \
        float *after_ = params_copy((h), &n1_);                          \
        CHECK(n0_ == n1_ && memcmp(before_, after_, n0_ * sizeof(float)) == 0); \
        free(before_);                                                   \
        free(after_);                                                    \
    } while (0)

static void bad_solves(void) {
    /* Ridge with λ = 0 and 4 samples of width 6: G is singular. */
    clh_analytic *a = make(CLH_CIL, CLH_ANALYTIC_RIDGE, 0.0);
    clh_heads *h = NULL;
    CHECK_OK(clh_heads_create(&h, CLH_CIL, D, 1));
    CHECK_STATUS(clh_analytic_solve(a, h, CLH_NO_TASK), CLH_E_NOT_SETUP);
    CHECK_OK(clh_analytic_setup_task(a, 0, 2));
    CHECK_OK(clh_heads_setup_task(h, 0, 2));
    CHECK_OK(clh_analytic_update(a, x, 4, CLH_NO_TASK, y));
    CHECK_HEADS_UNCHANGED(h, clh_analytic_solve(a, h, CLH_NO_TASK), CLH_E_SINGULAR);
    CHECK(strstr(clh_last_error(), "lambda") != NULL);
    /* Enough samples, but two identical feature columns: singular in fact,
     * found by the factorisation (a tiny pivot, not an exact zero). */
    clh_analytic *dup = make(CLH_CIL, CLH_ANALYTIC_RIDGE, 0.0);
    float xd[8 * D];
    memcpy(xd, x, sizeof xd);
    for (int i = 0; i < 8; i++) xd[i * D + 4] = xd[i * D + 1];
    CHECK_OK(clh_analytic_setup_task(dup, 0, 2));
    CHECK_OK(clh_analytic_update(dup, xd, 8, CLH_NO_TASK, y));
    CHECK_HEADS_UNCHANGED(h, clh_analytic_solve(dup, h, CLH_NO_TASK), CLH_E_SINGULAR);
    CHECK(strstr(clh_last_error(), "pivot") != NULL);
    clh_analytic_free(dup);
    CHECK_OK(clh_analytic_set_lambda(a, 0.1)); /* the same statistics solve with λ > 0 */
    CHECK_OK(clh_analytic_solve(a, h, CLH_NO_TASK));
    CHECK_STATUS(clh_analytic_set_lambda(a, -1), CLH_E_INVALID_ARG);
    CHECK_STATUS(clh_analytic_set_lambda(a, NAN), CLH_E_INVALID_ARG);

    /* Heads that do not fit. */
    clh_heads *wide = NULL, *til = NULL, *other_order = NULL, *fewer = NULL;
    CHECK_OK(clh_heads_create(&wide, CLH_CIL, D + 1, 1));
    CHECK_OK(clh_heads_setup_task(wide, 0, 2));
    CHECK_HEADS_UNCHANGED(wide, clh_analytic_solve(a, wide, CLH_NO_TASK), CLH_E_MISMATCH);
    CHECK(strstr(clh_last_error(), "in_features") != NULL);
    CHECK_OK(clh_heads_create(&til, CLH_TIL, D, 1));
    CHECK_OK(clh_heads_setup_task(til, 0, 2));
    CHECK_HEADS_UNCHANGED(til, clh_analytic_solve(a, til, CLH_NO_TASK), CLH_E_MISMATCH);
    CHECK_OK(clh_analytic_setup_task(a, 1, 3));
    CHECK_OK(clh_heads_create(&other_order, CLH_CIL, D, 1));
    CHECK_OK(clh_heads_setup_task(other_order, 1, 3));
    CHECK_OK(clh_heads_setup_task(other_order, 0, 2));
    CHECK_HEADS_UNCHANGED(other_order, clh_analytic_solve(a, other_order, CLH_NO_TASK),
                          CLH_E_MISMATCH);
    CHECK(strstr(clh_last_error(), "order") != NULL);
    CHECK_HEADS_UNCHANGED(h, clh_analytic_solve(a, h, CLH_NO_TASK), CLH_E_MISMATCH); /* no task 1 */
    CHECK_OK(clh_heads_create(&fewer, CLH_CIL, D, 1));
    CHECK_OK(clh_heads_setup_task(fewer, 0, 2));
    CHECK_OK(clh_heads_setup_task(fewer, 1, 2));
    CHECK_HEADS_UNCHANGED(fewer, clh_analytic_solve(a, fewer, CLH_NO_TASK), CLH_E_MISMATCH);
    /* setup_like: a conflict adds nothing. */
    clh_analytic *b = make(CLH_CIL, CLH_ANALYTIC_RIDGE, 1.0);
    CHECK_OK(clh_analytic_setup_task(b, 1, 2));
    CHECK_UNCHANGED(b, clh_analytic_setup_like(b, other_order), CLH_E_TASK_CONFLICT);
    CHECK(clh_analytic_num_tasks(b) == 1);
    CHECK_UNCHANGED(b, clh_analytic_setup_like(b, wide), CLH_E_MISMATCH);
    clh_analytic_free(b);
    b = make(CLH_CIL, CLH_ANALYTIC_RIDGE, 1.0);
    CHECK_OK(clh_analytic_setup_like(b, other_order));
    CHECK(clh_analytic_num_tasks(b) == 2 && clh_analytic_task_ids(b)[0] == 1);
    clh_analytic_free(b);

    /* NCM: a class without samples has no mean. */
    clh_analytic *n = make(CLH_CIL, CLH_ANALYTIC_NCM, 1.0);
    CHECK_OK(clh_analytic_setup_task(n, 0, 2));
    CHECK_OK(clh_analytic_setup_task(n, 1, 3));
    CHECK_OK(clh_analytic_update(n, x, 8, CLH_NO_TASK, y)); /* classes 0, 1 only */
    CHECK_HEADS_UNCHANGED(other_order, clh_analytic_solve(n, other_order, CLH_NO_TASK),
                          CLH_E_MISMATCH);
    clh_heads *ncm_heads = NULL;
    CHECK_OK(clh_heads_create(&ncm_heads, CLH_CIL, D, 1));
    CHECK_OK(clh_heads_setup_task(ncm_heads, 0, 2));
    CHECK_OK(clh_heads_setup_task(ncm_heads, 1, 3));
    CHECK_HEADS_UNCHANGED(ncm_heads, clh_analytic_solve(n, ncm_heads, CLH_NO_TASK),
                          CLH_E_INVALID_ARG);
    CHECK(strstr(clh_last_error(), "class 0 of task 1") != NULL);

    /* LDA with ε = 0: a covariance of 2 samples in 6 dimensions is singular. */
    clh_analytic_config c;
    clh_analytic_config_init(&c, CLH_ANALYTIC_LDA);
    c.shrinkage = 0;
    clh_analytic *l = NULL;
    CHECK_OK(clh_analytic_create(&l, &c, CLH_CIL, D));
    CHECK_OK(clh_analytic_setup_task(l, 0, 2));
    CHECK_HEADS_UNCHANGED(h, clh_analytic_solve(l, h, CLH_NO_TASK), CLH_E_INVALID_ARG);
    CHECK_OK(clh_analytic_update(l, x, 4, CLH_NO_TASK, y));
    CHECK_HEADS_UNCHANGED(h, clh_analytic_solve(l, h, CLH_NO_TASK), CLH_E_SINGULAR);
    CHECK(strstr(clh_last_error(), "shrinkage") != NULL);
    CHECK_OK(clh_analytic_set_shrinkage(l, 0.1));
    CHECK_OK(clh_analytic_solve(l, h, CLH_NO_TASK));
    CHECK_STATUS(clh_analytic_set_shrinkage(l, 1.5), CLH_E_INVALID_ARG);

    /* TIL: solving an unknown task. */
    clh_analytic *t = make(CLH_TIL, CLH_ANALYTIC_RIDGE, 1.0);
    CHECK_OK(clh_analytic_setup_task(t, 0, 2));
    CHECK_OK(clh_analytic_update(t, x, 8, 0, y));
    CHECK_HEADS_UNCHANGED(til, clh_analytic_solve(t, til, 5), CLH_E_UNKNOWN_TASK);
    CHECK_OK(clh_analytic_solve(t, til, 0));
    CHECK_STATUS(clh_analytic_solve(NULL, til, 0), CLH_E_NULL);

    clh_analytic_free(a);
    clh_analytic_free(n);
    clh_analytic_free(l);
    clh_analytic_free(t);
    clh_heads_free(h);
    clh_heads_free(wide);
    clh_heads_free(til);
    clh_heads_free(other_order);
    clh_heads_free(fewer);
    clh_heads_free(ncm_heads);
}

static void bad_configs(void) {
    clh_analytic_config c;
    clh_analytic *a = NULL;
    clh_analytic_config_init(&c, CLH_ANALYTIC_RIDGE);
    c.lambda = -1;
    CHECK_STATUS(clh_analytic_create(&a, &c, CLH_CIL, 4), CLH_E_INVALID_ARG);
    clh_analytic_config_init(&c, CLH_ANALYTIC_RIDGE);
    c.normalize = 1;
    CHECK_STATUS(clh_analytic_create(&a, &c, CLH_CIL, 4), CLH_E_INVALID_ARG);
    clh_analytic_config_init(&c, CLH_ANALYTIC_NCM);
    c.fit_bias = 1;
    CHECK_STATUS(clh_analytic_create(&a, &c, CLH_CIL, 4), CLH_E_INVALID_ARG);
    clh_analytic_config_init(&c, CLH_ANALYTIC_LDA);
    c.shrinkage = 2;
    CHECK_STATUS(clh_analytic_create(&a, &c, CLH_CIL, 4), CLH_E_INVALID_ARG);
    clh_analytic_config_init(&c, CLH_ANALYTIC_RIDGE);
    c.scope = CLH_SCOPE_PER_TASK;
    CHECK_STATUS(clh_analytic_create(&a, &c, CLH_CIL, 4), CLH_E_INVALID_ARG);
    clh_analytic_config_init(&c, CLH_ANALYTIC_RIDGE);
    c.precision = CLH_DT_F16;
    CHECK_STATUS(clh_analytic_create(&a, &c, CLH_CIL, 4), CLH_E_INVALID_ARG);
    clh_analytic_config_init(&c, CLH_ANALYTIC_RIDGE);
    CHECK_STATUS(clh_analytic_create(&a, &c, CLH_CIL, 0), CLH_E_INVALID_ARG);
    CHECK_STATUS(clh_analytic_create(&a, &c, (clh_paradigm)9, 4), CLH_E_INVALID_ARG);
    CHECK_STATUS(clh_analytic_create(&a, &c, CLH_CIL, INT64_MAX / 4), CLH_E_OVERFLOW);
    CHECK_STATUS(clh_analytic_create(NULL, &c, CLH_CIL, 4), CLH_E_NULL);
    c.method = (clh_analytic_method)7;
    CHECK_STATUS(clh_analytic_create(&a, &c, CLH_CIL, 4), CLH_E_INVALID_ARG);
    CHECK(a == NULL);
    clh_analytic_method m;
    CHECK_OK(clh_analytic_method_parse("SLDA", &m));
    CHECK(m == CLH_ANALYTIC_LDA);
    CHECK_OK(clh_analytic_method_parse("ridge", &m));
    CHECK(m == CLH_ANALYTIC_RIDGE);
    CHECK_STATUS(clh_analytic_method_parse("finetune", &m), CLH_E_INVALID_ARG);
    CHECK(strcmp(clh_analytic_method_name(CLH_ANALYTIC_NCM), "ncm") == 0);
    CHECK(clh_analytic_method_name((clh_analytic_method)5) == NULL);
    CHECK(strcmp(clh_status_name(CLH_E_SINGULAR), "CLH_E_SINGULAR") == 0);
    clh_analytic_free(NULL);
}

int main(void) {
    fill();
    bad_updates(CLH_ANALYTIC_RIDGE);
    bad_updates(CLH_ANALYTIC_NCM);
    bad_updates(CLH_ANALYTIC_LDA);
    bad_solves();
    bad_configs();
    return check_done("test_analytic_errors");
}
