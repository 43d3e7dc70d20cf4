/* Forward does not modify the handle: two threads running forward at once on
 * one handle (CIL, and mixed MTL with a workspace per thread) get exactly the
 * single-threaded results. The failure detail is per thread: a failure on one
 * thread leaves another thread's detail as it was (in a build with
 * CLH_THREAD_LOCAL_DETAIL=OFF: one detail, the last failure's, for all). */
#define _POSIX_C_SOURCE 200809L /* pthread_barrier_t */

#include <pthread.h>
#include <stdint.h>
#include <string.h>

#include "test_core_util.h"

#define IN 37
#define B 16
#define ROUNDS 200

static clh_heads *cil, *mtl;
static float *x, expected_cil[B * 12], expected_mtl[B * 5];
static const int64_t tasks[B] = {1, 2, 3, 3, 1, 2, 2, 1, 3, 1, 1, 2, 3, 2, 1, 3};

static void *worker(void *arg) {
    (void)arg;
    float logits[B * 12];
    size_t bytes = 0;
    long bad = 0;
    if (clh_heads_mixed_workspace_size(mtl, B, &bytes) != CLH_OK) return (void *)1;
    void *ws = malloc(bytes);
    for (int r = 0; r < ROUNDS; r++) {
        if (clh_heads_forward(cil, x, B, CLH_NO_TASK, logits) != CLH_OK ||
            memcmp(logits, expected_cil, sizeof expected_cil) != 0)
            bad++;
        void *use = (r % 2) ? ws : NULL; /* with and without a workspace */
        if (clh_heads_forward_mixed(mtl, x, B, tasks, logits, use, use ? bytes : 0) != CLH_OK ||
            memcmp(logits, expected_mtl, sizeof expected_mtl) != 0)
            bad++;
    }
    free(ws);
    return (void *)bad;
}

/* Two threads fail in turn (unknown task ids 1001 and 1002), then each reads
 * its own detail: with one detail for the program the first would read the
 * second's. */
static pthread_barrier_t turn;
static clh_heads *til;

static void *fail_in_turn(void *arg) {
    const int64_t mine = (int64_t)(intptr_t)arg;
    float logits[B * 2];
    if (mine == 1002) pthread_barrier_wait(&turn); /* after 1001 failed */
    clh_status st = clh_heads_forward(til, x, B, mine, logits);
    if (mine == 1001) pthread_barrier_wait(&turn);
    pthread_barrier_wait(&turn); /* both have failed */
    char want[32];
    snprintf(want, sizeof want, "task id %lld", (long long)mine);
    const int own = st == CLH_E_UNKNOWN_TASK && strstr(clh_last_error(), want) != NULL &&
                    strstr(clh_heads_last_error(til), want) != NULL;
    if (!own) fprintf(stderr, "  thread %lld reads the detail \"%s\"\n", (long long)mine, clh_last_error());
    return (void *)(intptr_t)own;
}

static void per_thread_detail(void) {
    CHECK_OK(clh_heads_create(&til, CLH_TIL, IN, 1));
    CHECK_OK(clh_heads_setup_task(til, 1, 2));
    CHECK(pthread_barrier_init(&turn, NULL, 2) == 0);
    pthread_t threads[2];
    for (int i = 0; i < 2; i++)
        CHECK(pthread_create(&threads[i], NULL, fail_in_turn, (void *)(intptr_t)(1001 + i)) == 0);
    int own = 1;
    for (int i = 0; i < 2; i++) {
        void *result = NULL;
        CHECK(pthread_join(threads[i], &result) == 0);
        own &= result != NULL;
    }
#ifndef CLH_NO_THREAD_LOCAL
    CHECK(own);
    CHECK(clh_last_error()[0] == '\0'); /* this thread had no failure */
    printf("  two threads failing in turn: %s\n", own ? "each reads its own detail" : "DETAIL SHARED");
#else
    /* CLH_THREAD_LOCAL_DETAIL=OFF: one detail for the program, as documented:
     * every thread reads the last failure's. */
    CHECK(!own);
    CHECK(strstr(clh_last_error(), "task id 1002") != NULL);
    printf("  two threads failing in turn: one detail for the program (CLH_THREAD_LOCAL_DETAIL=OFF)\n");
#endif
    pthread_barrier_destroy(&turn);
    clh_heads_free(til);
}

int main(void) {
    const int64_t ids[] = {3, 1, 2}, classes[] = {4, 3, 5};
    CHECK_OK(clh_heads_create(&cil, CLH_CIL, IN, 1));
    CHECK_OK(clh_heads_create(&mtl, CLH_MTL, IN, 1));
    for (int i = 0; i < 3; i++) CHECK_OK(clh_heads_setup_task(cil, ids[i], classes[i]));
    CHECK_OK(clh_heads_setup_tasks(mtl, ids, classes, 3));
    x = test_random_floats(B * IN);
    CHECK_OK(clh_heads_forward(cil, x, B, CLH_NO_TASK, expected_cil));
    CHECK_OK(clh_heads_forward_mixed(mtl, x, B, tasks, expected_mtl, NULL, 0));
    core_snapshot cil_before = snapshot_take(cil), mtl_before = snapshot_take(mtl);
    pthread_t threads[2];
    for (int i = 0; i < 2; i++) CHECK(pthread_create(&threads[i], NULL, worker, NULL) == 0);
    for (int i = 0; i < 2; i++) {
        void *bad = NULL;
        CHECK(pthread_join(threads[i], &bad) == 0);
        CHECK(bad == NULL);
        printf("  thread %d: %ld mismatching forward calls of %d\n", i, (long)(intptr_t)bad,
               2 * ROUNDS);
    }
    /* Forward changed nothing in either handle. */
    CHECK_UNCHANGED(cil, cil_before);
    CHECK_UNCHANGED(mtl, mtl_before);
    snapshot_free(&cil_before);
    snapshot_free(&mtl_before);
    free(x);
    clh_heads_free(cil);
    clh_heads_free(mtl);
    x = test_random_floats(B * IN);
    per_thread_detail();
    free(x);
    return check_done("test_core_threads");
}
