/* Every error case returns its status, records a detail, and leaves the handle
 * (full snapshot: paradigm, task ids, class counts, offsets, flags, capacity,
 * flat params and grads byte for byte) and every caller-owned output exactly
 * as they were. Allocation failure is injected at every allocation of each
 * call that allocates (n = 1, 2, ... until the call succeeds). */
#include <limits.h>
#include <stdint.h>
#include <string.h>

#include "common/testing.h"
#include "test_core_util.h"

#define IN 13

/* Runs `call`, expects `status`, a detail, an unchanged handle. */
#define EXPECT_FAIL(h, call, status)                                              \
    do {                                                                          \
        core_snapshot before_ = snapshot_take(h);                                 \
        clh_clear_error();                                                        \
        CHECK_STATUS(call, status);                                               \
        CHECK(clh_last_error()[0] != '\0');                                       \
        CHECK_UNCHANGED(h, before_);                                              \
        snapshot_free(&before_);                                                  \
    } while (0)

/* A handle with trained-looking (non-initial) params and non-zero grads, so an
 * accidental re-initialisation or zeroing shows in the snapshot. */
static void scribble(clh_heads *h) {
    float *p = NULL, *g = NULL;
    size_t n = 0;
    clh_heads_flat(h, &p, &g, &n);
    for (size_t i = 0; i < n; i++) {
        p[i] = 0.25f * (float)(i % 17) - 2.0f;
        g[i] = 0.125f * (float)(i % 5) + 1.0f;
    }
}

static clh_heads *make(clh_paradigm paradigm) {
    clh_heads *h = NULL;
    const int64_t ids[] = {3, 1, 2}, classes[] = {4, 2, 5};
    CHECK_OK(clh_heads_create(&h, paradigm, IN, 5));
    if (paradigm == CLH_TIL || paradigm == CLH_CIL)
        for (int i = 0; i < 3; i++) CHECK_OK(clh_heads_setup_task(h, ids[i], classes[i]));
    else if (paradigm == CLH_MTL)
        CHECK_OK(clh_heads_setup_tasks(h, ids, classes, 3));
    else
        CHECK_OK(clh_heads_setup_single(h, 4));
    scribble(h);
    return h;
}

static void test_create(void) {
    clh_heads *sentinel = (clh_heads *)&check_count, *h = sentinel;
    CHECK_STATUS(clh_heads_create(&h, CLH_TIL, 0, 1), CLH_E_INVALID_ARG);
    CHECK(h == sentinel);
    CHECK_STATUS(clh_heads_create(&h, CLH_CIL, -5, 1), CLH_E_INVALID_ARG);
    CHECK(h == sentinel);
    CHECK(strstr(clh_last_error(), "-5") != NULL); /* names the bad dimension */
    clh_status st = clh_heads_create(&h, (clh_paradigm)9, IN, 1);
    CHECK(st == CLH_E_INVALID_ARG || st == CLH_E_PARADIGM);
    CHECK(h == sentinel);
    CHECK_STATUS(clh_heads_create(NULL, CLH_TIL, IN, 1), CLH_E_NULL);
    /* Allocation failure in create: every allocation in turn. */
    for (long n = 1; n < 50; n++) {
        h = sentinel;
        clh_test_fail_alloc_after(n);
        st = clh_heads_create(&h, CLH_MTL, IN, 1);
        clh_test_fail_alloc_after(0);
        if (st == CLH_OK) break;
        CHECK(st == CLH_E_NOMEM);
        CHECK(h == sentinel);
    }
    CHECK(st == CLH_OK && h != sentinel);
    clh_heads_free(h);
}

static void test_setup_errors(void) {
    clh_heads *til = make(CLH_TIL), *cil = make(CLH_CIL), *dil = make(CLH_DIL);
    clh_heads *stl = make(CLH_STL), *mtl = make(CLH_MTL), *fresh = NULL;
    CHECK_OK(clh_heads_create(&fresh, CLH_TIL, IN, 5));

    /* Class count <= 0. */
    EXPECT_FAIL(til, clh_heads_setup_task(til, 7, 0), CLH_E_INVALID_ARG);
    EXPECT_FAIL(cil, clh_heads_setup_task(cil, 7, -3), CLH_E_INVALID_ARG);
    EXPECT_FAIL(fresh, clh_heads_setup_task(fresh, 7, 0), CLH_E_INVALID_ARG);
    EXPECT_FAIL(dil, clh_heads_setup_single(dil, 0), CLH_E_INVALID_ARG);
    {
        const int64_t ids[] = {8, 9}, classes[] = {3, 0};
        EXPECT_FAIL(mtl, clh_heads_setup_tasks(mtl, ids, classes, 2), CLH_E_INVALID_ARG);
    }
    /* Repeated set-up with a different class count: conflict, weights kept. */
    EXPECT_FAIL(til, clh_heads_setup_task(til, 1, 3), CLH_E_TASK_CONFLICT);
    CHECK(strstr(clh_last_error(), "1") != NULL);
    EXPECT_FAIL(cil, clh_heads_setup_task(cil, 2, 6), CLH_E_TASK_CONFLICT);
    EXPECT_FAIL(dil, clh_heads_setup_single(dil, 5), CLH_E_TASK_CONFLICT);
    EXPECT_FAIL(stl, clh_heads_setup_single(stl, 3), CLH_E_TASK_CONFLICT);
    {
        /* A conflict after a new task in the same call: nothing is added. */
        const int64_t ids[] = {8, 1}, classes[] = {3, 9};
        EXPECT_FAIL(mtl, clh_heads_setup_tasks(mtl, ids, classes, 2), CLH_E_TASK_CONFLICT);
        /* Duplicate ids within one call. */
        const int64_t dup[] = {8, 8}, dup_classes[] = {3, 3};
        EXPECT_FAIL(mtl, clh_heads_setup_tasks(mtl, dup, dup_classes, 2), CLH_E_INVALID_ARG);
    }
    /* Set-up calls of another paradigm. */
    EXPECT_FAIL(dil, clh_heads_setup_task(dil, 1, 2), CLH_E_PARADIGM);
    EXPECT_FAIL(mtl, clh_heads_setup_task(mtl, 1, 2), CLH_E_PARADIGM);
    EXPECT_FAIL(til, clh_heads_setup_single(til, 2), CLH_E_PARADIGM);
    {
        const int64_t ids[] = {8}, classes[] = {3};
        EXPECT_FAIL(cil, clh_heads_setup_tasks(cil, ids, classes, 1), CLH_E_PARADIGM);
        EXPECT_FAIL(stl, clh_heads_setup_tasks(stl, ids, classes, 1), CLH_E_PARADIGM);
    }
    /* NULL pointers. */
    CHECK_STATUS(clh_heads_setup_task(NULL, 1, 2), CLH_E_NULL);
    CHECK_STATUS(clh_heads_setup_single(NULL, 2), CLH_E_NULL);
    {
        const int64_t classes[] = {3};
        EXPECT_FAIL(mtl, clh_heads_setup_tasks(mtl, NULL, classes, 1), CLH_E_NULL);
        EXPECT_FAIL(mtl, clh_heads_setup_tasks(mtl, classes, NULL, 1), CLH_E_NULL);
    }
    /* Size overflow: C * (in + 1) and the running total of classes. */
    EXPECT_FAIL(til, clh_heads_setup_task(til, 7, INT64_MAX / 2), CLH_E_OVERFLOW);
    EXPECT_FAIL(cil, clh_heads_setup_task(cil, 7, INT64_MAX), CLH_E_OVERFLOW);
    EXPECT_FAIL(fresh, clh_heads_setup_task(fresh, 7, INT64_MAX / 4), CLH_E_OVERFLOW);
    {
        clh_heads *empty_dil = NULL;
        CHECK_OK(clh_heads_create(&empty_dil, CLH_DIL, IN, 5));
        EXPECT_FAIL(empty_dil, clh_heads_setup_single(empty_dil, INT64_MAX), CLH_E_OVERFLOW);
        clh_heads_free(empty_dil);
    }
    {
        const int64_t ids[] = {8, 9}, classes[] = {INT64_MAX / 16, INT64_MAX / 16};
        EXPECT_FAIL(mtl, clh_heads_setup_tasks(mtl, ids, classes, 2), CLH_E_OVERFLOW);
    }

    clh_heads_free(fresh);
    clh_heads_free(til);
    clh_heads_free(cil);
    clh_heads_free(dil);
    clh_heads_free(stl);
    clh_heads_free(mtl);
}

/* Sentinel-filled caller outputs of one forward/backward call. */
typedef struct outputs {
    float logits[64 * 8], dx[64 * IN];
} outputs;

static void outputs_reset(outputs *o) { memset(o, 0xA5, sizeof *o); }
static int outputs_untouched(const outputs *o) {
    return test_is_sentinel(o->logits, sizeof o->logits / sizeof(float)) &&
           test_is_sentinel(o->dx, sizeof o->dx / sizeof(float));
}

/* A failing call: status, detail, unchanged handle, untouched outputs. */
#define EXPECT_FAIL_OUT(h, o, call, status)      \
    do {                                         \
        outputs_reset(o);                        \
        EXPECT_FAIL(h, call, status);            \
        CHECK(outputs_untouched(o));             \
    } while (0)

static float x_data[64 * IN], g_data[64 * 8];

static void test_not_setup(void) {
    outputs o;
    const int64_t tasks[] = {1, 1};
    for (int p = CLH_TIL; p <= CLH_STL; p++) {
        clh_heads *h = NULL;
        CHECK_OK(clh_heads_create(&h, (clh_paradigm)p, IN, 5));
        int64_t task = (p == CLH_TIL || p == CLH_MTL) ? 1 : CLH_NO_TASK;
        EXPECT_FAIL_OUT(h, &o, clh_heads_forward(h, x_data, 2, task, o.logits), CLH_E_NOT_SETUP);
        EXPECT_FAIL_OUT(h, &o, clh_heads_backward(h, x_data, 2, task, g_data, o.dx),
                        CLH_E_NOT_SETUP);
        if (p == CLH_MTL) {
            EXPECT_FAIL_OUT(h, &o, clh_heads_forward_mixed(h, x_data, 2, tasks, o.logits, NULL, 0),
                            CLH_E_NOT_SETUP);
            EXPECT_FAIL_OUT(h, &o,
                            clh_heads_backward_mixed(h, x_data, 2, tasks, g_data, o.dx, NULL, 0),
                            CLH_E_NOT_SETUP);
        }
        int64_t width = -42;
        clh_status st = clh_heads_logits_width(h, task, &width);
        CHECK(st == CLH_E_NOT_SETUP || st == CLH_E_UNKNOWN_TASK);
        CHECK(width == -42);
        CHECK(clh_heads_is_setup(h) == 0);
        clh_heads_free(h);
    }
}

static void test_unknown_task(void) {
    outputs o;
    clh_heads *til = make(CLH_TIL), *cil = make(CLH_CIL), *mtl = make(CLH_MTL);
    clh_heads *all[] = {til, cil, mtl};
    EXPECT_FAIL_OUT(til, &o, clh_heads_forward(til, x_data, 2, 9, o.logits), CLH_E_UNKNOWN_TASK);
    CHECK(strstr(clh_last_error(), "9") != NULL);
    CHECK(strstr(clh_heads_last_error(til), "9") != NULL);
    CHECK(clh_heads_last_error(cil)[0] == '\0'); /* the detail concerned another handle */
    EXPECT_FAIL_OUT(til, &o, clh_heads_backward(til, x_data, 2, 9, g_data, o.dx),
                    CLH_E_UNKNOWN_TASK);
    EXPECT_FAIL_OUT(mtl, &o, clh_heads_forward(mtl, x_data, 2, 9, o.logits), CLH_E_UNKNOWN_TASK);
    EXPECT_FAIL_OUT(mtl, &o, clh_heads_backward(mtl, x_data, 2, 9, g_data, o.dx),
                    CLH_E_UNKNOWN_TASK);
    {
        /* The unknown id comes after known ones: nothing accumulated before it is found. */
        const int64_t tasks[] = {1, 2, 3, 1, 4242, 2};
        EXPECT_FAIL_OUT(mtl, &o, clh_heads_forward_mixed(mtl, x_data, 6, tasks, o.logits, NULL, 0),
                        CLH_E_UNKNOWN_TASK);
        CHECK(strstr(clh_last_error(), "4242") != NULL);
        EXPECT_FAIL_OUT(mtl, &o,
                        clh_heads_backward_mixed(mtl, x_data, 6, tasks, g_data, o.dx, NULL, 0),
                        CLH_E_UNKNOWN_TASK);
    }
    for (int i = 0; i < 3; i++) {
        clh_heads *h = all[i];
        clh_head_view view, untouched;
        memset(&view, 0xA5, sizeof view);
        untouched = view;
        EXPECT_FAIL(h, clh_heads_get_head(h, 9, &view), CLH_E_UNKNOWN_TASK);
        CHECK(memcmp(&view, &untouched, sizeof view) == 0);
        int64_t classes = -42, offset = -42, width = -42;
        EXPECT_FAIL(h, clh_heads_task_classes(h, 9, &classes, &offset), CLH_E_UNKNOWN_TASK);
        CHECK(classes == -42 && offset == -42);
        if (i != 1) {
            EXPECT_FAIL(h, clh_heads_logits_width(h, 9, &width), CLH_E_UNKNOWN_TASK);
            CHECK(width == -42);
        }
        EXPECT_FAIL(h, clh_heads_zero_grad_task(h, 9), CLH_E_UNKNOWN_TASK);
        EXPECT_FAIL(h, clh_heads_set_frozen(h, 9, 1), CLH_E_UNKNOWN_TASK);
        int flag = -42;
        EXPECT_FAIL(h, clh_heads_is_frozen(h, 9, &flag), CLH_E_UNKNOWN_TASK);
        CHECK(flag == -42);
    }
    EXPECT_FAIL(cil, clh_heads_set_masked(cil, 9, 1), CLH_E_UNKNOWN_TASK);
    clh_heads_free(til);
    clh_heads_free(cil);
    clh_heads_free(mtl);
}

static void test_wrong_paradigm(void) {
    outputs o;
    const int64_t tasks[] = {1, 2};
    clh_heads *til = make(CLH_TIL), *cil = make(CLH_CIL), *stl = make(CLH_STL);
    clh_heads *dil = make(CLH_DIL);
    /* Per-sample task ids to TIL (and to CIL, DIL, STL). */
    EXPECT_FAIL_OUT(til, &o, clh_heads_forward_mixed(til, x_data, 2, tasks, o.logits, NULL, 0),
                    CLH_E_PARADIGM);
    EXPECT_FAIL_OUT(til, &o, clh_heads_backward_mixed(til, x_data, 2, tasks, g_data, o.dx, NULL, 0),
                    CLH_E_PARADIGM);
    EXPECT_FAIL_OUT(cil, &o, clh_heads_forward_mixed(cil, x_data, 2, tasks, o.logits, NULL, 0),
                    CLH_E_PARADIGM);
    EXPECT_FAIL_OUT(dil, &o, clh_heads_forward_mixed(dil, x_data, 2, tasks, o.logits, NULL, 0),
                    CLH_E_PARADIGM);
    EXPECT_FAIL_OUT(stl, &o, clh_heads_forward_mixed(stl, x_data, 2, tasks, o.logits, NULL, 0),
                    CLH_E_PARADIGM);
    size_t bytes = 4242;
    EXPECT_FAIL(til, clh_heads_mixed_workspace_size(til, 2, &bytes), CLH_E_PARADIGM);
    CHECK(bytes == 4242);
    /* A task id other than CLH_NO_TASK or 0 to STL (the one task-id rule,
     * tested across every call in test_fix_f12_task_ids). */
    EXPECT_FAIL_OUT(stl, &o, clh_heads_forward(stl, x_data, 2, 3, o.logits), CLH_E_UNKNOWN_TASK);
    EXPECT_FAIL_OUT(stl, &o, clh_heads_backward(stl, x_data, 2, 3, g_data, o.dx),
                    CLH_E_UNKNOWN_TASK);
    /* Masking is CIL-only. */
    EXPECT_FAIL(til, clh_heads_set_masked(til, 1, 1), CLH_E_PARADIGM);
    EXPECT_FAIL(dil, clh_heads_set_masked(dil, CLH_NO_TASK, 1), CLH_E_PARADIGM);
    clh_heads_free(til);
    clh_heads_free(cil);
    clh_heads_free(stl);
    clh_heads_free(dil);
}

static void test_null_and_sizes(void) {
    outputs o;
    clh_heads *til = make(CLH_TIL), *mtl = make(CLH_MTL);
    const int64_t tasks[] = {1, 2, 3, 3};
    /* NULL pointers. */
    EXPECT_FAIL_OUT(til, &o, clh_heads_forward(til, NULL, 2, 1, o.logits), CLH_E_NULL);
    EXPECT_FAIL_OUT(til, &o, clh_heads_forward(til, x_data, 2, 1, NULL), CLH_E_NULL);
    EXPECT_FAIL_OUT(til, &o, clh_heads_backward(til, NULL, 2, 1, g_data, o.dx), CLH_E_NULL);
    EXPECT_FAIL_OUT(til, &o, clh_heads_backward(til, x_data, 2, 1, NULL, o.dx), CLH_E_NULL);
    EXPECT_FAIL_OUT(mtl, &o, clh_heads_forward_mixed(mtl, x_data, 2, NULL, o.logits, NULL, 0),
                    CLH_E_NULL);
    EXPECT_FAIL_OUT(mtl, &o, clh_heads_forward_mixed(mtl, NULL, 2, tasks, o.logits, NULL, 0),
                    CLH_E_NULL);
    EXPECT_FAIL_OUT(mtl, &o, clh_heads_forward_mixed(mtl, x_data, 2, tasks, NULL, NULL, 0),
                    CLH_E_NULL);
    EXPECT_FAIL_OUT(mtl, &o, clh_heads_backward_mixed(mtl, x_data, 2, NULL, g_data, o.dx, NULL, 0),
                    CLH_E_NULL);
    EXPECT_FAIL_OUT(mtl, &o, clh_heads_backward_mixed(mtl, x_data, 2, tasks, NULL, o.dx, NULL, 0),
                    CLH_E_NULL);
    EXPECT_FAIL(til, clh_heads_get_head(til, 1, NULL), CLH_E_NULL);
    EXPECT_FAIL(til, clh_heads_logits_width(til, 1, NULL), CLH_E_NULL);
    EXPECT_FAIL(til, clh_heads_is_frozen(til, 1, NULL), CLH_E_NULL);
    EXPECT_FAIL(mtl, clh_heads_mixed_workspace_size(mtl, 2, NULL), CLH_E_NULL);
    CHECK_STATUS(clh_heads_forward(NULL, x_data, 2, 1, o.logits), CLH_E_NULL);
    CHECK_STATUS(clh_heads_backward(NULL, x_data, 2, 1, g_data, o.dx), CLH_E_NULL);
    CHECK_STATUS(clh_heads_forward_mixed(NULL, x_data, 2, tasks, o.logits, NULL, 0), CLH_E_NULL);
    CHECK_STATUS(clh_heads_backward_mixed(NULL, x_data, 2, tasks, g_data, o.dx, NULL, 0),
                 CLH_E_NULL);
    CHECK_STATUS(clh_heads_zero_grad_task(NULL, 1), CLH_E_NULL);
    CHECK_STATUS(clh_heads_set_frozen(NULL, 1, 1), CLH_E_NULL);
    CHECK_STATUS(clh_heads_get_head(NULL, 1, &(clh_head_view){0}), CLH_E_NULL);
    clh_heads_zero_grad(NULL); /* accepted, no effect */

    /* Negative batch. */
    EXPECT_FAIL_OUT(til, &o, clh_heads_forward(til, x_data, -1, 1, o.logits), CLH_E_INVALID_ARG);
    EXPECT_FAIL_OUT(til, &o, clh_heads_backward(til, x_data, -1, 1, g_data, o.dx),
                    CLH_E_INVALID_ARG);
    EXPECT_FAIL_OUT(mtl, &o, clh_heads_forward_mixed(mtl, x_data, -1, tasks, o.logits, NULL, 0),
                    CLH_E_INVALID_ARG);
    /* Batch sizes whose products overflow: rejected before any input is read. */
    const int64_t huge = INT64_MAX / 4;
    EXPECT_FAIL_OUT(til, &o, clh_heads_forward(til, x_data, huge, 1, o.logits), CLH_E_OVERFLOW);
    EXPECT_FAIL_OUT(til, &o, clh_heads_backward(til, x_data, huge, 1, g_data, o.dx),
                    CLH_E_OVERFLOW);
    EXPECT_FAIL_OUT(mtl, &o, clh_heads_forward_mixed(mtl, x_data, huge, tasks, o.logits, NULL, 0),
                    CLH_E_OVERFLOW);
    EXPECT_FAIL_OUT(mtl, &o,
                    clh_heads_backward_mixed(mtl, x_data, huge, tasks, g_data, o.dx, NULL, 0),
                    CLH_E_OVERFLOW);
    size_t bytes = 4242;
    EXPECT_FAIL(mtl, clh_heads_mixed_workspace_size(mtl, huge, &bytes), CLH_E_OVERFLOW);
    EXPECT_FAIL(mtl, clh_heads_mixed_workspace_size(mtl, INT64_MAX, &bytes), CLH_E_OVERFLOW);
    CHECK(bytes == 4242);

    /* Too-small workspace. */
    CHECK_OK(clh_heads_mixed_workspace_size(mtl, 4, &bytes));
    CHECK(bytes > 0);
    unsigned char *ws = malloc(bytes + 1);
    EXPECT_FAIL_OUT(mtl, &o,
                    clh_heads_forward_mixed(mtl, x_data, 4, tasks, o.logits, ws, bytes - 1),
                    CLH_E_WORKSPACE);
    EXPECT_FAIL_OUT(mtl, &o, clh_heads_forward_mixed(mtl, x_data, 4, tasks, o.logits, ws, 0),
                    CLH_E_WORKSPACE);
    EXPECT_FAIL_OUT(mtl, &o,
                    clh_heads_backward_mixed(mtl, x_data, 4, tasks, g_data, o.dx, ws, bytes - 1),
                    CLH_E_WORKSPACE);
    /* ... and exactly the queried size works. */
    CHECK_OK(clh_heads_forward_mixed(mtl, x_data, 4, tasks, o.logits, ws, bytes));
    free(ws);
    clh_heads_free(til);
    clh_heads_free(mtl);
}

/* Fails allocation n = 1, 2, ... inside one call until it succeeds; after
 * every failure the handle and outputs are unchanged. Returns the number of
 * failures seen. */
#define INJECT_UNTIL_OK(h, o, call)                                           \
    do {                                                                      \
        clh_status st_ = CLH_E_NOMEM;                                         \
        long n_;                                                              \
        for (n_ = 1; n_ < 100 && st_ != CLH_OK; n_++) {                       \
            core_snapshot before_ = snapshot_take(h);                         \
            outputs_reset(o);                                                 \
            clh_test_fail_alloc_after(n_);                                    \
            st_ = (call);                                                     \
            clh_test_fail_alloc_after(0);                                     \
            if (st_ != CLH_OK) {                                              \
                CHECK_STATUS(st_, CLH_E_NOMEM);                               \
                CHECK_UNCHANGED(h, before_);                                  \
                CHECK(outputs_untouched(o));                                  \
            }                                                                 \
            snapshot_free(&before_);                                          \
        }                                                                     \
        CHECK_OK(st_);                                                        \
        printf("  %-60s succeeded after %ld injected failures\n", #call, n_ - 2); \
    } while (0)

static void test_alloc_failure(void) {
    outputs o;
    clh_heads *til = make(CLH_TIL), *cil = make(CLH_CIL), *mtl = make(CLH_MTL);
    clh_heads *dil = NULL;
    CHECK_OK(clh_heads_create(&dil, CLH_DIL, IN, 5));
    printf("allocation failure injection:\n");
    /* Grow past the current capacity so that set-up has to allocate. */
    for (int64_t t = 10; t < 14; t++) {
        INJECT_UNTIL_OK(til, &o, clh_heads_setup_task(til, t, 40));
        INJECT_UNTIL_OK(cil, &o, clh_heads_setup_task(cil, t, 40));
    }
    {
        const int64_t ids[] = {7, 8, 9}, classes[] = {50, 60, 70};
        INJECT_UNTIL_OK(mtl, &o, clh_heads_setup_tasks(mtl, ids, classes, 3));
    }
    INJECT_UNTIL_OK(dil, &o, clh_heads_setup_single(dil, 6));
    const int64_t tasks[] = {1, 9, 3, 1, 7, 8, 2};
    INJECT_UNTIL_OK(mtl, &o, clh_heads_forward_mixed(mtl, x_data, 7, tasks, o.logits, NULL, 0));
    INJECT_UNTIL_OK(mtl, &o,
                    clh_heads_backward_mixed(mtl, x_data, 7, tasks, g_data, o.dx, NULL, 0));
    clh_heads_free(til);
    clh_heads_free(cil);
    clh_heads_free(mtl);
    clh_heads_free(dil);
}

/* Every status has a distinct name and a message from the one table. */
static void test_status_table(void) {
    for (int a = 0; a < CLH_STATUS_COUNT; a++) {
        const char *name = clh_status_name((clh_status)a), *msg = clh_status_message((clh_status)a);
        CHECK(name && strncmp(name, "CLH_", 4) == 0 && msg && msg[0]);
        for (int b = 0; b < a; b++) CHECK(strcmp(name, clh_status_name((clh_status)b)) != 0);
    }
    CHECK(strcmp(clh_status_name(CLH_OK), "CLH_OK") == 0);
    CHECK(strcmp(clh_status_name((clh_status)999), "CLH_E_UNKNOWN_STATUS") == 0);
    CHECK(clh_status_message((clh_status)-1) != NULL);
}

int main(void) {
    test_status_table();
    for (size_t i = 0; i < sizeof x_data / sizeof *x_data; i++) x_data[i] = test_uniform();
    for (size_t i = 0; i < sizeof g_data / sizeof *g_data; i++) g_data[i] = test_uniform();
    test_create();
    test_setup_errors();
    test_not_setup();
    test_unknown_task();
    test_wrong_paradigm();
    test_null_and_sizes();
    test_alloc_failure();
    return check_done("test_core_errors");
}
