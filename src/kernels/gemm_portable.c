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
 * Kernels, chosen at run time from what the CPU has: AVX-512 (a 12 x 32 tile,
 * gemm_portable_avx512.c), AVX2+FMA (6 x 16, gemm_portable_avx2.c) and plain C
 * (6 x 16, gemm_portable_c.c) for every other CPU.
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
#include "kernels/gemm.h"
#include "kernels/gemm_pool.h"
#include "kernels/gemm_portable.h"
#include "kernels/gemm_portable_kernels.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

/* Multiply-adds below which one thread does the whole product: 8M is about
 * 0.1 ms of work on one AVX-512 core (0.2 ms with AVX2), several times what
 * waking a sleeping worker costs; below it a second thread stops paying. */
#define PARALLEL_MIN_MACS (1LL << 23)
/* An upper bound on workers, whatever clh_set_num_threads was given. */
#define MAX_THREADS 64
/* Bands per worker: enough to even out a worker that starts late or runs
 * slower, few enough that each band still fills whole packed blocks. */
#define BANDS_PER_WORKER 4

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
    static const kernels plain_c = {MR, NR, clh_pk_micro_c, clh_pk_row_c, clh_pk_pack_b, NULL};
#ifdef CLH_GEMM_X86
    static const kernels avx2 = {MR, NR, clh_pk_micro_avx2, clh_pk_row_avx2, clh_pk_pack_b_avx2, NULL};
    static const kernels avx512 = {MR512, NR512, clh_pk_micro_avx512, clh_pk_row_avx2, clh_pk_pack_b_avx2, NULL};
    static const kernels avx512_narrow = {MR, NR, clh_pk_micro_avx2, clh_pk_row_avx2, clh_pk_pack_b_avx2,
                                          clh_pk_dots_avx512};
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
        clh_pk_scale_c(c, ldc, m, n, beta);
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

