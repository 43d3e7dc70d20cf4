/* Internal: solving a symmetric positive definite system by Cholesky, in
 * double precision, through LAPACK (LAPACKE_dpotrf + dpotrs, OpenBLAS's
 * LAPACK in Debian) when the build has it, else a portable blocked Cholesky
 * that gives the same results to rounding. The multiply policy
 * (clh_set_gemm_policy) chooses here too: CLH_GEMM_PORTABLE forces the
 * portable code, so tests compare both in one build. */
#ifndef CLH_INTERNAL_CHOLESKY_H
#define CLH_INTERNAL_CHOLESKY_H

#include <stdint.h>

/* Solves A X = B. A [n, n] row-major: only its lower triangle is read, and it
 * is overwritten by the factor L (A = L Lᵀ). The nrhs right-hand sides are
 * the ROWS of b ([nrhs, n] row-major, e.g. one row per class), overwritten by
 * the solutions. Returns 0 on success, or the 1-based index of a pivot at
 * which A was found not positive definite (zero, negative or NaN) or
 * singular to working precision (a pivot L_ii² below n · DBL_EPSILON times
 * A's largest diagonal entry: rounding can leave a tiny positive pivot where
 * the exact one is 0), in which case a and b hold partial results. n >= 1,
 * nrhs >= 0. */
int64_t clh_cholesky_solve(double *a, int64_t n, double *b, int64_t nrhs);

/* The portable code alone (always built, for the tests). */
int64_t clh_cholesky_solve_portable(double *a, int64_t n, double *b, int64_t nrhs);

/* "lapack" or "portable": what clh_cholesky_solve uses under the current policy. */
const char *clh_cholesky_backend(void);

#endif
