/* Cholesky solves (cholesky.h). Row-major lower triangle = column-major upper
 * triangle in the same memory, and rows of b = columns of a column-major
 * [n, nrhs] matrix, so LAPACK is called in column-major with 'U' and no
 * transposition is ever made. */
#include <float.h>
#include <limits.h>
#include <math.h>
#include <stdatomic.h>
#include <string.h>

#include "analytic/cholesky.h"
#include "clheads/linear.h"

#include "common/alloc.h"
#include "common/checked.h"
#include "common/testing.h" /* the multiply policy also picks the portable Cholesky */

#ifdef CLH_HAVE_LAPACKE
#include <cblas.h>
#include <lapacke.h>

#include "kernels/symm_mixed.h"
#endif

/* Block width of the portable factorisation: a panel of NB columns is
 * factored, then the trailing triangle is updated with dot products of
 * length NB over contiguous row segments. */
enum { NB = 64 };

/* Σ x[p] y[p], p < len, with four partial sums (a fixed order: the same
 * result on every run). */
static double dot(const double *x, const double *y, int64_t len) {
    double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    int64_t p = 0;
    for (; p + 4 <= len; p += 4) {
        s0 += x[p] * y[p];
        s1 += x[p + 1] * y[p + 1];
        s2 += x[p + 2] * y[p + 2];
        s3 += x[p + 3] * y[p + 3];
    }
    for (; p < len; p++) s0 += x[p] * y[p];
    return (s0 + s1) + (s2 + s3);
}

/* Right-looking blocked factorisation A = L Lᵀ in place (lower triangle). */
static int64_t factor_portable(double *a, int64_t n) {
    for (int64_t k0 = 0; k0 < n; k0 += NB) {
        int64_t k1 = k0 + NB < n ? k0 + NB : n;
        /* The panel's columns k0..k1 for every row below k0 (the diagonal
         * block and the rows under it), from the already updated values. */
        for (int64_t j = k0; j < k1; j++) {
            double *rj = a + j * n;
            double pivot = rj[j] - dot(rj + k0, rj + k0, j - k0);
            if (!(pivot > 0.0) || !isfinite(pivot)) return j + 1;
            rj[j] = sqrt(pivot);
            for (int64_t i = j + 1; i < n; i++) {
                double *ri = a + i * n;
                ri[j] = (ri[j] - dot(ri + k0, rj + k0, j - k0)) / rj[j];
            }
        }
        /* Trailing triangle: A[i][j] -= L[i][k0..k1) · L[j][k0..k1). */
        for (int64_t i = k1; i < n; i++) {
            double *ri = a + i * n;
            for (int64_t j = k1; j <= i; j++) ri[j] -= dot(ri + k0, a + j * n + k0, k1 - k0);
        }
    }
    return 0;
}

/* L y = b, then Lᵀ x = y, for one right-hand side in place. */
static void solve_portable(const double *l, int64_t n, double *b) {
    for (int64_t i = 0; i < n; i++) b[i] = (b[i] - dot(l + i * n, b, i)) / l[i * n + i];
    for (int64_t i = n - 1; i >= 0; i--) {
        const double *ri = l + i * n;
        b[i] /= ri[i];
        for (int64_t p = 0; p < i; p++) b[p] -= ri[p] * b[i];
    }
}

/* The largest diagonal entry of A (before the factorisation). */
static double max_diagonal(const double *a, int64_t n) {
    double m = 0;
    for (int64_t i = 0; i < n; i++)
        if (a[i * n + i] > m) m = a[i * n + i];
    return m;
}

/* A factor whose smallest pivot L_ii² is below n · ε · max A_ii belongs to
 * a matrix that is singular to working precision (rounding alone can turn an
 * exact zero pivot into a tiny positive one): the 1-based index of the
 * smallest pivot then, else 0. */
static int64_t numerically_singular(const double *l, int64_t n, double max_diag) {
    int64_t worst = 0;
    for (int64_t i = 1; i < n; i++)
        if (l[i * n + i] < l[worst * n + worst]) worst = i;
    double pivot = l[worst * n + worst];
    return pivot * pivot < (double)n * DBL_EPSILON * max_diag ? worst + 1 : 0;
}

int64_t clh_cholesky_solve_portable(double *a, int64_t n, double *b, int64_t nrhs) {
    double max_diag = max_diagonal(a, n);
    int64_t info = factor_portable(a, n);
    if (!info) info = numerically_singular(a, n, max_diag);
    if (info) return info;
    for (int64_t r = 0; r < nrhs; r++) solve_portable(a, n, b + r * n);
    return 0;
}

/* Element (i, j), j <= i, of the system's A in double. */
static double system_at(const clh_spd_system *s, int64_t i, int64_t j) {
    size_t k = (size_t)i * (size_t)s->n + (size_t)j;
    double m = s->dtype == CLH_DT_F64 ? ((const double *)s->m)[k] : (double)((const float *)s->m)[k];
    return s->scale * m + (i == j && i < s->shifted ? s->shift : 0.0);
}

/* A's lower triangle in double, for the float64 paths. */
static void build_double(const clh_spd_system *s, double *a) {
    for (int64_t i = 0; i < s->n; i++)
        for (int64_t j = 0; j <= i; j++) a[i * s->n + j] = system_at(s, i, j);
}

/* unsigned long: lock-free on every target, Cortex-M included (no 64-bit
 * atomics there); a diagnostic may wrap. */
static _Atomic unsigned long mixed_count, fallback_count;
unsigned long clh_cholesky_mixed_count(void) { return atomic_load(&mixed_count); }
unsigned long clh_cholesky_fallback_count(void) { return atomic_load(&fallback_count); }

#ifdef CLH_HAVE_LAPACKE
static int use_lapack(int64_t n, int64_t nrhs) {
    return clh_get_gemm_policy() != CLH_GEMM_PORTABLE && n <= INT_MAX && nrhs <= INT_MAX &&
           n <= INT_MAX / (n > 0 ? n : 1);
}
#endif

const char *clh_cholesky_backend(void) {
#ifdef CLH_HAVE_LAPACKE
    if (use_lapack(1, 1)) return "lapack";
#endif
    return "portable";
}

/* Solves with A's float64 lower triangle in a (overwritten by the factor):
 * LAPACK's dpotrf + dpotrs or the portable code, by the policy. */
static int64_t solve_double(double *a, int64_t n, double *b, int64_t nrhs) {
#ifdef CLH_HAVE_LAPACKE
    if (use_lapack(n, nrhs)) {
        double max_diag = max_diagonal(a, n);
        lapack_int info = LAPACKE_dpotrf(LAPACK_COL_MAJOR, 'U', (lapack_int)n, a, (lapack_int)n);
        /* info < 0: LAPACKE found a NaN in A (its argument check); > 0: the
         * leading minor of that order is not positive definite. */
        if (info < 0) return 1;
        if (info > 0) return (int64_t)info;
        int64_t singular = numerically_singular(a, n, max_diag);
        if (singular) return singular;
        if (nrhs == 0) return 0;
        info = LAPACKE_dpotrs(LAPACK_COL_MAJOR, 'U', (lapack_int)n, (lapack_int)nrhs, a,
                              (lapack_int)n, b, (lapack_int)n);
        return info == 0 ? 0 : 1;
    }
#endif
    return clh_cholesky_solve_portable(a, n, b, nrhs);
}

#ifdef CLH_HAVE_LAPACKE
/* Mixed precision (cholesky.h). MAX_REFINE as dsposv's ITERMAX; a step that
 * does not at least halve the residual means the float32 factor is too poor
 * a preconditioner (A too ill-conditioned for float32): float64 then, rather
 * than up to MAX_REFINE slow steps. */
enum { MAX_REFINE = 30, MIXED_MIN_N = 128 };
enum { MIXED_OK, MIXED_FALLBACK, MIXED_NOMEM };

/* A's lower triangle in float into af (column-major upper for spotrf), and
 * from the same pass in double: A's largest diagonal entry and ‖A‖∞ of the
 * symmetric matrix (rowsum [n], zeroed, holds the absolute row sums). */
static void build_float(const clh_spd_system *s, float *af, double *rowsum, double *max_diag,
                        double *anorm) {
    int64_t n = s->n;
    *max_diag = 0;
    for (int64_t i = 0; i < n; i++) {
        float *row = af + i * n;
        double own = 0;
        if (s->dtype == CLH_DT_F32) {
            const float *m = (const float *)s->m + i * n;
            for (int64_t j = 0; j < i; j++) {
                double v = s->scale * (double)m[j];
                row[j] = (float)v;
                own += fabs(v);
                rowsum[j] += fabs(v);
            }
        } else {
            const double *m = (const double *)s->m + i * n;
            for (int64_t j = 0; j < i; j++) {
                double v = s->scale * m[j];
                row[j] = (float)v;
                own += fabs(v);
                rowsum[j] += fabs(v);
            }
        }
        double d = system_at(s, i, i);
        row[i] = (float)d;
        rowsum[i] += own + fabs(d);
        if (d > *max_diag) *max_diag = d;
    }
    *anorm = 0;
    for (int64_t i = 0; i < n; i++)
        if (!(rowsum[i] <= *anorm)) *anorm = rowsum[i]; /* NaN wins: no convergence */
}

/* r = b − A x for the nrhs rows of x and b ([nrhs, n]) in float64: dsymm on
 * a float64 M, kernels/symm_mixed.h on a float32 one (work: its workspace). */
static void residual(const clh_spd_system *s, const double *x, const double *b, double *r,
                     int64_t nrhs, double *work) {
    int n = (int)s->n, k = (int)nrhs;
    if (s->dtype == CLH_DT_F64) {
        memcpy(r, b, (size_t)n * (size_t)k * sizeof *r);
        cblas_dsymm(CblasRowMajor, CblasRight, CblasLower, k, n, -s->scale, s->m, n, x, n, 1.0,
                    r, n);
    } else {
        clh_symm_mixed(n, k, s->scale, s->m, n, x, b, r, work);
    }
    for (size_t c = 0; c < (size_t)k; c++)
        for (size_t i = 0; i < (size_t)s->shifted; i++)
            r[c * (size_t)n + i] -= s->shift * x[c * (size_t)n + i];
}

/* max over the columns of ‖r‖∞ / (‖x‖∞ tol): <= 1 when all have converged;
 * NaN or infinity when something is not finite. */
static double refinement_ratio(const double *x, const double *r, int64_t n, int64_t nrhs,
                               double tol) {
    double worst = 0;
    for (int64_t c = 0; c < nrhs; c++) {
        double rmax = 0, xmax = 0;
        for (int64_t i = 0; i < n; i++) {
            double ri = fabs(r[c * n + i]), xi = fabs(x[c * n + i]);
            if (!(ri <= rmax)) rmax = ri; /* NaN: kept */
            if (xi > xmax) xmax = xi;
        }
        double ratio = rmax / (xmax * tol);
        if (!(ratio <= worst)) worst = ratio;
    }
    return worst == worst ? worst : INFINITY;
}

/* The mixed path: MIXED_OK with b = X, MIXED_FALLBACK (b unchanged) when
 * the caller must solve in float64, MIXED_NOMEM. */
static int solve_mixed(const clh_spd_system *s, double *b, int64_t nrhs) {
    size_t n = (size_t)s->n, nn = n * n, nb = n * (size_t)nrhs;
    /* af: only the triangle spotrf and spotrs read is written (clearing the
     * other half would be one more pass over 32 MB at d = 4096). */
    float *af = clh_malloc(nn * sizeof *af), *rf = clh_malloc(nb * sizeof *rf);
    double *x = clh_calloc(nb, sizeof *x), *r = clh_malloc(nb * sizeof *r);
    double *rowsum = clh_calloc(n, sizeof *rowsum);
    size_t work_doubles = s->dtype == CLH_DT_F32 ? clh_symm_mixed_work(s->n, nrhs) : 1;
    double *work = work_doubles ? clh_malloc(work_doubles * sizeof *work) : NULL;
    int result = MIXED_FALLBACK;
    if (!af || !rf || !x || !r || !rowsum || !work) {
        result = MIXED_NOMEM;
        goto done;
    }
    double max_diag, anorm;
    build_float(s, af, rowsum, &max_diag, &anorm);
    /* The _work entry points: no NaN scan of A at every call (A is finite
     * unless the sums overflowed, and then a pivot or the refinement fails). */
    if (LAPACKE_spotrf_work(LAPACK_COL_MAJOR, 'U', (lapack_int)n, af, (lapack_int)n) != 0)
        goto done;
    /* A tiny pivot (or NaN): let the float64 factorisation decide whether A
     * is singular to working precision (cholesky.h). */
    for (size_t i = 0; i < n; i++) {
        double pivot = af[i * n + i];
        if (!(pivot * pivot >= (double)n * DBL_EPSILON * max_diag)) goto done;
    }
    double tol = anorm * DBL_EPSILON * sqrt((double)n), previous = INFINITY;
    memcpy(r, b, nb * sizeof *r);
    for (int it = 0; it <= MAX_REFINE; it++) {
        for (size_t i = 0; i < nb; i++) rf[i] = (float)r[i];
        LAPACKE_spotrs_work(LAPACK_COL_MAJOR, 'U', (lapack_int)n, (lapack_int)nrhs, af,
                            (lapack_int)n, rf, (lapack_int)n);
        for (size_t i = 0; i < nb; i++) x[i] += (double)rf[i];
        residual(s, x, b, r, nrhs, work);
        double ratio = refinement_ratio(x, r, (int64_t)n, nrhs, tol);
        if (ratio <= 1.0) {
            memcpy(b, x, nb * sizeof *b);
            result = MIXED_OK;
            break;
        }
        if (!(ratio < 0.5 * previous)) break; /* stagnating, or not finite */
        previous = ratio;
    }
done:
    clh_free(af);
    clh_free(rf);
    clh_free(x);
    clh_free(r);
    clh_free(rowsum);
    clh_free(work);
    return result;
}

/* The mixed path where it applies: 1 when it solved, 0 to go on in float64,
 * CLH_CHOLESKY_NOMEM. */
static int64_t try_mixed(const clh_spd_system *s, double *b, int64_t nrhs) {
    if (!use_lapack(s->n, nrhs) || s->n < MIXED_MIN_N || nrhs == 0) return 0;
    int result = solve_mixed(s, b, nrhs);
    if (result == MIXED_NOMEM) return CLH_CHOLESKY_NOMEM;
    atomic_fetch_add(result == MIXED_OK ? &mixed_count : &fallback_count, 1);
    return result == MIXED_OK;
}
#else
static int64_t try_mixed(const clh_spd_system *s, double *b, int64_t nrhs) {
    (void)s;
    (void)b;
    (void)nrhs;
    return 0;
}
#endif

int64_t clh_spd_solve(const clh_spd_system *s, double *b, int64_t nrhs) {
    int64_t mixed = try_mixed(s, b, nrhs);
    if (mixed) return mixed > 0 ? 0 : mixed;
    size_t bytes;
    if (!clh_mul_size((size_t)s->n * (size_t)s->n, sizeof(double), &bytes))
        return CLH_CHOLESKY_NOMEM; /* (n² itself fits: M has n² elements) */
    double *a = clh_malloc(bytes);
    if (!a) return CLH_CHOLESKY_NOMEM;
    build_double(s, a);
    int64_t info = solve_double(a, s->n, b, nrhs);
    clh_free(a);
    return info;
}

int64_t clh_cholesky_solve(double *a, int64_t n, double *b, int64_t nrhs) {
    clh_spd_system s = {a, CLH_DT_F64, n, 1.0, 0.0, 0};
    int64_t mixed = try_mixed(&s, b, nrhs);
    if (mixed) return mixed > 0 ? 0 : mixed;
    return solve_double(a, n, b, nrhs);
}
