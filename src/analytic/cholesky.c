/* Cholesky solves (cholesky.h). Row-major lower triangle = column-major upper
 * triangle in the same memory, and rows of b = columns of a column-major
 * [n, nrhs] matrix, so LAPACK is called in column-major with 'U' and no
 * transposition is ever made. */
#include <float.h>
#include <limits.h>
#include <math.h>
#include <string.h>

#include "analytic/cholesky.h"
#include "clheads/linear.h"

#include "common/alloc.h"
#include "common/testing.h" /* the multiply policy also picks the portable Cholesky */

#ifdef CLH_HAVE_LAPACKE
#include <cblas.h>
#include <lapacke.h>
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

#ifdef CLH_HAVE_LAPACKE
/* Mixed precision, after LAPACK's dsposv: a float32 Cholesky (spotrf, about
 * three times faster than dpotrf here) and iterative refinement with float64
 * residuals R = B - A X (dsymm on the lower triangle), until every column
 * satisfies dsposv's test ‖r‖∞ <= ‖x‖∞ ‖A‖∞ ε sqrt(n), which makes X as
 * accurate as a float64 solve. Returns 1 (b = X) on success, 0 when the
 * caller must solve in float64 instead: the float factor failed or has a
 * pivot below n · FLT_EPSILON (then A is too ill-conditioned for float32),
 * refinement did not converge in MAX_REFINE steps, or memory ran out. a is
 * not modified. */
enum { MAX_REFINE = 30, MIXED_MIN_N = 128 };

static int solve_mixed(const double *a, int64_t n, double *b, int64_t nrhs, double max_diag) {
    size_t nn = (size_t)n * (size_t)n, nb = (size_t)n * (size_t)nrhs;
    float *af = clh_malloc(nn * sizeof *af), *rf = clh_malloc(nb * sizeof *rf);
    double *x = clh_calloc(nb, sizeof *x), *r = clh_malloc(nb * sizeof *r);
    int ok = af && rf && x && r;
    for (size_t i = 0; ok && i < nn; i++) af[i] = (float)a[i];
    ok = ok && LAPACKE_spotrf(LAPACK_COL_MAJOR, 'U', (lapack_int)n, af, (lapack_int)n) == 0;
    if (ok) {
        float worst = af[0];
        for (int64_t i = 1; i < n; i++)
            if (af[i * n + i] < worst) worst = af[i * n + i];
        ok = (double)worst * worst >= (double)n * FLT_EPSILON * max_diag;
    }
    /* ‖A‖∞ of the symmetric matrix from its lower triangle, read by rows
     * (x holds the row sums until the refinement starts from x = 0). */
    double anorm = 0;
    for (int64_t i = 0; ok && i < n; i++)
        for (int64_t j = 0; j <= i; j++) {
            double v = fabs(a[i * n + j]);
            x[i] += v;
            if (j < i) x[j] += v;
        }
    for (int64_t i = 0; ok && i < n; i++) {
        if (x[i] > anorm) anorm = x[i];
        x[i] = 0;
    }
    double tol = anorm * DBL_EPSILON * sqrt((double)n);
    int converged = 0;
    if (ok) memcpy(r, b, nb * sizeof *r);
    for (int it = 0; ok && !converged && it <= MAX_REFINE; it++) {
        for (size_t i = 0; i < nb; i++) rf[i] = (float)r[i];
        LAPACKE_spotrs(LAPACK_COL_MAJOR, 'U', (lapack_int)n, (lapack_int)nrhs, af, (lapack_int)n,
                       rf, (lapack_int)n);
        for (size_t i = 0; i < nb; i++) x[i] += (double)rf[i];
        memcpy(r, b, nb * sizeof *r);
        cblas_dsymm(CblasColMajor, CblasLeft, CblasUpper, (int)n, (int)nrhs, -1.0, a, (int)n, x,
                    (int)n, 1.0, r, (int)n);
        converged = 1;
        for (int64_t k = 0; k < nrhs && converged; k++) {
            double rmax = 0, xmax = 0;
            for (int64_t i = 0; i < n; i++) {
                double ri = fabs(r[k * n + i]), xi = fabs(x[k * n + i]);
                if (!(ri <= rmax)) rmax = ri; /* NaN: not converged */
                if (xi > xmax) xmax = xi;
            }
            converged = rmax <= xmax * tol;
        }
    }
    if (ok && converged) memcpy(b, x, nb * sizeof *b);
    clh_free(af);
    clh_free(rf);
    clh_free(x);
    clh_free(r);
    return ok && converged;
}
#endif

int64_t clh_cholesky_solve(double *a, int64_t n, double *b, int64_t nrhs) {
#ifdef CLH_HAVE_LAPACKE
    double max_diag = max_diagonal(a, n);
    if (use_lapack(n, nrhs) && n >= MIXED_MIN_N && nrhs > 0 && solve_mixed(a, n, b, nrhs, max_diag))
        return 0;
    if (use_lapack(n, nrhs)) {
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
