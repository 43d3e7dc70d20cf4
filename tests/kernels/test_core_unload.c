/* The shared library can be unloaded: dlopen, a multiply large enough for the
 * portable kernel's helper threads, clh_shutdown_threads() (the helpers are
 * joined and come back on the next multiply, with right results), then
 * dlclose() while helpers are alive. After it no helper thread is left and
 * the library is really gone (it is not linked with -z nodelete, so
 * dlopen(RTLD_NOLOAD) no longer finds it).
 *
 * Helpers are told apart from OpenBLAS's threads by their name ("clh-gemm",
 * /proc/self/task/<id>/comm). The test does not link libclheads: every call
 * goes through dlsym. */
#define _POSIX_C_SOURCE 200809L

#include <dirent.h>
#include <dlfcn.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clheads/linear.h"

static int failures;
#define CHECK(cond)                                                                  \
    do {                                                                             \
        if (!(cond)) {                                                               \
            failures++;                                                              \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
        }                                                                            \
    } while (0)

/* 256 x 256 x 256: 16.8M multiply-adds, over the portable kernel's 8M at
 * which it splits the work across threads. */
enum { N = 256, THREADS = 3 };

typedef struct api {
    void (*set_num_threads)(int);
    int (*get_num_threads)(void);
    void (*shutdown_threads)(void);
    const char *(*gemm_backend)(void);
    clh_status (*linear_forward)(float *, const float *, const float *, const float *, int64_t,
                                 int64_t, int64_t);
} api;

/* Threads of this process named like the library's helpers. */
static int helper_threads(void) {
    DIR *tasks = opendir("/proc/self/task");
    if (!tasks) return -1;
    int count = 0;
    struct dirent *entry;
    while ((entry = readdir(tasks)) != NULL) {
        if (entry->d_name[0] == '.') continue;
        char path[300], name[64] = {0};
        snprintf(path, sizeof path, "/proc/self/task/%s/comm", entry->d_name);
        FILE *comm = fopen(path, "r");
        if (!comm) continue; /* the thread ended meanwhile */
        if (fgets(name, sizeof name, comm) && strncmp(name, "clh-gemm", 8) == 0) count++;
        fclose(comm);
    }
    closedir(tasks);
    return count;
}

static void *symbol(void *lib, const char *name) {
    void *address = dlsym(lib, name);
    if (!address) fprintf(stderr, "dlsym(%s): %s\n", name, dlerror());
    CHECK(address != NULL);
    return address;
}

static float x[N * N], w[N * N], out[N * N];

/* One forward through the library, checked against a double-precision sum. */
static int forward_matches(const api *lib) {
    if (lib->linear_forward(out, x, w, NULL, N, N, N) != CLH_OK) return 0;
    double worst = 0.0;
    for (int r = 0; r < N; r++)
        for (int c = 0; c < N; c++) {
            double sum = 0.0;
            for (int k = 0; k < N; k++) sum += (double)x[r * N + k] * (double)w[c * N + k];
            double err = fabs(sum - (double)out[r * N + c]);
            if (err > worst) worst = err;
        }
    return worst < 1e-3; /* sums of 256 products of values in [-1, 1] */
}

int main(void) {
    /* OpenBLAS (loaded with the library in a CBLAS build) starts no threads. */
    setenv("OPENBLAS_NUM_THREADS", "1", 1);
    uint64_t state = 1;
    for (int i = 0; i < N * N; i++) {
        state = state * 6364136223846793005ULL + 1442695040888963407ULL;
        x[i] = (float)((double)(state >> 40) / (double)(1ULL << 24) * 2.0 - 1.0);
        state = state * 6364136223846793005ULL + 1442695040888963407ULL;
        w[i] = (float)((double)(state >> 40) / (double)(1ULL << 24) * 2.0 - 1.0);
    }
    CHECK(helper_threads() == 0);

    void *lib = dlopen(CLH_SHARED_LIBRARY, RTLD_NOW | RTLD_LOCAL);
    if (!lib) {
        fprintf(stderr, "dlopen(%s): %s\n", CLH_SHARED_LIBRARY, dlerror());
        return 1;
    }
    api calls;
    *(void **)&calls.set_num_threads = symbol(lib, "clh_set_num_threads");
    *(void **)&calls.get_num_threads = symbol(lib, "clh_get_num_threads");
    *(void **)&calls.shutdown_threads = symbol(lib, "clh_shutdown_threads");
    *(void **)&calls.gemm_backend = symbol(lib, "clh_gemm_backend");
    *(void **)&calls.linear_forward = symbol(lib, "clh_linear_forward");
    if (failures) return 1;

    /* The multiply policy is a test knob the shared library does not export:
     * where its default sends this product to the BLAS, no helper starts and
     * there is nothing to test here (the build without BLAS always tests it). */
    calls.set_num_threads(THREADS);
    CHECK(calls.get_num_threads() == THREADS);
    CHECK(forward_matches(&calls));
    const int started = helper_threads();
    printf("  after a threaded multiply: %d helper threads\n", started);
    if (started == 0 && strcmp(calls.gemm_backend(), "cblas") == 0 && !failures) {
        printf("test_core_unload: skipped (the multiply went to the BLAS)\n");
        dlclose(lib);
        return 77;
    }
    CHECK(started == THREADS - 1);

    calls.shutdown_threads();
    const int after_shutdown = helper_threads();
    printf("  after clh_shutdown_threads: %d\n", after_shutdown);
    CHECK(after_shutdown == 0);
    calls.shutdown_threads(); /* a second call finds none: a no-op */
    CHECK(forward_matches(&calls));
    const int restarted = helper_threads();
    printf("  after the next multiply: %d\n", restarted);
    CHECK(restarted == THREADS - 1);

    /* Unloaded with its helpers alive: the destructor joins them. */
    CHECK(dlclose(lib) == 0);
    const int after_unload = helper_threads();
    void *still_loaded = dlopen(CLH_SHARED_LIBRARY, RTLD_NOW | RTLD_NOLOAD);
    printf("  after dlclose: %d helper threads, library %s\n", after_unload,
           still_loaded ? "STILL MAPPED" : "unmapped");
    CHECK(after_unload == 0);
    CHECK(still_loaded == NULL);
    if (still_loaded) dlclose(still_loaded);

    printf("test_core_unload: %s\n", failures ? "FAILED" : "ok");
    return failures ? 1 : 0;
}
