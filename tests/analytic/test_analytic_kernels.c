/* The analytic heads' kernels: the symmetric rank-k update (float and double,
 * BLAS and portable, against a plain double sum), the Cholesky solve
 * (LAPACK and portable, against numpy; not positive definite -> the pivot;
 * described systems scale·M + shift·E of a float32 or float64 M: the mixed
 * precision path where float32 suffices, the float64 fallback where it does
 * not, both to float64 accuracy; out of memory), and the random-feature
 * expansion (numpy's replica of the generator, bit for bit; ReLU outputs;
 * NaN kept; argument errors). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "analytic/cholesky.h"
#include "kernels/gemm.h"
#include "kernels/sparse_rows.h"
#include "kernels/symm_mixed.h"
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
    /* Without CBLAS every policy is the portable kernel: one pass (three
     * would repeat the same code, at emulated speed on armhf). */
    int n_policies = strcmp(clh_gemm_backend(), "portable") == 0 ? 1 : 3;
    for (int p = 0; p < n_policies; p++) {
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

/* A Gram matrix HᵀH [n, n] of `rows` uncentred ReLU-like rows (half zeros,
 * the rest uniform in [0, 1)), as the ridge statistics see it; the upper
 * triangle NaN (never read). */
static double *relu_gram(int64_t n, int64_t rows) {
    double *h = malloc((size_t)(rows * n) * sizeof *h), *g = malloc((size_t)(n * n) * sizeof *g);
    for (int64_t i = 0; i < rows * n; i++) {
        double u = uniform();
        h[i] = u < 0 ? 0.0 : u;
    }
    /* Row by row of H, each sum over r in order; a zero of H adds exactly 0. */
    for (int64_t i = 0; i < n; i++)
        for (int64_t j = 0; j < n; j++) g[i * n + j] = j <= i ? 0.0 : NAN;
    for (int64_t r = 0; r < rows; r++)
        for (int64_t i = 0; i < n; i++) {
            double hi = h[r * n + i];
            if (hi == 0) continue;
            for (int64_t j = 0; j <= i; j++) g[i * n + j] += hi * h[r * n + j];
        }
    free(h);
    return g;
}

/* clh_spd_solve on system s (M as given) against the portable float64 solve
 * of the same A built here; returns max |x - x_portable| / max |x_portable|. */
static double spd_case(const clh_spd_system *s, int64_t nrhs, int64_t *info_out) {
    int64_t n = s->n;
    double *a = malloc((size_t)(n * n) * sizeof *a), *b = malloc((size_t)(n * nrhs) * sizeof *b);
    double *x = malloc((size_t)(n * nrhs) * sizeof *x);
    for (int64_t i = 0; i < n; i++)
        for (int64_t j = 0; j <= i; j++) {
            double m = s->dtype == CLH_DT_F64 ? ((const double *)s->m)[i * n + j]
                                               : (double)((const float *)s->m)[i * n + j];
            a[i * n + j] = s->scale * m + (i == j && i < s->shifted ? s->shift : 0.0);
        }
    for (int64_t i = 0; i < n * nrhs; i++) b[i] = x[i] = uniform();
    *info_out = clh_spd_solve(s, x, nrhs);
    CHECK(clh_cholesky_solve_portable(a, n, b, nrhs) == 0);
    double diff = 0, scale = 0;
    for (int64_t i = 0; i < n * nrhs; i++) {
        if (!(fabs(x[i] - b[i]) <= diff)) diff = fabs(x[i] - b[i]);
        if (fabs(b[i]) > scale) scale = fabs(b[i]);
    }
    free(a);
    free(b);
    free(x);
    return diff / scale;
}

/* clh_symm_mixed against R = B − alpha · A X summed in long double. */
static void symm_mixed_case(int64_t n, int64_t nrhs) {
    float *m = malloc((size_t)(n * n) * sizeof *m);
    double *x = malloc((size_t)(n * nrhs) * sizeof *x), *b = malloc((size_t)(n * nrhs) * sizeof *b);
    double *r = malloc((size_t)(n * nrhs) * sizeof *r);
    for (int64_t i = 0; i < n; i++)
        for (int64_t j = 0; j < n; j++) m[i * n + j] = j <= i ? (float)uniform() : NAN;
    for (int64_t i = 0; i < n * nrhs; i++) {
        x[i] = uniform();
        b[i] = uniform();
    }
    double *work = malloc(clh_symm_mixed_work(n, nrhs) * sizeof *work);
    clh_symm_mixed(n, nrhs, 0.75, m, n, x, b, r, work);
    double worst = 0;
    for (int64_t c = 0; c < nrhs; c++)
        for (int64_t i = 0; i < n; i++) {
            long double s = 0, scale = 0;
            for (int64_t j = 0; j < n; j++) {
                long double a = j <= i ? m[i * n + j] : m[j * n + i];
                s += a * x[c * n + j];
                scale += fabsl(a * x[c * n + j]);
            }
            long double want = b[c * n + i] - 0.75L * s;
            double err = (double)(fabsl(r[c * n + i] - want) / (scale + fabsl((long double)b[c * n + i])));
            if (!(err <= worst)) worst = err;
        }
    if (!(worst <= 1e-15)) fprintf(stderr, "symm_mixed n=%lld nrhs=%lld: error %.3g\n",
                                   (long long)n, (long long)nrhs, worst);
    CHECK(worst <= 1e-15);
    free(m);
    free(x);
    free(b);
    free(r);
    free(work);
}

static void test_symm_mixed(void) {
    int threads = clh_get_num_threads();
    for (int t = 1; t <= 3; t += 2) { /* one worker, and three with uneven ranges */
        clh_set_num_threads(t);
        symm_mixed_case(7, 1);     /* one partial block */
        symm_mixed_case(263, 3);   /* n >= 256: the workers; partial last block */
        symm_mixed_case(601, 10);  /* several bands and chunks; 10 sides = 3 groups */
    }
    clh_set_num_threads(threads);
}

static void test_spd_system(void) {
    int lapack = strcmp(clh_cholesky_backend(), "lapack") == 0;
    int64_t n = 300, info = 0;
    double *g = relu_gram(n, 600);
    float *gf = malloc((size_t)(n * n) * sizeof *gf);
    for (int64_t i = 0; i < n * n; i++) gf[i] = (float)g[i];
    for (int64_t i = 0; i < n * n; i++) g[i] = isnan(gf[i]) ? NAN : (double)gf[i]; /* the same M */
    /* Well conditioned for float32 (λ = 1 against eigenvalues up to ~1e4):
     * the mixed path, float64 accuracy; ridge with a fitted bias (the last
     * entry not shifted), LDA's scaled form, float32 and float64 M. */
    const clh_spd_system cases[] = {
        {gf, CLH_DT_F32, n, 1.0, 1.0, n},     {gf, CLH_DT_F32, n, 1.0, 1.0, n - 1},
        {g, CLH_DT_F64, n, 1.0, 1.0, n},      {g, CLH_DT_F64, n, 1.0 / 600, 0.25, n},
        {gf, CLH_DT_F32, n, 1.0 / 600, 0.25, n}};
    for (size_t c = 0; c < sizeof cases / sizeof *cases; c++) {
        unsigned long mixed = clh_cholesky_mixed_count(), fallback = clh_cholesky_fallback_count();
        double err = spd_case(&cases[c], 7, &info);
        CHECK(info == 0);
        if (!(err <= 1e-11)) fprintf(stderr, "spd case %zu: error %.3g\n", c, err);
        CHECK(err <= 1e-11);
        /* Mixed: with LAPACK always; without it a float32 M (the portable
         * float32 factorisation), a float64 M the float64 Cholesky. */
        int mixed_path = lapack || cases[c].dtype == CLH_DT_F32;
        CHECK(clh_cholesky_mixed_count() == mixed + (unsigned long)mixed_path);
        CHECK(clh_cholesky_fallback_count() == fallback);
    }
    /* The portable policy in a LAPACK build: the portable float32
     * factorisation for a float32 M, the float64 one for a float64 M; the
     * same results. */
    CHECK_OK(clh_set_gemm_policy(CLH_GEMM_PORTABLE));
    unsigned long mixed = clh_cholesky_mixed_count();
    CHECK(spd_case(&cases[1], 3, &info) <= 1e-11 && info == 0);
    CHECK(clh_cholesky_mixed_count() == mixed + 1);
    CHECK(spd_case(&cases[4], 20, &info) <= 1e-11 && info == 0); /* two groups of sides */
    CHECK(clh_cholesky_mixed_count() == mixed + 2);
    CHECK(spd_case(&cases[2], 3, &info) <= 1e-11 && info == 0);
    CHECK(clh_cholesky_mixed_count() == mixed + 2);
    CHECK_OK(clh_set_gemm_policy(CLH_GEMM_AUTO));
    /* Too ill-conditioned for float32: rank 100 of 300 and a shift of 1e-7,
     * a condition number near 1e11. The float64 fallback solves it (to its
     * own accuracy, about cond · 1e-16). */
    double *low = relu_gram(n, 100);
    clh_spd_system ill = {low, CLH_DT_F64, n, 1.0, 1e-7, n};
    unsigned long fallback = clh_cholesky_fallback_count();
    double err = spd_case(&ill, 2, &info);
    CHECK(info == 0);
    if (!(err <= 1e-3)) fprintf(stderr, "ill-conditioned spd case: error %.3g\n", err);
    CHECK(err <= 1e-3);
    CHECK(clh_cholesky_fallback_count() == fallback + (unsigned long)lapack);
    /* The same with a float32 M (rank 100, shift 1e-5: condition near 1e9):
     * a fallback in every build, the float64 answer. */
    float *low_f = malloc((size_t)(n * n) * sizeof *low_f);
    for (int64_t i = 0; i < n * n; i++) low_f[i] = (float)low[i];
    clh_spd_system ill_f = {low_f, CLH_DT_F32, n, 1.0, 1e-5, n};
    fallback = clh_cholesky_fallback_count();
    err = spd_case(&ill_f, 2, &info);
    CHECK(info == 0);
    if (!(err <= 1e-4)) fprintf(stderr, "ill-conditioned float32 spd case: error %.3g\n", err);
    CHECK(err <= 1e-4);
    CHECK(clh_cholesky_fallback_count() == fallback + 1);
    free(low_f);
    /* Singular (no shift, rank 100): a pivot, as the float64 path finds it. */
    clh_spd_system singular = {low, CLH_DT_F64, n, 1.0, 0.0, n};
    double rhs[300];
    for (int i = 0; i < 300; i++) rhs[i] = 1.0;
    CHECK(clh_spd_solve(&singular, rhs, 1) > 0);
    /* Out of memory at each allocation in turn: CLH_CHOLESKY_NOMEM with b
     * unchanged, until enough allocations succeed to solve. */
    double b0[2 * 300], b1[2 * 300];
    for (int i = 0; i < 600; i++) b0[i] = b1[i] = uniform();
    for (long k = 1; k <= 8; k++) {
        clh_test_fail_alloc_after(k);
        info = clh_spd_solve(&cases[0], b1, 2);
        clh_test_fail_alloc_after(0);
        if (info == 0) break;
        CHECK(info == CLH_CHOLESKY_NOMEM);
        CHECK(memcmp(b0, b1, sizeof b0) == 0);
    }
    CHECK(info == 0);
    free(low);
    free(g);
    free(gf);
}

/* x [m, k] with about `density` of its entries nonzero (uniform in (-1, 1)). */
static float *sparse_matrix(int64_t m, int64_t k, double density) {
    float *x = malloc((size_t)(m * k) * sizeof *x);
    for (int64_t i = 0; i < m * k; i++) {
        double keep = uniform() * 0.5 + 0.5; /* in [0, 1) */
        x[i] = keep < density ? (float)uniform() : 0.0f;
    }
    return x;
}

/* max |got - ReLU?(x · b)| / max |want| with the product summed in double.
 * A row of the product at a time, over the nonzeros of x only (a zero adds
 * exactly 0, b being finite): each sum still runs over p in order, at a fifth
 * of the work of the dense loop (which took seconds under qemu-arm). */
static double sparse_error(const float *got, const float *x, const float *b, int64_t m, int64_t n,
                           int64_t k, int relu) {
    double diff = 0, scale = 0;
    double *want = malloc((size_t)n * sizeof *want);
    CHECK(want != NULL);
    if (!want) return INFINITY;
    for (int64_t i = 0; i < m; i++) {
        for (int64_t j = 0; j < n; j++) want[j] = 0;
        for (int64_t p = 0; p < k; p++) {
            double v = (double)x[i * k + p];
            if (v == 0) continue;
            for (int64_t j = 0; j < n; j++) want[j] += v * (double)b[p * n + j];
        }
        for (int64_t j = 0; j < n; j++) {
            double w = relu && want[j] < 0 ? 0 : want[j];
            if (!(fabs(got[i * n + j] - w) <= diff)) diff = fabs(got[i * n + j] - w);
            if (fabs(w) > scale) scale = fabs(w);
        }
    }
    free(want);
    return diff / scale;
}

static void test_sparse_rows(void) {
    /* n = 264: four full bands of 64 and a partial one; enough nonzeros x n
     * (about 10M) for the threads; with and without the ReLU. */
    int64_t m = 1000, n = 264, k = 200;
    float *x = sparse_matrix(m, k, 0.2), *b = sparse_matrix(k, n, 1.0);
    float *c = malloc((size_t)(m * n) * sizeof *c);
    float *packed = malloc(clh_sparse_rows_packed_size(k, n) * sizeof *packed);
    clh_sparse_rows_pack(k, n, b, n, 1, packed);
    int64_t nz = clh_count_nonzeros(m, k, x, k), expect = 0;
    for (int64_t i = 0; i < m * k; i++) expect += x[i] != 0.0f;
    CHECK(nz == expect && nz > m * k / 10 && nz < m * k / 3);
    for (int relu = 0; relu < 2; relu++) {
        for (size_t i = 0; i < (size_t)(m * n); i++) c[i] = NAN; /* every entry is written */
        CHECK(clh_gemm_sparse_rows(m, n, k, x, k, nz, packed, c, n, relu) == 0);
        double err = sparse_error(c, x, b, m, n, k, relu);
        if (!(err <= 1e-6)) fprintf(stderr, "sparse rows (relu %d): error %.3g\n", relu, err);
        CHECK(err <= 1e-6);
    }
    /* One thread gives the same bits (the bands are independent). */
    float *one = malloc((size_t)(m * n) * sizeof *one);
    int threads = clh_get_num_threads();
    clh_set_num_threads(1);
    CHECK(clh_gemm_sparse_rows(m, n, k, x, k, nz, packed, one, n, 1) == 0);
    clh_set_num_threads(threads);
    CHECK(memcmp(one, c, (size_t)(m * n) * sizeof *c) == 0);
    /* A NaN input is a nonzero and makes its row NaN, through the ReLU. */
    x[5 * k + 3] = NAN;
    nz = clh_count_nonzeros(m, k, x, k);
    CHECK(clh_gemm_sparse_rows(m, n, k, x, k, nz, packed, c, n, 1) == 0);
    size_t nans = 0;
    for (int64_t j = 0; j < n; j++) nans += isnan(c[5 * n + j]) != 0;
    CHECK(nans == (size_t)n && !isnan(c[4 * n]) && !isnan(c[6 * n]));
    /* A row of zeros gives zeros; no memory for the compressed rows: -1, C
     * untouched. */
    memset(x, 0, (size_t)k * sizeof *x);
    nz = clh_count_nonzeros(m, k, x, k);
    CHECK(clh_gemm_sparse_rows(m, n, k, x, k, nz, packed, c, n, 0) == 0);
    CHECK(c[0] == 0.0f && c[n - 1] == 0.0f);
    memcpy(one, c, (size_t)(m * n) * sizeof *c);
    clh_test_fail_alloc_after(1);
    CHECK(clh_gemm_sparse_rows(m, n, k, x, k, nz, packed, c, n, 0) == -1);
    clh_test_fail_alloc_after(0);
    CHECK(memcmp(one, c, (size_t)(m * n) * sizeof *c) == 0);
    free(x);
    free(b);
    free(c);
    free(one);
    free(packed);
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
    /* Inputs that are mostly zeros (MNIST-like) take the sparse path: the
     * same ReLU(x Pᵀ) to float rounding. */
    {
        int64_t rows = 40, in = r->raw, width = r->width;
        float *sx = sparse_matrix(rows, in, 0.2);
        float *sy = malloc((size_t)(rows * width) * sizeof *sy);
        CHECK(clh_count_nonzeros(rows, in, sx, in) <= rows * in / 3); /* below the threshold */
        CHECK_OK(clh_random_features_apply(rf, sx, rows, sy));
        float *pt = malloc((size_t)(in * width) * sizeof *pt);
        for (int64_t q = 0; q < width; q++)
            for (int64_t c = 0; c < in; c++) pt[c * width + q] = w[q * in + c];
        double err = sparse_error(sy, sx, pt, rows, width, in, 1);
        if (!(err <= 2e-6)) fprintf(stderr, "sparse expansion: error %.3g\n", err);
        CHECK(err <= 2e-6);
        free(sx);
        free(sy);
        free(pt);
    }
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
    test_symm_mixed();
    test_spd_system();
    test_sparse_rows();
    if (r.rd) {
        test_cholesky(&r);
        test_random_features(&r);
    }
    refdata_free(r.rd);
    return check_done("test_analytic_kernels");
}
