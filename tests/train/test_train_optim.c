/* Optimizer unit tests: configuration checks (as torch rejects them), the
 * update rules on hand-computed values, state growth with the bank (values
 * kept, new rows zero, per-task step counts), freezing (bit-identical with
 * weight decay and leftover momentum, moving again after unfreezing), state
 * enumerate/restore, mismatches, and allocation failures that change nothing. */
#include <stdlib.h>
#include <string.h>

#include "common/testing.h"
#include "check.h"
#include "clheads.h"

static void config_errors(void) {
    clh_optim_config c;
    clh_optim *o = (clh_optim *)&c; /* a sentinel: must stay untouched on error */
    clh_optim *const sentinel = o;
    clh_optim_config_init(&c, CLH_OPTIM_SGD, -0.1);
    CHECK_STATUS(clh_optim_create(&o, &c), CLH_E_INVALID_ARG);
    CHECK(strstr(clh_last_error(), "learning rate") != NULL && o == sentinel);
    clh_optim_config_init(&c, CLH_OPTIM_SGD, NAN);
    CHECK_STATUS(clh_optim_create(&o, &c), CLH_E_INVALID_ARG);
    clh_optim_config_init(&c, CLH_OPTIM_SGD, 0.1);
    c.nesterov = 1; /* without momentum */
    CHECK_STATUS(clh_optim_create(&o, &c), CLH_E_INVALID_ARG);
    CHECK(strstr(clh_last_error(), "nesterov") != NULL);
    c.momentum = 0.9;
    c.dampening = 0.1; /* nesterov with dampening */
    CHECK_STATUS(clh_optim_create(&o, &c), CLH_E_INVALID_ARG);
    c.dampening = 0;
    c.weight_decay = -1;
    CHECK_STATUS(clh_optim_create(&o, &c), CLH_E_INVALID_ARG);
    c.weight_decay = 0;
    c.momentum = -0.5;
    c.nesterov = 0;
    CHECK_STATUS(clh_optim_create(&o, &c), CLH_E_INVALID_ARG);
    clh_optim_config_init(&c, CLH_OPTIM_ADAM, 1e-3);
    c.beta1 = 1.0;
    CHECK_STATUS(clh_optim_create(&o, &c), CLH_E_INVALID_ARG);
    CHECK(strstr(clh_last_error(), "beta1") != NULL);
    c.beta1 = 0.9;
    c.beta2 = -0.1;
    CHECK_STATUS(clh_optim_create(&o, &c), CLH_E_INVALID_ARG);
    c.beta2 = 0.999;
    c.eps = -1e-8;
    CHECK_STATUS(clh_optim_create(&o, &c), CLH_E_INVALID_ARG);
    c.eps = 1e-8;
    c.kind = (clh_optim_kind)7;
    CHECK_STATUS(clh_optim_create(&o, &c), CLH_E_INVALID_ARG);
    CHECK(o == sentinel);
    CHECK_STATUS(clh_optim_create(NULL, &c), CLH_E_NULL);

    clh_optim_kind k;
    CHECK_OK(clh_optim_kind_parse("AdamW", &k));
    CHECK(k == CLH_OPTIM_ADAMW && strcmp(clh_optim_kind_name(k), "adamw") == 0);
    CHECK_STATUS(clh_optim_kind_parse("rmsprop", &k), CLH_E_INVALID_ARG);
    clh_optim_config_init(&c, CLH_OPTIM_ADAMW, 1e-3);
    CHECK(c.weight_decay == 1e-2 && c.beta1 == 0.9 && c.beta2 == 0.999 && c.eps == 1e-8);

    o = NULL;
    clh_optim_config_init(&c, CLH_OPTIM_SGD, 0.1);
    CHECK_OK(clh_optim_create(&o, &c));
    CHECK_STATUS(clh_optim_set_lr(o, -1), CLH_E_INVALID_ARG);
    CHECK_OK(clh_optim_set_lr(o, 0.25));
    CHECK_OK(clh_optim_get_config(o, &c));
    CHECK(c.lr == 0.25);
    clh_optim_free(o);
    clh_optim_free(NULL);
}

/* Hand-computed updates on a plain vector. */
static void flat_rules(void) {
    clh_optim_config c;
    clh_optim *o = NULL;
    float p[2] = {1.0f, -2.0f};
    const float g[2] = {0.5f, 0.25f};
    /* SGD, momentum 0.9, dampening 0.5, wd 0.1, lr 0.1:
     * step 1: d = g + 0.1 p; buf = d; p -= 0.1 d.
     * step 2: d' = g + 0.1 p'; buf = 0.9 buf + 0.5 d'; p -= 0.1 buf. */
    clh_optim_config_init(&c, CLH_OPTIM_SGD, 0.1);
    c.momentum = 0.9;
    c.dampening = 0.5;
    c.weight_decay = 0.1;
    CHECK_OK(clh_optim_create(&o, &c));
    CHECK_OK(clh_optim_step(o, p, g, 2));
    double d0 = 0.5 + 0.1 * 1.0, p0 = 1.0 - 0.1 * d0;
    CHECK_CLOSE(p[0], p0, 1e-6, 1.0);
    CHECK_OK(clh_optim_step(o, p, g, 2));
    double d1 = 0.5 + 0.1 * p0, buf = 0.9 * d0 + 0.5 * d1;
    CHECK_CLOSE(p[0], p0 - 0.1 * buf, 1e-6, 1.0);
    CHECK_STATUS(clh_optim_step(o, p, g, 1), CLH_E_MISMATCH); /* bound to 2 parameters */
    clh_optim_buffer b;
    CHECK(clh_optim_buffer_count(o) == 2);
    CHECK_OK(clh_optim_buffer_at(o, 0, &b));
    CHECK(strcmp(b.name, "momentum_buffer") == 0 && b.count == 2 && !b.is_int64);
    CHECK_CLOSE(((float *)b.data)[0], buf, 1e-6, 1.0);
    CHECK_OK(clh_optim_buffer_at(o, 1, &b));
    CHECK(strcmp(b.name, "step") == 0 && b.is_int64 && ((int64_t *)b.data)[0] == 2);
    CHECK_STATUS(clh_optim_buffer_at(o, 2, &b), CLH_E_INVALID_ARG);
    clh_optim_free(o);

    /* Adam's first step moves each parameter by lr * g / (|g| + eps') ~ lr. */
    p[0] = 1.0f;
    p[1] = -2.0f;
    o = NULL;
    clh_optim_config_init(&c, CLH_OPTIM_ADAM, 0.01);
    CHECK_OK(clh_optim_create(&o, &c));
    CHECK_OK(clh_optim_step(o, p, g, 2));
    CHECK_CLOSE(p[0], 1.0 - 0.01, 1e-6, 1.0);
    CHECK_CLOSE(p[1], -2.0 - 0.01, 1e-6, 1.0);
    clh_optim_free(o);

    /* AdamW with zero gradient: only the decoupled decay moves (m = 0). */
    p[0] = 1.0f;
    const float zero[2] = {0, 0};
    o = NULL;
    clh_optim_config_init(&c, CLH_OPTIM_ADAMW, 0.1);
    c.weight_decay = 0.5;
    CHECK_OK(clh_optim_create(&o, &c));
    CHECK_OK(clh_optim_step(o, p, zero, 2));
    CHECK_CLOSE(p[0], 1.0 * (1 - 0.1 * 0.5), 1e-7, 1.0);
    clh_optim_free(o);
}

/* One TIL training step's gradient for task_id (zero_grad, forward, loss, backward). */
static void til_backward(clh_heads *heads, int64_t task_id, unsigned salt) {
    int64_t in = clh_heads_in_features(heads), width = 0;
    CHECK_OK(clh_heads_logits_width(heads, task_id, &width));
    float x[4 * 8], logits[4 * 8], dlogits[4 * 8], loss;
    int64_t labels[4];
    for (int64_t i = 0; i < 4 * in; i++) x[i] = (float)((i * 7 + salt * 13) % 11) / 5.0f - 1.0f;
    for (int i = 0; i < 4; i++) labels[i] = (i + salt) % width;
    clh_heads_zero_grad(heads);
    CHECK_OK(clh_heads_forward(heads, x, 4, task_id, logits));
    CHECK_OK(clh_heads_cross_entropy(heads, logits, 4, task_id, NULL, labels, &loss, dlogits));
    CHECK_OK(clh_heads_backward(heads, x, 4, task_id, dlogits, NULL));
}

/* Copies of every state buffer (for "unchanged" checks). */
#define MAX_STATE_BUFFERS 8
typedef struct state_copy {
    size_t n;
    void *data[MAX_STATE_BUFFERS];
    size_t bytes[MAX_STATE_BUFFERS];
} state_copy;

static state_copy copy_state(clh_optim *o) {
    state_copy s;
    memset(&s, 0, sizeof s);
    s.n = clh_optim_buffer_count(o);
    /* More buffers than room: a failed check, and a copy that can never
     * compare equal (same_state compares the count first). */
    CHECK(s.n <= MAX_STATE_BUFFERS);
    if (s.n > MAX_STATE_BUFFERS) s.n = MAX_STATE_BUFFERS;
    for (size_t i = 0; i < s.n; i++) {
        clh_optim_buffer b;
        CHECK_OK(clh_optim_buffer_at(o, i, &b));
        s.bytes[i] = b.count * (b.is_int64 ? sizeof(int64_t) : sizeof(float));
        s.data[i] = malloc(s.bytes[i] + 1);
        memcpy(s.data[i], b.data, s.bytes[i]);
    }
    return s;
}

static int same_state(clh_optim *o, const state_copy *s) {
    if (clh_optim_buffer_count(o) != s->n) return 0;
    for (size_t i = 0; i < s->n; i++) {
        clh_optim_buffer b;
        if (clh_optim_buffer_at(o, i, &b) != CLH_OK) return 0;
        size_t bytes = b.count * (b.is_int64 ? sizeof(int64_t) : sizeof(float));
        if (bytes != s->bytes[i] || memcmp(b.data, s->data[i], bytes) != 0) return 0;
    }
    return 1;
}

static void free_state(state_copy *s) {
    for (size_t i = 0; i < s->n; i++) free(s->data[i]);
}

/* Growth: the state of old tasks is kept in the new layout, new rows are zero. */
static void growth_keeps_state(void) {
    const int64_t in = 3;
    clh_heads *h = NULL;
    clh_optim *o = NULL;
    clh_optim_config c;
    clh_optim_config_init(&c, CLH_OPTIM_ADAM, 0.01);
    c.amsgrad = 1;
    CHECK_OK(clh_heads_create(&h, CLH_TIL, in, 3));
    CHECK_OK(clh_optim_create(&o, &c));
    CHECK(clh_optim_buffer_count(o) == 0); /* unbound: no state yet */
    CHECK_OK(clh_heads_setup_task(h, 7, 2));
    for (unsigned s = 0; s < 3; s++) {
        til_backward(h, 7, s);
        CHECK_OK(clh_optim_step_heads(o, h));
    }
    state_copy before = copy_state(o);
    CHECK(before.n == 4);
    size_t old_rows = 2;

    CHECK_OK(clh_heads_setup_task(h, 4, 3)); /* rows 2 -> 5 */
    CHECK_OK(clh_heads_set_frozen(h, 7, 1)); /* task 7's state must not change */
    til_backward(h, 4, 9);
    CHECK_OK(clh_optim_step_heads(o, h));
    clh_optim_layout layout;
    CHECK_OK(clh_optim_get_layout(o, &layout));
    CHECK(layout.binding == CLH_OPTIM_HEADS && layout.num_segments == 2 &&
          layout.count == 5 * (size_t)(in + 1) && layout.task_ids[0] == 7 &&
          layout.task_ids[1] == 4 && layout.num_classes[1] == 3 && layout.in_features == in);
    for (size_t i = 0; i < 3; i++) { /* exp_avg, exp_avg_sq, max_exp_avg_sq */
        clh_optim_buffer b;
        CHECK_OK(clh_optim_buffer_at(o, i, &b));
        const float *old = before.data[i], *now = b.data;
        /* task 7's weight rows in place, its bias moved behind all 5 weight rows */
        CHECK(memcmp(now, old, old_rows * in * sizeof(float)) == 0);
        CHECK(memcmp(now + 5 * in, old + old_rows * in, old_rows * sizeof(float)) == 0);
        int nonzero_new = 0;
        for (size_t j = old_rows * in; j < 5 * (size_t)in; j++) nonzero_new += now[j] != 0;
        CHECK(nonzero_new > 0); /* task 4 took its first step */
    }
    clh_optim_buffer steps;
    CHECK_OK(clh_optim_buffer_at(o, 3, &steps));
    CHECK(steps.count == 2 && ((int64_t *)steps.data)[0] == 3 && ((int64_t *)steps.data)[1] == 1);
    free_state(&before);

    /* A task that never had a gradient grows the state but is skipped: zero
     * state, step 0, parameters unchanged (torch: .grad is None). */
    CHECK_OK(clh_heads_set_frozen(h, 7, 0));
    CHECK_OK(clh_heads_setup_task(h, 1, 2));
    clh_head_view v;
    CHECK_OK(clh_heads_get_head(h, 1, &v));
    float w1[2 * 3];
    memcpy(w1, v.weight, sizeof w1);
    til_backward(h, 4, 2);
    CHECK_OK(clh_optim_step_heads(o, h));
    CHECK_OK(clh_heads_get_head(h, 1, &v));
    CHECK(memcmp(w1, v.weight, sizeof w1) == 0);
    CHECK_OK(clh_optim_buffer_at(o, 3, &steps));
    CHECK(steps.count == 3 && ((int64_t *)steps.data)[0] == 4 && ((int64_t *)steps.data)[1] == 2 &&
          ((int64_t *)steps.data)[2] == 0);

    /* Mismatches: a plain step on a heads-bound optimizer, other heads. */
    float p[2] = {0, 0};
    CHECK_STATUS(clh_optim_step(o, p, p, 2), CLH_E_MISMATCH);
    clh_heads *other = NULL;
    CHECK_OK(clh_heads_create(&other, CLH_TIL, in, 3));
    CHECK_OK(clh_heads_setup_task(other, 4, 3)); /* first task differs */
    CHECK_STATUS(clh_optim_step_heads(o, other), CLH_E_MISMATCH);
    CHECK(strstr(clh_last_error(), "id 4") != NULL);
    clh_heads_free(other);
    CHECK_OK(clh_heads_create(&other, CLH_TIL, in + 1, 3));
    CHECK_STATUS(clh_optim_step_heads(o, other), CLH_E_MISMATCH);
    clh_heads_free(other);
    clh_optim_free(o);
    clh_heads_free(h);
}

/* Frozen heads stay bit-identical with weight decay and leftover momentum,
 * keep their state, and move again once unfrozen. */
static void freezing(void) {
    clh_heads *h = NULL;
    clh_optim *o = NULL;
    clh_optim_config c;
    clh_optim_config_init(&c, CLH_OPTIM_SGD, 0.1);
    c.momentum = 0.9;
    c.weight_decay = 0.05;
    CHECK_OK(clh_heads_create(&h, CLH_TIL, 4, 5));
    CHECK_OK(clh_optim_create(&o, &c));
    CHECK_OK(clh_heads_setup_task(h, 1, 3));
    for (unsigned s = 0; s < 3; s++) {
        til_backward(h, 1, s);
        CHECK_OK(clh_optim_step_heads(o, h));
    }
    CHECK_OK(clh_heads_setup_task(h, 2, 2));
    CHECK_OK(clh_heads_set_frozen(h, 1, 1));
    clh_head_view v;
    CHECK_OK(clh_heads_get_head(h, 1, &v));
    float w[3 * 4], b[3];
    memcpy(w, v.weight, sizeof w);
    memcpy(b, v.bias, sizeof b);
    clh_optim_buffer mom;
    CHECK_OK(clh_optim_buffer_at(o, 0, &mom));
    float mom_before[3 * 4];
    memcpy(mom_before, mom.data, sizeof mom_before); /* task 1's weight rows */
    for (unsigned s = 0; s < 4; s++) {
        til_backward(h, 2, s);
        CHECK_OK(clh_optim_step_heads(o, h));
        CHECK_OK(clh_heads_get_head(h, 1, &v));
        CHECK(memcmp(w, v.weight, sizeof w) == 0 && memcmp(b, v.bias, sizeof b) == 0);
    }
    CHECK_OK(clh_optim_buffer_at(o, 0, &mom));
    CHECK(memcmp(mom_before, mom.data, sizeof mom_before) == 0);
    /* Unfrozen: its zero gradient still counts (set_to_none=False), so weight
     * decay and the kept momentum move it on the next step. */
    CHECK_OK(clh_heads_set_frozen(h, 1, 0));
    til_backward(h, 2, 7);
    CHECK_OK(clh_optim_step_heads(o, h));
    CHECK_OK(clh_heads_get_head(h, 1, &v));
    CHECK(memcmp(w, v.weight, sizeof w) != 0);
    /* Expected: d = 0 + wd*p; buf = 0.9*buf + d; p -= lr*buf (element 0). */
    float d0 = 0.0f + (float)c.weight_decay * w[0];
    float buf0 = mom_before[0] * 0.9f + 1.0f * d0;
    CHECK(v.weight[0] == w[0] + (float)(-c.lr) * buf0);
    clh_optim_free(o);
    clh_heads_free(h);
}

/* Restore into a fresh optimizer reproduces the original's next steps bit
 * for bit; bad inputs are rejected and change nothing. */
static void enumerate_restore(void) {
    clh_heads *h = NULL, *h2 = NULL;
    clh_optim *o = NULL, *o2 = NULL;
    clh_optim_config c;
    clh_optim_config_init(&c, CLH_OPTIM_ADAMW, 0.01);
    CHECK_OK(clh_heads_create(&h, CLH_TIL, 3, 8));
    CHECK_OK(clh_heads_create(&h2, CLH_TIL, 3, 8));
    CHECK_OK(clh_heads_setup_task(h, 0, 2));
    CHECK_OK(clh_heads_setup_task(h, 1, 3));
    CHECK_OK(clh_heads_setup_task(h2, 0, 2));
    CHECK_OK(clh_heads_setup_task(h2, 1, 3));
    CHECK_OK(clh_optim_create(&o, &c));
    CHECK_OK(clh_optim_create(&o2, &c));
    for (unsigned s = 0; s < 3; s++) {
        til_backward(h, s % 2, s);
        CHECK_OK(clh_optim_step_heads(o, h));
    }
    /* h2 gets h's parameters (after a backward through both heads, so that
     * both handles have the same has_grad flags); o2 gets o's state. */
    til_backward(h2, 0, 1);
    til_backward(h2, 1, 1);
    float *p, *p2;
    size_t n, n2;
    clh_heads_flat(h, &p, NULL, &n);
    clh_heads_flat(h2, &p2, NULL, &n2);
    CHECK(n == n2);
    memcpy(p2, p, n * sizeof(float));
    clh_optim_layout layout;
    CHECK_OK(clh_optim_get_layout(o, &layout));
    clh_optim_buffer bufs[3];
    size_t nb = clh_optim_buffer_count(o);
    CHECK(nb == 3);
    for (size_t i = 0; i < nb; i++) CHECK_OK(clh_optim_buffer_at(o, i, &bufs[i]));

    /* Rejections first: nothing may change (o2 stays unbound). */
    clh_optim_buffer bad[3];
    memcpy(bad, bufs, sizeof bad);
    CHECK_STATUS(clh_optim_restore(o2, &layout, bad, 2), CLH_E_MISMATCH); /* "step" missing */
    bad[1].count--;
    CHECK_STATUS(clh_optim_restore(o2, &layout, bad, 3), CLH_E_MISMATCH);
    CHECK(strstr(clh_last_error(), "exp_avg_sq") != NULL);
    memcpy(bad, bufs, sizeof bad);
    bad[0].name = "momentum_buffer";
    CHECK_STATUS(clh_optim_restore(o2, &layout, bad, 3), CLH_E_MISMATCH);
    clh_optim_layout wrong = layout;
    wrong.count++;
    CHECK_STATUS(clh_optim_restore(o2, &wrong, bufs, 3), CLH_E_MISMATCH);
    int64_t negative[2] = {-1, 0};
    memcpy(bad, bufs, sizeof bad);
    bad[2].data = negative;
    CHECK_STATUS(clh_optim_restore(o2, &layout, bad, 3), CLH_E_MISMATCH);
    CHECK(clh_optim_buffer_count(o2) == 0);
    /* Allocation failure: unchanged too. */
    clh_test_fail_alloc_after(2);
    CHECK_STATUS(clh_optim_restore(o2, &layout, bufs, 3), CLH_E_NOMEM);
    clh_test_fail_alloc_after(0);
    CHECK(clh_optim_buffer_count(o2) == 0);

    CHECK_OK(clh_optim_restore(o2, &layout, bufs, 3));
    for (unsigned s = 0; s < 3; s++) {
        til_backward(h, 1 - s % 2, s + 5);
        til_backward(h2, 1 - s % 2, s + 5);
        CHECK_OK(clh_optim_step_heads(o, h));
        CHECK_OK(clh_optim_step_heads(o2, h2));
    }
    CHECK(memcmp(p, p2, n * sizeof(float)) == 0);
    clh_optim_free(o);
    clh_optim_free(o2);
    clh_heads_free(h);
    clh_heads_free(h2);
}

/* Every allocation of a growing step can fail; each failure leaves the
 * parameters and the state exactly as they were. */
static void allocation_failures(void) {
    clh_heads *h = NULL;
    clh_optim *o = NULL;
    clh_optim_config c;
    clh_optim_config_init(&c, CLH_OPTIM_ADAM, 0.01);
    c.amsgrad = 1;
    CHECK_OK(clh_heads_create(&h, CLH_CIL, 3, 4));
    CHECK_OK(clh_optim_create(&o, &c));
    CHECK_OK(clh_heads_setup_task(h, 0, 2));
    float x[6] = {0.5f, -1, 2, 0.25f, 1, -0.5f}, logits[2 * 5], dl[2 * 5], loss;
    int64_t labels[2] = {1, 0};
    CHECK_OK(clh_heads_forward(h, x, 2, CLH_NO_TASK, logits));
    CHECK_OK(clh_heads_cross_entropy(h, logits, 2, CLH_NO_TASK, NULL, labels, &loss, dl));
    CHECK_OK(clh_heads_backward(h, x, 2, CLH_NO_TASK, dl, NULL));
    CHECK_OK(clh_optim_step_heads(o, h));
    CHECK_OK(clh_heads_setup_task(h, 1, 3));
    clh_heads_zero_grad(h);
    CHECK_OK(clh_heads_forward(h, x, 2, CLH_NO_TASK, logits));
    labels[0] = 4;
    CHECK_OK(clh_heads_cross_entropy(h, logits, 2, CLH_NO_TASK, NULL, labels, &loss, dl));
    CHECK_OK(clh_heads_backward(h, x, 2, CLH_NO_TASK, dl, NULL));

    float *p;
    size_t n;
    clh_heads_flat(h, &p, NULL, &n);
    float *saved = malloc(n * sizeof(float));
    memcpy(saved, p, n * sizeof(float));
    state_copy before = copy_state(o);
    int failures = 0;
    for (long k = 1; k < 20; k++) {
        clh_test_fail_alloc_after(k);
        clh_status st = clh_optim_step_heads(o, h);
        clh_test_fail_alloc_after(0);
        if (st == CLH_OK) break;
        failures++;
        CHECK(st == CLH_E_NOMEM);
        CHECK(memcmp(saved, p, n * sizeof(float)) == 0);
        CHECK(same_state(o, &before));
    }
    CHECK(failures >= 4); /* steps, ids, classes, three buffers */
    CHECK(memcmp(saved, p, n * sizeof(float)) != 0);
    free_state(&before);
    free(saved);
    clh_optim_free(o);
    clh_heads_free(h);
}

int main(void) {
    config_errors();
    flat_rules();
    growth_keeps_state();
    freezing();
    enumerate_restore();
    allocation_failures();
    return check_done("test_train_optim");
}
