/* clheads benchmark of the analytic (ridge) heads. A measurement, not a test:
 * it prints figures and asserts no times.
 *
 *   gram       the Gram update G += HᵀH over --rows rows of width --width in
 *              batches of --batch: clh_analytic_update (ridge, float32 and
 *              float64 statistics; the syrk plus class sums and input checks)
 *              and the bare syrk, against the same-precision multiply on the
 *              same shape in the same run (C[w, w] += AᵀA: clh_gemm for
 *              float32, cblas_dgemm for float64). GFLOP/s count what each
 *              call must do: syrk rows·w·(w+1), gemm 2·rows·w². The double
 *              part runs on --rows64 rows (dsyrk is slow).
 *   pipeline   the whole Split MNIST ridge run on synthetic MNIST-sized data
 *              (--train 60000, --test 10000 images of 784 values in [0, 1],
 *              ten class templates with noise): random expansion to --width,
 *              statistics over 5 tasks of 2 classes (CIL), a solve after each
 *              task, evaluation of the classes seen so far; the phases timed
 *              apart. scripts/bench_ridge_torch.py runs the same algorithm in
 *              PyTorch float32 with the same threads.
 *   precision  the pipeline's statistics in float32 and in float64 at once:
 *              the relative difference of the solved weights and of the
 *              test accuracy (the measurement behind analytic.h's default).
 *   solve      one solve of the pipeline's system after all --train images
 *              (float32 statistics, 10 classes): clh_analytic_solve (mixed
 *              precision, cholesky.h) against a bare float32 spotrf + spotrs
 *              (what PyTorch's cholesky + cholesky_solve do), both timed and
 *              compared with a float64 dpotrf solve of the same system (the
 *              measurement behind docs/analytic.md's precision of the solve).
 *
 *   bench_analytic [--mode gram|pipeline|precision|solve|all] [--threads N]
 *                  [--rows 60000] [--rows64 12000] [--width 4096] [--batch 2000]
 *                  [--train 60000] [--test 10000] [--precision f32|f64]
 *                  [--lambda 1] [--quick]
 */
#define _POSIX_C_SOURCE 200809L

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clheads.h"
#include "analytic/cholesky.h" /* which path the solves took */
#include "kernels/gemm.h" /* the syrk entry of the multiply dispatch */

#ifdef CLH_BENCH_CBLAS
#include <cblas.h>
#endif
#ifdef CLH_BENCH_LAPACKE
#include <lapacke.h>
#endif

typedef struct options {
    const char *mode;
    int threads;
    int64_t rows, rows64, width, batch, train, test;
    clh_dtype precision;
    double lambda;
} options;

static double now_s(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;
static uint64_t next_u64(void) {
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 2685821657736338717ull;
}
static float uniform01(void) { return (float)((double)(next_u64() >> 40) * 0x1.0p-24); }

static void *xmalloc(size_t bytes) {
    void *p = malloc(bytes ? bytes : 1);
    if (!p) {
        fprintf(stderr, "bench_analytic: out of memory (%zu bytes)\n", bytes);
        exit(2);
    }
    return p;
}

#define OK(call)                                                                         \
    do {                                                                                 \
        clh_status st_ = (call);                                                         \
        if (st_ != CLH_OK) {                                                             \
            fprintf(stderr, "bench_analytic: %s failed: %s (%s)\n", #call,               \
                    clh_status_name(st_), clh_last_error());                             \
            exit(2);                                                                     \
        }                                                                                \
    } while (0)

/* ---- gram ----------------------------------------------------------------------- */

static clh_analytic *ridge_stats(clh_paradigm p, int64_t width, clh_dtype precision,
                                 double lambda) {
    clh_analytic_config c;
    clh_analytic_config_init(&c, CLH_ANALYTIC_RIDGE);
    c.precision = precision;
    c.lambda = lambda;
    clh_analytic *a = NULL;
    OK(clh_analytic_create(&a, &c, p, width));
    return a;
}

static void bench_gram(const options *o) {
    int64_t w = o->width, b = o->batch;
    float *h = xmalloc((size_t)(b * w) * sizeof *h);
    for (int64_t i = 0; i < b * w; i++) h[i] = uniform01() < 0.5f ? 0.0f : uniform01();
    int64_t *labels = xmalloc((size_t)b * sizeof *labels);
    for (int64_t i = 0; i < b; i++) labels[i] = i % 10;
    float *c = xmalloc((size_t)(w * w) * sizeof *c);
    memset(c, 0, (size_t)(w * w) * sizeof *c);

    /* float32: the update, the bare syrk and the multiply on the same batches. */
    int64_t batches = o->rows / b;
    double rows = (double)(batches * b);
    double syrk_flops = rows * (double)w * (double)(w + 1), gemm_flops = 2.0 * rows * w * w;
    clh_analytic *a = ridge_stats(CLH_DIL, w, CLH_DT_F32, 1.0);
    OK(clh_analytic_setup_single(a, 10));
    /* Batch by batch, the three in turn, so a busy machine slows all alike. */
    double t_update = 0, t_syrk = 0, t_gemm = 0;
    for (int64_t k = 0; k < batches; k++) {
        double t0 = now_s();
        OK(clh_analytic_update(a, h, b, CLH_NO_TASK, labels));
        double t1 = now_s();
        clh_syrk_f32(w, b, 1.0f, h, w, 1.0f, c, w);
        double t2 = now_s();
        clh_gemm(1, 0, w, w, b, 1.0f, h, w, h, w, 1.0f, c, w);
        double t3 = now_s();
        t_update += t1 - t0;
        t_syrk += t2 - t1;
        t_gemm += t3 - t2;
    }
    clh_analytic_free(a);
    printf("gram f32 rows %.0f width %lld batch %lld threads %d (%s)\n", rows, (long long)w,
           (long long)b, clh_get_num_threads(), clh_gemm_backend());
    printf("  clh_analytic_update  %7.2f s  %6.1f GFLOP/s  %5.1f%% of sgemm\n", t_update,
           syrk_flops / t_update * 1e-9, 100.0 * (syrk_flops / t_update) / (gemm_flops / t_gemm));
    printf("  syrk (dispatch)      %7.2f s  %6.1f GFLOP/s  %5.1f%% of sgemm\n", t_syrk,
           syrk_flops / t_syrk * 1e-9, 100.0 * (syrk_flops / t_syrk) / (gemm_flops / t_gemm));
    printf("  sgemm (dispatch)     %7.2f s  %6.1f GFLOP/s\n", t_gemm, gemm_flops / t_gemm * 1e-9);
    free(c);

    /* float64 on fewer rows. */
    int64_t batches64 = o->rows64 / b;
    double rows64 = (double)(batches64 * b);
    syrk_flops = rows64 * (double)w * (double)(w + 1);
    gemm_flops = 2.0 * rows64 * w * w;
    a = ridge_stats(CLH_DIL, w, CLH_DT_F64, 1.0);
    OK(clh_analytic_setup_single(a, 10));
    double *hd = xmalloc((size_t)(b * w) * sizeof *hd), *cd = xmalloc((size_t)(w * w) * sizeof *cd);
    for (int64_t i = 0; i < b * w; i++) hd[i] = h[i];
    memset(cd, 0, (size_t)(w * w) * sizeof *cd);
    t_update = t_syrk = t_gemm = 0;
    for (int64_t k = 0; k < batches64; k++) {
        double t0 = now_s();
        OK(clh_analytic_update(a, h, b, CLH_NO_TASK, labels));
        double t1 = now_s();
        clh_syrk_f64(w, b, 1.0, hd, w, 1.0, cd, w);
        double t2 = now_s();
#ifdef CLH_BENCH_CBLAS
        cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)w, (int)w, (int)b, 1.0, hd,
                    (int)w, hd, (int)w, 1.0, cd, (int)w);
#endif
        double t3 = now_s();
        t_update += t1 - t0;
        t_syrk += t2 - t1;
        t_gemm += t3 - t2;
    }
    clh_analytic_free(a);
    printf("gram f64 rows %.0f width %lld batch %lld\n", rows64, (long long)w, (long long)b);
#ifdef CLH_BENCH_CBLAS
    printf("  clh_analytic_update  %7.2f s  %6.1f GFLOP/s  %5.1f%% of dgemm\n", t_update,
           syrk_flops / t_update * 1e-9, 100.0 * (syrk_flops / t_update) / (gemm_flops / t_gemm));
    printf("  syrk (dispatch)      %7.2f s  %6.1f GFLOP/s  %5.1f%% of dgemm\n", t_syrk,
           syrk_flops / t_syrk * 1e-9, 100.0 * (syrk_flops / t_syrk) / (gemm_flops / t_gemm));
    printf("  dgemm (cblas)        %7.2f s  %6.1f GFLOP/s\n", t_gemm, gemm_flops / t_gemm * 1e-9);
#else
    printf("  clh_analytic_update  %7.2f s  %6.1f GFLOP/s  (no dgemm in a build without BLAS)\n",
           t_update, syrk_flops / t_update * 1e-9);
    printf("  syrk (dispatch)      %7.2f s  %6.1f GFLOP/s\n", t_syrk, syrk_flops / t_syrk * 1e-9);
#endif
    free(hd);
    free(cd);
    free(h);
    free(labels);
}

/* ---- pipeline -------------------------------------------------------------------- */

/* Synthetic MNIST-sized digits: ten similar templates (below); an image
 * is its class's template with random stroke intensities and 40% of its ink
 * dropped, overlaid with a random other class's template at up to the full
 * the intensity, and 10% stray pixels (so the classes overlap and accuracy is
 * not trivially 100%). Labels 0..9 in random order. */
typedef struct digits {
    float *x;       /* [n, 784] */
    int64_t *label; /* [n] */
    int64_t n;
} digits;

enum { PIXELS = 784, CLASSES = 10, TASKS = 5 };

static float templates[CLASSES][PIXELS];

/* One shared base of 25% ink; each class flips 2% of its pixels. */
static void make_templates(void) {
    float base[PIXELS];
    for (int j = 0; j < PIXELS; j++) base[j] = uniform01() < 0.25f ? 1.0f : 0.0f;
    for (int c = 0; c < CLASSES; c++)
        for (int j = 0; j < PIXELS; j++)
            templates[c][j] = uniform01() < 0.02f ? 1.0f - base[j] : base[j];
}

static digits make_digits(int64_t n) {
    digits d = {xmalloc((size_t)(n * PIXELS) * sizeof(float)), xmalloc((size_t)n * sizeof(int64_t)), n};
    for (int64_t i = 0; i < n; i++) {
        int64_t c = (int64_t)(next_u64() % CLASSES), other = (int64_t)(next_u64() % CLASSES);
        float overlay = uniform01();
        d.label[i] = c;
        for (int j = 0; j < PIXELS; j++) {
            float ink = templates[c][j] > 0 && uniform01() > 0.4f ? 0.5f + 0.5f * uniform01() : 0.0f;
            float extra = templates[other][j] * overlay * uniform01();
            if (extra > ink) ink = extra;
            if (uniform01() < 0.10f) ink = uniform01();
            d.x[i * PIXELS + j] = ink;
        }
    }
    return d;
}

/* The rows of `all` whose label is in [lo, hi), copied out. */
static digits select_classes(const digits *all, int64_t lo, int64_t hi) {
    int64_t n = 0;
    for (int64_t i = 0; i < all->n; i++) n += all->label[i] >= lo && all->label[i] < hi;
    digits d = {xmalloc((size_t)(n * PIXELS) * sizeof(float)), xmalloc((size_t)n * sizeof(int64_t)), n};
    int64_t k = 0;
    for (int64_t i = 0; i < all->n; i++)
        if (all->label[i] >= lo && all->label[i] < hi) {
            memcpy(d.x + k * PIXELS, all->x + i * PIXELS, PIXELS * sizeof(float));
            d.label[k++] = all->label[i];
        }
    return d;
}

typedef struct phase_times {
    double expand, stats, solve, eval;
} phase_times;

/* One CIL ridge run; returns the final average accuracy (classes seen).
 * heads_out (may be NULL) receives the final heads. */
static double ridge_run(const options *o, const digits *train, const digits *test_set,
                        clh_dtype precision, phase_times *pt, int verbose, clh_heads **heads_out,
                        float *test_features /* [test, width] or NULL: computed here */) {
    int64_t w = o->width;
    clh_random_features *rf = NULL;
    OK(clh_random_features_create(&rf, 1, PIXELS, w));
    clh_analytic *a = ridge_stats(CLH_CIL, w, precision, o->lambda);
    clh_heads *h = NULL;
    OK(clh_heads_create(&h, CLH_CIL, w, 1));
    float *hbuf = xmalloc((size_t)(o->batch * w) * sizeof *hbuf);
    float *test_h = test_features ? test_features : xmalloc((size_t)(test_set->n * w) * sizeof *test_h);
    float *logits = xmalloc((size_t)(test_set->n * CLASSES) * sizeof *logits);
    memset(pt, 0, sizeof *pt);
    double t0 = now_s();
    for (int64_t i = 0; i < test_set->n; i += o->batch) {
        int64_t n = test_set->n - i < o->batch ? test_set->n - i : o->batch;
        OK(clh_random_features_apply(rf, test_set->x + i * PIXELS, n, test_h + i * w));
    }
    pt->expand += now_s() - t0;
    double average = 0;
    for (int64_t t = 0; t < TASKS; t++) {
        OK(clh_analytic_setup_task(a, t, 2));
        OK(clh_heads_setup_task(h, t, 2));
        digits task = select_classes(train, 2 * t, 2 * t + 2);
        for (int64_t i = 0; i < task.n; i += o->batch) {
            int64_t n = task.n - i < o->batch ? task.n - i : o->batch;
            t0 = now_s();
            OK(clh_random_features_apply(rf, task.x + i * PIXELS, n, hbuf));
            double t1 = now_s();
            OK(clh_analytic_update(a, hbuf, n, CLH_NO_TASK, task.label + i));
            pt->expand += t1 - t0;
            pt->stats += now_s() - t1;
        }
        free(task.x);
        free(task.label);
        t0 = now_s();
        OK(clh_analytic_solve(a, h, CLH_NO_TASK));
        double t1 = now_s();
        pt->solve += t1 - t0;
        /* Evaluate on the test images of the classes seen so far. */
        int64_t width = 2 * (t + 1), seen = 0, correct = 0;
        OK(clh_heads_forward(h, test_h, test_set->n, CLH_NO_TASK, logits));
        for (int64_t i = 0; i < test_set->n; i++) {
            if (test_set->label[i] >= width) continue;
            int64_t best = 0;
            for (int64_t c = 1; c < width; c++)
                if (logits[i * width + c] > logits[i * width + best]) best = c;
            seen++;
            correct += best == test_set->label[i];
        }
        pt->eval += now_s() - t1;
        average = seen ? 100.0 * (double)correct / (double)seen : 0;
        if (verbose) printf("  after task %lld: accuracy on classes 0..%lld = %.2f%%\n",
                            (long long)t, (long long)width - 1, average);
    }
    if (heads_out) *heads_out = h; else clh_heads_free(h);
    clh_analytic_free(a);
    clh_random_features_free(rf);
    free(hbuf);
    if (!test_features) free(test_h);
    free(logits);
    return average;
}

static void bench_pipeline(const options *o, const digits *train, const digits *test_set) {
    phase_times pt;
    printf("pipeline: CIL ridge, %lld train / %lld test images, 784 -> %lld, 5 tasks, lambda %g, "
           "%s statistics, batch %lld, threads %d (%s)\n", (long long)train->n,
           (long long)test_set->n, (long long)o->width, o->lambda, clh_dtype_name(o->precision),
           (long long)o->batch, clh_get_num_threads(), clh_gemm_backend());
    double t0 = now_s();
    double acc = ridge_run(o, train, test_set, o->precision, &pt, 1, NULL, NULL);
    double total = now_s() - t0;
    printf("  phases: expansion %.2f s, statistics %.2f s, 5 solves %.2f s, evaluation %.2f s\n",
           pt.expand, pt.stats, pt.solve, pt.eval);
    printf("  total %.2f s (final average accuracy %.2f%%)\n", total, acc);
}

static void bench_precision(const options *o, const digits *train, const digits *test_set) {
    phase_times p32, p64;
    clh_heads *h32 = NULL, *h64 = NULL;
    float *test_h = xmalloc((size_t)(test_set->n * o->width) * sizeof *test_h);
    printf("precision: float32 against float64 statistics, %lld x %lld features, lambda %g, "
           "batch %lld\n", (long long)train->n, (long long)o->width, o->lambda, (long long)o->batch);
    double a32 = ridge_run(o, train, test_set, CLH_DT_F32, &p32, 0, &h32, test_h);
    double a64 = ridge_run(o, train, test_set, CLH_DT_F64, &p64, 0, &h64, test_h);
    float *w32, *w64;
    size_t n32, n64;
    clh_heads_flat(h32, &w32, NULL, &n32);
    clh_heads_flat(h64, &w64, NULL, &n64);
    double diff = 0, scale = 0;
    for (size_t i = 0; i < n32 && n32 == n64; i++) {
        if (fabs((double)w32[i] - w64[i]) > diff) diff = fabs((double)w32[i] - w64[i]);
        if (fabs((double)w64[i]) > scale) scale = fabs((double)w64[i]);
    }
    /* Predictions that differ on the test set. */
    float *l32 = xmalloc((size_t)(test_set->n * CLASSES) * sizeof *l32);
    float *l64 = xmalloc((size_t)(test_set->n * CLASSES) * sizeof *l64);
    OK(clh_heads_forward(h32, test_h, test_set->n, CLH_NO_TASK, l32));
    OK(clh_heads_forward(h64, test_h, test_set->n, CLH_NO_TASK, l64));
    int64_t differ = 0;
    for (int64_t i = 0; i < test_set->n; i++) {
        int64_t b32 = 0, b64 = 0;
        for (int64_t c = 1; c < CLASSES; c++) {
            if (l32[i * CLASSES + c] > l32[i * CLASSES + b32]) b32 = c;
            if (l64[i * CLASSES + c] > l64[i * CLASSES + b64]) b64 = c;
        }
        differ += b32 != b64;
    }
    printf("  weights: max |W32 - W64| / max |W64| = %.3g\n", scale > 0 ? diff / scale : diff);
    printf("  accuracy: float32 %.2f%%, float64 %.2f%%; predictions differ on %lld of %lld test images\n",
           a32, a64, (long long)differ, (long long)test_set->n);
    printf("  statistics time: float32 %.2f s, float64 %.2f s\n", p32.stats, p64.stats);
    clh_heads_free(h32);
    clh_heads_free(h64);
    free(l32);
    free(l64);
    free(test_h);
}

/* ---- solve ----------------------------------------------------------------------- */

#ifdef CLH_BENCH_LAPACKE
/* max |x - ref| / max |ref| over n values. */
static double max_rel(const float *x, const double *ref, size_t n) {
    double diff = 0, scale = 0;
    for (size_t i = 0; i < n; i++) {
        if (fabs((double)x[i] - ref[i]) > diff) diff = fabs((double)x[i] - ref[i]);
        if (fabs(ref[i]) > scale) scale = fabs(ref[i]);
    }
    return scale > 0 ? diff / scale : diff;
}
#endif

static void bench_solve(const options *o, const digits *train) {
    int64_t w = o->width;
    clh_random_features *rf = NULL;
    OK(clh_random_features_create(&rf, 1, PIXELS, w));
    clh_analytic *a = ridge_stats(CLH_CIL, w, CLH_DT_F32, o->lambda);
    clh_heads *h = NULL;
    OK(clh_heads_create(&h, CLH_CIL, w, 1));
    OK(clh_analytic_setup_task(a, 0, CLASSES));
    OK(clh_heads_setup_task(h, 0, CLASSES));
    float *hbuf = xmalloc((size_t)(o->batch * w) * sizeof *hbuf);
    for (int64_t i = 0; i < train->n; i += o->batch) {
        int64_t n = train->n - i < o->batch ? train->n - i : o->batch;
        OK(clh_random_features_apply(rf, train->x + i * PIXELS, n, hbuf));
        OK(clh_analytic_update(a, hbuf, n, CLH_NO_TASK, train->label + i));
    }
    free(hbuf);
    printf("solve: ridge (G + %g I) W = Q, G of %lld random ReLU features of width %lld, %d classes, "
           "float32 statistics, threads %d (%s Cholesky)\n", o->lambda, (long long)train->n,
           (long long)w, CLASSES, clh_get_num_threads(), clh_cholesky_backend());
    double best = 1e30;
    unsigned long mixed0 = clh_cholesky_mixed_count(), fallback0 = clh_cholesky_fallback_count();
    for (int rep = 0; rep < 3; rep++) {
        double t0 = now_s();
        OK(clh_analytic_solve(a, h, CLH_NO_TASK));
        double t = now_s() - t0;
        if (t < best) best = t;
    }
    printf("  clh_analytic_solve      %7.3f s (best of 3; mixed precision %lu, float64 fallback %lu)\n",
           best, clh_cholesky_mixed_count() - mixed0,
           clh_cholesky_fallback_count() - fallback0);
#ifdef CLH_BENCH_LAPACKE
    /* The same system from the saved statistics: G (full, symmetric) and Q. */
    clh_analytic_export *e = NULL;
    OK(clh_analytic_export_create(a, NULL, &e));
    size_t count = 0;
    const clh_st_tensor *t = clh_analytic_export_tensors(e, &count);
    const float *g = NULL;
    const double *q = NULL;
    for (size_t i = 0; i < count; i++) {
        if (strcmp(t[i].name, "analytic.gram") == 0) g = t[i].data;
        if (strcmp(t[i].name, "analytic.sums") == 0) q = t[i].data;
    }
    if (!g || !q) {
        fprintf(stderr, "bench_analytic: the export lacks the Gram matrix or the sums\n");
        exit(2);
    }
    size_t nn = (size_t)(w * w), nb = (size_t)(w * CLASSES);
    double *ad = xmalloc(nn * sizeof *ad), *xd = xmalloc(nb * sizeof *xd);
    float *af = xmalloc(nn * sizeof *af), *xf = xmalloc(nb * sizeof *xf);
    for (size_t i = 0; i < nn; i++) ad[i] = g[i];
    for (int64_t i = 0; i < w; i++) ad[i * w + i] += o->lambda;
    memcpy(xd, q, nb * sizeof *xd);
    double t0 = now_s();
    int info = (int)LAPACKE_dpotrf(LAPACK_COL_MAJOR, 'U', (int)w, ad, (int)w);
    if (!info) info = (int)LAPACKE_dpotrs(LAPACK_COL_MAJOR, 'U', (int)w, CLASSES, ad, (int)w, xd, (int)w);
    double t_double = now_s() - t0;
    best = 1e30;
    for (int rep = 0; rep < 3 && !info; rep++) {
        for (size_t i = 0; i < nn; i++) af[i] = g[i];
        for (int64_t i = 0; i < w; i++) af[i * w + i] += (float)o->lambda;
        for (size_t i = 0; i < nb; i++) xf[i] = (float)q[i];
        t0 = now_s();
        info = (int)LAPACKE_spotrf(LAPACK_COL_MAJOR, 'U', (int)w, af, (int)w);
        if (!info) info = (int)LAPACKE_spotrs(LAPACK_COL_MAJOR, 'U', (int)w, CLASSES, af, (int)w, xf, (int)w);
        double tf = now_s() - t0;
        if (tf < best) best = tf;
    }
    if (info) {
        fprintf(stderr, "bench_analytic: LAPACK failed (info %d)\n", info);
        exit(2);
    }
    double err_float = max_rel(xf, xd, nb);
    /* Refinement in float32 only: residuals R = Q - G X - λX by ssymm, in
     * float32 arithmetic, then X += the float32 solve of R. */
    float *resid = xmalloc(nb * sizeof *resid);
    double err_refined[3];
    for (int step = 0; step < 3; step++) {
        for (size_t i = 0; i < nb; i++) resid[i] = (float)q[i] - (float)o->lambda * xf[i];
        cblas_ssymm(CblasColMajor, CblasLeft, CblasUpper, (int)w, CLASSES, -1.0f, g, (int)w, xf,
                    (int)w, 1.0f, resid, (int)w);
        LAPACKE_spotrs(LAPACK_COL_MAJOR, 'U', (int)w, CLASSES, af, (int)w, resid, (int)w);
        for (size_t i = 0; i < nb; i++) xf[i] += resid[i];
        err_refined[step] = max_rel(xf, xd, nb);
    }
    free(resid);
    float *weight;
    clh_heads_flat(h, &weight, NULL, NULL);
    printf("  float32 spotrf + spotrs %7.3f s (best of 3; PyTorch's float32 solve)\n", best);
    printf("  float64 dpotrf + dpotrs %7.3f s (the reference)\n", t_double);
    printf("  weights against float64 (max |W - W64| / max |W64|): clh_analytic_solve %.2g, "
           "float32 Cholesky %.2g, then refined with float32 residuals %.2g, %.2g, %.2g (1, 2, 3 "
           "steps)\n", max_rel(weight, xd, nb), err_float, err_refined[0], err_refined[1],
           err_refined[2]);
    free(ad);
    free(xd);
    free(af);
    free(xf);
    clh_analytic_export_free(e);
#else
    printf("  (no LAPACK in this build: no float32 or float64 LAPACK solve to compare)\n");
#endif
    clh_heads_free(h);
    clh_analytic_free(a);
    clh_random_features_free(rf);
}

static int64_t parse_int(const char *s) { return strtoll(s, NULL, 10); }

int main(int argc, char **argv) {
    setvbuf(stdout, NULL, _IOLBF, 0); /* figures appear as they are measured */
    options o = {"all", 0, 60000, 12000, 4096, 2000, 60000, 10000, CLH_DT_F32, 1.0};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--quick") == 0) {
            o.rows = o.rows64 = 2000;
            o.width = 256;
            o.batch = 500;
            o.train = 3000;
            o.test = 500;
        } else if (v && strcmp(a, "--mode") == 0) o.mode = argv[++i];
        else if (v && strcmp(a, "--threads") == 0) o.threads = (int)parse_int(argv[++i]);
        else if (v && strcmp(a, "--rows") == 0) o.rows = parse_int(argv[++i]);
        else if (v && strcmp(a, "--rows64") == 0) o.rows64 = parse_int(argv[++i]);
        else if (v && strcmp(a, "--width") == 0) o.width = parse_int(argv[++i]);
        else if (v && strcmp(a, "--batch") == 0) o.batch = parse_int(argv[++i]);
        else if (v && strcmp(a, "--train") == 0) o.train = parse_int(argv[++i]);
        else if (v && strcmp(a, "--test") == 0) o.test = parse_int(argv[++i]);
        else if (v && strcmp(a, "--lambda") == 0) o.lambda = strtod(argv[++i], NULL);
        else if (v && strcmp(a, "--precision") == 0) {
            const char *p = argv[++i];
            o.precision = strcmp(p, "f64") == 0 ? CLH_DT_F64 : CLH_DT_F32;
        } else {
            fprintf(stderr, "usage: bench_analytic [--mode gram|pipeline|precision|solve|all] "
                    "[--threads N] [--rows N] [--rows64 N] [--width W] [--batch B] [--train N] "
                    "[--test N] [--precision f32|f64] [--lambda L] [--quick]\n");
            return 2;
        }
    }
    if (o.width <= 0 || o.batch <= 0 || o.rows < o.batch || o.rows64 < o.batch || o.train <= 0 ||
        o.test <= 0) {
        fprintf(stderr, "bench_analytic: sizes must be positive and rows >= batch\n");
        return 2;
    }
    clh_set_num_threads(o.threads);
    int all = strcmp(o.mode, "all") == 0;
    if (all || strcmp(o.mode, "gram") == 0) bench_gram(&o);
    int solve = strcmp(o.mode, "solve") == 0;
    if (all || solve || strcmp(o.mode, "pipeline") == 0 || strcmp(o.mode, "precision") == 0) {
        make_templates();
        digits train = make_digits(o.train), test_set = make_digits(o.test);
        if (all || strcmp(o.mode, "pipeline") == 0) bench_pipeline(&o, &train, &test_set);
        if (all || strcmp(o.mode, "precision") == 0) bench_precision(&o, &train, &test_set);
        if (all || solve) bench_solve(&o, &train);
        free(train.x);
        free(train.label);
        free(test_set.x);
        free(test_set.label);
    }
    return 0;
}
