/* The portable float32 Cholesky factorisation and solves (cholesky_float.h). */
#include <math.h>
#include <string.h>

#include "analytic/cholesky_float.h"
#include "common/checked.h"
#include "kernels/gemm.h"

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

void clh_float_cholesky_solve(const float *l, int64_t n, float *b, int64_t nrhs, float *work) {
    /* The sides interleaved (work [n][nrhs]), so each element of L meets
     * all of them in one vectorisable loop. */
    float *y = work;
    for (int64_t c = 0; c < nrhs; c++)
        for (int64_t i = 0; i < n; i++) y[i * nrhs + c] = b[c * n + i];
    /* L y = b, row by row: y_i = (b_i − Σ_{j<i} L_ij y_j) / L_ii. */
    for (int64_t i = 0; i < n; i++) {
        const float *li = l + i * n;
        float *yi = y + i * nrhs;
        for (int64_t j = 0; j < i; j++) {
            const float *yj = y + j * nrhs;
            float lij = li[j];
            for (int64_t c = 0; c < nrhs; c++) yi[c] -= lij * yj[c];
        }
        float inv = 1.0f / li[i];
        for (int64_t c = 0; c < nrhs; c++) yi[c] *= inv;
    }
    /* Lᵀ x = y, from the last row up: x_i = y_i / L_ii, then y_p −= L_ip x_i. */
    for (int64_t i = n - 1; i >= 0; i--) {
        const float *li = l + i * n;
        float *xi = y + i * nrhs;
        float inv = 1.0f / li[i];
        for (int64_t c = 0; c < nrhs; c++) xi[c] *= inv;
        for (int64_t p = 0; p < i; p++) {
            float *yp = y + p * nrhs;
            float lip = li[p];
            for (int64_t c = 0; c < nrhs; c++) yp[c] -= lip * xi[c];
        }
    }
    for (int64_t c = 0; c < nrhs; c++)
        for (int64_t i = 0; i < n; i++) b[c * n + i] = y[i * nrhs + c];
}
