/* The portable multiply's AVX2+FMA kernels: a 6 x 16 register tile, B packed
 * with in-register transposes, and the one-row (matrix-vector) path (see
 * gemm_portable_kernels.h). Compiled on x86 only; the driver calls them only
 * when the CPU has AVX2 and FMA. */
#include "kernels/gemm_portable_kernels.h"

#ifdef CLH_GEMM_X86
#include <string.h>

/* clh_pk_pack_b for a transposed B (rows of B are the strip's columns): 8 rows x 8
 * steps at a time are loaded contiguously and transposed in registers, so
 * the strip is written in whole vectors. Rows past the last group of eight
 * (e.g. 10 classes = 8 + 2) are copied one by one; missing columns are 0. */
CLH_TARGET_AVX2
void clh_pk_pack_b_avx2(float *dst, operand b, int64_t p0, int64_t j0, int64_t kc, int64_t nc,
                        int width) {
    if (b.rs != 1) {
        clh_pk_pack_b(dst, b, p0, j0, kc, nc, width);
        return;
    }
    const int64_t kc8 = kc - kc % 8, ld = b.cs;
    for (int64_t jr = 0; jr < nc; jr += width) {
        const int nr = (int)min64(width, nc - jr);
        float *strip = dst + (jr / width) * kc * width;
        int jb = 0;
        for (; jb + 8 <= nr; jb += 8) {
            const float *row = b.data + p0 + (j0 + jr + jb) * ld;
            for (int64_t p = 0; p < kc8; p += 8) {
                __m256 r0 = _mm256_loadu_ps(row + p), r1 = _mm256_loadu_ps(row + ld + p);
                __m256 r2 = _mm256_loadu_ps(row + 2 * ld + p), r3 = _mm256_loadu_ps(row + 3 * ld + p);
                __m256 r4 = _mm256_loadu_ps(row + 4 * ld + p), r5 = _mm256_loadu_ps(row + 5 * ld + p);
                __m256 r6 = _mm256_loadu_ps(row + 6 * ld + p), r7 = _mm256_loadu_ps(row + 7 * ld + p);
                __m256 t0 = _mm256_unpacklo_ps(r0, r1), t1 = _mm256_unpackhi_ps(r0, r1);
                __m256 t2 = _mm256_unpacklo_ps(r2, r3), t3 = _mm256_unpackhi_ps(r2, r3);
                __m256 t4 = _mm256_unpacklo_ps(r4, r5), t5 = _mm256_unpackhi_ps(r4, r5);
                __m256 t6 = _mm256_unpacklo_ps(r6, r7), t7 = _mm256_unpackhi_ps(r6, r7);
                __m256 u0 = _mm256_shuffle_ps(t0, t2, 0x44), u1 = _mm256_shuffle_ps(t0, t2, 0xEE);
                __m256 u2 = _mm256_shuffle_ps(t1, t3, 0x44), u3 = _mm256_shuffle_ps(t1, t3, 0xEE);
                __m256 u4 = _mm256_shuffle_ps(t4, t6, 0x44), u5 = _mm256_shuffle_ps(t4, t6, 0xEE);
                __m256 u6 = _mm256_shuffle_ps(t5, t7, 0x44), u7 = _mm256_shuffle_ps(t5, t7, 0xEE);
                float *out = strip + p * width + jb;
                _mm256_storeu_ps(out + 0 * width, _mm256_permute2f128_ps(u0, u4, 0x20));
                _mm256_storeu_ps(out + 1 * width, _mm256_permute2f128_ps(u1, u5, 0x20));
                _mm256_storeu_ps(out + 2 * width, _mm256_permute2f128_ps(u2, u6, 0x20));
                _mm256_storeu_ps(out + 3 * width, _mm256_permute2f128_ps(u3, u7, 0x20));
                _mm256_storeu_ps(out + 4 * width, _mm256_permute2f128_ps(u0, u4, 0x31));
                _mm256_storeu_ps(out + 5 * width, _mm256_permute2f128_ps(u1, u5, 0x31));
                _mm256_storeu_ps(out + 6 * width, _mm256_permute2f128_ps(u2, u6, 0x31));
                _mm256_storeu_ps(out + 7 * width, _mm256_permute2f128_ps(u3, u7, 0x31));
            }
            for (int64_t p = kc8; p < kc; p++)
                for (int j = 0; j < 8; j++) strip[p * width + jb + j] = row[j * ld + p];
        }
        for (int64_t p = 0; p < kc; p++) {
            float *out = strip + p * width;
            for (int j = jb; j < nr; j++) out[j] = b.data[p0 + p + (j0 + jr + j) * ld];
            for (int j = nr; j < width; j++) out[j] = 0.0f;
        }
    }
}

CLH_TARGET_AVX2
void clh_pk_micro_avx2(int64_t kc, const float *a, int64_t rs_a, int64_t cs_a,
                              const float *strip, float *c, int64_t ldc, int mr, int nr,
                              float alpha, float beta) {
    /* Rows past mr repeat the last valid row: always six rows of arithmetic,
     * only the valid ones are stored. */
    const int64_t o1 = (mr > 1 ? 1 : 0) * rs_a, o2 = (mr > 2 ? 2 : mr - 1) * rs_a;
    const int64_t o3 = (mr > 3 ? 3 : mr - 1) * rs_a, o4 = (mr > 4 ? 4 : mr - 1) * rs_a;
    const int64_t o5 = (mr > 5 ? 5 : mr - 1) * rs_a;
    __m256 c00 = _mm256_setzero_ps(), c01 = _mm256_setzero_ps();
    __m256 c10 = _mm256_setzero_ps(), c11 = _mm256_setzero_ps();
    __m256 c20 = _mm256_setzero_ps(), c21 = _mm256_setzero_ps();
    __m256 c30 = _mm256_setzero_ps(), c31 = _mm256_setzero_ps();
    __m256 c40 = _mm256_setzero_ps(), c41 = _mm256_setzero_ps();
    __m256 c50 = _mm256_setzero_ps(), c51 = _mm256_setzero_ps();
    const float *ap = a;
    const float *bp = strip;
    for (int64_t p = 0; p < kc; p++) {
        __m256 b0 = _mm256_load_ps(bp), b1 = _mm256_load_ps(bp + 8);
        __m256 av = _mm256_broadcast_ss(ap);
        c00 = _mm256_fmadd_ps(av, b0, c00);
        c01 = _mm256_fmadd_ps(av, b1, c01);
        av = _mm256_broadcast_ss(ap + o1);
        c10 = _mm256_fmadd_ps(av, b0, c10);
        c11 = _mm256_fmadd_ps(av, b1, c11);
        av = _mm256_broadcast_ss(ap + o2);
        c20 = _mm256_fmadd_ps(av, b0, c20);
        c21 = _mm256_fmadd_ps(av, b1, c21);
        av = _mm256_broadcast_ss(ap + o3);
        c30 = _mm256_fmadd_ps(av, b0, c30);
        c31 = _mm256_fmadd_ps(av, b1, c31);
        av = _mm256_broadcast_ss(ap + o4);
        c40 = _mm256_fmadd_ps(av, b0, c40);
        c41 = _mm256_fmadd_ps(av, b1, c41);
        av = _mm256_broadcast_ss(ap + o5);
        c50 = _mm256_fmadd_ps(av, b0, c50);
        c51 = _mm256_fmadd_ps(av, b1, c51);
        ap += cs_a;
        bp += NR;
    }
    if (mr == MR && nr == NR) {
        const __m256 va = _mm256_set1_ps(alpha), vb = _mm256_set1_ps(beta);
        __m256 rows[2 * MR] = {c00, c01, c10, c11, c20, c21, c30, c31, c40, c41, c50, c51};
        for (int r = 0; r < MR; r++) {
            float *c_row = c + r * ldc;
            __m256 lo = _mm256_mul_ps(va, rows[2 * r]), hi = _mm256_mul_ps(va, rows[2 * r + 1]);
            if (beta != 0.0f) {
                lo = _mm256_fmadd_ps(vb, _mm256_loadu_ps(c_row), lo);
                hi = _mm256_fmadd_ps(vb, _mm256_loadu_ps(c_row + 8), hi);
            }
            _mm256_storeu_ps(c_row, lo);
            _mm256_storeu_ps(c_row + 8, hi);
        }
        return;
    }
    _Alignas(32) float tile[MR * NR];
    _mm256_store_ps(tile + 0, c00), _mm256_store_ps(tile + 8, c01);
    _mm256_store_ps(tile + 16, c10), _mm256_store_ps(tile + 24, c11);
    _mm256_store_ps(tile + 32, c20), _mm256_store_ps(tile + 40, c21);
    _mm256_store_ps(tile + 48, c30), _mm256_store_ps(tile + 56, c31);
    _mm256_store_ps(tile + 64, c40), _mm256_store_ps(tile + 72, c41);
    _mm256_store_ps(tile + 80, c50), _mm256_store_ps(tile + 88, c51);
    clh_pk_merge_tile(c, ldc, tile, NR, mr, nr, alpha, beta);
}

CLH_TARGET_AVX2
static float hsum_avx2(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

/* One dot product of length k (x and row contiguous). */
CLH_TARGET_AVX2
static float dot_avx2(const float *x, const float *row, int64_t k) {
    __m256 s0 = _mm256_setzero_ps(), s1 = _mm256_setzero_ps();
    int64_t p = 0;
    for (; p + 16 <= k; p += 16) {
        s0 = _mm256_fmadd_ps(_mm256_loadu_ps(x + p), _mm256_loadu_ps(row + p), s0);
        s1 = _mm256_fmadd_ps(_mm256_loadu_ps(x + p + 8), _mm256_loadu_ps(row + p + 8), s1);
    }
    if (p + 8 <= k) {
        s0 = _mm256_fmadd_ps(_mm256_loadu_ps(x + p), _mm256_loadu_ps(row + p), s0);
        p += 8;
    }
    float sum = hsum_avx2(_mm256_add_ps(s0, s1));
    for (; p < k; p++) sum += x[p] * row[p];
    return sum;
}

CLH_TARGET_AVX2
void clh_pk_row_avx2(int64_t n, int64_t k, float alpha, const float *x, int64_t x_stride,
                            operand b, float beta, float *y) {
    if (x_stride != 1 || (b.rs != 1 && b.cs != 1)) {
        clh_pk_row_c(n, k, alpha, x, x_stride, b, beta, y);
        return;
    }
    if (b.rs == 1) {
        /* B transposed: y[j] = x · row j of B; four rows share each load of x. */
        int64_t j = 0;
        for (; j + 4 <= n; j += 4) {
            const float *r0 = b.data + j * b.cs, *r1 = r0 + b.cs, *r2 = r1 + b.cs, *r3 = r2 + b.cs;
            __m256 s0 = _mm256_setzero_ps(), s1 = _mm256_setzero_ps();
            __m256 s2 = _mm256_setzero_ps(), s3 = _mm256_setzero_ps();
            int64_t p = 0;
            for (; p + 8 <= k; p += 8) {
                __m256 xv = _mm256_loadu_ps(x + p);
                s0 = _mm256_fmadd_ps(xv, _mm256_loadu_ps(r0 + p), s0);
                s1 = _mm256_fmadd_ps(xv, _mm256_loadu_ps(r1 + p), s1);
                s2 = _mm256_fmadd_ps(xv, _mm256_loadu_ps(r2 + p), s2);
                s3 = _mm256_fmadd_ps(xv, _mm256_loadu_ps(r3 + p), s3);
            }
            float d[4] = {hsum_avx2(s0), hsum_avx2(s1), hsum_avx2(s2), hsum_avx2(s3)};
            for (; p < k; p++) {
                d[0] += x[p] * r0[p], d[1] += x[p] * r1[p];
                d[2] += x[p] * r2[p], d[3] += x[p] * r3[p];
            }
            for (int q = 0; q < 4; q++)
                y[j + q] = alpha * d[q] + (beta == 0.0f ? 0.0f : beta * y[j + q]);
        }
        for (; j < n; j++) {
            float d = dot_avx2(x, b.data + j * b.cs, k);
            y[j] = alpha * d + (beta == 0.0f ? 0.0f : beta * y[j]);
        }
        return;
    }
    /* B as is: y = beta·y, then y += (alpha·x[p]) · row p of B, four rows per
     * pass so W streams through once and y is loaded and stored k/4 times. */
    clh_pk_scale_c(y, 0, 1, n, beta);
    const int64_t n8 = n - n % 8;
    int64_t p = 0;
    for (; p + 4 <= k; p += 4) {
        const float *b0 = b.data + p * b.rs, *b1 = b0 + b.rs, *b2 = b1 + b.rs, *b3 = b2 + b.rs;
        const __m256 x0 = _mm256_set1_ps(alpha * x[p]), x1 = _mm256_set1_ps(alpha * x[p + 1]);
        const __m256 x2 = _mm256_set1_ps(alpha * x[p + 2]), x3 = _mm256_set1_ps(alpha * x[p + 3]);
        for (int64_t j = 0; j < n8; j += 8) {
            __m256 acc = _mm256_loadu_ps(y + j);
            acc = _mm256_fmadd_ps(x0, _mm256_loadu_ps(b0 + j), acc);
            acc = _mm256_fmadd_ps(x1, _mm256_loadu_ps(b1 + j), acc);
            acc = _mm256_fmadd_ps(x2, _mm256_loadu_ps(b2 + j), acc);
            acc = _mm256_fmadd_ps(x3, _mm256_loadu_ps(b3 + j), acc);
            _mm256_storeu_ps(y + j, acc);
        }
        for (int64_t j = n8; j < n; j++)
            y[j] += alpha * (x[p] * b0[j] + x[p + 1] * b1[j] + x[p + 2] * b2[j] + x[p + 3] * b3[j]);
    }
    for (; p < k; p++) {
        const float *b_row = b.data + p * b.rs;
        const float scaled = alpha * x[p];
        for (int64_t j = 0; j < n; j++) y[j] += scaled * b_row[j];
    }
}

#else
typedef int clh_gemm_portable_avx2_unused; /* ISO C wants a declaration in every file */
#endif
