/* Forward does not modify the handle: two threads running forward at once on
 * one handle (CIL, and mixed MTL with a workspace per thread) get exactly the
 * single-threaded results. */
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
    return check_done("test_core_threads");
}
