/* Cholesky solves (cholesky.h). Row-major lower triangle = column-major upper
 * triangle in the same memory, and rows of b = columns of a column-major
 * [n, nrhs] matrix, so LAPACK is called in column-major with 'U' and no
 * transposition is ever made. */
#include <float.h>
#include <limits.h>
#include <math.h>

#include "cholesky.h"
#include "clheads/linear.h"

#ifdef CLH_HAVE_LAPACKE
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

int64_t clh_cholesky_solve(double *a, int64_t n, double *b, int64_t nrhs) {
    double max_diag = max_diagonal(a, n);
#ifdef CLH_HAVE_LAPACKE
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
