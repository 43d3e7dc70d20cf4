/* The product of a mostly-zero A with a row-major B (sparse_rows.h).
 *
 * A's nonzeros are first compressed row by row (column index and value, the
 * CSR layout). C is then made band by band, BAND columns at a time: for each
 * row of A, BAND accumulators (eight AVX2 registers) collect value · B[col,
 * band] over the row's nonzeros and are stored once, with the ReLU applied
 * on the way. A band of B (k x BAND floats: 200 KB at k = 784, packed
 * contiguously) stays in L2 while all rows pass over it, and the compressed
 * rows are read once per band. */
#include <string.h>

#include "common/alloc.h"
#include "common/checked.h"
#include "kernels/gemm.h"
#include "kernels/gemm_pool.h"
#include "kernels/gemm_portable.h"
#include "kernels/gemm_portable_kernels.h"
#include "kernels/sparse_rows.h"

/* Columns per band: eight AVX2 vectors, as many accumulators as two FMA units
 * with a latency of four need to stay busy. */
enum { BAND = 64 };
/* Multiply-adds below which the calling thread does everything (as the
 * portable multiply's threshold). */
#define PARALLEL_MIN_MACS (1LL << 23)

typedef struct compressed {
    int64_t *start; /* [m + 1]: row i's nonzeros are [start[i], start[i + 1]) */
    int32_t *col;   /* [nonzeros] */
    float *val;     /* [nonzeros] */
} compressed;

size_t clh_sparse_rows_packed_size(int64_t k, int64_t n) {
    size_t bands = (size_t)((n + BAND - 1) / BAND), size;
    if (!clh_mul_size(bands, (size_t)BAND, &size) || !clh_mul_size(size, (size_t)k, &size)) return 0;
    return size;
}

void clh_sparse_rows_pack(int64_t k, int64_t n, const float *b, int64_t rs, int64_t cs,
                          float *packed) {
    for (int64_t j0 = 0; j0 < n; j0 += BAND) {
        float *band = packed + j0 * k; /* bands of k x BAND */
        int64_t w = n - j0 < BAND ? n - j0 : BAND;
        for (int64_t p = 0; p < k; p++) {
            float *row = band + p * BAND;
            for (int64_t u = 0; u < w; u++) row[u] = b[p * rs + (j0 + u) * cs];
            for (int64_t u = w; u < BAND; u++) row[u] = 0.0f;
        }
    }
}

int64_t clh_count_nonzeros(int64_t m, int64_t k, const float *a, int64_t lda) {
    int64_t count = 0;
    for (int64_t i = 0; i < m; i++) {
        const float *row = a + i * lda;
        int64_t in_row = 0;
        for (int64_t j = 0; j < k; j++) in_row += row[j] != 0.0f; /* NaN counts */
        count += in_row;
    }
    return count;
}

/* One band (k x BAND packed, of which w <= BAND columns are stored) in
 * plain C (the compiler vectorises the inner loops to its baseline vectors). */
static void band_c(const compressed *a, int64_t m, const float *band, float *c, int64_t ldc,
                   int w, int relu) {
    const int32_t *col = a->col;
    const float *val = a->val;
    for (int64_t i = 0; i < m; i++) {
        float acc[BAND] = {0};
        for (int64_t q = a->start[i], end = a->start[i + 1]; q < end; q++) {
            const float *row = band + (int64_t)col[q] * BAND;
            float v = val[q];
            for (int u = 0; u < BAND; u++) acc[u] += v * row[u];
        }
        float *out = c + i * ldc;
        for (int u = 0; u < w; u++) out[u] = relu && acc[u] < 0.0f ? 0.0f : acc[u];
    }
}

#ifdef CLH_GEMM_X86
/* One full band with AVX2+FMA: eight accumulators per row. max(0, x)
 * returns x when x is NaN (MAXPS returns its second operand then). */
CLH_TARGET_AVX2
static void band_avx2(const compressed *a, int64_t m, const float *band, float *c, int64_t ldc,
                      int relu) {
    const __m256 zero = _mm256_setzero_ps();
    const int32_t *col = a->col;
    const float *val = a->val;
    for (int64_t i = 0; i < m; i++) {
        __m256 acc[8];
        for (int u = 0; u < 8; u++) acc[u] = zero;
        for (int64_t q = a->start[i], end = a->start[i + 1]; q < end; q++) {
            const float *row = band + (int64_t)col[q] * BAND;
            __m256 v = _mm256_broadcast_ss(&val[q]);
            for (int u = 0; u < 8; u++)
                acc[u] = _mm256_fmadd_ps(v, _mm256_loadu_ps(row + 8 * u), acc[u]);
        }
        float *out = c + i * ldc;
        for (int u = 0; u < 8; u++)
            _mm256_storeu_ps(out + 8 * u, relu ? _mm256_max_ps(zero, acc[u]) : acc[u]);
    }
}
#endif

typedef struct band_job {
    const compressed *a;
    int64_t m, n, k;
    const float *packed_b;
    float *c;
    int64_t ldc;
    int relu, avx2;
} band_job;

static void run_band(void *ctx, int64_t index) {
    const band_job *job = ctx;
    int64_t j0 = index * BAND;
    int w = (int)(job->n - j0 < BAND ? job->n - j0 : BAND);
    const float *band = job->packed_b + j0 * job->k;
#ifdef CLH_GEMM_X86
    if (job->avx2 && w == BAND) {
        band_avx2(job->a, job->m, band, job->c + j0, job->ldc, job->relu);
        return;
    }
#endif
    band_c(job->a, job->m, band, job->c + j0, job->ldc, w, job->relu);
}

int clh_gemm_sparse_rows(int64_t m, int64_t n, int64_t k, const float *a, int64_t lda,
                         int64_t nonzeros, const float *packed_b, float *c, int64_t ldc, int relu) {
    if (m <= 0 || n <= 0) return 0;
    /* One spare entry: the compression below writes every value and only
     * advances past the nonzeros (no branch on the pixel: MNIST's zeros and
     * ink alternate too irregularly to predict); past `nonzeros` it keeps
     * writing the spare, so a wrong count cannot write out of bounds. */
    size_t starts, entries;
    if (nonzeros < 0 || k > INT32_MAX || !clh_mul_size((size_t)m + 1, sizeof(int64_t), &starts) ||
        !clh_mul_size((size_t)nonzeros + 1, sizeof(int32_t) + sizeof(float), &entries))
        return -1;
    compressed ca = {clh_malloc(starts), clh_malloc(entries), NULL};
    if (!ca.start || !ca.col) {
        clh_free(ca.start);
        clh_free(ca.col);
        return -1;
    }
    ca.val = (float *)(ca.col + nonzeros + 1);
    int64_t q = 0;
    for (int64_t i = 0; i < m; i++) {
        const float *row = a + i * lda;
        ca.start[i] = q < nonzeros ? q : nonzeros;
        for (int64_t j = 0; j < k; j++) {
            int64_t slot = q < nonzeros ? q : nonzeros;
            ca.col[slot] = (int32_t)j;
            ca.val[slot] = row[j];
            q = slot + (row[j] != 0.0f);
        }
    }
    ca.start[m] = q < nonzeros ? q : nonzeros;
    band_job job = {&ca, m, n, k, packed_b, c, ldc, relu, clh_gemm_portable_vector_width() >= 8};
    int64_t bands = (n + BAND - 1) / BAND;
    int threads = clh_gemm_threads();
    if (threads > 1 && (double)q * (double)n >= (double)PARALLEL_MIN_MACS)
        clh_pool_run(threads, bands, run_band, &job);
    else
        for (int64_t band = 0; band < bands; band++) run_band(&job, band);
    clh_free(ca.start);
    clh_free(ca.col);
    return 0;
}
