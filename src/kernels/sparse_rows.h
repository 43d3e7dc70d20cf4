/* Internal: the product C = A · B for an A whose rows are mostly zeros (the
 * pixels of MNIST-like images: 81% of MNIST's are 0), with B given row-major
 * [k, n]. Each row of C is the sum of the rows of B at the nonzero columns of
 * that row of A, weighted by their values, so the work is nonzeros x n
 * instead of m x k x n. The random-feature expansion uses it when its inputs
 * are sparse enough (random_features.c).
 *
 * C is computed in bands of columns (each band of B stays in cache while
 * every row is summed into it; B is packed band by band beforehand, since
 * the rows of one band of a B with a power-of-two width would all fall into
 * a few cache sets), the bands split among clh_gemm_threads()
 * workers (gemm_pool.h), with AVX2+FMA where the CPU has it and the portable
 * multiply is allowed to use it (clh_gemm_portable_vector_width), plain C
 * otherwise. The sums run in another order than a dense multiply's, so
 * results agree with it to float rounding, not bit for bit. A NaN or
 * infinity in A is a nonzero and propagates as in a dense product; B must be
 * finite (a skipped zero of A times an infinite B would be NaN densely).
 */
#ifndef CLH_INTERNAL_SPARSE_ROWS_H
#define CLH_INTERNAL_SPARSE_ROWS_H

#include <stdint.h>

/* Entries of A [m, k] (row stride lda) that are not +0 or -0. */
int64_t clh_count_nonzeros(int64_t m, int64_t k, const float *a, int64_t lda);

/* Floats of B [k, n] packed for the product: k x n rounded up to whole bands
 * (0 when that overflows size_t). */
size_t clh_sparse_rows_packed_size(int64_t k, int64_t n);

/* Packs B [k, n], element (p, j) at b[p · rs + j · cs] (so B or a transposed
 * matrix), into packed (clh_sparse_rows_packed_size(k, n) floats): band by
 * band, each band k rows of BAND floats, the missing columns of the last band
 * zero. */
void clh_sparse_rows_pack(int64_t k, int64_t n, const float *b, int64_t rs, int64_t cs,
                          float *packed);

/* C[m, n] (row stride ldc) = A[m, k] · B[k, n] (A's row stride lda, B
 * packed by clh_sparse_rows_pack), or its ReLU max(·, 0) when relu != 0
 * (NaN stays NaN). nonzeros is clh_count_nonzeros(m, k, a, lda). Returns 0,
 * or -1 when the compressed copy of A's nonzeros (8 bytes each) cannot be
 * allocated, in which case C is not written. m, n, k >= 0. */
int clh_gemm_sparse_rows(int64_t m, int64_t n, int64_t k, const float *a, int64_t lda,
                         int64_t nonzeros, const float *packed_b, float *c, int64_t ldc, int relu);

#endif
