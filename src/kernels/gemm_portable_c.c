/* The portable multiply's plain-C kernels (every CPU) and the pieces every
 * kernel set shares: merging a register tile into C, scaling C, packing B
 * (see gemm_portable_kernels.h). */
#include "kernels/gemm_portable_kernels.h"

#include <string.h>

/* C[r, j] = alpha · tile[r, j] + beta · C[r, j] for the valid mr x nr corner of a
 * tile whose rows are tile_ld apart; beta == 0 never reads C. */
void clh_pk_merge_tile(float *c, int64_t ldc, const float *tile, int tile_ld, int mr, int nr,
                       float alpha, float beta) {
    for (int r = 0; r < mr; r++) {
        float *c_row = c + r * ldc;
        const float *t_row = tile + r * tile_ld;
        if (beta == 0.0f) {
            for (int j = 0; j < nr; j++) c_row[j] = alpha * t_row[j];
        } else {
            for (int j = 0; j < nr; j++) c_row[j] = alpha * t_row[j] + beta * c_row[j];
        }
    }
}

/* C = beta · C for an m x n block (beta == 0 writes zeros without reading). */
void clh_pk_scale_c(float *c, int64_t ldc, int64_t m, int64_t n, float beta) {
    if (beta == 1.0f) return;
    for (int64_t i = 0; i < m; i++) {
        float *c_row = c + i * ldc;
        if (beta == 0.0f) {
            memset(c_row, 0, (size_t)n * sizeof *c_row);
        } else {
            for (int64_t j = 0; j < n; j++) c_row[j] *= beta;
        }
    }
}

/* Packs op(B)[p0 .. p0+kc, j0 .. j0+nc] into strips `width` columns wide: strip
 * s holds, for each step p, the values op(B)[p0+p, j0+s·width ..], zeros past nc. */
void clh_pk_pack_b(float *dst, operand b, int64_t p0, int64_t j0, int64_t kc, int64_t nc, int width) {
    for (int64_t jr = 0; jr < nc; jr += width) {
        int64_t nr = min64(width, nc - jr);
        float *strip = dst + (jr / width) * kc * width;
        const float *src = b.data + p0 * b.rs + (j0 + jr) * b.cs;
        if (b.cs == 1 && nr == width) {
            /* B not transposed: each step is `width` contiguous floats. */
            for (int64_t p = 0; p < kc; p++)
                memcpy(strip + p * width, src + p * b.rs, (size_t)width * sizeof *src);
        } else {
            /* B transposed (or a ragged edge): walk each source row of B
             * contiguously and scatter it down the strip's column. */
            if (nr < width) memset(strip, 0, (size_t)(kc * width) * sizeof *strip);
            for (int64_t j = 0; j < nr; j++) {
                const float *col = src + j * b.cs;
                for (int64_t p = 0; p < kc; p++) strip[p * width + j] = col[p * b.rs];
            }
        }
    }
}

void clh_pk_micro_c(int64_t kc, const float *a, int64_t rs_a, int64_t cs_a,
                           const float *strip, float *c, int64_t ldc, int mr, int nr, float alpha,
                           float beta) {
    float acc[MR * NR] = {0};
    for (int64_t p = 0; p < kc; p++) {
        const float *b_row = strip + p * NR;
        for (int r = 0; r < mr; r++) {
            float a_rp = a[r * rs_a + p * cs_a];
            for (int j = 0; j < NR; j++) acc[r * NR + j] += a_rp * b_row[j];
        }
    }
    clh_pk_merge_tile(c, ldc, acc, NR, mr, nr, alpha, beta);
}

void clh_pk_row_c(int64_t n, int64_t k, float alpha, const float *x, int64_t x_stride,
                         operand b, float beta, float *y) {
    if (b.rs == 1) {
        /* B transposed: y[j] is a dot product of x with the contiguous row j. */
        for (int64_t j = 0; j < n; j++) {
            const float *b_row = b.data + j * b.cs;
            float sum = 0.0f;
            for (int64_t p = 0; p < k; p++) sum += x[p * x_stride] * b_row[p];
            y[j] = alpha * sum + (beta == 0.0f ? 0.0f : beta * y[j]);
        }
        return;
    }
    /* B as is: y accumulates x(p) times the contiguous row p of B. */
    clh_pk_scale_c(y, 0, 1, n, beta);
    for (int64_t p = 0; p < k; p++) {
        const float *b_row = b.data + p * b.rs;
        float scaled = alpha * x[p * x_stride];
        for (int64_t j = 0; j < n; j++) y[j] += scaled * b_row[j * b.cs];
    }
}
