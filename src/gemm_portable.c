/* The portable matrix multiply: C = alpha · op(A) · op(B) + beta · C, row-major,
 * with cblas_sgemm semantics (beta == 0: C is not read; alpha == 0 or k == 0:
 * A and B are not read).
 *
 * Layout of the work (the usual blocked scheme, sized for the heads' shapes):
 *  - op(B) is packed, KC rows by NC columns at a time, into zero-padded strips
 *    as wide as the kernel's tile, so the micro-kernel streams it with aligned
 *    loads whatever the transposition of B;
 *  - op(A) is read in place through (row stride, column stride): the
 *    micro-kernel broadcasts one element per row and step, which is cheap in
 *    both layouts, so A needs no packing buffer;
 *  - a micro-kernel keeps a tile of C (e.g. 6 x 16) in registers over KC steps.
 * The packing buffer lives on the stack (KC·NC floats = 64 KiB, so a thread
 * calling the library needs a stack of a few hundred KiB, as every glibc
 * default has): the multiply never allocates, so it cannot fail and a
 * steady-state forward or backward makes no allocation.
 *
 * Kernels, chosen at run time from what the CPU has: AVX-512 (a 12 x 32 tile),
 * AVX2+FMA (6 x 16) and plain C (6 x 16) for every other CPU.
 * CLH_PORTABLE_KERNEL=c, =avx2 or =avx512 caps the choice, so every path can
 * be tested on one machine. One row of op(A) (a single sample) takes a
 * matrix-vector path that reads B in place instead of packing all of it, and
 * x · Wᵀ with a narrow W (a head of at most 16 classes, K >= 32) takes
 * AVX-512 dot products along K, where a 16-wide tile would leave lanes idle.
 *
 * Threads: for large shapes only, C is cut into column (or row) bands that
 * the calling thread and clh_gemm_threads() - 1 helpers claim one by one
 * (gemm_pool.h: a helper that is late on a busy machine is not waited for);
 * small shapes stay on the calling thread, where waking a helper would cost
 * more than it saves.
 */
#include "gemm.h"
#include "gemm_pool.h"
#include "gemm_portable.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

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

/* Multiply-adds below which one thread does the whole product: 8M is about
 * 0.1 ms of work on one AVX-512 core (0.2 ms with AVX2), several times what
 * waking a sleeping worker costs; below it a second thread stops paying. */
#define PARALLEL_MIN_MACS (1LL << 23)
/* An upper bound on workers, whatever clh_set_num_threads was given. */
#define MAX_THREADS 64
/* Bands per worker: enough to even out a worker that starts late or runs
 * slower, few enough that each band still fills whole packed blocks. */
#define BANDS_PER_WORKER 4

/* A matrix operand seen through its transposition: element (r, c) of op(X) is
 * data[r * rs + c * cs]. */
typedef struct operand {
    const float *data;
    int64_t rs;
    int64_t cs;
} operand;

static operand operand_of(const float *data, int64_t ld, int trans) {
    operand op = {data, trans ? 1 : ld, trans ? ld : 1};
    return op;
}

static int64_t min64(int64_t x, int64_t y) { return x < y ? x : y; }

/* ---- shared pieces -------------------------------------------------------- */

/* C[r, j] = alpha · tile[r, j] + beta · C[r, j] for the valid mr x nr corner of a
 * tile whose rows are tile_ld apart; beta == 0 never reads C. */
static void merge_tile(float *c, int64_t ldc, const float *tile, int tile_ld, int mr, int nr,
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
static void scale_c(float *c, int64_t ldc, int64_t m, int64_t n, float beta) {
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
static void pack_b(float *dst, operand b, int64_t p0, int64_t j0, int64_t kc, int64_t nc, int width) {
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

#ifdef CLH_GEMM_X86
/* pack_b for a transposed B (rows of B are the strip's columns): 8 rows x 8
 * steps at a time are loaded contiguously and transposed in registers, so
 * the strip is written in whole vectors. Rows past the last group of eight
 * (e.g. 10 classes = 8 + 2) are copied one by one; missing columns are 0. */
CLH_TARGET_AVX2
static void pack_b_avx2(float *dst, operand b, int64_t p0, int64_t j0, int64_t kc, int64_t nc,
                        int width) {
    if (b.rs != 1) {
        pack_b(dst, b, p0, j0, kc, nc, width);
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
#endif

/* ---- micro-kernels -------------------------------------------------------- */

/* C[0..mr, 0..nr] = alpha · op(A)[0..mr, 0..kc] · packed strip + beta · C.
 * a points at op(A)'s first element of the tile; rows are a + r·rs_a. */
typedef void (*micro_kernel)(int64_t kc, const float *a, int64_t rs_a, int64_t cs_a,
                             const float *strip, float *c, int64_t ldc, int mr, int nr,
                             float alpha, float beta);

static void micro_kernel_c(int64_t kc, const float *a, int64_t rs_a, int64_t cs_a,
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
    merge_tile(c, ldc, acc, NR, mr, nr, alpha, beta);
}

#ifdef CLH_GEMM_X86
CLH_TARGET_AVX2
static void micro_kernel_avx2(int64_t kc, const float *a, int64_t rs_a, int64_t cs_a,
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
    merge_tile(c, ldc, tile, NR, mr, nr, alpha, beta);
}

/* Twelve rows by two 16-float vectors. Rows past mr repeat the last valid row
 * (computed, never stored), as in the AVX2 kernel. */
#define CLH_ROWS512(X) X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7) X(8) X(9) X(10) X(11)

CLH_TARGET_AVX512
static void micro_kernel_avx512(int64_t kc, const float *a, int64_t rs_a, int64_t cs_a,
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
    merge_tile(c, ldc, tile, NR512, mr, nr, alpha, beta);
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
static void dots_avx512(int64_t m, int64_t n, int64_t k, float alpha, const float *a, int64_t lda,
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
#endif

/* ---- one row of op(A): matrix-vector products that read B in place ------- */

/* y[j] = alpha · Σ_p x(p) · op(B)[p, j] + beta · y[j], x(p) = x[p · x_stride]. */
typedef void (*row_kernel)(int64_t n, int64_t k, float alpha, const float *x, int64_t x_stride,
                           operand b, float beta, float *y);

static void row_kernel_c(int64_t n, int64_t k, float alpha, const float *x, int64_t x_stride,
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
    scale_c(y, 0, 1, n, beta);
    for (int64_t p = 0; p < k; p++) {
        const float *b_row = b.data + p * b.rs;
        float scaled = alpha * x[p * x_stride];
        for (int64_t j = 0; j < n; j++) y[j] += scaled * b_row[j * b.cs];
    }
}

#ifdef CLH_GEMM_X86
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
static void row_kernel_avx2(int64_t n, int64_t k, float alpha, const float *x, int64_t x_stride,
                            operand b, float beta, float *y) {
    if (x_stride != 1 || (b.rs != 1 && b.cs != 1)) {
        row_kernel_c(n, k, alpha, x, x_stride, b, beta, y);
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
    scale_c(y, 0, 1, n, beta);
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
#endif

/* ---- kernel choice ------------------------------------------------------- */

typedef void (*packer)(float *dst, operand b, int64_t p0, int64_t j0, int64_t kc, int64_t nc,
                       int width);

/* C = alpha · A · Bᵀ + beta · C with rows of A and B contiguous along K. */
typedef void (*dot_kernel)(int64_t m, int64_t n, int64_t k, float alpha, const float *a,
                           int64_t lda, const float *b, int64_t ldb, float beta, float *c,
                           int64_t ldc);

typedef struct kernels {
    int mr, nr; /* the tile kernel's rows and columns (nr divides NC) */
    micro_kernel tile;
    row_kernel row;
    packer pack;
    dot_kernel narrow; /* for x · Wᵀ with W of at most NR rows; NULL: use tiles */
} kernels;

enum { CHOICE_UNDECIDED = 0, CHOICE_C, CHOICE_AVX2, CHOICE_AVX512 };

/* The best kernel the CPU runs, capped by CLH_PORTABLE_KERNEL (c, avx2, avx512). */
static int detect_choice(void) {
#ifdef CLH_GEMM_X86
    const char *cap = getenv("CLH_PORTABLE_KERNEL");
    int best = CHOICE_C;
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) {
        best = CHOICE_AVX2;
        if (__builtin_cpu_supports("avx512f")) best = CHOICE_AVX512;
    }
    if (cap && strcmp(cap, "c") == 0) return CHOICE_C;
    if (cap && strcmp(cap, "avx2") == 0 && best > CHOICE_AVX2) return CHOICE_AVX2;
    return best;
#else
    return CHOICE_C;
#endif
}

static int kernel_choice(void) {
    /* Racing first calls detect the same answer; relaxed ordering suffices. */
    static atomic_int decided = CHOICE_UNDECIDED;
    int choice = atomic_load_explicit(&decided, memory_order_relaxed);
    if (choice == CHOICE_UNDECIDED) {
        choice = detect_choice();
        atomic_store_explicit(&decided, choice, memory_order_relaxed);
    }
    return choice;
}

int clh_gemm_portable_vector_width(void) {
    int choice = kernel_choice();
    return choice == CHOICE_AVX512 ? 16 : choice == CHOICE_AVX2 ? 8 : 1;
}

const char *clh_gemm_portable_kernel_name(void) {
    int choice = kernel_choice();
    return choice == CHOICE_AVX512 ? "avx512" : choice == CHOICE_AVX2 ? "avx2" : "c";
}

/* The kernels for a product with n columns: a head of a few classes (n <= 16)
 * fills the 6 x 16 AVX2 tile better than the 32-wide AVX-512 one, and x · Wᵀ
 * then goes to AVX-512 dot products. */
static const kernels *choose_kernels(int64_t n) {
    static const kernels plain_c = {MR, NR, micro_kernel_c, row_kernel_c, pack_b, NULL};
#ifdef CLH_GEMM_X86
    static const kernels avx2 = {MR, NR, micro_kernel_avx2, row_kernel_avx2, pack_b_avx2, NULL};
    static const kernels avx512 = {MR512, NR512, micro_kernel_avx512, row_kernel_avx2, pack_b_avx2, NULL};
    static const kernels avx512_narrow = {MR, NR, micro_kernel_avx2, row_kernel_avx2, pack_b_avx2,
                                          dots_avx512};
#endif
    int choice = kernel_choice();
#ifdef CLH_GEMM_X86
    if (choice == CHOICE_AVX512) return n > NR ? &avx512 : &avx512_narrow;
    if (choice == CHOICE_AVX2) return &avx2;
#else
    (void)n; /* one kernel off x86: the plain C one */
    (void)choice;
#endif
    return &plain_c;
}

/* ---- the blocked product on one band of C --------------------------------- */

static void gemm_blocked(const kernels *kern, int64_t m, int64_t n, int64_t k, float alpha,
                         operand a, operand b, float beta, float *c, int64_t ldc) {
    if (m == 1) {
        kern->row(n, k, alpha, a.data, a.cs, b, beta, c);
        return;
    }
    if (kern->narrow && a.cs == 1 && b.rs == 1 && n <= NR && k >= 32) {
        kern->narrow(m, n, k, alpha, a.data, a.rs, b.data, b.cs, beta, c, ldc);
        return;
    }
    _Alignas(64) float packed_b[KC * NC];
    const int tile_rows = kern->mr, tile_cols = kern->nr;
    for (int64_t jc = 0; jc < n; jc += NC) {
        int64_t nc = min64(NC, n - jc);
        for (int64_t pc = 0; pc < k; pc += KC) {
            int64_t kc = min64(KC, k - pc);
            /* The first pass over K applies beta; later passes add to it. */
            float beta_pass = pc == 0 ? beta : 1.0f;
            kern->pack(packed_b, b, pc, jc, kc, nc, tile_cols);
            for (int64_t ic = 0; ic < m; ic += tile_rows) {
                int mr = (int)min64(tile_rows, m - ic);
                const float *a_tile = a.data + ic * a.rs + pc * a.cs;
                for (int64_t jr = 0; jr < nc; jr += tile_cols) {
                    int nr = (int)min64(tile_cols, nc - jr);
                    kern->tile(kc, a_tile, a.rs, a.cs, packed_b + (jr / tile_cols) * kc * tile_cols,
                               c + ic * ldc + jc + jr, ldc, mr, nr, alpha, beta_pass);
                }
            }
        }
    }
}

/* A product cut into bands of C: columns [begin, begin + len) with all rows,
 * or rows with all columns. */
typedef struct band_job {
    const kernels *kern;
    int split_columns;
    int64_t m, n, k, band;
    float alpha, beta;
    operand a, b;
    float *c;
    int64_t ldc;
} band_job;

static void run_band(void *ctx, int64_t index) {
    const band_job *job = ctx;
    int64_t begin = index * job->band;
    if (job->split_columns) {
        int64_t len = min64(job->band, job->n - begin);
        operand sub_b = {job->b.data + begin * job->b.cs, job->b.rs, job->b.cs};
        gemm_blocked(job->kern, job->m, len, job->k, job->alpha, job->a, sub_b, job->beta,
                     job->c + begin, job->ldc);
    } else {
        int64_t len = min64(job->band, job->m - begin);
        operand sub_a = {job->a.data + begin * job->a.rs, job->a.rs, job->a.cs};
        gemm_blocked(job->kern, len, job->n, job->k, job->alpha, sub_a, job->b, job->beta,
                     job->c + begin * job->ldc, job->ldc);
    }
}

void clh_gemm_portable(int trans_a, int trans_b, int64_t m, int64_t n, int64_t k, float alpha,
                       const float *a, int64_t lda, const float *b, int64_t ldb, float beta,
                       float *c, int64_t ldc) {
    if (m <= 0 || n <= 0) return;
    if (k <= 0 || alpha == 0.0f) {
        scale_c(c, ldc, m, n, beta);
        return;
    }
    const kernels *kern = choose_kernels(n);
    operand op_a = operand_of(a, lda, trans_a), op_b = operand_of(b, ldb, trans_b);

    int threads = clh_gemm_threads();
    /* In double: the product of three int64 sizes may not fit in int64. */
    double macs = (double)m * (double)n * (double)k;
    if (threads <= 1 || macs < (double)PARALLEL_MIN_MACS || m == 1) {
        gemm_blocked(kern, m, n, k, alpha, op_a, op_b, beta, c, ldc);
        return;
    }
    /* Split the wider side of C: each band packs only its own columns of B
     * (column bands) or reads only its own rows of A (row bands). Bands are a
     * whole number of tiles (and of packed blocks for columns). */
    if (threads > MAX_THREADS) threads = MAX_THREADS;
    band_job job = {kern, n >= (int64_t)2 * kern->nr * threads || n >= m, m, n, k, 0,
                    alpha, beta, op_a, op_b, c, ldc};
    int64_t extent = job.split_columns ? n : m;
    int64_t unit = job.split_columns ? NC : kern->mr;
    int64_t wanted = (extent + (int64_t)threads * BANDS_PER_WORKER - 1) / ((int64_t)threads * BANDS_PER_WORKER);
    job.band = (wanted + unit - 1) / unit * unit;
    clh_pool_run(threads, (extent + job.band - 1) / job.band, run_band, &job);
}

