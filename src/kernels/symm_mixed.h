/* Internal: the residual of mixed-precision refinement (analytic/cholesky.c),
 *   R = B − α · A · X,
 * for a symmetric A given by the lower triangle of a float32 matrix M [n, n]
 * (row-major, row stride ldm; the upper triangle is not read) and float64
 * X, B, R [nrhs, n] (one right-hand side per row), every product and sum in
 * float64, so R is as accurate as a float64 multiply would make it without
 * a float64 copy of M. (BLAS has no float32-matrix, float64-vector product,
 * and a float32 one cannot serve: its rounding is as large as the residual.)
 *
 * M is read once: rows in blocks of four, each element contributing to its
 * row's sum (M x) and, by symmetry, to its column's (Mᵀ x), the right-hand
 * sides interleaved so that one element multiplies four of them in one AVX2
 * register. Rows are split among clh_gemm_threads() workers (gemm_pool.h),
 * each adding its column contributions into a buffer of its own, summed in
 * a fixed order afterwards: the result does not depend on the scheduling.
 * Plain C where the CPU has no AVX2+FMA (or CLH_PORTABLE_KERNEL=c). */
#ifndef CLH_INTERNAL_SYMM_MIXED_H
#define CLH_INTERNAL_SYMM_MIXED_H

#include <stddef.h>
#include <stdint.h>

/* Doubles of workspace clh_symm_mixed needs for (n, nrhs) under the current
 * thread count (0 when that overflows size_t). */
size_t clh_symm_mixed_work(int64_t n, int64_t nrhs);

/* R = B − alpha · A · X as above; work holds clh_symm_mixed_work(n, nrhs)
 * doubles (the thread count must not change in between). r may alias b.
 * n, nrhs >= 1. Never fails. */
void clh_symm_mixed(int64_t n, int64_t nrhs, double alpha, const float *m, int64_t ldm,
                    const double *x, const double *b, double *r, double *work);

#endif
