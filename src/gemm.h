/* Internal: the one matrix-multiply dispatch point.
 *
 * C[M, N] = alpha · op(A) · op(B) + beta · C, all row-major, op(X) = X or Xᵀ
 * (trans_* != 0). Same contract as cblas_sgemm(CblasRowMajor, ...): when
 * beta == 0, C is not read (so it may hold NaN or garbage).
 * clh_gemm counts its calls (clh_gemm_call_count) and goes to CBLAS when the
 * build has it, else to clh_gemm_portable; both give the same results within
 * float rounding. M, N or K may be 0.
 */
#ifndef CLH_INTERNAL_GEMM_H
#define CLH_INTERNAL_GEMM_H

#include <stdint.h>

void clh_gemm(int trans_a, int trans_b, int64_t m, int64_t n, int64_t k, float alpha,
              const float *a, int64_t lda, const float *b, int64_t ldb, float beta, float *c,
              int64_t ldc);

/* The portable kernel (always built, so tests can compare it with CBLAS). */
void clh_gemm_portable(int trans_a, int trans_b, int64_t m, int64_t n, int64_t k, float alpha,
                       const float *a, int64_t lda, const float *b, int64_t ldb, float beta,
                       float *c, int64_t ldc);

/* The thread count that clh_set_num_threads() chose (>= 1); the portable
 * kernel reads it, and gemm.c forwards it to the BLAS. */
int clh_gemm_threads(void);

#endif
