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

/* Symmetric rank-k update of the lower triangle: C[n, n] = alpha · AᵀA +
 * beta · C with A [k, n] row-major (a batch of k rows of width n, so AᵀA is
 * the Gram matrix of the rows), cblas_?syrk(CblasRowMajor, CblasLower,
 * CblasTrans) semantics: beta == 0 does not read C. Only the lower triangle
 * (j <= i) is defined on return; the strictly upper triangle may be
 * overwritten by the portable kernel (the BLAS leaves it), so callers read
 * the lower triangle only. Counted in clh_gemm_call_count; CBLAS when the
 * build has it and the policy allows, else the portable kernels (the float
 * one runs the portable multiply on row blocks of the triangle). */
void clh_syrk_f32(int64_t n, int64_t k, float alpha, const float *a, int64_t lda, float beta,
                  float *c, int64_t ldc);
void clh_syrk_f64(int64_t n, int64_t k, double alpha, const double *a, int64_t lda, double beta,
                  double *c, int64_t ldc);
/* The portable kernels (always built, so tests can compare them with CBLAS). */
void clh_syrk_portable_f32(int64_t n, int64_t k, float alpha, const float *a, int64_t lda,
                           float beta, float *c, int64_t ldc);
void clh_syrk_portable_f64(int64_t n, int64_t k, double alpha, const double *a, int64_t lda,
                           double beta, double *c, int64_t ldc);

/* The thread count that clh_set_num_threads() chose (>= 1); the portable
 * kernel reads it, and gemm.c forwards it to the BLAS. */
int clh_gemm_threads(void);

#endif
