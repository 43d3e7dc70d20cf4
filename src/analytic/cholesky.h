/* Internal: solving the symmetric positive definite systems of the solves
 * (solve.c) by Cholesky, to float64 accuracy.
 *
 * A system is described, not built: A = scale · M + shift · E, with M a
 * matrix as the statistics keep it (float32 or float64, row-major, only its
 * lower triangle read) and E the identity on the first `shifted` diagonal
 * entries (ridge: λ on every feature but the constant one; LDA: ε on all).
 *
 * With LAPACK (OpenBLAS's in Debian), systems of n >= 128 are solved in
 * mixed precision, after LAPACK's dsposv: a float32 Cholesky of A (spotrf)
 * refined with float64 residuals R = B − A X computed from M itself (dsymm
 * on a float64 M; kernels/symm_mixed.h on a float32 one, which widens M a
 * band of rows at a time), until every column passes dsposv's test ‖r‖∞ <=
 * ‖x‖∞ ‖A‖∞ ε sqrt(n), which makes X as accurate as a float64 solve. No
 * float64 copy of A is made on that path. When A is too ill-conditioned for float32 (spotrf
 * fails, a pivot is tiny, or the refinement stagnates or does not converge)
 * A is built in float64 and solved with dpotrf + dpotrs. Without LAPACK, or
 * under the multiply policy CLH_GEMM_PORTABLE (clh_set_gemm_policy, so tests
 * compare both in one build), a portable blocked Cholesky in float64 solves
 * it, with the same results to rounding. */
#ifndef CLH_INTERNAL_CHOLESKY_H
#define CLH_INTERNAL_CHOLESKY_H

#include <stdint.h>

#include "clheads/safetensors.h" /* clh_dtype */

typedef struct clh_spd_system {
    const void *m;   /* [n, n] row-major, CLH_DT_F32 or CLH_DT_F64; lower triangle read */
    clh_dtype dtype;
    int64_t n;
    double scale;    /* A = scale · M + shift · E */
    double shift;
    int64_t shifted; /* E: ones on the first `shifted` (<= n) diagonal entries */
} clh_spd_system;

/* Returned when memory ran out (nothing else is reported then). */
#define CLH_CHOLESKY_NOMEM (-1)

/* Solves A X = B. The nrhs right-hand sides are the ROWS of b ([nrhs, n]
 * row-major, e.g. one row per class), overwritten by the solutions; M is
 * not modified. Returns 0 on success, CLH_CHOLESKY_NOMEM, or the 1-based
 * index of a pivot at which A was found not positive definite (zero,
 * negative or NaN) or singular to working precision (a pivot L_ii² below
 * n · DBL_EPSILON times A's largest diagonal entry: rounding can leave a
 * tiny positive pivot where the exact one is 0), in which case b holds
 * partial results. n >= 1, nrhs >= 0. */
int64_t clh_spd_solve(const clh_spd_system *system, double *b, int64_t nrhs);

/* The same for a float64 A [n, n] given whole (lower triangle read), which
 * may be overwritten by its factor L (A = L Lᵀ) when the float64 path runs. */
int64_t clh_cholesky_solve(double *a, int64_t n, double *b, int64_t nrhs);

/* The portable code alone (always built, for the tests); a is overwritten by L. */
int64_t clh_cholesky_solve_portable(double *a, int64_t n, double *b, int64_t nrhs);

/* "lapack" or "portable": what clh_cholesky_solve uses under the current policy. */
const char *clh_cholesky_backend(void);

/* Diagnostics for the tests: solves that took the mixed-precision path and
 * succeeded, and those that fell back from it to float64, since the process
 * started. */
unsigned long clh_cholesky_mixed_count(void);
unsigned long clh_cholesky_fallback_count(void);

#endif
