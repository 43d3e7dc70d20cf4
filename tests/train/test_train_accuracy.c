/* Accuracy counts on hand-made logits: CIL task-aware vs task-agnostic differ,
 * ties go to the lowest index, masked blocks, MTL padding, accumulation over
 * batches, label errors leave the counts unchanged. */
#include <string.h>

#include "check.h"
#include "clheads.h"

static void cil_counts(void) {
    clh_heads *cil = NULL;
    CHECK_OK(clh_heads_create(&cil, CLH_CIL, 3, 1));
    CHECK_OK(clh_heads_setup_task(cil, 5, 3)); /* global classes 0..2 */
    CHECK_OK(clh_heads_setup_task(cil, 2, 2)); /* global classes 3..4 */
    const float logits[5 * 5] = {
        0, 2, 1, 5, 0, /* label 1: aware 1 (right), agnostic 3 (wrong) */
        0, 0, 0, 1, 3, /* label 4: both right */
        1, 2, 0, 0, 0, /* label 0: both wrong */
        9, 0, 0, 2, 1, /* label 3: aware 3 (right), agnostic 0 (wrong) */
        3, 3, 0, 0, 0, /* label 0: a tie, the first index wins: both right */
    };
    const int64_t labels[5] = {1, 4, 0, 3, 0};
    clh_accuracy acc;
    memset(&acc, 0, sizeof acc);
    CHECK_OK(clh_heads_accuracy(cil, logits, 5, CLH_NO_TASK, NULL, labels, &acc));
    CHECK(acc.correct_aware == 4 && acc.correct_agnostic == 2 && acc.samples == 5);
    /* A second batch adds to the counts. */
    CHECK_OK(clh_heads_accuracy(cil, logits, 5, CLH_NO_TASK, NULL, labels, &acc));
    CHECK(acc.correct_aware == 8 && acc.correct_agnostic == 4 && acc.samples == 10);
    /* A bad label: error naming the sample, counts unchanged. */
    const int64_t bad[5] = {1, 4, 0, 3, 5};
    CHECK_STATUS(clh_heads_accuracy(cil, logits, 5, CLH_NO_TASK, NULL, bad, &acc), CLH_E_LABEL);
    CHECK(strstr(clh_last_error(), "sample 4") != NULL);
    CHECK(acc.correct_aware == 8 && acc.correct_agnostic == 4 && acc.samples == 10);
    CHECK_STATUS(clh_heads_accuracy(cil, logits, 5, CLH_NO_TASK, NULL, labels, NULL), CLH_E_NULL);

    /* Masked task 2 (-inf block): its samples are wrong, the others unaffected. */
    const float masked[2 * 5] = {0, 2, 1, -INFINITY, -INFINITY, 0, 0, 0, -INFINITY, -INFINITY};
    const int64_t masked_labels[2] = {1, 4};
    memset(&acc, 0, sizeof acc);
    CHECK_OK(clh_heads_accuracy(cil, masked, 2, CLH_NO_TASK, NULL, masked_labels, &acc));
    CHECK(acc.correct_aware == 1 && acc.correct_agnostic == 1 && acc.samples == 2);
    /* Empty batch. */
    CHECK_OK(clh_heads_accuracy(cil, NULL, 0, CLH_NO_TASK, NULL, NULL, &acc));
    CHECK(acc.samples == 2);
    clh_heads_free(cil);

    /* Four tasks of 1, 2, 1 and 3 classes: for every global label the aware
     * block is exactly its task's, so a larger logit just outside the block
     * (after it, or before the last block) never wins. */
    CHECK_OK(clh_heads_create(&cil, CLH_CIL, 3, 1));
    const int64_t sizes[4] = {1, 2, 1, 3}, begins[4] = {0, 1, 3, 4};
    for (int64_t t = 0; t < 4; t++) CHECK_OK(clh_heads_setup_task(cil, 10 - t, sizes[t]));
    float rows[7 * 7] = {0};
    int64_t global[7];
    for (int64_t t = 0, label = 0; t < 4; t++) {
        for (int64_t c = 0; c < sizes[t]; c++, label++) {
            int64_t end = begins[t] + sizes[t], outside = end < 7 ? end : begins[t] - 1;
            global[label] = label;
            rows[label * 7 + label] = 1.0f;
            rows[label * 7 + outside] = 5.0f;
        }
    }
    memset(&acc, 0, sizeof acc);
    CHECK_OK(clh_heads_accuracy(cil, rows, 7, CLH_NO_TASK, NULL, global, &acc));
    CHECK(acc.correct_aware == 7 && acc.correct_agnostic == 0 && acc.samples == 7);
    clh_heads_free(cil);
}

static void til_and_mtl_counts(void) {
    clh_heads *til = NULL, *mtl = NULL;
    CHECK_OK(clh_heads_create(&til, CLH_TIL, 3, 1));
    CHECK_OK(clh_heads_setup_task(til, 1, 3));
    const float logits[2 * 3] = {0.1f, 0.7f, 0.2f, 1.0f, -1.0f, 0.0f};
    const int64_t labels[2] = {1, 2};
    clh_accuracy acc = {0, 0, 0};
    CHECK_OK(clh_heads_accuracy(til, logits, 2, 1, NULL, labels, &acc));
    CHECK(acc.correct_aware == 1 && acc.correct_agnostic == 1 && acc.samples == 2);
    CHECK_STATUS(clh_heads_accuracy(til, logits, 2, 4, NULL, labels, &acc), CLH_E_UNKNOWN_TASK);
    CHECK(acc.samples == 2);

    CHECK_OK(clh_heads_create(&mtl, CLH_MTL, 3, 1));
    const int64_t ids[2] = {0, 1}, classes[2] = {2, 3};
    CHECK_OK(clh_heads_setup_tasks(mtl, ids, classes, 2));
    /* Padded to 3: sample 0 is task 0 (2 classes), its third logit is padding. */
    const float mixed[3 * 3] = {0.1f, 0.5f, -INFINITY, 0.3f, 0.2f, 0.9f, 2.0f, 1.0f, -INFINITY};
    const int64_t tasks[3] = {0, 1, 0};
    const int64_t mlabels[3] = {1, 2, 1};
    memset(&acc, 0, sizeof acc);
    CHECK_OK(clh_heads_accuracy(mtl, mixed, 3, CLH_NO_TASK, tasks, mlabels, &acc));
    CHECK(acc.correct_aware == 2 && acc.correct_agnostic == 2 && acc.samples == 3);
    const int64_t mbad[3] = {1, 2, 2}; /* task 0 has no class 2 */
    CHECK_STATUS(clh_heads_accuracy(mtl, mixed, 3, CLH_NO_TASK, tasks, mbad, &acc), CLH_E_LABEL);
    CHECK(strstr(clh_last_error(), "sample 2") != NULL && acc.samples == 3);
    /* MTL with neither a batch task id nor per-sample ids: no head to check against. */
    CHECK_STATUS(clh_heads_accuracy(mtl, mixed, 3, CLH_NO_TASK, NULL, mlabels, &acc), CLH_E_PARADIGM);
    CHECK(acc.correct_aware == 2 && acc.samples == 3);
    clh_heads_free(til);
    clh_heads_free(mtl);
}

int main(void) {
    cil_counts();
    til_and_mtl_counts();
    return check_done("test_train_accuracy");
}
