/* clheads benchmark: times the heads over a grid and prints tab-separated rows
 * for scripts/bench.sh to merge with the PyTorch side into one table. It is a
 * measurement, not a test: it asserts no times.
 *
 * For each paradigm, batch, input width, task count and thread count:
 *   fwd     clh_heads_forward (MTL: forward_mixed on a batch of random task ids)
 *   fwdbwd  zero-grad (TIL: of the task's head) + forward + cross-entropy (loss
 *           and dlogits) + backward with d(feature): a training step without
 *           the optimizer
 * and, for CIL, the Adam step over the whole bank (op "adam").
 * Each time is the median of repeated calls after a warm-up; the number of
 * calls adapts to the time a call takes (--budget-ms per measurement).
 * Alongside: cblas_sgemm on the same shape(s) in the same process (builds
 * with CBLAS only), the allocations made by the timed calls (steady state:
 * expected 0), and the memory a CIL handle holds per parameter.
 *
 * Output rows (first field names the kind):
 *   meta  key value
 *   time  paradigm op batch in tasks threads median_us reps allocs sgemm_us
 *   mem   in tasks rows capacity_rows max_capacity_ratio heads_bytes_per_param
 *         optim_bytes_per_param
 *   phase paradigm batch in tasks threads zero_grad_us forward_us loss_us backward_us
 *         (fwdbwd split into its parts, for the figure shapes and --breakdown)
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#if defined(__GLIBC__) || defined(__linux__)
#include <malloc.h>
#endif

#include "common/testing.h"       /* allocations since start, the multiply policy */
#include "kernels/gemm_portable.h" /* which portable kernel this CPU runs */
#include "clheads.h"
#include "clheads/loss.h"
#include "clheads/optim.h"

#ifdef CLH_BENCH_CBLAS
#include <cblas.h>
#endif

#define MAX_LIST 8

typedef struct int_list {
    int64_t v[MAX_LIST];
    int n;
} int_list;

typedef struct options {
    int_list batches, ins, tasks, threads;
    int paradigm_enabled[5];
    double budget_s; /* time spent per measurement, warm-up excluded */
    int min_reps, max_reps;
    int memory; /* report the memory rows */
    int optim;  /* time the CIL optimizer step */
    int breakdown; /* split every fwdbwd into its phases (else the figure shapes only) */
} options;

/* ---- small utilities ------------------------------------------------------ */

static double now_s(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* xorshift64*: reproducible inputs without touching rand()'s global state. */
static uint64_t rng_state = 0x9E3779B97F4A7C15ull;
static uint64_t next_u64(void) {
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 2685821657736338717ull;
}
static float uniform_pm1(void) { return (float)((double)(next_u64() >> 40) / (double)(1ull << 24)) * 2.0f - 1.0f; }
static int64_t below(int64_t n) { return (int64_t)(next_u64() % (uint64_t)n); }

static void *xmalloc(size_t bytes) {
    void *p = malloc(bytes ? bytes : 1);
    if (!p) {
        fprintf(stderr, "bench: out of memory (%zu bytes)\n", bytes);
        exit(2);
    }
    return p;
}

static void die_status(clh_status st, const char *where) {
    fprintf(stderr, "bench: %s failed: %s (%s)\n", where, clh_status_name(st), clh_last_error());
    exit(2);
}
#define OK(call)                           \
    do {                                   \
        clh_status st_ = (call);           \
        if (st_ != CLH_OK) die_status(st_, #call); \
    } while (0)

/* ---- the timing loop ------------------------------------------------------ */

typedef void (*bench_fn)(void *ctx);

typedef struct timing {
    double median_us;
    int reps;
    unsigned long allocs; /* allocations made by the timed calls */
} timing;

/* Warm-up (at least two calls and 10% of the budget), then repeated calls
 * timed one by one; returns their median. */
static timing measure(const options *opt, bench_fn fn, void *ctx) {
    double warm_start = now_s(), elapsed;
    int warm_calls = 0;
    do {
        fn(ctx);
        warm_calls++;
        elapsed = now_s() - warm_start;
    } while (warm_calls < 2 || elapsed < 0.1 * opt->budget_s);
    double per_call = elapsed / warm_calls;
    int reps = (int)(opt->budget_s / (per_call > 1e-9 ? per_call : 1e-9));
    if (reps < opt->min_reps) reps = opt->min_reps;
    if (reps > opt->max_reps) reps = opt->max_reps;

    double *times = xmalloc((size_t)reps * sizeof *times);
    unsigned long allocs_before = clh_test_alloc_count();
    for (int r = 0; r < reps; r++) {
        double t0 = now_s();
        fn(ctx);
        times[r] = now_s() - t0;
    }
    timing result = {0.0, reps, clh_test_alloc_count() - allocs_before};
    qsort(times, (size_t)reps, sizeof *times, cmp_double);
    result.median_us = (reps % 2 ? times[reps / 2] : 0.5 * (times[reps / 2 - 1] + times[reps / 2])) * 1e6;
    free(times);
    return result;
}

/* ---- one head configuration ----------------------------------------------- */

typedef struct head_case {
    clh_heads *heads;
    clh_paradigm paradigm;
    int64_t batch, in, width, task_id; /* task_id: CLH_NO_TASK for CIL/DIL/STL and MTL mixed */
    float *x, *logits, *dlogits, *dx;
    int64_t *labels, *task_ids; /* task_ids: MTL mixed only */
    void *workspace;
    size_t workspace_bytes;
    clh_optim *optim;
} head_case;

static void run_forward(void *ctx) {
    head_case *c = ctx;
    if (c->task_ids)
        OK(clh_heads_forward_mixed(c->heads, c->x, c->batch, c->task_ids, c->logits, c->workspace,
                                   c->workspace_bytes));
    else
        OK(clh_heads_forward(c->heads, c->x, c->batch, c->task_id, c->logits));
}

/* TIL trains one head per batch: zero that head's gradients, not the whole
 * bank (torch's zero_grad(set_to_none=True) costs nothing for the others). */
static void zero_grad_for_step(head_case *c) {
    if (c->paradigm == CLH_TIL)
        OK(clh_heads_zero_grad_task(c->heads, c->task_id));
    else
        clh_heads_zero_grad(c->heads);
}

static void run_forward_backward(void *ctx) {
    head_case *c = ctx;
    float loss;
    zero_grad_for_step(c);
    run_forward(c);
    OK(clh_heads_cross_entropy(c->heads, c->logits, c->batch, c->task_id, c->task_ids, c->labels,
                               &loss, c->dlogits));
    if (c->task_ids)
        OK(clh_heads_backward_mixed(c->heads, c->x, c->batch, c->task_ids, c->dlogits, c->dx,
                                    c->workspace, c->workspace_bytes));
    else
        OK(clh_heads_backward(c->heads, c->x, c->batch, c->task_id, c->dlogits, c->dx));
}

/* The phases of run_forward_backward, timed one by one (backward keeps
 * accumulating into the gradients, which costs the same). */
static void run_zero_grad(void *ctx) {
    zero_grad_for_step(ctx);
}

static void run_loss(void *ctx) {
    head_case *c = ctx;
    float loss;
    OK(clh_heads_cross_entropy(c->heads, c->logits, c->batch, c->task_id, c->task_ids, c->labels,
                               &loss, c->dlogits));
}

static void run_backward(void *ctx) {
    head_case *c = ctx;
    if (c->task_ids)
        OK(clh_heads_backward_mixed(c->heads, c->x, c->batch, c->task_ids, c->dlogits, c->dx,
                                    c->workspace, c->workspace_bytes));
    else
        OK(clh_heads_backward(c->heads, c->x, c->batch, c->task_id, c->dlogits, c->dx));
}

static void run_optim_step(void *ctx) {
    head_case *c = ctx;
    OK(clh_optim_step_heads(c->optim, c->heads));
}

/* Task ids 1..tasks, 10 classes each (as the seed's benchmarks number them).
 * TIL/CIL grow task by task; MTL sets all up at once; DIL/STL have one head. */
static clh_heads *make_heads(clh_paradigm paradigm, int64_t in, int64_t tasks) {
    clh_heads *h;
    OK(clh_heads_create(&h, paradigm, in, 42));
    if (paradigm == CLH_TIL || paradigm == CLH_CIL) {
        for (int64_t t = 1; t <= tasks; t++) OK(clh_heads_setup_task(h, t, 10));
    } else if (paradigm == CLH_MTL) {
        int64_t *ids = xmalloc((size_t)tasks * sizeof *ids), *classes = xmalloc((size_t)tasks * sizeof *classes);
        for (int64_t t = 0; t < tasks; t++) ids[t] = t + 1, classes[t] = 10;
        OK(clh_heads_setup_tasks(h, ids, classes, (size_t)tasks));
        free(ids);
        free(classes);
    } else {
        OK(clh_heads_setup_single(h, 10));
    }
    return h;
}

static void case_init(head_case *c, clh_paradigm paradigm, int64_t batch, int64_t in, int64_t tasks) {
    memset(c, 0, sizeof *c);
    c->paradigm = paradigm;
    c->batch = batch;
    c->in = in;
    c->heads = make_heads(paradigm, in, tasks);
    c->task_id = (paradigm == CLH_TIL) ? tasks : CLH_NO_TASK; /* TIL: the newest head */
    OK(clh_heads_logits_width(c->heads, c->task_id, &c->width));
    size_t xs = (size_t)(batch * in), ls = (size_t)(batch * c->width);
    c->x = xmalloc(xs * sizeof(float));
    c->dx = xmalloc(xs * sizeof(float));
    c->logits = xmalloc(ls * sizeof(float));
    c->dlogits = xmalloc(ls * sizeof(float));
    c->labels = xmalloc((size_t)batch * sizeof(int64_t));
    for (size_t i = 0; i < xs; i++) c->x[i] = uniform_pm1();
    if (paradigm == CLH_MTL) {
        c->task_ids = xmalloc((size_t)batch * sizeof(int64_t));
        for (int64_t i = 0; i < batch; i++) c->task_ids[i] = 1 + below(tasks);
        OK(clh_heads_mixed_workspace_size(c->heads, batch, &c->workspace_bytes));
        c->workspace = xmalloc(c->workspace_bytes);
    }
    /* CIL labels are global over all heads; the others local to the head. */
    for (int64_t i = 0; i < batch; i++) c->labels[i] = below(paradigm == CLH_CIL ? c->width : 10);
}

static void case_free(head_case *c) {
    clh_optim_free(c->optim);
    clh_heads_free(c->heads);
    free(c->x), free(c->dx), free(c->logits), free(c->dlogits);
    free(c->labels), free(c->task_ids), free(c->workspace);
}

/* ---- the sgemm reference -------------------------------------------------- */

#ifdef CLH_BENCH_CBLAS
typedef struct gemm_case {
    int trans_a, trans_b;
    int m, n, k;
    float beta;
    float *a, *b, *c;
} gemm_case;

static void run_gemm(void *ctx) {
    gemm_case *g = ctx;
    int lda = g->trans_a ? g->m : g->k, ldb = g->trans_b ? g->k : g->n;
    cblas_sgemm(CblasRowMajor, g->trans_a ? CblasTrans : CblasNoTrans,
                g->trans_b ? CblasTrans : CblasNoTrans, g->m, g->n, g->k, 1.0f, g->a, lda, g->b, ldb,
                g->beta, g->c, g->n);
}

/* Median time of one cblas_sgemm of C[m, n] = op(A) · op(B) (+ C when beta = 1). */
static double sgemm_us(const options *opt, int trans_a, int trans_b, int64_t m, int64_t n, int64_t k,
                       float beta) {
    gemm_case g = {trans_a, trans_b, (int)m, (int)n, (int)k, beta, NULL, NULL, NULL};
    g.a = xmalloc((size_t)(m * k) * sizeof(float));
    g.b = xmalloc((size_t)(k * n) * sizeof(float));
    g.c = xmalloc((size_t)(m * n) * sizeof(float));
    for (int64_t i = 0; i < m * k; i++) g.a[i] = uniform_pm1();
    for (int64_t i = 0; i < k * n; i++) g.b[i] = uniform_pm1();
    for (int64_t i = 0; i < m * n; i++) g.c[i] = 0.0f;
    timing t = measure(opt, run_gemm, &g);
    free(g.a), free(g.b), free(g.c);
    return t.median_us;
}

/* The multiplies a head call would be if it were nothing but BLAS: forward
 * x[B, in] · W[width, in]ᵀ; backward adds dW += dYᵀ · x and dx = dY · W.
 * Shapes repeat across paradigms, so each (shape, threads) is measured once. */
typedef struct sgemm_memo {
    int op_backward, threads;
    int64_t batch, in, width;
    double us;
} sgemm_memo;

static double sgemm_reference_us(const options *opt, int op_backward, int64_t batch, int64_t in,
                                 int64_t width, int threads) {
    static sgemm_memo memo[256];
    static int memo_count;
    if (batch == 0) return 0.0;
    for (int i = 0; i < memo_count; i++) {
        const sgemm_memo *e = &memo[i];
        if (e->op_backward == op_backward && e->threads == threads && e->batch == batch &&
            e->in == in && e->width == width)
            return e->us;
    }
    double us = sgemm_us(opt, 0, 1, batch, width, in, 0.0f);
    if (op_backward) {
        us += sgemm_us(opt, 1, 0, width, in, batch, 1.0f);
        us += sgemm_us(opt, 0, 0, batch, in, width, 0.0f);
    }
    if (memo_count < (int)(sizeof memo / sizeof *memo))
        memo[memo_count++] = (sgemm_memo){op_backward, threads, batch, in, width, us};
    return us;
}
#endif

/* ---- memory held by a CIL handle ------------------------------------------ */

/* Heap bytes in use (malloc'd plus mmapped), or -1 where unknown. */
static double heap_bytes(void) {
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 33))
    struct mallinfo2 mi = mallinfo2();
    return (double)mi.uordblks + (double)mi.hblkhd;
#else
    return -1.0;
#endif
}

static void report_memory(int64_t in, int64_t tasks) {
    double before = heap_bytes();
    clh_heads *h;
    OK(clh_heads_create(&h, CLH_CIL, in, 7));
    double max_ratio = 0.0;
    for (int64_t t = 1; t <= tasks; t++) {
        OK(clh_heads_setup_task(h, t, 10));
        double ratio = (double)clh_heads_capacity_rows(h) / (double)clh_heads_total_classes(h);
        if (ratio > max_ratio) max_ratio = ratio;
    }
    double with_heads = heap_bytes();
    int64_t rows = clh_heads_total_classes(h);
    double params = (double)rows * (double)(in + 1);

    /* One backward so every head has a gradient, then an Adam step (its state). */
    float *x = xmalloc((size_t)in * sizeof(float)), *dlogits = xmalloc((size_t)rows * sizeof(float));
    for (int64_t i = 0; i < in; i++) x[i] = uniform_pm1();
    for (int64_t i = 0; i < rows; i++) dlogits[i] = uniform_pm1();
    OK(clh_heads_backward(h, x, 1, CLH_NO_TASK, dlogits, NULL));
    double before_optim = heap_bytes();
    clh_optim_config cfg;
    clh_optim *optim;
    clh_optim_config_init(&cfg, CLH_OPTIM_ADAM, 1e-3);
    OK(clh_optim_create(&optim, &cfg));
    OK(clh_optim_step_heads(optim, h));
    double with_optim = heap_bytes();

    if (before < 0) {
        printf("mem\t%lld\t%lld\t%lld\t%lld\t%.3f\tnan\tnan\n", (long long)in, (long long)tasks,
               (long long)rows, (long long)clh_heads_capacity_rows(h), max_ratio);
    } else {
        printf("mem\t%lld\t%lld\t%lld\t%lld\t%.3f\t%.3f\t%.3f\n", (long long)in, (long long)tasks,
               (long long)rows, (long long)clh_heads_capacity_rows(h), max_ratio,
               (with_heads - before) / params, (with_optim - before_optim) / params);
    }
    clh_optim_free(optim);
    clh_heads_free(h);
    free(x), free(dlogits);
}

/* ---- the grid --------------------------------------------------------------- */

static void print_time(const char *paradigm, const char *op, int64_t batch, int64_t in,
                       int64_t tasks, int threads, timing t, double sgemm) {
    printf("time\t%s\t%s\t%lld\t%lld\t%lld\t%d\t%.3f\t%d\t%lu\t", paradigm, op, (long long)batch,
           (long long)in, (long long)tasks, threads, t.median_us, t.reps, t.allocs);
    if (sgemm > 0) printf("%.3f\n", sgemm);
    else printf("nan\n");
    fflush(stdout);
}

/* The training-step shapes that issue 5 sets figures for. */
static int is_figure_shape(clh_paradigm paradigm, int64_t batch, int64_t in, int64_t tasks) {
    return (paradigm == CLH_CIL && batch == 256 && in == 512 && tasks == 100) ||
           (paradigm == CLH_MTL && batch == 1024 && in == 2048 && tasks == 100);
}

static void bench_case(const options *opt, clh_paradigm paradigm, int64_t batch, int64_t in,
                       int64_t tasks) {
    head_case c;
    case_init(&c, paradigm, batch, in, tasks);
    const char *name = clh_paradigm_name(paradigm);
    int64_t shown_tasks = (paradigm == CLH_DIL || paradigm == CLH_STL) ? 1 : tasks;
    for (int ti = 0; ti < opt->threads.n; ti++) {
        int threads = (int)opt->threads.v[ti];
        clh_set_num_threads(threads);
        for (int op = 0; op < 2; op++) {
            timing t = measure(opt, op ? run_forward_backward : run_forward, &c);
            double ref = 0.0;
#ifdef CLH_BENCH_CBLAS
            /* MTL mixed: as if the whole batch went through one head. */
            ref = sgemm_reference_us(opt, op, batch, in, c.width, threads);
#endif
            print_time(name, op ? "fwdbwd" : "fwd", batch, in, shown_tasks, threads, t, ref);
        }
        if (opt->breakdown || is_figure_shape(paradigm, batch, in, tasks)) {
            double zero = measure(opt, run_zero_grad, &c).median_us;
            double fwd = measure(opt, run_forward, &c).median_us;
            double loss = measure(opt, run_loss, &c).median_us;
            double bwd = measure(opt, run_backward, &c).median_us;
            printf("phase\t%s\t%lld\t%lld\t%lld\t%d\t%.3f\t%.3f\t%.3f\t%.3f\n", name, (long long)batch,
                   (long long)in, (long long)shown_tasks, threads, zero, fwd, loss, bwd);
        }
    }
    case_free(&c);
}

static void bench_optim(const options *opt, int64_t in, int64_t tasks) {
    head_case c;
    case_init(&c, CLH_CIL, 1, in, tasks);
    run_forward_backward(&c); /* every head gets a gradient */
    clh_optim_config cfg;
    clh_optim_config_init(&cfg, CLH_OPTIM_ADAM, 1e-3);
    OK(clh_optim_create(&c.optim, &cfg));
    for (int ti = 0; ti < opt->threads.n; ti++) {
        int threads = (int)opt->threads.v[ti];
        clh_set_num_threads(threads);
        timing t = measure(opt, run_optim_step, &c);
        print_time("CIL", "adam", 0, in, tasks, threads, t, 0.0);
    }
    case_free(&c);
}

/* ---- command line ------------------------------------------------------------ */

static int parse_list(const char *text, int_list *out) {
    out->n = 0;
    const char *p = text;
    while (*p) {
        char *end;
        errno = 0;
        long long v = strtoll(p, &end, 10);
        if (end == p || errno || v < 0 || out->n == MAX_LIST) return 0;
        out->v[out->n++] = v;
        p = end;
        if (*p == ',') p++;
        else if (*p) return 0;
    }
    return out->n > 0;
}

static void usage(void) {
    fprintf(stderr,
            "usage: clheads_bench [--quick] [--batch L] [--in L] [--tasks L] [--threads L]\n"
            "                     [--paradigms TIL,CIL,DIL,MTL,STL] [--budget-ms N]\n"
            "                     [--no-memory] [--no-optim] [--breakdown]\n"
            "L is a comma-separated list. Defaults: the full grid of issue 5.\n");
}

static int parse_options(int argc, char **argv, options *opt) {
    parse_list("1,32,256,1024", &opt->batches);
    parse_list("512,2048", &opt->ins);
    parse_list("10,100", &opt->tasks);
    parse_list("1,2", &opt->threads);
    for (int p = 0; p < 5; p++) opt->paradigm_enabled[p] = 1;
    opt->budget_s = 0.2;
    opt->min_reps = 5;
    opt->max_reps = 2000;
    opt->memory = 1;
    opt->optim = 1;
    opt->breakdown = 0;
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;
        int ok = 1;
        if (!strcmp(arg, "--quick")) {
            /* CI: a few shapes, few repetitions; proves the bench still runs. */
            parse_list("1,256", &opt->batches);
            parse_list("512", &opt->ins);
            parse_list("100", &opt->tasks);
            parse_list("1", &opt->threads);
            opt->budget_s = 0.01;
            opt->min_reps = 3;
            continue;
        } else if (!strcmp(arg, "--no-memory")) {
            opt->memory = 0;
            continue;
        } else if (!strcmp(arg, "--no-optim")) {
            opt->optim = 0;
            continue;
        } else if (!strcmp(arg, "--breakdown")) {
            opt->breakdown = 1;
            continue;
        } else if (!val) {
            ok = 0;
        } else if (!strcmp(arg, "--batch")) {
            ok = parse_list(val, &opt->batches);
        } else if (!strcmp(arg, "--in")) {
            ok = parse_list(val, &opt->ins);
        } else if (!strcmp(arg, "--tasks")) {
            ok = parse_list(val, &opt->tasks);
        } else if (!strcmp(arg, "--threads")) {
            ok = parse_list(val, &opt->threads);
        } else if (!strcmp(arg, "--budget-ms")) {
            double ms = atof(val);
            ok = ms > 0;
            opt->budget_s = ms * 1e-3;
        } else if (!strcmp(arg, "--paradigms")) {
            for (int p = 0; p < 5; p++) opt->paradigm_enabled[p] = 0;
            char buf[64];
            snprintf(buf, sizeof buf, "%s", val);
            for (char *tok = strtok(buf, ","); tok && ok; tok = strtok(NULL, ",")) {
                clh_paradigm p;
                ok = clh_paradigm_parse(tok, &p) == CLH_OK;
                if (ok) opt->paradigm_enabled[p] = 1;
            }
        } else {
            ok = 0;
        }
        if (!ok) {
            fprintf(stderr, "clheads_bench: bad argument %s %s\n", arg, val ? val : "");
            usage();
            return 0;
        }
        i++;
    }
    for (int i = 0; i < opt->tasks.n; i++)
        if (opt->tasks.v[i] < 1) return 0;
    for (int i = 0; i < opt->ins.n; i++)
        if (opt->ins.v[i] < 1) return 0;
    return 1;
}

int main(int argc, char **argv) {
    options opt;
    if (!parse_options(argc, argv, &opt)) return 2;

    printf("meta\tbackend\t%s\n", clh_gemm_backend());
    printf("meta\tportable_kernel\t%s\n", clh_gemm_portable_kernel_name());
#ifdef CLH_BENCH_CBLAS
    printf("meta\topenblas\t%s\n", openblas_get_config());
#endif
    const char *coretype = getenv("OPENBLAS_CORETYPE");
    printf("meta\tOPENBLAS_CORETYPE\t%s\n", coretype ? coretype : "(unset)");

    static const clh_paradigm order[] = {CLH_CIL, CLH_TIL, CLH_MTL, CLH_DIL, CLH_STL};
    for (size_t pi = 0; pi < sizeof order / sizeof *order; pi++) {
        clh_paradigm p = order[pi];
        if (!opt.paradigm_enabled[p]) continue;
        /* DIL and STL have one head: the task count does not apply. */
        int task_variants = (p == CLH_DIL || p == CLH_STL) ? 1 : opt.tasks.n;
        for (int ii = 0; ii < opt.ins.n; ii++)
            for (int ti = 0; ti < task_variants; ti++)
                for (int bi = 0; bi < opt.batches.n; bi++)
                    bench_case(&opt, p, opt.batches.v[bi], opt.ins.v[ii], opt.tasks.v[ti]);
    }
    if (opt.optim && opt.paradigm_enabled[CLH_CIL])
        for (int ii = 0; ii < opt.ins.n; ii++)
            for (int ti = 0; ti < opt.tasks.n; ti++) bench_optim(&opt, opt.ins.v[ii], opt.tasks.v[ti]);
    if (opt.memory)
        for (int ii = 0; ii < opt.ins.n; ii++)
            for (int ti = 0; ti < opt.tasks.n; ti++) report_memory(opt.ins.v[ii], opt.tasks.v[ti]);
    clh_set_num_threads(0);
    return 0;
}
