/* Internal: a float32 Cholesky factorisation and its solves in portable C,
 * the float32 half of the mixed-precision solve where LAPACK is not used
 * (cholesky.c: a build without LAPACK, or the multiply policy
 * CLH_GEMM_PORTABLE). The layout is LAPACK's 'U' column-major one, i.e. the
 * row-major lower triangle, so the refinement treats both alike.
 *
 * Right-looking and blocked: a block of NB columns is factored (its
 * diagonal block element by element, the rows below it column by column on
 * a transposed copy, where each step is a vectorisable axpy), then the
 * trailing triangle is updated with one symmetric rank-NB update through the
 * multiply dispatch (clh_syrk_f32: the portable AVX2 kernels and their
 * threads, or the BLAS), where nearly all of the n³/3 multiply-adds are. */
#ifndef CLH_INTERNAL_CHOLESKY_FLOAT_H
#define CLH_INTERNAL_CHOLESKY_FLOAT_H

#include <stddef.h>
#include <stdint.h>

/* Floats of workspace for an n x n factorisation (0 when it overflows). */
size_t clh_float_cholesky_work(int64_t n);

/* A = L Lᵀ in place: a [n, n] row-major, its lower triangle read and
 * overwritten by L (the upper triangle is neither read nor written).
 * Returns 0, or the 1-based index of the first pivot that is not positive
 * (or NaN). work: clh_float_cholesky_work(n) floats. */
int64_t clh_float_cholesky(float *a, int64_t n, float *work);

/* Floats of workspace for a solve of nrhs sides (0 when it overflows). */
size_t clh_float_cholesky_solve_work(int64_t n, int64_t nrhs);

/* Solves L Lᵀ X = B for the nrhs rows of b ([nrhs, n]) in place, L from
 * clh_float_cholesky (or LAPACK's spotrf 'U' column-major: the same
 * memory). The sides go interleaved, sixteen at a time (AVX2+FMA where the
 * CPU has it, plain C otherwise), so one pass over L serves them all.
 * work: clh_float_cholesky_solve_work(n, nrhs) floats. */
void clh_float_cholesky_solve(const float *l, int64_t n, float *b, int64_t nrhs, float *work);

#endif
