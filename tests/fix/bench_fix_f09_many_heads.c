/* Finding 9: loading is not quadratic in the number of heads. Writes a TIL
 * checkpoint of N heads (default 100,000; 2 classes of 4 inputs each, ids in
 * descending set-up order) and times what `clheads inspect` does (header-only
 * open + structure-only load) and a full clh_heads_load, plus an optimizer
 * state of the same heads. Prints the figures; asserts only correctness. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "clheads.h"

/* CPU time of this process: on a shared machine wall time mostly measures
 * the other processes (both are printed at the end). */
static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static double wall(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

#define MUST(call)                                                                     \
    do {                                                                               \
        clh_status must_ = (call);                                                     \
        if (must_ != CLH_OK) {                                                         \
            fprintf(stderr, "%s: %s (%s)\n", #call, clh_status_name(must_), clh_last_error()); \
            return 1;                                                                  \
        }                                                                              \
    } while (0)

int main(int argc, char **argv) {
    long n = argc > 1 ? atol(argv[1]) : 100000;
    char path[256], opath[256];
    snprintf(path, sizeof path, "/tmp/clh_bench_f09_%ld.safetensors", (long)getpid());
    snprintf(opath, sizeof opath, "/tmp/clh_bench_f09_%ld.optim.safetensors", (long)getpid());
    clh_heads *heads = NULL;
    MUST(clh_heads_create(&heads, CLH_TIL, 4, 1));
    double t0 = now();
    for (long t = 0; t < n; t++) MUST(clh_heads_setup_task(heads, t, 2));
    for (long t = 0; t < n; t++) MUST(clh_heads_set_task_has_grad(heads, t, 1));
    double t1 = now();
    MUST(clh_heads_save(heads, path));
    clh_optim_config config;
    clh_optim_config_init(&config, CLH_OPTIM_ADAM, 0.01);
    clh_optim *optim = NULL;
    MUST(clh_optim_create(&optim, &config));
    MUST(clh_optim_step_heads(optim, heads));
    MUST(clh_optim_save(optim, opath));
    double t2 = now();

    clh_st_file *file = NULL;
    clh_heads *loaded = NULL;
    clh_load_options options;
    clh_load_options_init(&options);
    options.structure_only = 1;
    double w3 = wall(), t3 = now();
    MUST(clh_st_open_header(&file, path));
    double t_open = now();
    MUST(clh_heads_load_file(&loaded, file, &options));
    double t4 = now(), w4 = wall();
    if (clh_heads_num_tasks(loaded) != (size_t)n) return 1;
    clh_heads_free(loaded);
    clh_st_free(file);
    double t5 = now();
    MUST(clh_heads_load(&loaded, path, NULL));
    double t6 = now();
    clh_optim *restored = NULL;
    MUST(clh_optim_create(&restored, &config));
    double t7 = now();
    MUST(clh_optim_load(restored, opath));
    double t8 = now();
    printf("%ld heads (CPU seconds): set-up %.3f s, save heads + optimizer %.3f s\n", n,
           t1 - t0, t2 - t1);
    printf("  inspect (header-only open + structure load): %.3f s (wall %.3f s; open %.3f s)\n",
           t4 - t3, w4 - w3, t_open - t3);
    printf("  clh_heads_load (full):                        %.3f s\n", t6 - t5);
    printf("  clh_optim_load:                               %.3f s\n", t8 - t7);
    clh_heads_free(loaded);
    clh_heads_free(heads);
    clh_optim_free(optim);
    clh_optim_free(restored);
    unlink(path);
    unlink(opath);
    return 0;
}
