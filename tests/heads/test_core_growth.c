/* Growth, freezing, masking and per-task zero-grad.
 * - Adding tasks keeps every old parameter and gradient bit for bit; capacity
 *   covers the rows in use, is at most 2x them after each growth, and grows
 *   geometrically (few reallocations over many tasks).
 * - A frozen head gets no gradient while d(feature) still flows through it.
 * - A masked CIL task has -inf logits and gets no gradient.
 * - zero_grad_task zeroes only that task; task_has_grad tracks which heads
 *   backward touched. */
#include <stdint.h>
#include <string.h>

#include "test_core_util.h"

#define IN 13

static void growth_keeps_values(clh_paradigm paradigm) {
    clh_heads *h = NULL;
    CHECK_OK(clh_heads_create(&h, paradigm, IN, 3));
    float *saved_p = malloc(4000 * (IN + 1) * sizeof(float));
    float *saved_g = malloc(4000 * (IN + 1) * sizeof(float));
    size_t saved = 0;
    int64_t total = 0, last_capacity = 0;
    int growths = 0, ok_keep = 1, ok_cap = 1;
    for (int64_t t = 0; t < 200; t++) {
        int64_t c = 1 + (t * 7) % 13;
        if (paradigm == CLH_MTL) {
            CHECK_OK(clh_heads_setup_tasks(h, &t, &c, 1));
        } else {
            CHECK_OK(clh_heads_setup_task(h, 1000 - t, c)); /* descending ids */
        }
        total += c;
        float *p = NULL, *g = NULL;
        size_t count = 0;
        clh_heads_flat(h, &p, &g, &count);
        if (count != (size_t)(total * (IN + 1))) {
            CHECK(count == (size_t)(total * (IN + 1)));
            break;
        }
        /* Old values, at their (moved) places: weights first rows*in, then biases. */
        size_t old_rows = saved / (IN + 1), rows = (size_t)total;
        ok_keep &= bits_equal(p, saved_p, old_rows * IN);
        ok_keep &= bits_equal(p + rows * IN, saved_p + old_rows * IN, old_rows);
        ok_keep &= bits_equal(g, saved_g, old_rows * IN);
        ok_keep &= bits_equal(g + rows * IN, saved_g + old_rows * IN, old_rows);
        int64_t cap = clh_heads_capacity_rows(h);
        ok_cap &= cap >= total;
        if (cap != last_capacity) {
            growths++;
            ok_cap &= cap <= 2 * total;
            last_capacity = cap;
        }
        /* "Train" the new state so the next growth must carry these values. */
        for (size_t i = 0; i < count; i++) {
            p[i] = (float)(i % 101) * 0.01f + (float)t;
            g[i] = -(float)(i % 37) - (float)t;
        }
        memcpy(saved_p, p, count * sizeof *p);
        memcpy(saved_g, g, count * sizeof *g);
        saved = count;
    }
    CHECK(ok_keep);
    CHECK(ok_cap);
    /* 200 tasks, ~1400 rows: geometric growth reallocates O(log) times. */
    CHECK(growths <= 16);
    printf("  %s: 200 tasks, %lld rows, capacity %lld, %d capacity changes\n",
           clh_paradigm_name(paradigm), (long long)total, (long long)clh_heads_capacity_rows(h),
           growths);
    free(saved_p);
    free(saved_g);
    clh_heads_free(h);
}

static clh_heads *cil3(void) {
    clh_heads *h = NULL;
    CHECK_OK(clh_heads_create(&h, CLH_CIL, IN, 9));
    CHECK_OK(clh_heads_setup_task(h, 3, 4));
    CHECK_OK(clh_heads_setup_task(h, 1, 2));
    CHECK_OK(clh_heads_setup_task(h, 2, 5));
    return h;
}

static void head_grads(clh_heads *h, int64_t task, float **gw, float **gb, size_t *nw,
                       size_t *nb) {
    clh_head_view v;
    memset(&v, 0, sizeof v);
    CHECK_OK(clh_heads_get_head(h, task, &v));
    *gw = v.grad_weight;
    *gb = v.grad_bias;
    *nw = (size_t)(v.out_features * v.in_features);
    *nb = (size_t)v.out_features;
}

static int all_zero(const float *p, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (p[i] != 0.0f) return 0;
    return 1;
}

static void frozen_and_masked(void) {
    enum { B = 6, W = 11 };
    float x[B * IN], G[B * W], dx_ref[B * IN], dx[B * IN], logits_ref[B * W], logits[B * W];
    for (int i = 0; i < B * IN; i++) x[i] = test_uniform();
    for (int i = 0; i < B * W; i++) G[i] = test_uniform();
    clh_heads *ref = cil3(), *h = cil3();
    CHECK_OK(clh_heads_forward(ref, x, B, CLH_NO_TASK, logits_ref));
    CHECK_OK(clh_heads_backward(ref, x, B, CLH_NO_TASK, G, dx_ref));
    CHECK(grad_at(ref, 0) == 1 && grad_at(ref, 2) == 1);

    /* Frozen task 1 (rows 4..5): no gradient, dx identical, others identical. */
    int frozen = -1;
    CHECK_OK(clh_heads_set_frozen(h, 1, 1));
    CHECK_OK(clh_heads_is_frozen(h, 1, &frozen));
    CHECK(frozen == 1);
    CHECK_OK(clh_heads_backward(h, x, B, CLH_NO_TASK, G, dx));
    CHECK(bits_equal(dx, dx_ref, B * IN));
    const int64_t ids[] = {3, 1, 2};
    for (int i = 0; i < 3; i++) {
        float *gw, *gb, *rw, *rb;
        size_t nw, nb;
        head_grads(h, ids[i], &gw, &gb, &nw, &nb);
        head_grads(ref, ids[i], &rw, &rb, &nw, &nb);
        if (ids[i] == 1) {
            CHECK(all_zero(gw, nw) && all_zero(gb, nb));
            CHECK(grad_at(h, 1) == 0);
        } else {
            CHECK(bits_equal(gw, rw, nw) && bits_equal(gb, rb, nb));
        }
    }
    CHECK_OK(clh_heads_set_frozen(h, 1, 0));
    clh_heads_free(h);
    h = cil3(); /* fresh: has_grad is sticky like torch's .grad after zero_grad */

    /* Masked task 2 (logits 6..10): -inf in forward, no gradient; the other
     * logits unchanged; dx as if its dlogits were 0. */
    int masked = -1;
    CHECK_OK(clh_heads_set_masked(h, 2, 1));
    CHECK_OK(clh_heads_is_masked(h, 2, &masked));
    CHECK(masked == 1);
    CHECK_OK(clh_heads_forward(h, x, B, CLH_NO_TASK, logits));
    int ok = 1;
    for (int s = 0; s < B; s++)
        for (int j = 0; j < W; j++) {
            float v = logits[s * W + j];
            if (j >= 6) ok &= isinf(v) && v < 0;
            else ok &= v == logits_ref[s * W + j];
        }
    CHECK(ok);
    CHECK_OK(clh_heads_backward(h, x, B, CLH_NO_TASK, G, dx));
    float G0[B * W], dx0[B * IN];
    memcpy(G0, G, sizeof G0);
    for (int s = 0; s < B; s++)
        for (int j = 6; j < W; j++) G0[s * W + j] = 0;
    clh_heads *ref0 = cil3();
    CHECK_OK(clh_heads_backward(ref0, x, B, CLH_NO_TASK, G0, dx0));
    double scale = check_max_abs(dx0, B * IN);
    for (int i = 0; i < B * IN; i++) CHECK_CLOSE(dx[i], dx0[i], 1e-6, scale);
    {
        float *gw, *gb;
        size_t nw, nb;
        head_grads(h, 2, &gw, &gb, &nw, &nb);
        CHECK(all_zero(gw, nw) && all_zero(gb, nb));
        CHECK(grad_at(h, 2) == 0);
    }
    /* Unmasking restores the logits. */
    CHECK_OK(clh_heads_set_masked(h, 2, 0));
    CHECK_OK(clh_heads_forward(h, x, B, CLH_NO_TASK, logits));
    CHECK(bits_equal(logits, logits_ref, B * W));

    /* zero_grad_task: only that task's rows. */
    core_snapshot before = snapshot_take(ref);
    CHECK_OK(clh_heads_zero_grad_task(ref, 1));
    core_snapshot after = snapshot_take(ref);
    const float *gb4 = (const float *)before.grads, *ga = (const float *)after.grads;
    size_t rows = 11, weights = rows * IN;
    int only = 1;
    for (size_t i = 0; i < before.count; i++) {
        size_t row = i < weights ? i / IN : i - weights;
        int in_task1 = row >= 4 && row < 6;
        only &= in_task1 ? ga[i] == 0.0f : ga[i] == gb4[i];
    }
    CHECK(only);
    CHECK(bits_equal((float *)before.params, (float *)after.params, before.count));
    snapshot_free(&before);
    snapshot_free(&after);
    clh_heads_zero_grad(ref);
    {
        const float *g = NULL;
        size_t n = 0;
        clh_heads_flat_const(ref, NULL, &g, &n);
        CHECK(n == rows * (IN + 1) && all_zero(g, n));
    }
    clh_heads_free(ref);
    clh_heads_free(ref0);
    clh_heads_free(h);
}

/* TIL backward touches only the selected head's rows; has_grad follows. */
static void untouched_rows(void) {
    clh_heads *h = NULL;
    CHECK_OK(clh_heads_create(&h, CLH_TIL, IN, 9));
    CHECK_OK(clh_heads_setup_task(h, 3, 4));
    CHECK_OK(clh_heads_setup_task(h, 1, 2));
    CHECK_OK(clh_heads_setup_task(h, 2, 5));
    float x[2 * IN], G[2 * 2];
    for (int i = 0; i < 2 * IN; i++) x[i] = test_uniform();
    for (int i = 0; i < 4; i++) G[i] = 1.0f + test_uniform();
    /* Pre-existing gradients elsewhere must survive (backward accumulates). */
    float *gr = NULL;
    size_t n = 0;
    clh_heads_flat(h, NULL, &gr, &n);
    for (size_t i = 0; i < n; i++) gr[i] = 7.0f;
    CHECK_OK(clh_heads_backward(h, x, 2, 1, G, NULL));
    int ok = 1;
    for (size_t i = 0; i < n; i++) {
        size_t row = i < 11 * IN ? i / IN : i - 11 * IN;
        if (row < 4 || row >= 6) ok &= gr[i] == 7.0f;
        else ok &= gr[i] != 7.0f;
    }
    CHECK(ok);
    CHECK(grad_at(h, 1) == 1);
    CHECK(grad_at(h, 0) == 0 && grad_at(h, 2) == 0);
    /* Restoring the flag (resume from a checkpoint) sets exactly that task's. */
    CHECK_OK(set_grad_at(h, 2, 1));
    CHECK(grad_at(h, 2) == 1 && grad_at(h, 0) == 0);
    CHECK_OK(set_grad_at(h, 1, 0));
    CHECK(grad_at(h, 1) == 0);
    CHECK_STATUS(set_grad_at(h, 3, 1), CLH_E_INVALID_ARG);
    CHECK_STATUS(set_grad_at(NULL, 0, 1), CLH_E_NULL);
    /* By task id, like every other call; the position comes from clh_heads_task_at. */
    int64_t id = -1;
    int flag = -1;
    CHECK_OK(clh_heads_task_at(h, 2, &id));
    CHECK(id == clh_heads_task_ids(h)[2]);
    CHECK_OK(clh_heads_task_has_grad(h, id, &flag));
    CHECK(flag == 1);
    CHECK_STATUS(clh_heads_task_has_grad(h, 999, &flag), CLH_E_UNKNOWN_TASK);
    CHECK_STATUS(clh_heads_set_task_has_grad(h, 999, 1), CLH_E_UNKNOWN_TASK);
    CHECK_STATUS(clh_heads_task_at(h, 3, &id), CLH_E_INVALID_ARG);
    clh_heads_free(h);
}

int main(void) {
    printf("growth:\n");
    growth_keeps_values(CLH_CIL);
    growth_keeps_values(CLH_TIL);
    growth_keeps_values(CLH_MTL);
    frozen_and_masked();
    untouched_rows();
    return check_done("test_core_growth");
}
