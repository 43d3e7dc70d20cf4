/* Internal: solving a symmetric positive definite system by Cholesky to
 * double precision accuracy, through LAPACK (OpenBLAS's LAPACK in Debian)
 * when the build has it, else a portable blocked Cholesky in double that
 * gives the same results to rounding. With LAPACK, systems of n >= 128 are
 * first tried in mixed precision (a float32 factorisation refined with
 * float64 residuals until as accurate as a float64 solve, as LAPACK's
 * dsposv), falling back to LAPACKE_dpotrf + dpotrs when A is too
 * ill-conditioned for float32 or refinement does not converge. The multiply policy
 * (clh_set_gemm_policy) chooses here too: CLH_GEMM_PORTABLE forces the
 * portable code, so tests compare both in one build. */
#ifndef CLH_INTERNAL_CHOLESKY_H
#define CLH_INTERNAL_CHOLESKY_H

#include <stdint.h>

/* Solves A X = B. A [n, n] row-major: only its lower triangle is read, and it
 * is overwritten by the factor L (A = L Lᵀ). The nrhs right-hand sides are
 * the ROWS of b ([nrhs, n] row-major, e.g. one row per class), overwritten by
 * the solutions (A is left unchanged when the mixed path succeeds). Returns 0 on success, or the 1-based index of a pivot at
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
