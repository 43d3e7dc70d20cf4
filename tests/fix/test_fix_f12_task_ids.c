/* Finding 12: one task-id rule (heads.h, "Task ids") serves every call. For
 * each paradigm and the ids CLH_NO_TASK, 0, 1 and 7, every call that takes a
 * task id gives the status the rule says: before the fix DIL's forward took
 * task 7 where its queries refused it, and STL's forward refused 0 where its
 * queries took it. */
#include <string.h>

#include "check.h"

enum { BATCH, QUERY }; /* calls over a batch / about one task */

/* The rule: the status a call of `kind` gives for `id` on heads of paradigm p
 * set up with tasks 0 and 1 (DIL/STL: their one head). */
static clh_status expected(clh_paradigm p, int kind, const char *call, int64_t id) {
    if (p == CLH_DIL || p == CLH_STL)
        return id == CLH_NO_TASK || id == 0 ? CLH_OK : CLH_E_UNKNOWN_TASK;
    if (id == CLH_NO_TASK) {
        if (p == CLH_CIL && kind == BATCH) return CLH_OK;
        if (p == CLH_MTL && strcmp(call, "logits_width") == 0) return CLH_OK; /* widest */
        return CLH_E_PARADIGM;
    }
    return id == 0 || id == 1 ? CLH_OK : CLH_E_UNKNOWN_TASK;
}

static void check_call(clh_paradigm p, int kind, const char *call, int64_t id, clh_status got) {
    clh_status want = expected(p, kind, call, id);
    CHECK(got == want);
    if (got != want)
        fprintf(stderr, "  %s %s(task %lld): %s, the rule says %s (%s)\n", clh_paradigm_name(p),
                call, id == CLH_NO_TASK ? -1LL : (long long)id, clh_status_name(got),
                clh_status_name(want), clh_last_error());
    if (got != CLH_OK) CHECK(clh_last_error()[0] != '\0');
}

int main(void) {
    const int64_t ids[] = {CLH_NO_TASK, 0, 1, 7};
    for (int pi = CLH_TIL; pi <= CLH_STL; pi++) {
        clh_paradigm p = (clh_paradigm)pi;
        clh_heads *h = NULL;
        CHECK_OK(clh_heads_create(&h, p, 3, 1));
        if (p == CLH_TIL || p == CLH_CIL) {
            CHECK_OK(clh_heads_setup_task(h, 0, 2));
            CHECK_OK(clh_heads_setup_task(h, 1, 2));
        } else if (p == CLH_MTL) {
            const int64_t task_ids[2] = {0, 1}, classes[2] = {2, 2};
            CHECK_OK(clh_heads_setup_tasks(h, task_ids, classes, 2));
        } else {
            CHECK_OK(clh_heads_setup_single(h, 2));
        }
        float x[3] = {1, -1, 0.5f}, logits[4], dlogits[4] = {0.1f, -0.1f, 0.2f, -0.2f}, loss;
        int64_t labels[1] = {0}, width, classes;
        for (int i = 0; i < 4; i++) {
            int64_t id = ids[i];
            clh_accuracy counts;
            clh_head_view view;
            int frozen;
            check_call(p, BATCH, "forward", id, clh_heads_forward(h, x, 1, id, logits));
            check_call(p, BATCH, "backward", id, clh_heads_backward(h, x, 1, id, dlogits, NULL));
            check_call(p, BATCH, "cross_entropy", id,
                       clh_heads_cross_entropy(h, logits, 1, id, NULL, labels, &loss, dlogits));
            check_call(p, BATCH, "accuracy", id,
                       clh_heads_accuracy(h, logits, 1, id, NULL, labels, &counts));
            check_call(p, BATCH, "logits_width", id, clh_heads_logits_width(h, id, &width));
            check_call(p, QUERY, "task_classes", id, clh_heads_task_classes(h, id, &classes, NULL));
            check_call(p, QUERY, "get_head", id, clh_heads_get_head(h, id, &view));
            check_call(p, QUERY, "is_frozen", id, clh_heads_is_frozen(h, id, &frozen));
            check_call(p, QUERY, "zero_grad_task", id, clh_heads_zero_grad_task(h, id));
        }
        clh_heads_free(h);
    }
    return check_done("test_fix_f12_task_ids");
}
