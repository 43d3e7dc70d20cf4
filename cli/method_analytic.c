/* `clheads run --method ridge|ncm|slda`: exemplar-free heads solved from
 * streaming statistics (include/clheads/analytic.h), no backbone training.
 *
 * One phase (task `row`, or every task for the joint references):
 *   the task's training inputs, in file order, in chunks of CHUNK rows
 *     -> the expansion ReLU(x Pᵀ) of width --expansion (or x itself)
 *     -> clh_analytic_update (labels as fine-tuning's: global for CIL/STL)
 *   -> clh_analytic_solve into the heads (TIL: the new task's head; else all)
 *   -> evaluation of every task seen, with train_loop.c's code.
 * The statistics are sums, so the order of the chunks does not matter, and no
 * sample is kept. One Gram / scatter matrix is shared by all tasks (scope
 * "shared", memory d² whatever the number of tasks): in TIL a ridge head is
 * then the CIL solution's rows of its task's classes (analytic.h).
 *
 * The expansion is drawn from the run's --seed alone (analytic.h: P is a
 * function of seed, in and width), so a checkpoint that records the three
 * rebuilds it bit for bit.
 *
 * In a data-parallel run (parallel.h) each process adds the training images
 * of its shard only, and the statistics are summed over the processes once
 * per phase, before the solve (clh_analytic_reduce), so every process solves
 * the same heads from the statistics of every sample. Each sample must be
 * counted once in the next phase's sum too: rank 0 keeps the totals, the
 * other processes reset theirs (clh_analytic_reset) after the solve and
 * start the next phase from zero. The checkpoint, written by rank 0, holds
 * the totals; on --resume every process reads and checks them, and again
 * only rank 0 keeps them. Evaluation is sharded (train_loop.c). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#ifdef __GLIBC__
#include <malloc.h> /* mallopt */
#endif

#include "run.h"

/* Rows per update: large enough that the Gram update runs at the multiply's
 * speed (docs/analytic.md measures batches of 2000), independent of
 * --batch-size, which is a fine-tuning option. */
#define CHUNK 2048

/* The expanded test features kept for the evaluations after each task: at
 * most this many bytes (Split MNIST at width 4096: 164 MB); past it a task's
 * test features are recomputed at every evaluation. */
#define TEST_CACHE_BUDGET ((size_t)512 << 20)

struct cli_analytic_run {
    clh_analytic *stats;
    clh_random_features *expansion; /* NULL: the raw inputs are the features */
    float *x;                       /* [CHUNK, input_dim] */
    float *h;                       /* [CHUNK, width] (with an expansion) */
    int64_t *labels;                /* [CHUNK] */
    float **test_cache;             /* [tasks]: task's test features, or NULL */
    int64_t tasks;
    size_t test_cache_bytes;
    double seconds[5];              /* time in the phases below, whole run */
};

enum { T_EXPAND, T_STATS, T_SOLVE, T_EVAL, T_REDUCE };

static int lib_fail(char *err, size_t err_len, const char *what, clh_status status) {
    snprintf(err, err_len, "%s failed: %s (%s)", what, clh_status_message(status),
             clh_last_error());
    return 1;
}

static clh_analytic_method library_method(cli_method m) {
    return m == CLI_METHOD_RIDGE ? CLH_ANALYTIC_RIDGE
           : m == CLI_METHOD_NCM ? CLH_ANALYTIC_NCM
                                 : CLH_ANALYTIC_LDA;
}

/* The library's configuration of the run's options. */
static void analytic_config(const cli_run_config *cfg, clh_analytic_config *ac) {
    clh_analytic_config_init(ac, library_method(cfg->method));
    ac->lambda = cfg->ridge_lambda;
    ac->shrinkage = cfg->lda_shrinkage;
    ac->normalize = cfg->ncm_normalize;
    ac->precision = cfg->stats_precision;
    ac->scope = CLH_SCOPE_SHARED;
}

void cli_analytic_free(cli_analytic_run *run) {
    if (!run) return;
    clh_analytic_free(run->stats);
    clh_random_features_free(run->expansion);
    free(run->x);
    free(run->h);
    free(run->labels);
    if (run->test_cache)
        for (int64_t t = 0; t < run->tasks; t++) free(run->test_cache[t]);
    free(run->test_cache);
    free(run);
}

/* Every task allocates and frees buffers of the Gram matrix's size (the
 * solve's float32 factor, the checkpoint's copy of G: 64 MB each at width
 * 4096). glibc serves those from fresh mmap'd pages, whose first touch costs
 * a page fault and a clearing each (about 30k faults per task); kept in the
 * heap instead, the next task reuses them. */
static void keep_large_blocks(void) {
#ifdef __GLIBC__
    mallopt(M_MMAP_MAX, 0);                 /* large blocks from the heap too */
    mallopt(M_TRIM_THRESHOLD, 1024 << 20);  /* and not handed back at every free */
#endif
}

/* The heads' set-up for the whole run (DIL, STL, MTL) happened in
 * cli_learner_init; the statistics follow the heads. */
int cli_analytic_init(cli_learner *learner, char *err, size_t err_len) {
    const cli_run_config *cfg = learner->config;
    keep_large_blocks();
    int64_t in = learner->images->dim;
    cli_analytic_run *run = calloc(1, sizeof *run);
    if (!run) {
        snprintf(err, err_len, "out of memory for the analytic statistics");
        return 1;
    }
    clh_status st = CLH_OK;
    if (cfg->expansion > 0)
        st = clh_random_features_create(&run->expansion, cfg->seed, in, cfg->expansion);
    if (st != CLH_OK) {
        cli_analytic_free(run);
        return lib_fail(err, err_len, "creating the random feature expansion", st);
    }
    int64_t width = cfg->expansion > 0 ? cfg->expansion : in;
    clh_analytic_config ac;
    analytic_config(cfg, &ac);
    st = clh_analytic_create(&run->stats, &ac, cfg->paradigm, width);
    if (st == CLH_OK) st = clh_analytic_setup_like(run->stats, learner->heads);
    if (st != CLH_OK) {
        cli_analytic_free(run);
        return lib_fail(err, err_len, "creating the analytic statistics", st);
    }
    size_t rows = CHUNK;
    run->x = malloc(rows * (size_t)in * sizeof(float));
    run->h = run->expansion ? malloc(rows * (size_t)width * sizeof(float)) : NULL;
    run->labels = malloc(rows * sizeof(int64_t));
    run->tasks = learner->tasks->count;
    run->test_cache = calloc((size_t)run->tasks, sizeof *run->test_cache);
    if (!run->x || (run->expansion && !run->h) || !run->labels || !run->test_cache) {
        cli_analytic_free(run);
        snprintf(err, err_len, "out of memory for the analytic buffers (%lld features)",
                 (long long)width);
        return 1;
    }
    learner->analytic = run;
    return 0;
}

/* The features of x [batch <= CHUNK, input_dim]: the expansion (into
 * run->h) or x itself. */
static const float *features(cli_analytic_run *run, const float *x, int64_t batch) {
    if (!run->expansion) return x;
    if (batch > CHUNK) return NULL;
    double start = cli_now();
    clh_status st = clh_random_features_apply(run->expansion, x, batch, run->h);
    run->seconds[T_EXPAND] += cli_now() - start;
    return st == CLH_OK ? run->h : NULL;
}

/* Expands all of task tau's test inputs into a new buffer, or NULL (out of
 * budget or memory: the caller expands batch by batch instead). */
static float *expand_test_set(cli_learner *learner, int64_t tau) {
    cli_analytic_run *run = learner->analytic;
    const cli_task *task = &learner->tasks->tasks[tau];
    const cli_images *images = learner->images;
    /* The test images of this process's shard (all of them alone). */
    int64_t held = 0;
    for (int64_t i = 0; i < task->num_test; i++) held += cli_images_holds(images, task->test[i]);
    size_t width = (size_t)clh_random_features_width(run->expansion), bytes;
    if (__builtin_mul_overflow((size_t)held, width * sizeof(float), &bytes) ||
        run->test_cache_bytes + bytes > TEST_CACHE_BUDGET)
        return NULL;
    float *all = malloc(bytes ? bytes : 1);
    if (!all) return NULL;
    int64_t dim = images->dim, next = 0, done = 0;
    while (done < held) {
        int64_t rows = 0;
        for (; next < task->num_test && rows < CHUNK; next++) {
            if (!cli_images_holds(images, task->test[next])) continue;
            cli_images_row(images, task->test[next], task->perm, run->x + rows * dim);
            rows++;
        }
        double start = cli_now();
        clh_status st = clh_random_features_apply(run->expansion, run->x, rows,
                                                  all + (size_t)done * width);
        run->seconds[T_EXPAND] += cli_now() - start;
        if (st != CLH_OK) {
            free(all);
            return NULL;
        }
        done += rows;
    }
    run->test_cache_bytes += bytes;
    return all;
}

const float *cli_analytic_test_features(cli_learner *learner, int64_t tau, int64_t begin,
                                        int64_t batch, const float *x) {
    cli_analytic_run *run = learner->analytic;
    if (!run->expansion) return x;
    if (!run->test_cache[tau] && begin == 0) run->test_cache[tau] = expand_test_set(learner, tau);
    if (run->test_cache[tau])
        return run->test_cache[tau] + (size_t)begin * (size_t)clh_random_features_width(run->expansion);
    return features(run, x, batch);
}

/* Adds task t's training data (of this process's shard) to the statistics. */
static int update_task(cli_learner *learner, int64_t t, cli_progress *progress, const char *phase,
                       char *err, size_t err_len) {
    cli_analytic_run *run = learner->analytic;
    const cli_task *task = &learner->tasks->tasks[t];
    const cli_images *images = learner->images;
    clh_paradigm p = learner->config->paradigm;
    int64_t dim = images->dim;
    int64_t chunks = (task->num_train + CHUNK - 1) / CHUNK;
    for (int64_t c = 0; c < chunks; c++) {
        int64_t begin = c * CHUNK;
        int64_t end = begin + CHUNK < task->num_train ? begin + CHUNK : task->num_train;
        int64_t rows = 0;
        for (int64_t i = begin; i < end; i++) {
            int64_t image = task->train[i];
            if (!cli_images_holds(images, image)) continue;
            cli_images_row(images, image, task->perm, run->x + rows * dim);
            run->labels[rows++] = cli_sample_label(learner, t, image);
        }
        if (rows == 0) continue;
        const float *h = features(run, run->x, rows);
        if (!h) return lib_fail(err, err_len, "random feature expansion", CLH_E_INVALID_ARG);
        double start = cli_now();
        clh_status st = clh_analytic_update(run->stats, h, rows, cli_call_task_id(p, t),
                                            run->labels);
        run->seconds[T_STATS] += cli_now() - start;
        if (st != CLH_OK) {
            char what[96];
            snprintf(what, sizeof what, "updating the statistics with task %lld",
                     (long long)t + 1);
            return lib_fail(err, err_len, what, st);
        }
        cli_progress_batch(progress, phase, 0, 1, c, chunks, 0.0f);
    }
    return 0;
}

int cli_analytic_phase(cli_learner *learner, int64_t row, cli_results *results,
                       cli_progress *progress, char *err, size_t err_len) {
    const cli_run_config *cfg = learner->config;
    const cli_tasks *tasks = learner->tasks;
    cli_analytic_run *run = learner->analytic;
    int joint = cli_is_joint(cfg->paradigm);
    int64_t first = joint ? 0 : row, last = joint ? tasks->count - 1 : row;
    clh_status st;
    if (cfg->paradigm == CLH_TIL || cfg->paradigm == CLH_CIL) {
        st = clh_heads_setup_task(learner->heads, row, tasks->tasks[row].num_classes);
        if (st == CLH_OK) st = clh_analytic_setup_task(run->stats, row, tasks->tasks[row].num_classes);
        if (st != CLH_OK) return lib_fail(err, err_len, "setting up the task's head", st);
    }
    char phase[64];
    if (joint)
        snprintf(phase, sizeof phase, "joint %s (%lld tasks)", clh_paradigm_name(cfg->paradigm),
                 (long long)tasks->count);
    else
        snprintf(phase, sizeof phase, "task %lld/%lld", (long long)row + 1,
                 (long long)tasks->count);
    double before[5];
    memcpy(before, run->seconds, sizeof before);
    int64_t samples = 0;
    for (int64_t t = first; t <= last; t++) {
        if (update_task(learner, t, progress, phase, err, err_len)) return 1;
        samples += tasks->tasks[t].num_train;
    }
    cli_parallel *par = learner->par;
    int parallel = par && par->size > 1;
    double start = cli_now();
    if (parallel) {
        /* Every process's statistics become the sum over all processes:
         * rank 0's totals of the phases before and this phase's shares. */
        st = clh_analytic_reduce(run->stats, &par->reducer);
        run->seconds[T_REDUCE] += cli_now() - start;
        if (st != CLH_OK) {
            snprintf(err, err_len, "summing the statistics of %s across processes failed: %s "
                     "(%s%s%s)", phase, clh_status_message(st), clh_last_error(),
                     cli_transport_error()[0] ? ": " : "", cli_transport_error());
            return 1;
        }
    }
    /* TIL: the other heads' statistics did not change, so only the new head
     * is solved; CIL's heads share one system, DIL/STL/MTL are solved whole. */
    int64_t solve_id = cfg->paradigm == CLH_TIL ? row : CLH_NO_TASK;
    start = cli_now();
    st = clh_analytic_solve(run->stats, learner->heads, solve_id);
    run->seconds[T_SOLVE] += cli_now() - start;
    if (st != CLH_OK) return lib_fail(err, err_len, "solving the heads", st);
    /* The next phase's sum must count these samples once: rank 0's. */
    if (parallel && par->rank != 0) clh_analytic_reset(run->stats);
    results->loss[row] = NAN; /* no training loss: the heads are solved */
    int64_t seen = joint ? tasks->count : row + 1;
    start = cli_now();
    double expand_before_eval = run->seconds[T_EXPAND];
    for (int64_t tau = 0; tau < seen; tau++) {
        double agnostic, aware;
        if (cli_evaluate_task(learner, tau, &agnostic, &aware, err, err_len)) return 1;
        results->acc[row * tasks->count + tau] = agnostic;
        if (results->acc_aware) results->acc_aware[row * tasks->count + tau] = aware;
    }
    /* The test set's expansion is counted as expansion, not evaluation. */
    run->seconds[T_EVAL] += cli_now() - start - (run->seconds[T_EXPAND] - expand_before_eval);
    results->rows_done = row + 1;
    if (progress->mode) {
        if (progress->mode == 1) fputs("\r\x1b[K", stderr);
        char reduce[48] = "";
        if (parallel)
            snprintf(reduce, sizeof reduce, ", sum over processes %.2f s",
                     run->seconds[T_REDUCE] - before[T_REDUCE]);
        fprintf(stderr, "%s: %lld samples; expansion %.2f s, statistics %.2f s%s, solve %.2f s, "
                "evaluation %.2f s\n", phase, (long long)samples,
                run->seconds[T_EXPAND] - before[T_EXPAND], run->seconds[T_STATS] - before[T_STATS],
                reduce, run->seconds[T_SOLVE] - before[T_SOLVE],
                run->seconds[T_EVAL] - before[T_EVAL]);
    }
    return 0;
}

void cli_analytic_print_times(const cli_learner *learner, FILE *out) {
    const cli_analytic_run *run = learner->analytic;
    if (!run) return;
    char reduce[48] = "";
    if (learner->par && learner->par->size > 1)
        snprintf(reduce, sizeof reduce, ", sums over processes %.2f s", run->seconds[T_REDUCE]);
    fprintf(out, "analytic phases: expansion %.2f s, statistics %.2f s%s, solves %.2f s, "
            "evaluation %.2f s\n", run->seconds[T_EXPAND], run->seconds[T_STATS], reduce,
            run->seconds[T_SOLVE], run->seconds[T_EVAL]);
}

int cli_analytic_export(const cli_learner *learner, clh_analytic_export **out, char *err,
                        size_t err_len) {
    const cli_analytic_run *run = learner->analytic;
    clh_status st = clh_analytic_export_create(run->stats, run->expansion, out);
    if (st != CLH_OK) return lib_fail(err, err_len, "exporting the statistics", st);
    return 0;
}

/* The checkpoint's statistics must be what this run would have after
 * `phases` phases: the same method and options, the tasks in order with
 * their class counts, the same expansion. */
int cli_analytic_restore(cli_learner *learner, const clh_st_file *file, int64_t phases,
                         char *err, size_t err_len) {
    const cli_run_config *cfg = learner->config;
    cli_analytic_run *run = learner->analytic;
    clh_analytic *stats = NULL;
    clh_random_features *expansion = NULL;
    clh_status st = clh_analytic_load_file(&stats, file);
    if (st != CLH_OK) return lib_fail(err, err_len, "loading the statistics of the checkpoint", st);
    st = clh_random_features_load_file(&expansion, file);
    if (st != CLH_OK) {
        clh_analytic_free(stats);
        return lib_fail(err, err_len, "loading the expansion of the checkpoint", st);
    }
    clh_analytic_config want, got;
    analytic_config(cfg, &want);
    clh_analytic_config_init(&got, want.method); /* sets struct_size for the query */
    clh_analytic_get_config(stats, &got);
    const char *why = NULL;
    if (got.method != want.method) why = "its statistics are of another method";
    else if (clh_analytic_paradigm(stats) != cfg->paradigm) why = "its statistics are of another paradigm";
    else if (clh_analytic_in_features(stats) != learner->feature_dim)
        why = "its statistics are of another feature width";
    else if (got.lambda != want.lambda || got.shrinkage != want.shrinkage ||
             got.normalize != want.normalize || got.precision != want.precision ||
             got.fit_bias != want.fit_bias || got.scope != want.scope)
        why = "its statistics were made with other options than run.* records";
    else if ((expansion == NULL) != (run->expansion == NULL))
        why = "it records an expansion where the run has none, or none where it has one";
    else if (expansion && (clh_random_features_seed(expansion) != clh_random_features_seed(run->expansion) ||
                           clh_random_features_in(expansion) != clh_random_features_in(run->expansion) ||
                           clh_random_features_width(expansion) != clh_random_features_width(run->expansion)))
        why = "its expansion (seed, in, width) is not the run's";
    if (!why) {
        /* The statistics' tasks are the heads' (which the caller checked
         * against the run's tasks), in the same order, with the same class
         * counts: a set-up with the heads' count is a no-op exactly then. */
        int single = cfg->paradigm == CLH_DIL || cfg->paradigm == CLH_STL;
        size_t n = clh_analytic_num_tasks(stats);
        const int64_t *a = clh_analytic_task_ids(stats), *h = clh_heads_task_ids(learner->heads);
        if (n != clh_heads_num_tasks(learner->heads))
            why = "its statistics hold another number of tasks than its heads";
        for (size_t i = 0; i < n && !why; i++) {
            int64_t classes = -1;
            clh_heads_task_classes(learner->heads, single ? CLH_NO_TASK : h[i], &classes, NULL);
            if (!single && a[i] != h[i]) why = "its statistics' tasks differ from its heads'";
            else if ((single ? clh_analytic_setup_single(stats, classes)
                             : clh_analytic_setup_task(stats, a[i], classes)) != CLH_OK)
                why = "its statistics' class counts differ from its heads'";
        }
    }
    if (!why) {
        /* Each phase done has added its tasks' training samples. */
        const cli_tasks *tasks = learner->tasks;
        int joint = cli_is_joint(cfg->paradigm);
        int64_t want_samples = 0, have = 0;
        for (int64_t t = 0; t < (joint ? tasks->count : phases); t++)
            want_samples += tasks->tasks[t].num_train;
        if (cfg->paradigm == CLH_DIL || cfg->paradigm == CLH_STL) {
            clh_analytic_task_samples(stats, CLH_NO_TASK, &have);
        } else {
            for (size_t i = 0; i < clh_analytic_num_tasks(stats); i++) {
                int64_t s = 0;
                clh_analytic_task_samples(stats, clh_analytic_task_ids(stats)[i], &s);
                have += s;
            }
        }
        if (have != want_samples) why = "its statistics hold another number of samples than the "
                                        "completed tasks have";
    }
    clh_random_features_free(expansion);
    if (why) {
        clh_analytic_free(stats);
        snprintf(err, err_len, "cannot resume: %s", why);
        return 1;
    }
    /* The checkpoint holds the totals over every process (rank 0 wrote
     * them): checked above on every process, kept by rank 0 only, so that
     * the next phase's sum counts them once (see the top of this file). */
    if (learner->par && learner->par->rank != 0) clh_analytic_reset(stats);
    clh_analytic_free(run->stats);
    run->stats = stats;
    return 0;
}
