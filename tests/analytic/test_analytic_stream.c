/* Incremental equals one-shot: the same samples streamed task by task, batch
 * by batch (64), sample by sample and in reverse order give the heads of one
 * update over all the data, for ridge, LDA and NCM in CIL, TIL and DIL;
 * batches larger than the internal chunk (512 rows) included. Tolerances on
 * weights and biases, relative: float64 statistics 1e-9 in every mode;
 * float32 1e-4 for batches, and for one sample at a time 1e-4 for LDA and
 * NCM but only 2e-3 for ridge: 1600 rank-one additions into a float32 G of
 * uncentred positive features (an ill-conditioned G, fit_bias on) lose
 * about 5e-4 (measured here; the reason analytic.h documents float64 for
 * sample-by-sample ridge streaming). */
#include <string.h>

#include "test_analytic_util.h"

enum { TASKS = 4, CLASSES = 3, PER_TASK = 400, D = 20, N = TASKS * PER_TASK };

static float X[N * D];
static int64_t Y[N]; /* global class */

static int64_t label_for(clh_paradigm p, int64_t i) {
    if (p == CLH_DIL) return Y[i] % CLASSES;
    if (p == CLH_TIL) return Y[i] - (i / PER_TASK) * CLASSES;
    return Y[i];
}

typedef enum mode { ONE_SHOT, BATCHES, SAMPLES, REVERSED } mode;

/* Streams every sample into a fresh handle in the given mode and solves. */
static clh_heads *run(clh_paradigm p, clh_analytic_method m, clh_dtype precision, mode how) {
    clh_analytic_config c;
    clh_analytic_config_init(&c, m);
    c.precision = precision;
    c.lambda = 0.3;
    c.shrinkage = 0.05;
    c.fit_bias = m == CLH_ANALYTIC_RIDGE;
    clh_analytic *a = NULL;
    clh_heads *h = NULL;
    CHECK_OK(clh_analytic_create(&a, &c, p, D));
    CHECK_OK(clh_heads_create(&h, p, D, 3));
    if (!a || !h) return h;
    if (p == CLH_DIL) {
        CHECK_OK(clh_analytic_setup_single(a, CLASSES));
        CHECK_OK(clh_heads_setup_single(h, CLASSES));
    } else {
        for (int64_t t = 0; t < TASKS; t++) {
            CHECK_OK(clh_analytic_setup_task(a, t, CLASSES));
            CHECK_OK(clh_heads_setup_task(h, t, CLASSES));
        }
    }
    static int64_t labels[N];
    for (int64_t i = 0; i < N; i++) labels[i] = label_for(p, i);
    int per_task_call = p == CLH_TIL;
    if (how == ONE_SHOT && !per_task_call) {
        CHECK_OK(clh_analytic_update(a, X, N, CLH_NO_TASK, labels)); /* chunks of 512 inside */
    } else {
        for (int64_t t = 0; t < TASKS; t++) {
            int64_t first = t * PER_TASK, task_id = per_task_call ? t : CLH_NO_TASK;
            if (how == ONE_SHOT) {
                CHECK_OK(clh_analytic_update(a, X + first * D, PER_TASK, task_id, labels + first));
            } else if (how == BATCHES) {
                for (int64_t i = 0; i < PER_TASK; i += 64) {
                    int64_t n = PER_TASK - i < 64 ? PER_TASK - i : 64;
                    CHECK_OK(clh_analytic_update(a, X + (first + i) * D, n, task_id,
                                                 labels + first + i));
                }
            } else {
                for (int64_t k = 0; k < PER_TASK; k++) {
                    int64_t i = first + (how == REVERSED ? PER_TASK - 1 - k : k);
                    CHECK_OK(clh_analytic_update(a, X + i * D, 1, task_id, labels + i));
                }
            }
        }
    }
    int64_t seen = 0;
    CHECK_OK(clh_analytic_task_samples(a, p == CLH_DIL ? CLH_NO_TASK : 0, &seen));
    CHECK(seen == (p == CLH_DIL ? N : PER_TASK));
    CHECK_OK(clh_analytic_solve(a, h, CLH_NO_TASK));
    clh_analytic_free(a);
    return h;
}

static void compare(clh_paradigm p, clh_analytic_method m, clh_dtype precision) {
    double tol = precision == CLH_DT_F64 ? 1e-9 : 1e-4;
    double sample_tol = precision == CLH_DT_F32 && m == CLH_ANALYTIC_RIDGE ? 2e-3 : tol;
    clh_heads *ref = run(p, m, precision, ONE_SHOT);
    for (int how = BATCHES; how <= REVERSED; how++) {
        clh_heads *h = run(p, m, precision, (mode)how);
        float *pa, *pb;
        size_t na = 0, nb = 0;
        clh_heads_flat(ref, &pa, NULL, &na);
        clh_heads_flat(h, &pb, NULL, &nb);
        CHECK(na == nb && na > 0);
        double err = na == nb ? rel_error(pb, pa, na) : 1;
        double limit = how == BATCHES ? tol : sample_tol;
        printf("%s %s %s %s: %.3g from one-shot\n", clh_paradigm_name(p),
               clh_analytic_method_name(m), precision_name(precision),
               how == BATCHES ? "batches" : how == SAMPLES ? "samples" : "reversed", err);
        CHECK(err <= limit);
        /* Not trivially equal: the heads hold something. */
        CHECK(check_max_abs(pb, nb) > 1e-3);
        clh_heads_free(h);
    }
    clh_heads_free(ref);
}

int main(void) {
    make_class_data(X, Y, TASKS, CLASSES, PER_TASK, D, 0x2545F4914F6CDD1Du);
    clh_paradigm paradigms[] = {CLH_CIL, CLH_TIL, CLH_DIL};
    clh_analytic_method methods[] = {CLH_ANALYTIC_RIDGE, CLH_ANALYTIC_LDA, CLH_ANALYTIC_NCM};
    for (int p = 0; p < 3; p++)
        for (int m = 0; m < 3; m++) {
            compare(paradigms[p], methods[m], CLH_DT_F32);
            if (methods[m] != CLH_ANALYTIC_NCM) compare(paradigms[p], methods[m], CLH_DT_F64);
        }
    return check_done("test_analytic_stream");
}
