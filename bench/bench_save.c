/* clheads benchmark: saving and loading a checkpoint of many heads with the
 * optimizer state, as the tool does after every task (cli/run_state.c). It
 * is a measurement, not a test: it asserts no times.
 *
 * For each head count N: TIL heads 1..N of --in inputs and --classes classes
 * each, every fourth frozen, an Adam optimizer stepped once (so it holds
 * exp_avg, exp_avg_sq and a step per head), then, repeated --reps times:
 *   export     clh_optim_export_create_prefixed (prefix "optimizer.heads")
 *   save       clh_heads_save_ex of the heads with that export, to a file
 *   save_mem   clh_heads_save_mem_ex of the same (no file system)
 *   open       clh_st_open of the file (read, header parsed, every check)
 *   heads_load clh_heads_load_file from the opened file (ignore_unknown)
 *   optim_load clh_optim_load_file_prefixed from the opened file
 * Output rows, tab-separated:
 *   meta  key value
 *   time  op heads median_ms min_ms max_ms reps
 *   faults op heads median_minor_page_faults (getrusage: fresh memory touched,
 *         which depends on what the process's heap held before the call)
 * Only the public API is used, so the same file builds against an older tree
 * to time the two side by side (scripts/bench_save_compare.sh). */
#define _POSIX_C_SOURCE 200809L

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "clheads.h"
#include "clheads/optim.h"

#define PREFIX "optimizer.heads"

static void check(clh_status st, const char *what) {
    if (st == CLH_OK) return;
    fprintf(stderr, "bench_save: %s failed: %s\n", what, clh_last_error());
    exit(1);
}

static double now_ms(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e3 + (double)t.tv_nsec * 1e-6;
}

static double minor_faults(void) {
    struct rusage usage;
    getrusage(RUSAGE_SELF, &usage);
    return (double)usage.ru_minflt;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

enum { OP_EXPORT, OP_SAVE, OP_SAVE_MEM, OP_OPEN, OP_HEADS_LOAD, OP_OPTIM_LOAD, OP_COUNT };
static const char *const op_names[OP_COUNT] = {"export", "save",       "save_mem",
                                               "open",   "heads_load", "optim_load"};

typedef struct options {
    long counts[8];
    int n_counts;
    int64_t in, classes;
    int reps;
    const char *path;
    int only[OP_COUNT]; /* all 1 unless --ops names some */
} options;

static void usage(void) {
    fprintf(stderr, "usage: bench_save [--heads N[,N...]] [--in D] [--classes C] [--reps R]\n"
                    "                  [--path FILE] [--ops export,save,save_mem,open,heads_load,"
                    "optim_load]\n");
    exit(2);
}

static void parse_args(int argc, char **argv, options *o) {
    o->counts[0] = 10000;
    o->counts[1] = 100000;
    o->n_counts = 2;
    o->in = 64;
    o->classes = 2;
    o->reps = 5;
    o->path = "bench_save.safetensors";
    for (int k = 0; k < OP_COUNT; k++) o->only[k] = 1;
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i], *value = i + 1 < argc ? argv[i + 1] : NULL;
        if (!value) usage();
        i++;
        if (!strcmp(arg, "--heads")) {
            o->n_counts = 0;
            for (char *s = (char *)value; *s && o->n_counts < 8;) {
                char *end;
                long n = strtol(s, &end, 10);
                if (end == s || n <= 0) usage();
                o->counts[o->n_counts++] = n;
                s = *end == ',' ? end + 1 : end;
            }
        } else if (!strcmp(arg, "--in")) {
            o->in = atoll(value);
        } else if (!strcmp(arg, "--classes")) {
            o->classes = atoll(value);
        } else if (!strcmp(arg, "--reps")) {
            o->reps = atoi(value);
        } else if (!strcmp(arg, "--path")) {
            o->path = value;
        } else if (!strcmp(arg, "--ops")) {
            for (int k = 0; k < OP_COUNT; k++) o->only[k] = strstr(value, op_names[k]) != NULL;
        } else {
            usage();
        }
    }
    if (o->in <= 0 || o->classes <= 0 || o->reps <= 0) usage();
}

/* TIL heads 1..n, every fourth frozen, and Adam stepped once over them. */
static void make_model(const options *o, long n, clh_heads **heads, clh_optim **optim) {
    check(clh_heads_create(heads, CLH_TIL, o->in, 7), "clh_heads_create");
    check(clh_heads_reserve(*heads, (int64_t)n * o->classes, (size_t)n), "clh_heads_reserve");
    for (long t = 1; t <= n; t++) {
        check(clh_heads_setup_task(*heads, t, o->classes), "clh_heads_setup_task");
        if (t % 4 == 0) check(clh_heads_set_frozen(*heads, t, 1), "clh_heads_set_frozen");
    }
    clh_optim_config config;
    clh_optim_config_init(&config, CLH_OPTIM_ADAM, 1e-3);
    check(clh_optim_create(optim, &config), "clh_optim_create");
    check(clh_optim_step_heads(*optim, *heads), "clh_optim_step_heads");
}

static double median_of(double *v, int reps) {
    qsort(v, (size_t)reps, sizeof *v, cmp_double);
    return reps % 2 ? v[reps / 2] : 0.5 * (v[reps / 2 - 1] + v[reps / 2]);
}

static void report(const char *op, long n, double *ms, double *faults, int reps) {
    double median = median_of(ms, reps);
    printf("time\t%s\t%ld\t%.1f\t%.1f\t%.1f\t%d\n", op, n, median, ms[0], ms[reps - 1], reps);
    printf("faults\t%s\t%ld\t%.0f\n", op, n, median_of(faults, reps));
    fflush(stdout);
}

/* Starts timing one operation. */
typedef struct stopwatch {
    double ms, faults;
} stopwatch;
static stopwatch start(void) { return (stopwatch){now_ms(), minor_faults()}; }
static void stop(stopwatch w, double *ms, double *faults) {
    *ms = now_ms() - w.ms;
    *faults = minor_faults() - w.faults;
}

static void bench(const options *o, long n) {
    clh_heads *heads;
    clh_optim *optim;
    make_model(o, n, &heads, &optim);
    double *ms[OP_COUNT], *faults[OP_COUNT];
    for (int k = 0; k < OP_COUNT; k++) {
        ms[k] = calloc((size_t)o->reps, sizeof(double));
        faults[k] = calloc((size_t)o->reps, sizeof(double));
    }
    size_t file_bytes = 0;
    for (int r = 0; r < o->reps; r++) {
        stopwatch w = start();
        clh_optim_export *exported;
        check(clh_optim_export_create_prefixed(optim, PREFIX, &exported), "export");
        stop(w, &ms[OP_EXPORT][r], &faults[OP_EXPORT][r]);
        size_t n_tensors, n_meta;
        const clh_st_tensor *tensors = clh_optim_export_tensors(exported, &n_tensors);
        const clh_st_meta *meta = clh_optim_export_meta(exported, &n_meta);
        w = start();
        check(clh_heads_save_ex(heads, o->path, tensors, n_tensors, meta, n_meta), "save");
        stop(w, &ms[OP_SAVE][r], &faults[OP_SAVE][r]);
        if (o->only[OP_SAVE_MEM]) {
            unsigned char *bytes;
            w = start();
            check(clh_heads_save_mem_ex(heads, &bytes, &file_bytes, tensors, n_tensors, meta,
                                        n_meta),
                  "save_mem");
            stop(w, &ms[OP_SAVE_MEM][r], &faults[OP_SAVE_MEM][r]);
            clh_st_bytes_free(bytes);
        }
        clh_optim_export_free(exported);

        clh_st_file *file;
        w = start();
        check(clh_st_open(&file, o->path), "open");
        stop(w, &ms[OP_OPEN][r], &faults[OP_OPEN][r]);
        if (o->only[OP_HEADS_LOAD]) {
            clh_load_options load;
            clh_load_options_init(&load);
            load.ignore_unknown = 1;
            clh_heads *loaded;
            w = start();
            check(clh_heads_load_file(&loaded, file, &load), "heads_load");
            stop(w, &ms[OP_HEADS_LOAD][r], &faults[OP_HEADS_LOAD][r]);
            clh_heads_free(loaded);
        }
        if (o->only[OP_OPTIM_LOAD]) {
            clh_optim_config config;
            clh_optim_config_init(&config, CLH_OPTIM_ADAM, 1e-3);
            clh_optim *restored;
            check(clh_optim_create(&restored, &config), "clh_optim_create");
            w = start();
            check(clh_optim_load_file_prefixed(restored, file, PREFIX), "optim_load");
            stop(w, &ms[OP_OPTIM_LOAD][r], &faults[OP_OPTIM_LOAD][r]);
            clh_optim_free(restored);
        }
        clh_st_free(file);
    }
    if (file_bytes) printf("meta\tfile_bytes_%ld\t%zu\n", n, file_bytes);
    for (int k = 0; k < OP_COUNT; k++) {
        if (o->only[k] || k == OP_EXPORT || k == OP_SAVE || k == OP_OPEN)
            report(op_names[k], n, ms[k], faults[k], o->reps);
        free(ms[k]);
        free(faults[k]);
    }
    remove(o->path);
    clh_optim_free(optim);
    clh_heads_free(heads);
}

int main(int argc, char **argv) {
    options o;
    parse_args(argc, argv, &o);
    printf("meta\tin\t%lld\nmeta\tclasses\t%lld\nmeta\treps\t%d\n", (long long)o.in,
           (long long)o.classes, o.reps);
    for (int c = 0; c < o.n_counts; c++) bench(&o, o.counts[c]);
    return 0;
}
