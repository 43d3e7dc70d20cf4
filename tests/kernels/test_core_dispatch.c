/* The multiply dispatch: a CIL forward over T tasks is exactly one call into
 * clh_gemm (not one per head plus a concatenation); a mixed MTL batch makes
 * at most one call per task present (grouped, no per-sample loop); and the
 * portable kernel agrees with the dispatch (CBLAS in the default build) on
 * shapes that are not multiples of the blocking, transposed or not. */
#include <stdint.h>
#include <string.h>

#include "kernels/gemm.h"
#include "common/testing.h"
#include "test_core_util.h"

#define IN 37

static void cil_forward_is_one_multiply(void) {
    clh_heads *h = NULL;
    CHECK_OK(clh_heads_create(&h, CLH_CIL, IN, 1));
    for (int64_t t = 0; t < 10; t++) CHECK_OK(clh_heads_setup_task(h, 9 - t, 2 + t % 3));
    int64_t width = 0;
    CHECK_OK(clh_heads_logits_width(h, CLH_NO_TASK, &width));
    float *x = test_random_floats(33 * IN), *logits = malloc(33 * (size_t)width * sizeof(float));
    int64_t batches[] = {1, 7, 33};
    for (int i = 0; i < 3; i++) {
        uint64_t before = clh_gemm_call_count();
        CHECK_OK(clh_heads_forward(h, x, batches[i], CLH_NO_TASK, logits));
        uint64_t calls = clh_gemm_call_count() - before;
        CHECK(calls == 1);
        printf("  CIL forward, 10 tasks, B=%lld: %llu multiply call(s)\n", (long long)batches[i],
               (unsigned long long)calls);
    }
    free(x);
    free(logits);
    clh_heads_free(h);
}

static void mixed_forward_groups_by_task(void) {
    const int64_t ids[] = {5, 6, 7}, classes[] = {3, 4, 2};
    clh_heads *h = NULL;
    CHECK_OK(clh_heads_create(&h, CLH_MTL, IN, 1));
    CHECK_OK(clh_heads_setup_tasks(h, ids, classes, 3));
    enum { B = 64 };
    int64_t tasks[B];
    for (int i = 0; i < B; i++) tasks[i] = ids[(i * 7) % 3 == 0 ? 0 : (i % 2) + 1];
    float *x = test_random_floats(B * IN), logits[B * 4];
    uint64_t before = clh_gemm_call_count();
    CHECK_OK(clh_heads_forward_mixed(h, x, B, tasks, logits, NULL, 0));
    uint64_t calls = clh_gemm_call_count() - before;
    CHECK(calls == 3); /* all three tasks occur in the batch: one multiply each */
    printf("  MTL mixed forward, 3 tasks, B=%d: %llu multiply call(s)\n", B,
           (unsigned long long)calls);
    free(x);
    clh_heads_free(h);
}

/* C = alpha * op(A) op(B) + beta * C in double precision, the plain triple
 * loop: an independent reference (in the build without BLAS the dispatch
 * runs the portable kernel itself, so comparing the two would prove nothing). */
static void naive_gemm(int ta, int tb, int64_t m, int64_t n, int64_t k, double alpha,
                       const float *a, int64_t lda, const float *b, int64_t ldb, double beta,
                       const float *c_in, double *c, int64_t ldc) {
    for (int64_t i = 0; i < m; i++)
        for (int64_t j = 0; j < n; j++) {
            double sum = 0;
            for (int64_t p = 0; p < k; p++)
                sum += (double)(ta ? a[p * lda + i] : a[i * lda + p]) *
                       (double)(tb ? b[j * ldb + p] : b[p * ldb + j]);
            c[i * ldc + j] = alpha * sum + beta * (double)c_in[i * ldc + j];
        }
}

/* The portable kernel and the BLAS path of the dispatch (forced, since the
 * default policy sends these small shapes to the portable kernel too), each
 * against the naive double-precision reference (finding 18). */
static void portable_matches_dispatch(void) {
    CHECK_OK(clh_set_gemm_policy(CLH_GEMM_BLAS));
    const int64_t shapes[][3] = {{1, 1, 1}, {3, 5, 7}, {13, 11, 37}, {33, 17, 65}, {70, 9, 130}};
    double worst = 0;
    for (int s = 0; s < 5; s++)
        for (int ta = 0; ta < 2; ta++)
            for (int tb = 0; tb < 2; tb++) {
                int64_t m = shapes[s][0], n = shapes[s][1], k = shapes[s][2];
                size_t na = (size_t)(m * k), nb = (size_t)(k * n), nc = (size_t)(m * n);
                float *a = test_random_floats(na), *b = test_random_floats(nb);
                float *c1 = test_random_floats(nc), *c2 = malloc(nc * sizeof(float));
                double *ref = malloc(nc * sizeof(double));
                memcpy(c2, c1, (size_t)(m * n) * sizeof(float));
                int64_t lda = ta ? m : k, ldb = tb ? k : n;
                naive_gemm(ta, tb, m, n, k, 0.5, a, lda, b, ldb, 1.0, c1, ref, n);
                clh_gemm(ta, tb, m, n, k, 0.5f, a, lda, b, ldb, 1.0f, c1, n); /* BLAS (forced) */
                clh_gemm_portable(ta, tb, m, n, k, 0.5f, a, lda, b, ldb, 1.0f, c2, n);
                double scale = 1e-30;
                for (size_t i = 0; i < nc; i++)
                    if (fabs(ref[i]) > scale) scale = fabs(ref[i]);
                for (int64_t i = 0; i < m * n; i++) {
                    double e1 = fabs((double)c1[i] - ref[i]) / scale;
                    double e2 = fabs((double)c2[i] - ref[i]) / scale;
                    if (e1 > worst) worst = e1;
                    if (e2 > worst) worst = e2;
                }
                free(ref);
                /* beta = 0 must not read C: NaN there stays out of the result. */
                for (int64_t i = 0; i < m * n; i++) c2[i] = NAN;
                clh_gemm_portable(ta, tb, m, n, k, 1.0f, a, lda, b, ldb, 0.0f, c2, n);
                int finite = 1;
                for (int64_t i = 0; i < m * n; i++) finite &= isfinite(c2[i]);
                CHECK(finite);
                free(a);
                free(b);
                free(c1);
                free(c2);
            }
    CHECK(worst < 1e-5);
    printf("  portable kernel and %s vs the naive reference: max relative difference %.2g\n",
           clh_gemm_backend(), worst);
    CHECK_OK(clh_set_gemm_policy(CLH_GEMM_AUTO));
    CHECK(clh_get_gemm_policy() == CLH_GEMM_AUTO);
    CHECK_STATUS(clh_set_gemm_policy((clh_gemm_policy)7), CLH_E_INVALID_ARG);
    CHECK(clh_get_gemm_policy() == CLH_GEMM_AUTO);
}

int main(void) {
    cil_forward_is_one_multiply();
    mixed_forward_groups_by_task();
    portable_matches_dispatch();
    return check_done("test_core_dispatch");
}
