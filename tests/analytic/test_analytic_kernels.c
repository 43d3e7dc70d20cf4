/* The analytic heads' kernels: the symmetric rank-k update (float and double,
 * BLAS and portable, against a plain double sum), the Cholesky solve
 * (LAPACK and portable, against numpy; not positive definite -> the pivot),
 * and the random-feature expansion (numpy's replica of the generator, bit
 * for bit; ReLU outputs; NaN kept; argument errors). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "analytic/cholesky.h"
#include "kernels/gemm.h"
#include "common/testing.h"
#include "test_analytic_util.h"

static uint64_t state = 0x9E3779B97F4A7C15u;
static double uniform(void) {
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    return (double)(state >> 11) * 0x1.0p-53 * 2.0 - 1.0;
}

/* C = alpha AᵀA + beta C0 on the lower triangle, both precisions and both
 * kernels, against a double sum; beta = 0 must not read C (NaN there). */
static void syrk_case(int64_t n, int64_t k, double alpha, double beta, clh_gemm_policy policy) {
    float *a = malloc((size_t)(n * k) * sizeof *a), *c = malloc((size_t)(n * n) * sizeof *c);
    double *ad = malloc((size_t)(n * k) * sizeof *ad), *cd = malloc((size_t)(n * n) * sizeof *cd);
    double *c0 = malloc((size_t)(n * n) * sizeof *c0);
    for (int64_t i = 0; i < n * k; i++) ad[i] = a[i] = (float)uniform();
    for (int64_t i = 0; i < n * n; i++) c0[i] = (float)uniform();
    for (int64_t i = 0; i < n * n; i++) {
        c[i] = beta == 0 ? NAN : (float)c0[i];
        cd[i] = beta == 0 ? NAN : c0[i];
    }
    CHECK_OK(clh_set_gemm_policy(policy));
    clh_syrk_f32(n, k, (float)alpha, a, n, (float)beta, c, n);
    clh_syrk_f64(n, k, alpha, ad, n, beta, cd, n);
    CHECK_OK(clh_set_gemm_policy(CLH_GEMM_AUTO));
    double err32 = 0, err64 = 0, scale = 0;
    for (int64_t i = 0; i < n; i++)
        for (int64_t j = 0; j <= i; j++) {
            double want = beta == 0 ? 0 : beta * c0[i * n + j];
            for (int64_t r = 0; r < k; r++) want += alpha * ad[r * n + i] * ad[r * n + j];
            double e32 = fabs(c[i * n + j] - want), e64 = fabs(cd[i * n + j] - want);
            if (!(e32 <= err32)) err32 = e32;
            if (!(e64 <= err64)) err64 = e64;
            if (fabs(want) > scale) scale = fabs(want);
        }
    if (!(err32 <= 1e-5 * scale && err64 <= 1e-12 * scale))
        fprintf(stderr, "syrk n=%lld k=%lld policy %d: errors %.3g (f32), %.3g (f64), scale %.3g\n",
                (long long)n, (long long)k, (int)policy, err32, err64, scale);
    CHECK(err32 <= 1e-5 * scale);
    CHECK(err64 <= 1e-12 * scale);
    free(a);
    free(c);
    free(ad);
    free(cd);
    free(c0);
}

static void test_syrk(void) {
    clh_gemm_policy policies[] = {CLH_GEMM_AUTO, CLH_GEMM_BLAS, CLH_GEMM_PORTABLE};
    for (int p = 0; p < 3; p++) {
        syrk_case(1, 1, 1.0, 0.0, policies[p]);
        syrk_case(53, 37, 1.5, 0.5, policies[p]);
        syrk_case(53, 37, 1.0, 0.0, policies[p]);
        syrk_case(300, 700, 1.0, 1.0, policies[p]); /* several row blocks, threads */
        syrk_case(7, 0, 1.0, 0.25, policies[p]);    /* k = 0: C = beta C */
    }
    /* The call goes through the dispatch counter. */
    uint64_t before = clh_gemm_call_count();
    float a[4] = {1, 2, 3, 4}, c[4] = {0, 0, 0, 0};
    clh_syrk_f32(2, 2, 1.0f, a, 2, 0.0f, c, 2);
    CHECK(clh_gemm_call_count() == before + 1);
    CHECK(c[0] == 10.0f && c[2] == 14.0f && c[3] == 20.0f); /* [1,3]·[1,3], [1,3]·[2,4], [2,4]·[2,4] */
}

/* numpy's solution of the reference system, with LAPACK and portable. */
static void test_cholesky(const analytic_ref *r) {
    size_t na = 0, nb = 0;
    const float *a32 = refdata_f32(r->rd, &na, "chol_a");
    const float *b32 = refdata_f32(r->rd, &nb, "chol_b");
    const float *x32 = refdata_f32(r->rd, NULL, "chol_x");
    CHECK(a32 && b32 && x32);
    if (!a32 || !b32 || !x32) return;
    int64_t n = (int64_t)sqrt((double)na), nrhs = (int64_t)nb / n;
    CHECK(n * n == (int64_t)na && nrhs == 3);
    double *a = malloc(na * sizeof *a), *b = malloc(nb * sizeof *b);
    float *x = malloc(nb * sizeof *x);
    for (int portable = 0; portable < 2; portable++) {
        for (size_t i = 0; i < na; i++) a[i] = a32[i];
        for (size_t i = 0; i < nb; i++) b[i] = b32[i];
        /* The upper triangle must not be read: poison it. */
        for (int64_t i = 0; i < n; i++)
            for (int64_t j = i + 1; j < n; j++) a[i * n + j] = NAN;
        int64_t info = portable ? clh_cholesky_solve_portable(a, n, b, nrhs)
                                : clh_cholesky_solve(a, n, b, nrhs);
        CHECK(info == 0);
        for (size_t i = 0; i < nb; i++) x[i] = (float)b[i];
        double err = rel_error(x, x32, nb);
        if (!(err <= 1e-6)) fprintf(stderr, "cholesky (%s): error %.3g\n",
                                    portable ? "portable" : clh_cholesky_backend(), err);
        CHECK(err <= 1e-6);
    }
    /* Not positive definite at the third pivot (both paths); a NaN pivot. */
    for (int portable = 0; portable < 2; portable++) {
        double m[16] = {4, 0, 0, 0, 1, 5, 0, 0, 0, 0, -1, 0, 0, 0, 0, 2}, rhs[4] = {1, 1, 1, 1};
        int64_t info = portable ? clh_cholesky_solve_portable(m, 4, rhs, 1)
                                : clh_cholesky_solve(m, 4, rhs, 1);
        CHECK(info == 3);
        double z[4] = {1, 0, 0, 0};
        info = portable ? clh_cholesky_solve_portable(z, 2, rhs, 1) : clh_cholesky_solve(z, 2, rhs, 1);
        CHECK(info == 2);
    }
    /* A larger system than one block, LAPACK against portable. */
    int64_t big = 150;
    double *g = malloc((size_t)(big * big) * sizeof *g), *h = malloc((size_t)(big * big) * sizeof *h);
    double *b1 = malloc((size_t)(2 * big) * sizeof *b1), *b2 = malloc((size_t)(2 * big) * sizeof *b2);
    double *m = malloc((size_t)(big * big) * sizeof *m);
    for (int64_t i = 0; i < big * big; i++) m[i] = uniform();
    for (int64_t i = 0; i < big; i++)
        for (int64_t j = 0; j < big; j++) {
            double s = i == j ? (double)big : 0.0;
            for (int64_t p = 0; p < big; p++) s += m[i * big + p] * m[j * big + p];
            g[i * big + j] = h[i * big + j] = s;
        }
    for (int64_t i = 0; i < 2 * big; i++) b1[i] = b2[i] = uniform();
    for (int64_t i = 0; i < big; i++) /* only the lower triangle may be read */
        for (int64_t j = i + 1; j < big; j++) g[i * big + j] = h[i * big + j] = NAN;
    /* n >= 128: LAPACK's path is mixed precision with refinement, which must
     * reach the accuracy of the float64 portable solve. */
    CHECK(clh_cholesky_solve(g, big, b1, 2) == 0);
    CHECK(clh_cholesky_solve_portable(h, big, b2, 2) == 0);
    double diff = 0, scale = 0;
    for (int64_t i = 0; i < 2 * big; i++) {
        if (fabs(b1[i] - b2[i]) > diff) diff = fabs(b1[i] - b2[i]);
        if (fabs(b1[i]) > scale) scale = fabs(b1[i]);
    }
    CHECK(diff <= 1e-12 * scale);
    free(g);
    free(h);
    free(b1);
    free(b2);
    free(m);
    free(a);
    free(b);
    free(x);
}

static void test_random_features(const analytic_ref *r) {
    clh_random_features *rf = NULL;
    CHECK_OK(clh_random_features_create(&rf, (uint64_t)r->seed, r->raw, r->width));
    if (!rf) return;
    size_t count = 0;
    const float *p = refdata_f32(r->rd, &count, "projection");
    CHECK(p && count == (size_t)(r->raw * r->width));
    const float *w = clh_random_features_weight(rf);
    /* numpy's replica of the generator: bit for bit (libm's log, cos, sin
     * may differ by one double ulp elsewhere; allow one float ulp). */
    size_t exact = 0, close = 0;
    for (size_t i = 0; p && i < count; i++) {
        exact += w[i] == p[i];
        close += fabs((double)w[i] - (double)p[i]) <= 1.2e-7 * fabs((double)p[i]);
    }
    CHECK(close == count);
    printf("projection: %zu of %zu entries bit-identical to numpy\n", exact, count);
    /* Its moments: mean ~ 0, variance ~ 1/in (a large draw). */
    clh_random_features *big = NULL;
    CHECK_OK(clh_random_features_create(&big, 99, 100, 2001)); /* odd count: last z1 dropped */
    if (big) {
        const float *bw = clh_random_features_weight(big);
        double s = 0, s2 = 0;
        size_t n = 100 * 2001;
        for (size_t i = 0; i < n; i++) {
            s += bw[i];
            s2 += (double)bw[i] * bw[i];
        }
        CHECK(fabs(s / (double)n) < 0.002);
        CHECK(fabs(s2 / (double)n * 100.0 - 1.0) < 0.01);
    }
    clh_random_features_free(big);

    /* The outputs: ReLU(x Pᵀ) against numpy's float64 product. */
    const float *raw = refdata_f32(r->rd, NULL, "raw");
    float *out = malloc((size_t)(r->n * r->width) * sizeof *out);
    CHECK_OK(clh_random_features_apply(rf, raw, r->n, out));
    CHECK(rel_error(out, r->features, (size_t)(r->n * r->width)) <= 2e-6);
    size_t zeros = 0;
    for (int64_t i = 0; i < r->n * r->width; i++) zeros += out[i] == 0.0f;
    CHECK(zeros > 0 && zeros < (size_t)(r->n * r->width)); /* the ReLU is active */
    /* The same seed gives the same projection; another seed another. */
    clh_random_features *again = NULL, *other = NULL;
    CHECK_OK(clh_random_features_create(&again, (uint64_t)r->seed, r->raw, r->width));
    CHECK_OK(clh_random_features_create(&other, (uint64_t)r->seed + 1, r->raw, r->width));
    if (again && other) {
        CHECK(memcmp(clh_random_features_weight(again), w, count * sizeof(float)) == 0);
        CHECK(memcmp(clh_random_features_weight(other), w, count * sizeof(float)) != 0);
    }
    CHECK(clh_random_features_seed(rf) == (uint64_t)r->seed);
    CHECK(clh_random_features_in(rf) == r->raw && clh_random_features_width(rf) == r->width);
    /* A NaN input stays NaN (so the statistics reject it). */
    float x[10], y[24];
    for (int i = 0; i < 10; i++) x[i] = 0.5f;
    x[3] = NAN;
    CHECK_OK(clh_random_features_apply(rf, x, 1, y));
    size_t nans = 0;
    for (int i = 0; i < 24; i++) nans += isnan(y[i]) != 0;
    CHECK(nans == 24);
    /* Errors. */
    clh_random_features *none = NULL;
    CHECK_STATUS(clh_random_features_create(&none, 1, 0, 4), CLH_E_INVALID_ARG);
    CHECK_STATUS(clh_random_features_create(&none, 1, 4, -1), CLH_E_INVALID_ARG);
    CHECK_STATUS(clh_random_features_create(&none, 1, INT64_MAX, 4), CLH_E_OVERFLOW);
    CHECK_STATUS(clh_random_features_create(NULL, 1, 4, 4), CLH_E_NULL);
    CHECK(none == NULL);
    CHECK_STATUS(clh_random_features_apply(rf, x, -1, y), CLH_E_INVALID_ARG);
    CHECK_STATUS(clh_random_features_apply(rf, NULL, 1, y), CLH_E_NULL);
    CHECK_OK(clh_random_features_apply(rf, NULL, 0, NULL));
    clh_random_features_free(NULL);
    clh_random_features_free(rf);
    clh_random_features_free(again);
    clh_random_features_free(other);
    free(out);
}

int main(void) {
    analytic_ref r;
    CHECK(analytic_ref_load(&r));
    test_syrk();
    if (r.rd) {
        test_cholesky(&r);
        test_random_features(&r);
    }
    refdata_free(r.rd);
    return check_done("test_analytic_kernels");
}
