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
/* The same with AVX2+FMA, LANES sides at a time; the forward sums in four
 * interleaved partial sums per vector (an FMA's latency is four). */
CLH_TARGET_AVX2
static void solve_lanes_avx2(const float *l, int64_t n, float *y, int64_t kp) {
    for (int64_t g = 0; g < kp; g += LANES) {
        for (int64_t i = 0; i < n; i++) {
            const float *li = l + i * n;
            __m256 a[4][2];
            for (int u = 0; u < 4; u++) a[u][0] = a[u][1] = _mm256_setzero_ps();
            int64_t j = 0;
            for (; j + 4 <= i; j += 4)
                for (int u = 0; u < 4; u++) {
                    const float *yj = y + (j + u) * kp + g;
                    __m256 v = _mm256_broadcast_ss(li + j + u);
                    a[u][0] = _mm256_fmadd_ps(v, _mm256_loadu_ps(yj), a[u][0]);
                    a[u][1] = _mm256_fmadd_ps(v, _mm256_loadu_ps(yj + 8), a[u][1]);
                }
            for (; j < i; j++) {
                const float *yj = y + j * kp + g;
                __m256 v = _mm256_broadcast_ss(li + j);
                a[0][0] = _mm256_fmadd_ps(v, _mm256_loadu_ps(yj), a[0][0]);
                a[0][1] = _mm256_fmadd_ps(v, _mm256_loadu_ps(yj + 8), a[0][1]);
            }
            float *yi = y + i * kp + g;
            __m256 inv = _mm256_set1_ps(1.0f / li[i]);
            for (int h = 0; h < 2; h++) {
                __m256 sum = _mm256_add_ps(_mm256_add_ps(a[0][h], a[1][h]),
                                           _mm256_add_ps(a[2][h], a[3][h]));
                __m256 yv = _mm256_sub_ps(_mm256_loadu_ps(yi + 8 * h), sum);
                _mm256_storeu_ps(yi + 8 * h, _mm256_mul_ps(yv, inv));
            }
        }
        for (int64_t i = n - 1; i >= 0; i--) {
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
        }
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
