/* The portable matrix multiply (src/kernels/gemm_portable.c) against a double-precision
 * reference: every transposition, ragged sizes around the tile edges (6 or 12
 * rows, 16 or 32 columns, 256-deep passes, 64-column packs), leading dimensions with
 * padding that must stay untouched, alpha/beta including beta = 0 over NaN
 * (C must not be read) and alpha = 0, one thread and two (shapes large enough
 * to be split), several application threads multiplying at once, and a fork
 * while the helper threads exist. ctest runs it three times: with the kernels the CPU selects,
 * and with CLH_PORTABLE_KERNEL=avx2 and =c (the paths of other CPUs). */
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "clheads.h"
#include "kernels/gemm.h"

/* One generator per thread: concurrent_callers runs check_product on several. */
static _Thread_local uint64_t state = 12345;
/* Uniform in [-1, 1). */
static float next_float(void) {
    state = state * 6364136223846793005ull + 1442695040888963407ull;
    return (float)((double)(state >> 40) / (double)(1ull << 24)) * 2.0f - 1.0f;
}

enum { PAD = 3 };
static const float SENTINEL = 1234.5f;

/* Runs one product and compares it with the double reference; returns 1 if
 * every element is within float rounding and the padding is untouched. */
static int check_product(int ta, int tb, int64_t m, int64_t n, int64_t k, float alpha, float beta) {
    int64_t lda = (ta ? m : k) + PAD, ldb = (tb ? k : n) + PAD, ldc = n + PAD;
    int64_t a_rows = ta ? k : m, b_rows = tb ? n : k;
    float *a = malloc((size_t)(a_rows * lda + 1) * sizeof(float));
    float *b = malloc((size_t)(b_rows * ldb + 1) * sizeof(float));
    float *c = malloc((size_t)(m * ldc + 1) * sizeof(float));
    float *c_in = malloc((size_t)(m * ldc + 1) * sizeof(float));
    if (!a || !b || !c || !c_in) {
        fprintf(stderr, "out of memory\n");
        exit(EXIT_FAILURE);
    }
    for (int64_t i = 0; i < a_rows * lda; i++) a[i] = next_float();
    for (int64_t i = 0; i < b_rows * ldb; i++) b[i] = next_float();
    for (int64_t i = 0; i < m; i++)
        for (int64_t j = 0; j < ldc; j++)
            c_in[i * ldc + j] = j >= n ? SENTINEL : (beta == 0.0f ? NAN : next_float());
    memcpy(c, c_in, (size_t)(m * ldc) * sizeof(float));

    clh_gemm_portable(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);

    int ok = 1;
    for (int64_t i = 0; i < m && ok; i++) {
        for (int64_t j = 0; j < ldc; j++) {
            if (j >= n) {
                ok &= c[i * ldc + j] == SENTINEL;
                continue;
            }
            double sum = 0.0, magnitude = 0.0;
            for (int64_t p = 0; p < k; p++) {
                double av = ta ? a[p * lda + i] : a[i * lda + p];
                double bv = tb ? b[j * ldb + p] : b[p * ldb + j];
                sum += av * bv;
                magnitude += fabs(av * bv);
            }
            double want = alpha * sum + (beta == 0.0f ? 0.0 : beta * (double)c_in[i * ldc + j]);
            double tol = 1e-5 * (fabs(alpha) * magnitude + fabs(beta) + 1.0);
            if (!(fabs((double)c[i * ldc + j] - want) <= tol)) {
                fprintf(stderr, "ta=%d tb=%d m=%lld n=%lld k=%lld alpha=%g beta=%g: C[%lld,%lld] = %.9g, want %.9g\n",
                        ta, tb, (long long)m, (long long)n, (long long)k, alpha, beta, (long long)i,
                        (long long)j, c[i * ldc + j], want);
                ok = 0;
                break;
            }
        }
    }
    free(a), free(b), free(c), free(c_in);
    return ok;
}

/* Sizes straddling every blocking edge of the kernels: rows around 6 and 12,
 * columns around 16, 32 and 64, depths around 16 and past one 256-deep pass. */
static void ragged_shapes(void) {
    static const int64_t ms[] = {1, 2, 5, 6, 7, 12, 13, 65};
    static const int64_t ns[] = {1, 15, 16, 17, 31, 33, 63, 64, 65, 130};
    static const int64_t ks[] = {1, 7, 16, 17, 300};
    const int nm = sizeof ms / sizeof *ms, nn = sizeof ns / sizeof *ns, nk = sizeof ks / sizeof *ks;
    int cases = 0, passed = 0;
    for (int ta = 0; ta < 2; ta++)
        for (int tb = 0; tb < 2; tb++)
            for (int i = 0; i < nm; i++)
                for (int j = 0; j < nn; j++)
                    for (int l = 0; l < nk; l++) {
                        float alpha = (i + j) % 3 == 0 ? -0.5f : 1.0f;
                        float beta = (i + l) % 3 == 0 ? 0.0f : ((i + l) % 3 == 1 ? 1.0f : 0.25f);
                        cases++;
                        passed += check_product(ta, tb, ms[i], ns[j], ks[l], alpha, beta);
                    }
    CHECK(passed == cases);
    printf("  ragged shapes: %d of %d products match\n", passed, cases);
}

/* alpha = 0 and k = 0 only scale C (beta = 0: zeros, even over NaN). */
static void scaling_only(void) {
    float a[4] = {NAN, NAN, NAN, NAN}, b[4] = {NAN, NAN, NAN, NAN};
    float c[4] = {NAN, NAN, NAN, NAN};
    clh_gemm_portable(0, 0, 2, 2, 2, 0.0f, a, 2, b, 2, 0.0f, c, 2);
    CHECK(c[0] == 0.0f && c[1] == 0.0f && c[2] == 0.0f && c[3] == 0.0f);
    float d[4] = {1, 2, 3, 4};
    clh_gemm_portable(1, 1, 2, 2, 0, 1.0f, a, 2, b, 2, 0.5f, d, 2);
    CHECK(d[0] == 0.5f && d[1] == 1.0f && d[2] == 1.5f && d[3] == 2.0f);
    clh_gemm_portable(0, 0, 0, 3, 3, 1.0f, a, 3, b, 3, 0.0f, NULL, 3); /* m = 0: C never read */
    /* An empty product leaves C as it was (m, n or k = 0 with beta = 1). */
    float e[4] = {7, 8, 9, 10};
    clh_gemm_portable(0, 0, 0, 2, 2, 1.0f, a, 2, b, 2, 0.0f, e, 2);
    clh_gemm_portable(0, 0, 2, 0, 2, 1.0f, a, 2, b, 2, 0.0f, e, 2);
    clh_gemm_portable(0, 0, 2, 2, 0, 1.0f, a, 2, b, 2, 1.0f, e, 2);
    CHECK(e[0] == 7.0f && e[1] == 8.0f && e[2] == 9.0f && e[3] == 10.0f);
}

/* The heads' shapes, with two threads (split into bands) and one. */
static void threaded_shapes(void) {
    static const int64_t shapes[][5] = {
        {0, 1, 256, 1000, 512}, /* CIL forward */
        {1, 0, 1000, 512, 256}, /* CIL dW */
        {0, 0, 256, 512, 1000}, /* CIL dx */
        {0, 1, 1001, 40, 300},  /* ragged, narrow: split by rows */
        {0, 1, 1, 1000, 512},   /* one sample */
        {0, 0, 1, 512, 1000},
        {0, 1, 33, 10, 1100},   /* narrow heads: dot products over several K chunks */
        {0, 1, 5, 3, 530},
    };
    int passed = 0, cases = 0;
    for (int threads = 1; threads <= 2; threads++) {
        clh_set_num_threads(threads);
        for (size_t s = 0; s < sizeof shapes / sizeof *shapes; s++) {
            cases++;
            passed += check_product((int)shapes[s][0], (int)shapes[s][1], shapes[s][2], shapes[s][3],
                                    shapes[s][4], 1.0f, s % 2 ? 1.0f : 0.0f);
        }
    }
    clh_set_num_threads(0);
    CHECK(passed == cases);
    printf("  heads' shapes on 1 and 2 threads: %d of %d products match\n", passed, cases);
}

/* A shape big enough to be cut into bands for the helper threads. */
static int split_product(void) { return check_product(0, 1, 256, 200, 300, 1.0f, 0.5f); }

static void *caller_main(void *arg) {
    int *ok = arg;
    for (int r = 0; r < 4; r++) *ok &= split_product();
    return NULL;
}

/* Three application threads (and this one) multiply at once: one of them
 * has the helpers, the others run on their own thread; every result right. */
static void concurrent_callers(void) {
    clh_set_num_threads(2);
    enum { CALLERS = 3 };
    pthread_t threads[CALLERS];
    int ok[CALLERS] = {1, 1, 1}, made[CALLERS], mine = 1;
    for (int t = 0; t < CALLERS; t++) {
        made[t] = pthread_create(&threads[t], NULL, caller_main, &ok[t]) == 0;
        CHECK(made[t]);
    }
    for (int r = 0; r < 4; r++) mine &= split_product();
    for (int t = 0; t < CALLERS; t++)
        if (made[t]) pthread_join(threads[t], NULL);
    clh_set_num_threads(0);
    const int all_ok = mine && ok[0] && ok[1] && ok[2];
    CHECK(all_ok);
    printf("  %d application threads multiplying at once: %s\n", CALLERS + 1,
           all_ok ? "all match" : "MISMATCH");
}

/* fork() after the helpers started, once while no multiply runs and once
 * while another thread is inside one: the child's own split multiply must
 * finish (an alarm turns a deadlock into a failure) and match the parent's.
 * Operands and the expected result are made before the fork, so the child
 * calls no malloc: the other thread may hold the allocator's lock at the
 * fork, and ASan's allocator is not fork-safe. The bands are fixed by the
 * shape and thread count, so the result is the same bits on any thread. */
enum { FM = 256, FN = 200, FK = 300 };
static float fork_a[FM * FK], fork_b[FN * FK], fork_c[FM * FN], fork_want[FM * FN];

static void fork_product(float *c) {
    for (int64_t i = 0; i < FM * FN; i++) c[i] = NAN; /* beta = 0: never read */
    clh_gemm_portable(0, 1, FM, FN, FK, 1.0f, fork_a, FK, fork_b, FK, 0.0f, c, FN);
}

static int child_multiplies(void) {
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) return 0;
    if (pid == 0) {
        alarm(30);
        fork_product(fork_c);
        _exit(memcmp(fork_c, fork_want, sizeof fork_c) == 0 ? 0 : 1);
    }
    int status = 0;
    if (waitpid(pid, &status, 0) != pid) return 0;
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return 1;
    fprintf(stderr, "forked child: %s %d\n", WIFSIGNALED(status) ? "killed by signal" : "exit status",
            WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
    return 0;
}

#if defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define CLH_TEST_TSAN_CLANG 1
#endif
#endif
#ifndef CLH_TEST_TSAN_CLANG
#define CLH_TEST_TSAN_CLANG 0
#endif

static void fork_with_helpers(void) {
#if defined(__SANITIZE_THREAD__) || CLH_TEST_TSAN_CLANG
    /* ThreadSanitizer does not support threads started after a fork. */
    (void)child_multiplies;
    printf("  fork: skipped under ThreadSanitizer\n");
#else
    clh_set_num_threads(2);
    CHECK(split_product()); /* the helpers exist from here on */
    for (int64_t i = 0; i < FM * FK; i++) fork_a[i] = next_float();
    for (int64_t i = 0; i < FN * FK; i++) fork_b[i] = next_float();
    fork_product(fork_want);
    CHECK(child_multiplies());
    int busy_ok = 1;
    pthread_t busy;
    const int made = pthread_create(&busy, NULL, caller_main, &busy_ok) == 0;
    CHECK(made);
    int children_ok = 1;
    for (int r = 0; r < 3; r++) children_ok &= child_multiplies();
    if (made) pthread_join(busy, NULL);
    clh_set_num_threads(0);
    CHECK(children_ok && busy_ok);
    printf("  fork with helper threads alive: %s\n",
           children_ok && busy_ok ? "children multiply correctly" : "FAILED");
#endif
}

int main(void) {
    const char *forced = getenv("CLH_PORTABLE_KERNEL");
    printf("  kernel: %s\n", forced ? forced : "selected by the CPU");
    scaling_only();
    ragged_shapes();
    threaded_shapes();
    concurrent_callers();
    fork_with_helpers();
    return check_done("test_gemm_portable");
}
