/* The float32-matrix, float64-vector symmetric product of refinement
 * residuals (symm_mixed.h).
 *
 * Work, in doubles: xt and dot [n][kp] (X transposed, kp = nrhs rounded up
 * to whole groups of GROUP, the padding zero; and each row's M x), then per
 * worker its column sums [n][kp] and a band of BAND rows of M widened to
 * double. A worker takes a range of rows, balanced by the triangle's area,
 * band by band: the band's rows are widened one after the other (M is read
 * once, in its own order, which the prefetcher follows), then for each chunk
 * of CHUNK columns the band's blocks of ROWS rows run, for each group of
 * GROUP right-hand sides, over the chunk's columns left of the block: an
 * element M_ij adds M_ij · x_j to row i's sum and M_ij · x_i to column j's.
 * The chunk's x and column sums (CHUNK x kp doubles each: 48 KB at 10 sides)
 * stay in cache for the whole band. The blocks' own small triangles are done
 * element by element. */
#include <math.h>
#include <string.h>

#include "common/checked.h"
#include "kernels/gemm.h"
#include "kernels/gemm_pool.h"
#include "kernels/gemm_portable.h"
#include "kernels/gemm_portable_kernels.h"
#include "kernels/symm_mixed.h"

/* Rows per block (ROWS accumulators of GROUP doubles in registers, with the
 * rows' x and the column's x and sum), rows per band, columns per chunk. */
enum { ROWS = 4, GROUP = 4, BAND = 64, CHUNK = 512, MAX_WORKERS = 16 };

static int64_t padded(int64_t nrhs) { return (nrhs + GROUP - 1) / GROUP * GROUP; }

static int workers_for(int64_t n) {
    int t = clh_gemm_threads();
    if (t > MAX_WORKERS) t = MAX_WORKERS;
    if (n < 256) t = 1; /* a small product does not pay for waking a helper */
    return t < 1 ? 1 : t;
}

/* Doubles of one worker's area: its column sums and its band. */
static size_t worker_doubles(int64_t n, int64_t kp) {
    return (size_t)n * (size_t)kp + (size_t)BAND * (size_t)n;
}

size_t clh_symm_mixed_work(int64_t n, int64_t nrhs) {
    size_t per_vector, per_worker, total;
    int t = workers_for(n);
    if (!clh_mul_size((size_t)n, (size_t)padded(nrhs) + BAND, &per_worker) ||
        !clh_mul_size((size_t)n, (size_t)padded(nrhs), &per_vector) ||
        !clh_mul_size(per_worker, (size_t)t, &total) ||
        !clh_add_size(total, 2 * per_vector, &total) || total < 2 * per_vector)
        return 0;
    return total;
}

typedef struct job {
    int64_t n, kp;
    const float *m;
    int64_t ldm;
    const double *xt;
    double *dot;
    double *work; /* the workers' areas, after xt and dot */
    int workers, avx2;
} job;

/* First row of worker t's range: the triangle's area splits evenly at
 * n · sqrt(t / workers), on a block boundary. */
static int64_t range_start(int64_t n, int t, int workers) {
    if (t <= 0) return 0;
    if (t >= workers) return n;
    int64_t row = (int64_t)((double)n * sqrt((double)t / (double)workers));
    row -= row % ROWS;
    return row < n ? row : n;
}

/* Columns [j0, j0 + len) of `rows` rows (w: their widened rows, n apart,
 * row i0 + q at w + q · n), one group of GROUP sides at offset g, in plain
 * C: adds into the rows' sums (dot) and the columns' (col). */
static void left_c(const double *w, int64_t n, int rows, int64_t len, int64_t i0, int64_t j0,
                   const double *xt, int64_t kp, int64_t g, double *dot, double *col) {
    for (int q = 0; q < rows; q++) {
        double acc[GROUP] = {0}, xi[GROUP];
        for (int u = 0; u < GROUP; u++) xi[u] = xt[(i0 + q) * kp + g + u];
        for (int64_t j = 0; j < len; j++) {
            const double *xj = xt + (j0 + j) * kp + g;
            double *cj = col + (j0 + j) * kp + g, v = w[q * n + j0 + j];
            for (int u = 0; u < GROUP; u++) {
                acc[u] += v * xj[u];
                cj[u] += v * xi[u];
            }
        }
        for (int u = 0; u < GROUP; u++) dot[(i0 + q) * kp + g + u] += acc[u];
    }
}

#ifdef CLH_GEMM_X86
/* The same for a full block of ROWS = 4 rows with AVX2+FMA. */
CLH_TARGET_AVX2
static void left_avx2(const double *w, int64_t n, int64_t len, int64_t i0, int64_t j0,
                      const double *xt, int64_t kp, int64_t g, double *dot, double *col) {
    const double *w0 = w + j0, *w1 = w0 + n, *w2 = w0 + 2 * n, *w3 = w0 + 3 * n;
    __m256d a0 = _mm256_setzero_pd(), a1 = a0, a2 = a0, a3 = a0;
    __m256d x0 = _mm256_loadu_pd(xt + i0 * kp + g), x1 = _mm256_loadu_pd(xt + (i0 + 1) * kp + g);
    __m256d x2 = _mm256_loadu_pd(xt + (i0 + 2) * kp + g), x3 = _mm256_loadu_pd(xt + (i0 + 3) * kp + g);
    const double *xj = xt + j0 * kp + g;
    double *cj = col + j0 * kp + g;
    for (int64_t j = 0; j < len; j++, xj += kp, cj += kp) {
        __m256d x = _mm256_loadu_pd(xj), c = _mm256_loadu_pd(cj);
        __m256d v0 = _mm256_broadcast_sd(w0 + j), v1 = _mm256_broadcast_sd(w1 + j);
        __m256d v2 = _mm256_broadcast_sd(w2 + j), v3 = _mm256_broadcast_sd(w3 + j);
        a0 = _mm256_fmadd_pd(v0, x, a0);
        a1 = _mm256_fmadd_pd(v1, x, a1);
        a2 = _mm256_fmadd_pd(v2, x, a2);
        a3 = _mm256_fmadd_pd(v3, x, a3);
        c = _mm256_fmadd_pd(v0, x0, c);
        c = _mm256_fmadd_pd(v1, x1, c);
        c = _mm256_fmadd_pd(v2, x2, c);
        c = _mm256_fmadd_pd(v3, x3, c);
        _mm256_storeu_pd(cj, c);
    }
    double *d = dot + i0 * kp + g;
    _mm256_storeu_pd(d, _mm256_add_pd(_mm256_loadu_pd(d), a0));
    _mm256_storeu_pd(d + kp, _mm256_add_pd(_mm256_loadu_pd(d + kp), a1));
    _mm256_storeu_pd(d + 2 * kp, _mm256_add_pd(_mm256_loadu_pd(d + 2 * kp), a2));
    _mm256_storeu_pd(d + 3 * kp, _mm256_add_pd(_mm256_loadu_pd(d + 3 * kp), a3));
}
#endif

/* dst[0 .. len) = (double)src[0 .. len). */
static void widen_c(const float *src, int64_t len, double *dst) {
    for (int64_t j = 0; j < len; j++) dst[j] = (double)src[j];
}

#ifdef CLH_GEMM_X86
CLH_TARGET_AVX2
static void widen_avx2(const float *src, int64_t len, double *dst) {
    int64_t j = 0;
    for (; j + 8 <= len; j += 8) {
        _mm256_storeu_pd(dst + j, _mm256_cvtps_pd(_mm_loadu_ps(src + j)));
        _mm256_storeu_pd(dst + j + 4, _mm256_cvtps_pd(_mm_loadu_ps(src + j + 4)));
    }
    for (; j < len; j++) dst[j] = (double)src[j];
}
#endif

static void run_worker(void *ctx, int64_t t) {
    const job *jb = ctx;
    int64_t n = jb->n, kp = jb->kp;
    double *col = jb->work + (size_t)t * worker_doubles(n, kp);
    double *band = col + (size_t)n * (size_t)kp; /* [BAND][n] */
    int64_t lo = range_start(n, (int)t, jb->workers), hi = range_start(n, (int)t + 1, jb->workers);
    memset(col, 0, (size_t)hi * (size_t)kp * sizeof *col); /* only columns < hi are touched */
    memset(jb->dot + lo * kp, 0, (size_t)(hi - lo) * (size_t)kp * sizeof *jb->dot);
    for (int64_t b0 = lo; b0 < hi; b0 += BAND) {
        int64_t b1 = hi - b0 < BAND ? hi : b0 + BAND;
        for (int64_t i = b0; i < b1; i++) {
#ifdef CLH_GEMM_X86
            if (jb->avx2) {
                widen_avx2(jb->m + i * jb->ldm, i + 1, band + (i - b0) * n);
                continue;
            }
#endif
            widen_c(jb->m + i * jb->ldm, i + 1, band + (i - b0) * n);
        }
        /* Left of each block: chunk by chunk, the chunk's x and sums shared
         * by all the band's blocks. */
        for (int64_t j0 = 0; j0 < b1; j0 += CHUNK)
            for (int64_t i0 = b0; i0 < b1; i0 += ROWS) {
                int rows = (int)(b1 - i0 < ROWS ? b1 - i0 : ROWS);
                int64_t len = (i0 < j0 + CHUNK ? i0 : j0 + CHUNK) - j0;
                if (len <= 0) continue;
                const double *w = band + (i0 - b0) * n;
                for (int64_t g = 0; g < kp; g += GROUP) {
#ifdef CLH_GEMM_X86
                    if (jb->avx2 && rows == ROWS) {
                        left_avx2(w, n, len, i0, j0, jb->xt, kp, g, jb->dot, col);
                        continue;
                    }
#endif
                    left_c(w, n, rows, len, i0, j0, jb->xt, kp, g, jb->dot, col);
                }
            }
        /* Each block's own triangle, the diagonal once. */
        for (int64_t i0 = b0; i0 < b1; i0 += ROWS) {
            int rows = (int)(b1 - i0 < ROWS ? b1 - i0 : ROWS);
            for (int q = 0; q < rows; q++)
                for (int64_t j = i0; j <= i0 + q; j++) {
                    double v = band[(i0 + q - b0) * n + j];
                    for (int64_t u = 0; u < kp; u++) {
                        jb->dot[(i0 + q) * kp + u] += v * jb->xt[j * kp + u];
                        if (j < i0 + q) col[j * kp + u] += v * jb->xt[(i0 + q) * kp + u];
                    }
                }
        }
    }
}

void clh_symm_mixed(int64_t n, int64_t nrhs, double alpha, const float *m, int64_t ldm,
                    const double *x, const double *b, double *r, double *work) {
    int64_t kp = padded(nrhs);
    double *xt = work, *dot = work + (size_t)n * (size_t)kp;
    for (int64_t i = 0; i < n; i++)
        for (int64_t c = 0; c < kp; c++) xt[i * kp + c] = c < nrhs ? x[c * n + i] : 0.0;
    job jb = {n, kp, m, ldm, xt, dot, dot + (size_t)n * (size_t)kp, workers_for(n),
              clh_gemm_portable_vector_width() >= 8};
    if (jb.workers > 1)
        clh_pool_run(jb.workers, jb.workers, run_worker, &jb);
    else
        run_worker(&jb, 0);
    /* r = b − alpha (M x), the workers' column sums added in their order
     * (worker t's cover the columns below its range's end). */
    size_t stride = worker_doubles(n, kp);
    int64_t ends[MAX_WORKERS];
    for (int t = 0; t < jb.workers; t++) ends[t] = range_start(n, t + 1, jb.workers);
    for (int64_t i = 0; i < n; i++)
        for (int64_t c = 0; c < nrhs; c++) {
            double s = dot[i * kp + c];
            for (int t = 0; t < jb.workers; t++)
                if (i < ends[t]) s += jb.work[(size_t)t * stride + (size_t)(i * kp + c)];
            r[c * n + i] = b[c * n + i] - alpha * s;
        }
}
