/* Cross-entropy against torch.nn.functional.cross_entropy (tests/data/train/
 * cross_entropy.ref: -inf positions, a batch of 1, huge logits, one class),
 * and the label checks of the heads-aware loss: every error names the sample
 * and writes nothing. */
#include <string.h>

#include "check.h"
#include "clheads.h"
#include "refdata.h"

static void torch_cases(void) {
    refdata *rd = refdata_load_test_file("train/cross_entropy.ref");
    CHECK(rd != NULL);
    if (!rd) return;
    const int64_t *count = refdata_i64(rd, NULL, "count");
    CHECK(count && *count >= 5);
    for (int64_t k = 0; count && k < *count; k++) {
        char name[64];
        snprintf(name, sizeof name, "case%lld.logits", (long long)k);
        const refdata_array *a = refdata_find(rd, name);
        const int64_t *labels = refdata_i64(rd, NULL, "case%lld.labels", (long long)k);
        const float *want_loss = refdata_f32(rd, NULL, "case%lld.loss", (long long)k);
        const float *want_grad = refdata_f32(rd, NULL, "case%lld.grad", (long long)k);
        CHECK(a && labels && want_loss && want_grad);
        if (!a || !labels || !want_loss || !want_grad) continue;
        int64_t batch = (int64_t)a->dims[0], classes = (int64_t)a->dims[1];
        const float *logits = a->data;
        float loss = -1, grad[64];
        CHECK_OK(clh_cross_entropy(logits, batch, classes, labels, &loss, grad));
        CHECK_CLOSE(loss, want_loss[0], 1e-6, fabs(want_loss[0]) > 1e-3 ? fabs(want_loss[0]) : 1e-3);
        for (size_t i = 0; i < a->count; i++) {
            CHECK_CLOSE(grad[i], want_grad[i], 1e-6, 1.0);
            if (logits[i] == -INFINITY) CHECK(grad[i] == 0.0f); /* exactly no gradient */
        }
        /* Loss alone (dlogits NULL) gives the same value. */
        float loss2 = -1;
        CHECK_OK(clh_cross_entropy(logits, batch, classes, labels, &loss2, NULL));
        CHECK(loss2 == loss);
        /* dlogits may alias logits. */
        float inplace[64];
        memcpy(inplace, logits, a->count * sizeof(float));
        CHECK_OK(clh_cross_entropy(inplace, batch, classes, labels, &loss2, inplace));
        CHECK(memcmp(inplace, grad, a->count * sizeof(float)) == 0);
    }
    refdata_free(rd);
}

static void generic_errors(void) {
    const float logits[6] = {0.1f, 0.2f, 0.3f, 1.0f, -INFINITY, 2.0f};
    float grad[6] = {7, 7, 7, 7, 7, 7}, loss = 7;
    int64_t bad[2] = {0, 3};
    CHECK_STATUS(clh_cross_entropy(logits, 2, 3, bad, &loss, grad), CLH_E_LABEL);
    CHECK(strstr(clh_last_error(), "sample 1") && strstr(clh_last_error(), "label 3"));
    CHECK(loss == 7 && grad[0] == 7 && grad[5] == 7); /* nothing written */
    int64_t negative[2] = {-1, 0};
    CHECK_STATUS(clh_cross_entropy(logits, 2, 3, negative, &loss, grad), CLH_E_LABEL);
    CHECK(strstr(clh_last_error(), "sample 0") != NULL);
    int64_t on_inf[2] = {2, 1}; /* sample 1's label 1 is the -inf logit */
    CHECK_STATUS(clh_cross_entropy(logits, 2, 3, on_inf, &loss, grad), CLH_E_LABEL);
    CHECK(strstr(clh_last_error(), "sample 1") && strstr(clh_last_error(), "-inf"));
    CHECK(loss == 7 && grad[3] == 7);
    int64_t ok[2] = {2, 2};
    CHECK_STATUS(clh_cross_entropy(logits, 2, 0, ok, &loss, grad), CLH_E_INVALID_ARG);
    CHECK_STATUS(clh_cross_entropy(logits, -1, 3, ok, &loss, grad), CLH_E_INVALID_ARG);
    CHECK_STATUS(clh_cross_entropy(logits, 2, 3, ok, NULL, grad), CLH_E_NULL);
    CHECK_STATUS(clh_cross_entropy(NULL, 2, 3, ok, &loss, grad), CLH_E_NULL);
    CHECK_STATUS(clh_cross_entropy(logits, INT64_MAX / 2, INT64_MAX / 2, ok, &loss, grad),
                 CLH_E_OVERFLOW);
    /* Empty batch: loss 0, nothing else needed. */
    CHECK_OK(clh_cross_entropy(NULL, 0, 3, NULL, &loss, NULL));
    CHECK(loss == 0.0f);
}

/* TIL: local labels against the selected head; CIL: global labels, masked tasks. */
static void heads_labels(void) {
    clh_heads *til = NULL, *cil = NULL, *mtl = NULL;
    CHECK_OK(clh_heads_create(&til, CLH_TIL, 2, 1));
    CHECK_OK(clh_heads_setup_task(til, 5, 3));
    CHECK_OK(clh_heads_setup_task(til, 2, 2));
    float logits[6] = {0.5f, 0.1f, -0.2f, 0.3f, 0.3f, 1.0f};
    int64_t labels3[2] = {2, 0};
    float loss = 7, grad[12];
    CHECK_OK(clh_heads_cross_entropy(til, logits, 2, 5, NULL, labels3, &loss, grad));
    float generic = 0;
    CHECK_OK(clh_cross_entropy(logits, 2, 3, labels3, &generic, NULL));
    CHECK(loss == generic);
    /* Task 2 has 2 classes: label 2 is outside 0..1. */
    int64_t labels2[3] = {0, 1, 2};
    loss = 7;
    CHECK_STATUS(clh_heads_cross_entropy(til, logits, 3, 2, NULL, labels2, &loss, grad), CLH_E_LABEL);
    CHECK(strstr(clh_last_error(), "sample 2") && strstr(clh_last_error(), "0..1"));
    CHECK(loss == 7);
    CHECK_STATUS(clh_heads_cross_entropy(til, logits, 2, 9, NULL, labels3, &loss, grad),
                 CLH_E_UNKNOWN_TASK);
    int64_t ids[2] = {5, 5};
    CHECK_STATUS(clh_heads_cross_entropy(til, logits, 2, CLH_NO_TASK, ids, labels3, &loss, grad),
                 CLH_E_PARADIGM);
    int64_t global = -1;
    CHECK_OK(clh_heads_global_label(til, 2, 1, &global));
    CHECK(global == 1); /* TIL labels stay local */

    /* CIL: task 5 (3 classes) then task 2 (2 classes): global labels 0..4. */
    CHECK_OK(clh_heads_create(&cil, CLH_CIL, 2, 1));
    CHECK_OK(clh_heads_setup_task(cil, 5, 3));
    CHECK_OK(clh_heads_setup_task(cil, 2, 2));
    CHECK_OK(clh_heads_global_label(cil, 2, 1, &global));
    CHECK(global == 4);
    CHECK_STATUS(clh_heads_global_label(cil, 2, 2, &global), CLH_E_LABEL);
    const float x[4] = {0.3f, -0.7f, 1.1f, 0.2f};
    float cil_logits[10];
    CHECK_OK(clh_heads_forward(cil, x, 2, CLH_NO_TASK, cil_logits));
    int64_t cil_labels[2] = {4, 1};
    CHECK_OK(clh_heads_cross_entropy(cil, cil_logits, 2, CLH_NO_TASK, NULL, cil_labels, &loss, grad));
    int64_t cil_bad[2] = {4, 5};
    CHECK_STATUS(clh_heads_cross_entropy(cil, cil_logits, 2, CLH_NO_TASK, NULL, cil_bad, &loss, grad),
                 CLH_E_LABEL);
    CHECK(strstr(clh_last_error(), "sample 1") && strstr(clh_last_error(), "label 5"));
    /* Masking task 2: its logits are -inf; a label there is an error, others
     * train with the masked logits carrying no gradient. */
    CHECK_OK(clh_heads_set_masked(cil, 2, 1));
    CHECK_OK(clh_heads_forward(cil, x, 2, CLH_NO_TASK, cil_logits));
    CHECK(cil_logits[3] == -INFINITY && cil_logits[9] == -INFINITY);
    CHECK_STATUS(clh_heads_cross_entropy(cil, cil_logits, 2, CLH_NO_TASK, NULL, cil_labels, &loss, grad),
                 CLH_E_LABEL);
    CHECK(strstr(clh_last_error(), "sample 0") && strstr(clh_last_error(), "-inf"));
    int64_t unmasked[2] = {0, 2};
    CHECK_OK(clh_heads_cross_entropy(cil, cil_logits, 2, CLH_NO_TASK, NULL, unmasked, &loss, grad));
    CHECK(grad[3] == 0.0f && grad[4] == 0.0f && grad[8] == 0.0f && grad[9] == 0.0f);
    CHECK(isfinite(loss) && loss > 0);

    /* MTL mixed batch: task 1 has 3 classes, task 0 has 2; padding is -inf. */
    CHECK_OK(clh_heads_create(&mtl, CLH_MTL, 2, 1));
    const int64_t mtl_ids[2] = {1, 0}, mtl_classes[2] = {3, 2};
    CHECK_OK(clh_heads_setup_tasks(mtl, mtl_ids, mtl_classes, 2));
    int64_t sample_tasks[3] = {0, 1, 0};
    float mx[6] = {0.1f, 0.2f, -0.3f, 0.4f, 0.5f, -0.6f}, mlog[9];
    CHECK_OK(clh_heads_forward_mixed(mtl, mx, 3, sample_tasks, mlog, NULL, 0));
    int64_t mlabels[3] = {1, 2, 0};
    CHECK_OK(clh_heads_cross_entropy(mtl, mlog, 3, CLH_NO_TASK, sample_tasks, mlabels, &loss, grad));
    CHECK(grad[2] == 0.0f && grad[8] == 0.0f); /* padding gets no gradient */
    int64_t mbad[3] = {1, 2, 2}; /* sample 2 is task 0: 2 classes */
    CHECK_STATUS(clh_heads_cross_entropy(mtl, mlog, 3, CLH_NO_TASK, sample_tasks, mbad, &loss, grad),
                 CLH_E_LABEL);
    CHECK(strstr(clh_last_error(), "sample 2") != NULL);
    int64_t unknown_tasks[3] = {0, 1, 9};
    CHECK_STATUS(clh_heads_cross_entropy(mtl, mlog, 3, CLH_NO_TASK, unknown_tasks, mlabels, &loss,
                                         grad),
                 CLH_E_UNKNOWN_TASK);
    CHECK(strstr(clh_last_error(), "sample 2") && strstr(clh_last_error(), "9"));
    /* One task for the whole batch: labels against that head. */
    int64_t one[1] = {2};
    CHECK_OK(clh_heads_cross_entropy(mtl, mlog + 3, 1, 1, NULL, one, &loss, grad));
    /* Neither a batch task id nor per-sample ids: rejected as forward rejects it. */
    float before = loss;
    CHECK_STATUS(clh_heads_cross_entropy(mtl, mlog, 1, CLH_NO_TASK, NULL, one, &loss, grad),
                 CLH_E_PARADIGM);
    CHECK(loss == before && strstr(clh_last_error(), "clh_heads_cross_entropy") != NULL);
    int64_t bad_id_tasks[3] = {0, CLH_NO_TASK, 0};
    CHECK_STATUS(clh_heads_cross_entropy(mtl, mlog, 3, CLH_NO_TASK, bad_id_tasks, mlabels, &loss,
                                         grad),
                 CLH_E_UNKNOWN_TASK);

    /* STL takes CLH_NO_TASK or 0 (its one head), as its forward does. */
    clh_heads *stl = NULL;
    CHECK_OK(clh_heads_create(&stl, CLH_STL, 2, 1));
    CHECK_OK(clh_heads_setup_single(stl, 3));
    CHECK_OK(clh_heads_cross_entropy(stl, mlog + 3, 1, CLH_NO_TASK, NULL, one, &loss, grad));
    CHECK_OK(clh_heads_cross_entropy(stl, mlog + 3, 1, 0, NULL, one, &loss, grad));
    CHECK_STATUS(clh_heads_cross_entropy(stl, mlog + 3, 1, 3, NULL, one, &loss, grad),
                 CLH_E_UNKNOWN_TASK);
    clh_heads_free(stl);

    clh_heads_free(til);
    clh_heads_free(cil);
    clh_heads_free(mtl);
}

int main(void) {
    torch_cases();
    generic_errors();
    heads_labels();
    return check_done("test_train_loss");
}
