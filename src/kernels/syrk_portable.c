/* The portable symmetric rank-k updates (gemm.h): C = alpha · AᵀA + beta · C
 * on the lower triangle, A [k, n] row-major.
 *
 * float: the triangle is cut into row blocks of RB rows; block I is one call
 * of the portable multiply over the columns 0 .. end of I (so it inherits its
 * vector kernels and threads). The diagonal block is computed whole, which
 * writes its strictly upper part too (allowed by the contract) and costs
 * about RB / n extra work (3% at n = 4096).
 * double: plain C, cache-blocked (a tile of C stays in L1 across a chunk of
 * rows of A; the innermost loop is an axpy over contiguous columns, which the
 * compiler vectorises without reordering any sum). Each element's sum runs
 * over the rows of A in order. */
#include "kernels/gemm.h"

enum { RB = 128 };                      /* float: rows of C per multiply */
enum { TI = 32, TJ = 256, TK = 128 };   /* double: tile of C, chunk of rows of A */

void clh_syrk_portable_f32(int64_t n, int64_t k, float alpha, const float *a, int64_t lda,
                           float beta, float *c, int64_t ldc) {
    for (int64_t i0 = 0; i0 < n; i0 += RB) {
        int64_t rows = n - i0 < RB ? n - i0 : RB;
        clh_gemm_portable(1, 0, rows, i0 + rows, k, alpha, a + i0, lda, a, lda, beta,
                          c + i0 * ldc, ldc);
    }
}

/* The lower triangle times beta (beta == 0 writes zeros without reading). */
static void scale_lower(int64_t n, double beta, double *c, int64_t ldc) {
    if (beta == 1.0) return;
    for (int64_t i = 0; i < n; i++) {
        double *row = c + i * ldc;
        for (int64_t j = 0; j <= i; j++) row[j] = beta == 0.0 ? 0.0 : beta * row[j];
    }
}

void clh_syrk_portable_f64(int64_t n, int64_t k, double alpha, const double *a, int64_t lda,
                           double beta, double *c, int64_t ldc) {
    scale_lower(n, beta, c, ldc);
    if (k <= 0 || alpha == 0.0) return;
    for (int64_t i0 = 0; i0 < n; i0 += TI) {
        int64_t i1 = i0 + TI < n ? i0 + TI : n;
        for (int64_t j0 = 0; j0 < i1; j0 += TJ) {
            int64_t j1 = j0 + TJ < i1 ? j0 + TJ : i1;
            for (int64_t k0 = 0; k0 < k; k0 += TK) {
                int64_t k1 = k0 + TK < k ? k0 + TK : k;
                for (int64_t i = i0; i < i1; i++) {
                    int64_t jend = j1 < i + 1 ? j1 : i + 1; /* lower triangle: j <= i */
                    if (jend <= j0) continue;
                    double *crow = c + i * ldc;
                    for (int64_t r = k0; r < k1; r++) {
                        const double *arow = a + r * lda;
                        double s = alpha * arow[i];
                        for (int64_t j = j0; j < jend; j++) crow[j] += s * arow[j];
                    }
                }
            }
        }
    }
}
