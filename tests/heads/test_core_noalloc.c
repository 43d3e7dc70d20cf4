/* The steady state allocates nothing: after set-up, forward, backward (mixed
 * MTL with a caller-provided workspace), zero-grad and queries leave
 * clh_test_alloc_count() unchanged, for every paradigm. */
#include <stdint.h>
#include <string.h>

#include "common/testing.h"
#include "test_core_util.h"

#define IN 13
#define B 9

int main(void) {
    const int64_t ids[] = {3, 1, 2}, classes[] = {4, 2, 5}, tasks[B] = {1, 2, 3, 3, 1, 2, 2, 1, 3};
    float *x = test_random_floats(B * IN), *g = test_random_floats(B * 11);
    float logits[B * 11], dx[B * IN];
    for (int p = CLH_TIL; p <= CLH_STL; p++) {
        clh_heads *h = NULL;
        CHECK_OK(clh_heads_create(&h, (clh_paradigm)p, IN, 1));
        if (p == CLH_TIL || p == CLH_CIL)
            for (int i = 0; i < 3; i++) CHECK_OK(clh_heads_setup_task(h, ids[i], classes[i]));
        else if (p == CLH_MTL)
            CHECK_OK(clh_heads_setup_tasks(h, ids, classes, 3));
        else
            CHECK_OK(clh_heads_setup_single(h, 5));
        int64_t task = (p == CLH_TIL || p == CLH_MTL) ? 2 : CLH_NO_TASK;
        size_t ws_bytes = 0;
        void *ws = NULL;
        if (p == CLH_MTL) {
            CHECK_OK(clh_heads_mixed_workspace_size(h, B, &ws_bytes));
            ws = malloc(ws_bytes);
        }
        unsigned long before = clh_test_alloc_count();
        for (int rep = 0; rep < 3; rep++) {
            int64_t width;
            clh_head_view view;
            CHECK_OK(clh_heads_logits_width(h, task, &width));
            CHECK_OK(clh_heads_get_head(h, p == CLH_DIL || p == CLH_STL ? CLH_NO_TASK : 1, &view));
            CHECK_OK(clh_heads_forward(h, x, B, task, logits));
            CHECK_OK(clh_heads_backward(h, x, B, task, g, dx));
            CHECK_OK(clh_heads_backward(h, x, B, task, g, NULL));
            if (p == CLH_MTL) {
                CHECK_OK(clh_heads_forward_mixed(h, x, B, tasks, logits, ws, ws_bytes));
                CHECK_OK(clh_heads_backward_mixed(h, x, B, tasks, g, dx, ws, ws_bytes));
            }
            clh_heads_zero_grad(h);
            if (p != CLH_DIL && p != CLH_STL) CHECK_OK(clh_heads_zero_grad_task(h, 3));
        }
        unsigned long allocated = clh_test_alloc_count() - before;
        CHECK(allocated == 0);
        printf("  %s: %lu allocations in 3 steady-state rounds\n",
               clh_paradigm_name((clh_paradigm)p), allocated);
        free(ws);
        clh_heads_free(h);
    }
    free(x);
    free(g);
    return check_done("test_core_noalloc");
}
