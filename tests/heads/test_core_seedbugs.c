/* Each bug of the seed (BRIEF.md, "What the seed gets wrong"; reproduced in
 * scripts/seed_heads.py) and what clheads does instead. */
#include <stdint.h>
#include <string.h>

#include "test_core_util.h"

#define IN 13

/* Gives every parameter a "trained" value that no initialisation produces. */
static void train(clh_heads *h) {
    float *p = NULL;
    size_t n = 0;
    clh_heads_flat(h, &p, NULL, &n);
    for (size_t i = 0; i < n; i++) p[i] = 3.0f + 0.5f * (float)(i % 11);
}

/* Seed: TIL/CIL setup_task_id compares an int with string keys, so a repeat
 * replaces the trained head. Ours: same count keeps it, another count errors. */
static void repeated_setup_keeps_weights(clh_paradigm paradigm) {
    clh_heads *h = NULL;
    CHECK_OK(clh_heads_create(&h, paradigm, IN, 1));
    CHECK_OK(clh_heads_setup_task(h, 3, 4));
    CHECK_OK(clh_heads_setup_task(h, 1, 2));
    train(h);
    core_snapshot before = snapshot_take(h);
    CHECK_OK(clh_heads_setup_task(h, 3, 4));
    CHECK_OK(clh_heads_setup_task(h, 1, 2));
    CHECK_UNCHANGED(h, before); /* weights, ids, order, widths: all as trained */
    CHECK_STATUS(clh_heads_setup_task(h, 3, 5), CLH_E_TASK_CONFLICT);
    CHECK(strstr(clh_last_error(), "3") != NULL);
    CHECK_UNCHANGED(h, before);
    snapshot_free(&before);
    clh_heads_free(h);
}

/* Seed: CIL appends to processed_task_ids on every call, so a repeat
 * duplicates the task's logits. Ours: the width and the order stay. */
static void cil_repeat_does_not_duplicate(void) {
    clh_heads *h = NULL;
    int64_t width = 0;
    CHECK_OK(clh_heads_create(&h, CLH_CIL, IN, 1));
    CHECK_OK(clh_heads_setup_task(h, 1, 2));
    CHECK_OK(clh_heads_setup_task(h, 2, 3));
    CHECK_OK(clh_heads_setup_task(h, 1, 2));
    CHECK_OK(clh_heads_setup_task(h, 1, 2));
    CHECK_OK(clh_heads_logits_width(h, CLH_NO_TASK, &width));
    CHECK(width == 5);
    CHECK(clh_heads_num_tasks(h) == 2);
    const int64_t *ids = clh_heads_task_ids(h);
    CHECK(ids && ids[0] == 1 && ids[1] == 2);
    int64_t offset = -1;
    CHECK_OK(clh_heads_task_classes(h, 2, NULL, &offset));
    CHECK(offset == 2);
    float x[IN] = {0}, logits[8];
    memset(logits, 0xA5, sizeof logits);
    CHECK_OK(clh_heads_forward(h, x, 1, CLH_NO_TASK, logits));
    CHECK(test_is_sentinel(logits + 5, 3)); /* exactly 5 logits written */
    clh_heads_free(h);
}

/* Seed: TIL registers head_t as a second name of the last head. Ours: one
 * bank, every parameter once; the heads tile it in set-up order. */
static void no_alias(void) {
    const int64_t ids[] = {3, 1, 2}, classes[] = {4, 2, 5};
    for (int p = CLH_TIL; p <= CLH_MTL; p += 3) { /* TIL and MTL */
        clh_heads *h = NULL;
        CHECK_OK(clh_heads_create(&h, (clh_paradigm)p, IN, 1));
        if (p == CLH_TIL)
            for (int i = 0; i < 3; i++) CHECK_OK(clh_heads_setup_task(h, ids[i], classes[i]));
        else
            CHECK_OK(clh_heads_setup_tasks(h, ids, classes, 3));
        float *params = NULL, *grads = NULL;
        size_t count = 0;
        clh_heads_flat(h, &params, &grads, &count);
        CHECK(count == (size_t)(4 + 2 + 5) * (IN + 1));
        CHECK(clh_heads_total_classes(h) == 11);
        int64_t row = 0;
        for (int i = 0; i < 3; i++) {
            clh_head_view v;
            int64_t offset = -1;
            CHECK_OK(clh_heads_get_head(h, ids[i], &v));
            CHECK_OK(clh_heads_task_classes(h, ids[i], NULL, &offset));
            CHECK(offset == row);
            CHECK(v.out_features == classes[i] && v.in_features == IN);
            CHECK(v.weight == params + row * IN);
            CHECK(v.bias == params + 11 * IN + row);
            CHECK(v.grad_weight == grads + row * IN);
            CHECK(v.grad_bias == grads + 11 * IN + row);
            row += classes[i];
        }
        clh_heads_free(h);
    }
}

/* Seed: a mixed MTL batch takes its width from the last task seen and fills
 * with 0, so unequal class counts crash (or, padded with 0, argmax picks a
 * class the task does not have). Ours: widest head, -inf padding. */
static void mtl_unequal_pads_with_minus_inf(void) {
    const int64_t ids[] = {1, 2}, classes[] = {2, 5}, tasks[] = {1, 2, 1};
    clh_heads *h = NULL;
    CHECK_OK(clh_heads_create(&h, CLH_MTL, IN, 1));
    CHECK_OK(clh_heads_setup_tasks(h, ids, classes, 2));
    /* Every real logit is -5 (W = 0, b = -5): a 0 padding would win argmax. */
    float *params = NULL;
    size_t count = 0;
    clh_heads_flat(h, &params, NULL, &count);
    for (size_t i = 0; i < count; i++) params[i] = i < (size_t)(7 * IN) ? 0.0f : -5.0f;
    float x[3 * IN], logits[3 * 5];
    for (int i = 0; i < 3 * IN; i++) x[i] = test_uniform();
    int64_t width = 0;
    CHECK_OK(clh_heads_logits_width(h, CLH_NO_TASK, &width));
    CHECK(width == 5);
    CHECK_OK(clh_heads_forward_mixed(h, x, 3, tasks, logits, NULL, 0));
    for (int s = 0; s < 3; s++) {
        int64_t c = tasks[s] == 1 ? 2 : 5, argmax = 0;
        for (int64_t j = 0; j < 5; j++) {
            if (j < c) CHECK(logits[s * 5 + j] == -5.0f);
            else CHECK(isinf(logits[s * 5 + j]) && logits[s * 5 + j] < 0);
            if (logits[s * 5 + j] > logits[s * 5 + argmax]) argmax = j;
        }
        CHECK(argmax < c);
        /* softmax over the row: the padding gets probability exactly 0 */
        double z = 0;
        for (int64_t j = 0; j < 5; j++) z += exp((double)logits[s * 5 + j]);
        CHECK(fabs(z - (double)c * exp(-5.0)) < 1e-12);
    }
    clh_heads_free(h);
}

/* Seed: an empty mixed batch fails with an unrelated error (logits_t unbound).
 * Ours: B = 0 works everywhere and changes nothing. */
static void empty_batches_work(void) {
    const int64_t ids[] = {1, 2}, classes[] = {2, 5};
    clh_heads *h = NULL;
    CHECK_OK(clh_heads_create(&h, CLH_MTL, IN, 1));
    CHECK_OK(clh_heads_setup_tasks(h, ids, classes, 2));
    float x[1] = {0}, out[1] = {0};
    int64_t none[1] = {0};
    size_t bytes = 99;
    core_snapshot before = snapshot_take(h);
    CHECK_OK(clh_heads_forward_mixed(h, x, 0, none, out, NULL, 0));
    CHECK_OK(clh_heads_backward_mixed(h, x, 0, none, out, out, NULL, 0));
    CHECK_OK(clh_heads_forward(h, x, 0, 2, out));
    CHECK_OK(clh_heads_backward(h, x, 0, 2, out, out));
    CHECK_OK(clh_heads_mixed_workspace_size(h, 0, &bytes));
    CHECK_UNCHANGED(h, before);
    snapshot_free(&before);
    clh_heads_free(h);
    for (int p = CLH_TIL; p <= CLH_STL; p++) {
        clh_heads *g = NULL;
        CHECK_OK(clh_heads_create(&g, (clh_paradigm)p, IN, 1));
        if (p == CLH_TIL || p == CLH_CIL) CHECK_OK(clh_heads_setup_task(g, 4, 3));
        else if (p == CLH_MTL) CHECK_OK(clh_heads_setup_tasks(g, ids, classes, 2));
        else CHECK_OK(clh_heads_setup_single(g, 3));
        int64_t task = p == CLH_TIL ? 4 : p == CLH_MTL ? 1 : CLH_NO_TASK;
        CHECK_OK(clh_heads_forward(g, x, 0, task, out));
        CHECK_OK(clh_heads_backward(g, x, 0, task, out, out));
        clh_heads_free(g);
    }
}

/* Seed: an unknown id in a mixed batch is a KeyError from the ModuleDict.
 * Ours: CLH_E_UNKNOWN_TASK naming the id and the sample. */
static void unknown_id_in_mixed_batch(void) {
    const int64_t ids[] = {1, 2}, classes[] = {2, 2}, tasks[] = {1, 2, 1, 4242, 2};
    clh_heads *h = NULL;
    CHECK_OK(clh_heads_create(&h, CLH_MTL, IN, 1));
    CHECK_OK(clh_heads_setup_tasks(h, ids, classes, 2));
    float x[5 * IN] = {0}, logits[5 * 2];
    CHECK_STATUS(clh_heads_forward_mixed(h, x, 5, tasks, logits, NULL, 0), CLH_E_UNKNOWN_TASK);
    const char *detail = clh_last_error();
    CHECK(strstr(detail, "4242") != NULL);
    CHECK(strchr(detail, '3') != NULL); /* the sample index */
    printf("  unknown id in a mixed batch: \"%s\"\n", detail);
    clh_heads_free(h);
}

/* Seed: forward before set-up fails deep inside PyTorch (None is not callable,
 * or an empty torch.cat). Ours: CLH_E_NOT_SETUP with a detail. */
static void forward_before_setup(void) {
    for (int p = CLH_TIL; p <= CLH_STL; p++) {
        clh_heads *h = NULL;
        float x[IN] = {0}, logits[4];
        CHECK_OK(clh_heads_create(&h, (clh_paradigm)p, IN, 1));
        int64_t task = (p == CLH_TIL || p == CLH_MTL) ? 1 : CLH_NO_TASK;
        clh_clear_error();
        CHECK_STATUS(clh_heads_forward(h, x, 1, task, logits), CLH_E_NOT_SETUP);
        CHECK(clh_last_error()[0] != '\0');
        if (p == CLH_CIL) printf("  forward before set-up: \"%s\"\n", clh_last_error());
        clh_heads_free(h);
    }
}

int main(void) {
    repeated_setup_keeps_weights(CLH_TIL);
    repeated_setup_keeps_weights(CLH_CIL);
    cil_repeat_does_not_duplicate();
    no_alias();
    mtl_unequal_pads_with_minus_inf();
    empty_batches_work();
    unknown_id_in_mixed_batch();
    forward_before_setup();
    return check_done("test_core_seedbugs");
}
