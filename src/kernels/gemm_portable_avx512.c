/* The portable multiply's AVX-512 kernels: a 12 x 32 register tile and dot
 * products along K for a narrow W (see gemm_portable_kernels.h). Compiled on
 * x86 only; the driver calls them only when the CPU has AVX-512F. */
#include "kernels/gemm_portable_kernels.h"

#ifdef CLH_GEMM_X86

/* Twelve rows by two 16-float vectors. Rows past mr repeat the last valid row
 * (computed, never stored), as in the AVX2 kernel. */
#define CLH_ROWS512(X) X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7) X(8) X(9) X(10) X(11)

CLH_TARGET_AVX512
void clh_pk_micro_avx512(int64_t kc, const float *a, int64_t rs_a, int64_t cs_a,
                                const float *strip, float *c, int64_t ldc, int mr, int nr,
                                float alpha, float beta) {
#define CLH_OFFSET(r) const int64_t o##r = (mr > r ? r : mr - 1) * rs_a;
#define CLH_ZERO(r) __m512 lo##r = _mm512_setzero_ps(), hi##r = _mm512_setzero_ps();
#define CLH_FMA(r)                                 \
    av = _mm512_set1_ps(ap[o##r]);                 \
    lo##r = _mm512_fmadd_ps(av, b0, lo##r);        \
    hi##r = _mm512_fmadd_ps(av, b1, hi##r);
    CLH_ROWS512(CLH_OFFSET)
    CLH_ROWS512(CLH_ZERO)
    const float *ap = a;
    const float *bp = strip;
    for (int64_t p = 0; p < kc; p++) {
        const __m512 b0 = _mm512_load_ps(bp), b1 = _mm512_load_ps(bp + 16);
        __m512 av;
        CLH_ROWS512(CLH_FMA)
        ap += cs_a;
        bp += NR512;
    }
    if (mr == MR512 && nr == NR512) {
        const __m512 va = _mm512_set1_ps(alpha), vb = _mm512_set1_ps(beta);
        const int read_c = beta != 0.0f;
#define CLH_STORE(r)                                                          \
    {                                                                         \
        float *c_row = c + r * ldc;                                           \
        __m512 x0 = _mm512_mul_ps(va, lo##r), x1 = _mm512_mul_ps(va, hi##r);  \
        if (read_c) {                                                         \
            x0 = _mm512_fmadd_ps(vb, _mm512_loadu_ps(c_row), x0);             \
            x1 = _mm512_fmadd_ps(vb, _mm512_loadu_ps(c_row + 16), x1);        \
        }                                                                     \
        _mm512_storeu_ps(c_row, x0);                                          \
        _mm512_storeu_ps(c_row + 16, x1);                                     \
    }
        CLH_ROWS512(CLH_STORE)
        return;
    }
    _Alignas(64) float tile[MR512 * NR512];
#define CLH_SPILL(r)                                   \
    _mm512_store_ps(tile + r * NR512, lo##r);          \
    _mm512_store_ps(tile + r * NR512 + 16, hi##r);
    CLH_ROWS512(CLH_SPILL)
    clh_pk_merge_tile(c, ldc, tile, NR512, mr, nr, alpha, beta);
#undef CLH_OFFSET
#undef CLH_ZERO
#undef CLH_FMA
#undef CLH_STORE
#undef CLH_SPILL
}

/* x · Wᵀ for a narrow W (a head of a few classes: n <= 16) with both operands
 * contiguous along K: every output is a dot product, so vectors run along K
 * and every lane does useful work (a 16-wide tile would waste 6 of 16 lanes
 * on 10 classes). 4 rows of A x 3 rows of B share their loads; rows past the
 * edge repeat the last one and are not stored. */
CLH_TARGET_AVX512
void clh_pk_dots_avx512(int64_t m, int64_t n, int64_t k, float alpha, const float *a, int64_t lda,
                        const float *b, int64_t ldb, float beta, float *c, int64_t ldc) {
    /* K is walked in chunks so 4 rows of A and 3 of B (7 x 2 KiB) stay in L1;
     * each chunk's dot products add into sums[row][column]. */
    enum { K_CHUNK = 512 };
    for (int64_t i = 0; i < m; i += 4) {
        const int64_t r1 = min64(i + 1, m - 1), r2 = min64(i + 2, m - 1), r3 = min64(i + 3, m - 1);
        float sums[4][NR] = {{0}};
        for (int64_t p0 = 0; p0 < k; p0 += K_CHUNK) {
            const int64_t len = min64(K_CHUNK, k - p0), len16 = len - len % 16;
            const __mmask16 tail = (__mmask16)((1u << (len % 16)) - 1u);
            const float *a0 = a + i * lda + p0, *a1 = a + r1 * lda + p0;
            const float *a2 = a + r2 * lda + p0, *a3 = a + r3 * lda + p0;
            for (int64_t j = 0; j < n; j += 3) {
                const float *b0 = b + j * ldb + p0, *b1 = b + min64(j + 1, n - 1) * ldb + p0;
                const float *b2 = b + min64(j + 2, n - 1) * ldb + p0;
                __m512 s[12];
                for (int q = 0; q < 12; q++) s[q] = _mm512_setzero_ps();
#define CLH_DOT_STEP(LOAD)                                                              \
    {                                                                                   \
        const __m512 x0 = LOAD(a0), x1 = LOAD(a1), x2 = LOAD(a2), x3 = LOAD(a3);        \
        const __m512 w0 = LOAD(b0), w1 = LOAD(b1), w2 = LOAD(b2);                       \
        s[0] = _mm512_fmadd_ps(x0, w0, s[0]), s[1] = _mm512_fmadd_ps(x0, w1, s[1]);     \
        s[2] = _mm512_fmadd_ps(x0, w2, s[2]), s[3] = _mm512_fmadd_ps(x1, w0, s[3]);     \
        s[4] = _mm512_fmadd_ps(x1, w1, s[4]), s[5] = _mm512_fmadd_ps(x1, w2, s[5]);     \
        s[6] = _mm512_fmadd_ps(x2, w0, s[6]), s[7] = _mm512_fmadd_ps(x2, w1, s[7]);     \
        s[8] = _mm512_fmadd_ps(x2, w2, s[8]), s[9] = _mm512_fmadd_ps(x3, w0, s[9]);     \
        s[10] = _mm512_fmadd_ps(x3, w1, s[10]), s[11] = _mm512_fmadd_ps(x3, w2, s[11]); \
    }
                int64_t p = 0;
                for (; p < len16; p += 16) {
#define CLH_LOAD_FULL(ptr) _mm512_loadu_ps((ptr) + p)
                    CLH_DOT_STEP(CLH_LOAD_FULL)
                }
                if (tail) {
#define CLH_LOAD_TAIL(ptr) _mm512_maskz_loadu_ps(tail, (ptr) + p)
                    CLH_DOT_STEP(CLH_LOAD_TAIL)
                }
#undef CLH_LOAD_FULL
#undef CLH_LOAD_TAIL
#undef CLH_DOT_STEP
                for (int r = 0; r < 4; r++)
                    for (int q = 0; q < 3 && j + q < n; q++) sums[r][j + q] += _mm512_reduce_add_ps(s[r * 3 + q]);
            }
        }
        for (int r = 0; r < 4 && i + r < m; r++) {
            float *out = c + (i + r) * ldc;
            for (int64_t j = 0; j < n; j++)
                out[j] = alpha * sums[r][j] + (beta == 0.0f ? 0.0f : beta * out[j]);
        }
    }
}

#else
typedef int clh_gemm_portable_avx512_unused; /* ISO C wants a declaration in every file */
#endif
