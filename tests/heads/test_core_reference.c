/* Forward and backward of all five paradigms against PyTorch.
 *
 * tests/data/core/core_reference.bin (scripts/gen_core_reference.py) holds,
 * per case, the seed heads' set-up, clheads' initial weights as the Python
 * replica computes them, and per call: x, the upstream gradient G, and the
 * logits, d(feature), dW and db that autograd gives for loss = sum(logits * G).
 * This test replays each case on a handle and compares: initial weights bit for
 * bit, everything else within 1e-5 of the reference's largest magnitude.
 * Covered: tasks set up as 3, 1, 2; batch sizes 1..33; in_features 13 and 37;
 * MTL per-batch and mixed batches (equal class counts like the seed, and
 * unequal counts with -inf padding, whose padded G entries are NaN so that a
 * backward that reads them fails). It prints the largest error per paradigm. */
#include <stdint.h>
#include <string.h>

#include "refdata.h"
#include "common/testing.h"
#include "test_core_util.h"

#define TOL 1e-5

enum { KIND_TIL, KIND_CIL, KIND_DIL, KIND_MTL, KIND_STL, KIND_MTL_MIXED, KIND_MTL_UNEQUAL, KINDS };
static const char *kind_names[KINDS] = {"TIL", "CIL", "DIL", "MTL (one task)", "STL",
                                        "MTL mixed (equal counts)", "MTL mixed (unequal, -inf)"};
static double max_err[KINDS];
static int calls_seen[KINDS];

static void note(int kind, double err) {
    if (err > max_err[kind]) max_err[kind] = err;
}


static clh_heads *set_up(const char *name, clh_paradigm paradigm, int64_t in, uint64_t seed,
                         const int64_t *ids, const int64_t *classes, size_t n) {
    clh_heads *h = NULL;
    CHECK_OK(clh_heads_create(&h, paradigm, in, seed));
    if (!h) return NULL;
    if (paradigm == CLH_TIL || paradigm == CLH_CIL) {
        for (size_t i = 0; i < n; i++) CHECK_OK(clh_heads_setup_task(h, ids[i], classes[i]));
    } else if (paradigm == CLH_MTL) {
        CHECK_OK(clh_heads_setup_tasks(h, ids, classes, n));
    } else {
        CHECK_OK(clh_heads_setup_single(h, classes[0]));
    }
    CHECK(clh_heads_num_tasks(h) == n);
    if (clh_heads_num_tasks(h) != n) fprintf(stderr, "%s: set-up failed\n", name);
    return h;
}

/* Initial weights equal the Python replica's (scripts/clheads_init.py), bit for bit. */
static void check_initial_weights(const refdata *rd, const char *name, clh_heads *h,
                                  const int64_t *ids, size_t n) {
    for (size_t i = 0; i < n; i++) {
        clh_head_view view;
        size_t wn = 0, bn = 0;
        const float *w = refdata_f32(rd, &wn, "%s/W/%lld", name, (long long)ids[i]);
        const float *b = refdata_f32(rd, &bn, "%s/b/%lld", name, (long long)ids[i]);
        CHECK(w && b);
        int64_t task = 0;
        CHECK_OK(clh_heads_task_at(h, i, &task));
        CHECK_OK(clh_heads_get_head(h, task, &view));
        if (!w || !b || !view.weight) continue;
        CHECK((size_t)(view.out_features * view.in_features) == wn &&
              (size_t)view.out_features == bn);
        if ((size_t)(view.out_features * view.in_features) != wn) continue;
        CHECK(bits_equal(view.weight, w, wn));
        CHECK(bits_equal(view.bias, b, bn));
        if (!bits_equal(view.weight, w, wn) || !bits_equal(view.bias, b, bn))
            fprintf(stderr, "%s: task %lld initial weights differ from the Python replica\n",
                    name, (long long)ids[i]);
    }
}

static void check_grads(const refdata *rd, const char *where, const char *name, int call,
                        clh_heads *h, const int64_t *ids, size_t n, double factor, int kind) {
    for (size_t i = 0; i < n; i++) {
        size_t wn = 0, bn = 0;
        const float *dw = refdata_f32(rd, &wn, "%s/%d/dW/%lld", name, call, (long long)ids[i]);
        const float *db = refdata_f32(rd, &bn, "%s/%d/db/%lld", name, call, (long long)ids[i]);
        clh_head_view view;
        int64_t task = 0;
        CHECK_OK(clh_heads_task_at(h, i, &task));
        CHECK(dw && db);
        CHECK_OK(clh_heads_get_head(h, task, &view));
        if (!dw || !db || !view.grad_weight || (size_t)(view.out_features * view.in_features) != wn)
            continue;
        float *want_w = malloc(wn * sizeof *want_w), *want_b = malloc(bn * sizeof *want_b);
        for (size_t j = 0; j < wn; j++) want_w[j] = (float)(factor * dw[j]);
        for (size_t j = 0; j < bn; j++) want_b[j] = (float)(factor * db[j]);
        char what[256];
        snprintf(what, sizeof what, "%s dW task %lld", where, (long long)ids[i]);
        note(kind, check_array(what, view.grad_weight, want_w, wn, TOL));
        snprintf(what, sizeof what, "%s db task %lld", where, (long long)ids[i]);
        note(kind, check_array(what, view.grad_bias, want_b, bn, TOL));
        free(want_w);
        free(want_b);
    }
}

static void run_call(const refdata *rd, const char *name, int call, clh_heads *h,
                     const int64_t *ids, const int64_t *classes, size_t n) {
    clh_paradigm p = clh_heads_paradigm(h);
    const refdata_array *xa, *la;
    char key[256], where[300];
    snprintf(key, sizeof key, "%s/%d/x", name, call);
    xa = refdata_find(rd, key);
    snprintf(key, sizeof key, "%s/%d/logits", name, call);
    la = refdata_find(rd, key);
    const float *G = refdata_f32(rd, NULL, "%s/%d/G", name, call);
    const float *dx_ref = refdata_f32(rd, NULL, "%s/%d/dx", name, call);
    const int64_t *task = refdata_i64(rd, NULL, "%s/%d/task", name, call);
    const int64_t *tasks = refdata_i64(rd, NULL, "%s/%d/tasks", name, call);
    CHECK(xa && la && G && dx_ref && (task || tasks));
    if (!xa || !la || !G || !dx_ref || !(task || tasks)) return;
    int64_t batch = (int64_t)xa->dims[0], width_ref = (int64_t)la->dims[1];
    const float *x = xa->data, *logits_ref = la->data;
    int kind = (int)p;
    if (tasks) {
        int unequal = 0;
        for (size_t i = 1; i < n; i++) unequal |= classes[i] != classes[0];
        kind = unequal ? KIND_MTL_UNEQUAL : KIND_MTL_MIXED;
    }
    calls_seen[kind]++;
    snprintf(where, sizeof where, "%s call %d (%s, B=%lld)", name, call, kind_names[kind],
             (long long)batch);

    int64_t width = -1;
    CHECK_OK(clh_heads_logits_width(h, tasks ? CLH_NO_TASK : *task, &width));
    CHECK(width == width_ref);
    if (width != width_ref) return;

    size_t nlog = la->count, nx = xa->count;
    float *logits = test_sentinel_floats(nlog), *dx = test_sentinel_floats(nx);
    size_t ws_bytes = 0;
    void *ws = NULL;
    if (tasks) {
        CHECK_OK(clh_heads_mixed_workspace_size(h, batch, &ws_bytes));
        ws = malloc(ws_bytes ? ws_bytes : 1);
    }

    /* Forward: every logit is written (none left as sentinel), values match. */
    if (tasks) {
        CHECK_OK(clh_heads_forward_mixed(h, x, batch, tasks, logits, NULL, 0));
    } else {
        CHECK_OK(clh_heads_forward(h, x, batch, *task, logits));
    }
    note(kind, check_array(where, logits, logits_ref, nlog, TOL));
    if (tasks) { /* the caller-provided workspace gives the same logits */
        float *again = test_sentinel_floats(nlog);
        CHECK_OK(clh_heads_forward_mixed(h, x, batch, tasks, again, ws, ws_bytes));
        CHECK(bits_equal(again, logits, nlog));
        free(again);
    }

    /* Backward from zero gradients: dx written, dW/db of used rows, others exactly 0. */
    clh_heads_zero_grad(h);
    if (tasks) {
        CHECK_OK(clh_heads_backward_mixed(h, x, batch, tasks, G, dx, NULL, 0));
    } else {
        CHECK_OK(clh_heads_backward(h, x, batch, *task, G, dx));
    }
    char what[400];
    snprintf(what, sizeof what, "%s dx", where);
    note(kind, check_array(what, dx, dx_ref, nx, TOL));
    check_grads(rd, where, name, call, h, ids, n, 1.0, kind);

    /* A second backward (workspace path for mixed, no dx) accumulates: 2x. */
    if (tasks) {
        CHECK_OK(clh_heads_backward_mixed(h, x, batch, tasks, G, NULL, ws, ws_bytes));
    } else {
        CHECK_OK(clh_heads_backward(h, x, batch, *task, G, NULL));
    }
    snprintf(what, sizeof what, "%s (accumulated twice)", where);
    check_grads(rd, what, name, call, h, ids, n, 2.0, kind);
    clh_heads_zero_grad(h);

    free(ws);
    free(logits);
    free(dx);
}

/* argv[1] "blas" or "portable" forces that multiply kernel (clh_set_gemm_policy),
 * so both are checked against PyTorch whatever CLH_GEMM_AUTO would pick. */
int main(int argc, char **argv) {
    if (argc > 1) {
        clh_gemm_policy policy = strcmp(argv[1], "blas") == 0 ? CLH_GEMM_BLAS : CLH_GEMM_PORTABLE;
        CHECK(strcmp(argv[1], "blas") == 0 || strcmp(argv[1], "portable") == 0);
        CHECK_OK(clh_set_gemm_policy(policy));
        printf("multiply policy forced to %s\n", argv[1]);
    }
    refdata *rd = refdata_load_test_file("core/core_reference.bin");
    CHECK(rd != NULL);
    if (!rd) return check_done("test_core_reference");
    int cases = 0, init_cases = 0;
    for (size_t a = 0; a < rd->count; a++) {
        const refdata_array *meta = &rd->arrays[a];
        size_t len = strlen(meta->name);
        if (len < 5 || strcmp(meta->name + len - 5, "/meta") != 0) continue;
        char name[128];
        snprintf(name, sizeof name, "%.*s", (int)(len - 5), meta->name);
        const int64_t *m = meta->data;
        size_t n = 0;
        const int64_t *ids = refdata_i64(rd, &n, "%s/task_ids", name);
        const int64_t *classes = refdata_i64(rd, NULL, "%s/classes", name);
        CHECK(meta->count == 4 && ids && classes);
        if (meta->count != 4 || !ids || !classes) continue;
        clh_heads *h = set_up(name, (clh_paradigm)m[0], m[1], (uint64_t)m[2], ids, classes, n);
        if (!h) continue;
        check_initial_weights(rd, name, h, ids, n);
        for (int call = 0; call < (int)m[3]; call++) run_call(rd, name, call, h, ids, classes, n);
        /* Replaying calls changed no parameter: weights are still the initial ones. */
        check_initial_weights(rd, name, h, ids, n);
        clh_heads_free(h);
        cases++;
        init_cases += m[3] == 0;
    }
    CHECK(cases >= 14);
    printf("%d cases (%d initial-weights-only); max relative error (tolerance %g):\n", cases,
           init_cases, TOL);
    for (int k = 0; k < KINDS; k++) {
        CHECK(calls_seen[k] > 0);
        printf("  %-28s %2d calls  %.3g\n", kind_names[k], calls_seen[k], max_err[k]);
    }
    refdata_free(rd);
    return check_done("test_core_reference");
}
