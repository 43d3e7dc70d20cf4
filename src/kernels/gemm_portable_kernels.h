/* Internal: the pieces of the portable multiply (gemm_portable.c) that its
 * kernels share: the blocking, the operand view, the kernel signatures and
 * one set of kernels per instruction set, each in its own file:
 *   gemm_portable_c.c       plain C (every CPU), and the shared packing
 *   gemm_portable_avx2.c    AVX2+FMA (x86 only)
 *   gemm_portable_avx512.c  AVX-512 (x86 only)
 * The driver picks a set at run time (CPU features, CLH_PORTABLE_KERNEL). */
#ifndef CLH_INTERNAL_GEMM_PORTABLE_KERNELS_H
#define CLH_INTERNAL_GEMM_PORTABLE_KERNELS_H

#include <stdint.h>

#if (defined(__x86_64__) || defined(__i386__)) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
#define CLH_GEMM_X86 1
#define CLH_TARGET_AVX2 __attribute__((target("avx2,fma")))
#define CLH_TARGET_AVX512 __attribute__((target("avx512f,avx2,fma")))
#endif

/* Blocking: KC steps of K per pass over C, NC packed columns of B at a time
 * (a multiple of every kernel's tile width). */
enum { KC = 256, NC = 64 };
/* The plain-C and AVX2 tile: 6 x 16 (12 AVX2 accumulators). */
enum { MR = 6, NR = 16 };
/* The AVX-512 tile: 12 x 32 (24 of the 32 zmm registers). */
enum { MR512 = 12, NR512 = 32 };

/* A matrix operand seen through its transposition: element (r, c) of op(X) is
 * data[r * rs + c * cs]. */
typedef struct operand {
    const float *data;
    int64_t rs;
    int64_t cs;
} operand;

static inline operand operand_of(const float *data, int64_t ld, int trans) {
    operand op = {data, trans ? 1 : ld, trans ? ld : 1};
    return op;
}

static inline int64_t min64(int64_t x, int64_t y) { return x < y ? x : y; }

/* C[0..mr, 0..nr] = alpha · op(A)[0..mr, 0..kc] · packed strip + beta · C.
 * a points at op(A)'s first element of the tile; rows are a + r·rs_a. */
typedef void (*micro_kernel)(int64_t kc, const float *a, int64_t rs_a, int64_t cs_a,
                             const float *strip, float *c, int64_t ldc, int mr, int nr,
                             float alpha, float beta);

/* y[j] = alpha · Σ_p x(p) · op(B)[p, j] + beta · y[j], x(p) = x[p · x_stride]. */
typedef void (*row_kernel)(int64_t n, int64_t k, float alpha, const float *x, int64_t x_stride,
                           operand b, float beta, float *y);

/* ---- gemm_portable_c.c ---- */
/* C[r, j] = alpha · tile[r, j] + beta · C[r, j] for the valid mr x nr corner of a
 * tile whose rows are tile_ld apart; beta == 0 never reads C. */
void clh_pk_merge_tile(float *c, int64_t ldc, const float *tile, int tile_ld, int mr, int nr,
                       float alpha, float beta);
/* C = beta · C for an m x n block (beta == 0 writes zeros without reading). */
void clh_pk_scale_c(float *c, int64_t ldc, int64_t m, int64_t n, float beta);
/* Packs op(B)[p0 .. p0+kc, j0 .. j0+nc] into strips `width` columns wide. */
void clh_pk_pack_b(float *dst, operand b, int64_t p0, int64_t j0, int64_t kc, int64_t nc, int width);
void clh_pk_micro_c(int64_t kc, const float *a, int64_t rs_a, int64_t cs_a, const float *strip,
                    float *c, int64_t ldc, int mr, int nr, float alpha, float beta);
void clh_pk_row_c(int64_t n, int64_t k, float alpha, const float *x, int64_t x_stride, operand b,
                  float beta, float *y);

#ifdef CLH_GEMM_X86
/* ---- gemm_portable_avx2.c ---- */
void clh_pk_pack_b_avx2(float *dst, operand b, int64_t p0, int64_t j0, int64_t kc, int64_t nc,
                        int width);
void clh_pk_micro_avx2(int64_t kc, const float *a, int64_t rs_a, int64_t cs_a, const float *strip,
                       float *c, int64_t ldc, int mr, int nr, float alpha, float beta);
void clh_pk_row_avx2(int64_t n, int64_t k, float alpha, const float *x, int64_t x_stride,
                     operand b, float beta, float *y);
/* ---- gemm_portable_avx512.c ---- */
void clh_pk_micro_avx512(int64_t kc, const float *a, int64_t rs_a, int64_t cs_a,
                         const float *strip, float *c, int64_t ldc, int mr, int nr, float alpha,
                         float beta);
/* C = alpha · A · Bᵀ + beta · C with rows of A and B contiguous along K. */
void clh_pk_dots_avx512(int64_t m, int64_t n, int64_t k, float alpha, const float *a, int64_t lda,
                        const float *b, int64_t ldb, float beta, float *c, int64_t ldc);
#endif

#endif
