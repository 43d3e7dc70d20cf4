/* The portable float32 Cholesky factorisation and solves (cholesky_float.h). */
#include <math.h>
#include <string.h>

#include "analytic/cholesky_float.h"
#include "common/checked.h"
#include "kernels/gemm.h"
#include "kernels/gemm_portable.h"
#include "kernels/gemm_portable_kernels.h"

/* Columns per block: wide enough that the rank-NB update runs at the
 * multiply's speed, narrow enough that the block's own work (NB² per row,
 * plain C) stays a small part. */
enum { NB = 128 };

size_t clh_float_cholesky_work(int64_t n) {
    size_t floats;
    return clh_mul_size((size_t)n, NB, &floats) ? floats : 0;
}

/* The diagonal block [k0, k1) of the current step, element by element
 * (sums in double: NB terms at most). Returns 0 or a 1-based pivot. */
static int64_t factor_diagonal(float *a, int64_t n, int64_t k0, int64_t k1) {
    for (int64_t j = k0; j < k1; j++) {
        float *rj = a + j * n;
        double pivot = rj[j];
        for (int64_t p = k0; p < j; p++) pivot -= (double)rj[p] * rj[p];
        if (!(pivot > 0.0)) return j + 1;
        double ljj = sqrt(pivot);
        rj[j] = (float)ljj;
        for (int64_t i = j + 1; i < k1; i++) {
            float *ri = a + i * n;
            double s = ri[j];
            for (int64_t p = k0; p < j; p++) s -= (double)ri[p] * rj[p];
            ri[j] = (float)(s / ljj);
        }
    }
    return 0;
}

int64_t clh_float_cholesky(float *a, int64_t n, float *work) {
    for (int64_t k0 = 0; k0 < n; k0 += NB) {
        int64_t k1 = k0 + NB < n ? k0 + NB : n, nb = k1 - k0, m = n - k1;
        int64_t info = factor_diagonal(a, n, k0, k1);
        if (info) return info;
        if (m == 0) break;
        /* The rows below, L[k1.., k0..k1) = A[k1.., k0..k1) L_kk⁻ᵀ, on the
         * transposed copy work [nb][m]: column j of the block becomes a
         * contiguous row, and each step an axpy over all m rows. */
        for (int64_t i = 0; i < m; i++)
            for (int64_t j = 0; j < nb; j++) work[j * m + i] = a[(k1 + i) * n + k0 + j];
        for (int64_t j = 0; j < nb; j++) {
            float *col = work + j * m;
            const float *lj = a + (k0 + j) * n + k0; /* row k0 + j of the diagonal block */
            for (int64_t p = 0; p < j; p++) {
                const float *done = work + p * m;
                float l = lj[p];
                for (int64_t i = 0; i < m; i++) col[i] -= l * done[i];
            }
            float inv = 1.0f / lj[j];
            for (int64_t i = 0; i < m; i++) col[i] *= inv;
        }
        for (int64_t i = 0; i < m; i++)
            for (int64_t j = 0; j < nb; j++) a[(k1 + i) * n + k0 + j] = work[j * m + i];
        /* The trailing triangle: A[k1.., k1..] −= P Pᵀ, P the block's rows
         * below (work is Pᵀ, the syrk's [k, n] operand). */
        clh_syrk_f32(m, nb, -1.0f, work, m, 1.0f, a + k1 * n + k1, n);
    }
    return 0;
}

/* The sides interleaved: y [n][kp], kp = nrhs rounded up to a multiple of
 * LANES (the padding zero), so each element of L meets all of them in a few
 * vector operations. LANES: two AVX2 vectors of floats. */
enum { LANES = 16 };

static int64_t lanes_of(int64_t nrhs) { return (nrhs + LANES - 1) / LANES * LANES; }

size_t clh_float_cholesky_solve_work(int64_t n, int64_t nrhs) {
    size_t floats;
    return clh_mul_size((size_t)n, (size_t)lanes_of(nrhs), &floats) ? floats : 0;
}

/* L y = b row by row, y_i = (b_i − Σ_{j<i} L_ij y_j) / L_ii, then Lᵀ x = y
 * from the last row up, x_i = y_i / L_ii and y_p −= L_ip x_i for p < i. */
static void solve_lanes_c(const float *l, int64_t n, float *y, int64_t kp) {
    for (int64_t i = 0; i < n; i++) {
        const float *li = l + i * n;
        float *yi = y + i * kp;
        for (int64_t j = 0; j < i; j++) {
            const float *yj = y + j * kp;
            float lij = li[j];
            for (int64_t c = 0; c < kp; c++) yi[c] -= lij * yj[c];
        }
        float inv = 1.0f / li[i];
        for (int64_t c = 0; c < kp; c++) yi[c] *= inv;
    }
    for (int64_t i = n - 1; i >= 0; i--) {
        const float *li = l + i * n;
        float *xi = y + i * kp;
        float inv = 1.0f / li[i];
        for (int64_t c = 0; c < kp; c++) xi[c] *= inv;
        for (int64_t p = 0; p < i; p++) {
            float *yp = y + p * kp;
            float lip = li[p];
            for (int64_t c = 0; c < kp; c++) yp[c] -= lip * xi[c];
        }
    }
}

#ifdef CLH_GEMM_X86
/* The same with AVX2+FMA, LANES sides at a time and rows in blocks of four:
 * the forward pass runs once over the columns left of a block for all four
 * rows (eight independent FMA chains, one load of y_j for four rows), then
 * solves the block's own 4 x 4 triangle; the backward pass solves the
 * block's triangle first, then subtracts its four rows from every y_p above
 * in one sweep (one load and store of y_p for four rows). Rows past the last
 * whole block go one by one. */
CLH_TARGET_AVX2
static void forward_avx2(const float *l, int64_t n, float *y, int64_t kp, int64_t g) {
    int64_t i0 = 0;
    for (; i0 + 4 <= n; i0 += 4) {
        const float *l0 = l + i0 * n, *l1 = l0 + n, *l2 = l1 + n, *l3 = l2 + n;
        __m256 a00 = _mm256_setzero_ps(), a01 = a00, a10 = a00, a11 = a00;
        __m256 a20 = a00, a21 = a00, a30 = a00, a31 = a00;
        for (int64_t j = 0; j < i0; j++) {
            const float *yj = y + j * kp + g;
            __m256 y0 = _mm256_loadu_ps(yj), y1 = _mm256_loadu_ps(yj + 8);
            __m256 v0 = _mm256_broadcast_ss(l0 + j), v1 = _mm256_broadcast_ss(l1 + j);
            __m256 v2 = _mm256_broadcast_ss(l2 + j), v3 = _mm256_broadcast_ss(l3 + j);
            a00 = _mm256_fmadd_ps(v0, y0, a00);
            a01 = _mm256_fmadd_ps(v0, y1, a01);
            a10 = _mm256_fmadd_ps(v1, y0, a10);
            a11 = _mm256_fmadd_ps(v1, y1, a11);
            a20 = _mm256_fmadd_ps(v2, y0, a20);
            a21 = _mm256_fmadd_ps(v2, y1, a21);
            a30 = _mm256_fmadd_ps(v3, y0, a30);
            a31 = _mm256_fmadd_ps(v3, y1, a31);
        }
        __m256 acc[4][2] = {{a00, a01}, {a10, a11}, {a20, a21}, {a30, a31}};
        for (int q = 0; q < 4; q++) {
            const float *lq = l + (i0 + q) * n;
            float *yq = y + (i0 + q) * kp + g;
            for (int h = 0; h < 2; h++) {
                __m256 v = _mm256_sub_ps(_mm256_loadu_ps(yq + 8 * h), acc[q][h]);
                for (int p = 0; p < q; p++) /* the block's triangle */
                    v = _mm256_fnmadd_ps(_mm256_broadcast_ss(lq + i0 + p),
                                         _mm256_loadu_ps(y + (i0 + p) * kp + g + 8 * h), v);
                _mm256_storeu_ps(yq + 8 * h, _mm256_mul_ps(v, _mm256_set1_ps(1.0f / lq[i0 + q])));
            }
        }
    }
    for (; i0 < n; i0++) {
        const float *li = l + i0 * n;
        float *yi = y + i0 * kp + g;
        __m256 s0 = _mm256_loadu_ps(yi), s1 = _mm256_loadu_ps(yi + 8);
        for (int64_t j = 0; j < i0; j++) {
            __m256 v = _mm256_broadcast_ss(li + j);
            s0 = _mm256_fnmadd_ps(v, _mm256_loadu_ps(y + j * kp + g), s0);
            s1 = _mm256_fnmadd_ps(v, _mm256_loadu_ps(y + j * kp + g + 8), s1);
        }
        __m256 inv = _mm256_set1_ps(1.0f / li[i0]);
        _mm256_storeu_ps(yi, _mm256_mul_ps(s0, inv));
        _mm256_storeu_ps(yi + 8, _mm256_mul_ps(s1, inv));
    }
}

CLH_TARGET_AVX2
static void backward_avx2(const float *l, int64_t n, float *y, int64_t kp, int64_t g) {
    int64_t top = n;
    /* The rows past the last whole block of four (counted from row 0), one by one. */
    for (int64_t i = n - 1; i >= n - n % 4; i--) {
        const float *li = l + i * n;
        float *xi = y + i * kp + g;
        __m256 inv = _mm256_set1_ps(1.0f / li[i]);
        __m256 x0 = _mm256_mul_ps(_mm256_loadu_ps(xi), inv);
        __m256 x1 = _mm256_mul_ps(_mm256_loadu_ps(xi + 8), inv);
        _mm256_storeu_ps(xi, x0);
        _mm256_storeu_ps(xi + 8, x1);
        for (int64_t p = 0; p < i; p++) {
            float *yp = y + p * kp + g;
            __m256 v = _mm256_broadcast_ss(li + p);
            _mm256_storeu_ps(yp, _mm256_fnmadd_ps(v, x0, _mm256_loadu_ps(yp)));
            _mm256_storeu_ps(yp + 8, _mm256_fnmadd_ps(v, x1, _mm256_loadu_ps(yp + 8)));
        }
        top = i;
    }
    for (int64_t i0 = top - 4; i0 >= 0; i0 -= 4) {
        /* The block's triangle, from its last row up: x_q = (y_q − Σ_{r>q}
         * L_rq x_r) / L_qq. */
        __m256 x[4][2];
        for (int q = 3; q >= 0; q--) {
            const float *lq = l + (i0 + q) * n;
            float *yq = y + (i0 + q) * kp + g;
            for (int h = 0; h < 2; h++) {
                __m256 v = _mm256_loadu_ps(yq + 8 * h);
                for (int r = q + 1; r < 4; r++)
                    v = _mm256_fnmadd_ps(_mm256_broadcast_ss(l + (i0 + r) * n + i0 + q), x[r][h], v);
                x[q][h] = _mm256_mul_ps(v, _mm256_set1_ps(1.0f / lq[i0 + q]));
                _mm256_storeu_ps(yq + 8 * h, x[q][h]);
            }
        }
        const float *l0 = l + i0 * n, *l1 = l0 + n, *l2 = l1 + n, *l3 = l2 + n;
        for (int64_t p = 0; p < i0; p++) {
            float *yp = y + p * kp + g;
            __m256 y0 = _mm256_loadu_ps(yp), y1 = _mm256_loadu_ps(yp + 8);
            __m256 v0 = _mm256_broadcast_ss(l0 + p), v1 = _mm256_broadcast_ss(l1 + p);
            __m256 v2 = _mm256_broadcast_ss(l2 + p), v3 = _mm256_broadcast_ss(l3 + p);
            y0 = _mm256_fnmadd_ps(v0, x[0][0], y0);
            y1 = _mm256_fnmadd_ps(v0, x[0][1], y1);
            y0 = _mm256_fnmadd_ps(v1, x[1][0], y0);
            y1 = _mm256_fnmadd_ps(v1, x[1][1], y1);
            y0 = _mm256_fnmadd_ps(v2, x[2][0], y0);
            y1 = _mm256_fnmadd_ps(v2, x[2][1], y1);
            y0 = _mm256_fnmadd_ps(v3, x[3][0], y0);
            y1 = _mm256_fnmadd_ps(v3, x[3][1], y1);
            _mm256_storeu_ps(yp, y0);
            _mm256_storeu_ps(yp + 8, y1);
        }
    }
}

CLH_TARGET_AVX2
static void solve_lanes_avx2(const float *l, int64_t n, float *y, int64_t kp) {
    for (int64_t g = 0; g < kp; g += LANES) {
        forward_avx2(l, n, y, kp, g);
        backward_avx2(l, n, y, kp, g);
    }
}
#endif

void clh_float_cholesky_solve(const float *l, int64_t n, float *b, int64_t nrhs, float *work) {
    int64_t kp = lanes_of(nrhs);
    float *y = work;
    for (int64_t i = 0; i < n; i++)
        for (int64_t c = 0; c < kp; c++) y[i * kp + c] = c < nrhs ? b[c * n + i] : 0.0f;
#ifdef CLH_GEMM_X86
    if (clh_gemm_portable_vector_width() >= 8)
        solve_lanes_avx2(l, n, y, kp);
    else
#endif
        solve_lanes_c(l, n, y, kp);
    for (int64_t c = 0; c < nrhs; c++)
        for (int64_t i = 0; i < n; i++) b[c * n + i] = y[i * kp + c];
}
