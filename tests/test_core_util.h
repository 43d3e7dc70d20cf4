/* Shared helpers of the core tests (tests/test_core_*.c): a full snapshot of a
 * handle's observable state (to show that a failing call changed nothing),
 * deterministic test inputs, and array comparison with a relative tolerance.
 * Header-only (static functions) so each test stays one source file. */
#ifndef CLH_TEST_CORE_UTIL_H
#define CLH_TEST_CORE_UTIL_H

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "clheads.h"

/* ---- deterministic inputs ---------------------------------------------- */

static uint64_t test_rng_state = 0x1234567887654321u;

/* Uniform in [-1, 1), from a fixed xorshift stream (independent of the library). */
static inline float test_uniform(void) {
    test_rng_state ^= test_rng_state << 13;
    test_rng_state ^= test_rng_state >> 7;
    test_rng_state ^= test_rng_state << 17;
    return (float)((double)(test_rng_state >> 40) * 0x1.0p-23 - 1.0);
}

static inline float *test_random_floats(size_t n) {
    float *p = malloc((n ? n : 1) * sizeof *p);
    for (size_t i = 0; i < n; i++) p[i] = test_uniform();
    return p;
}

/* A buffer filled with a recognisable byte pattern (to see whether a call wrote to it). */
static inline float *test_sentinel_floats(size_t n) {
    float *p = malloc((n ? n : 1) * sizeof *p);
    memset(p, 0xA5, (n ? n : 1) * sizeof *p);
    return p;
}

static inline int test_is_sentinel(const float *p, size_t n) {
    const unsigned char *b = (const unsigned char *)p;
    for (size_t i = 0; i < n * sizeof *p; i++)
        if (b[i] != 0xA5) return 0;
    return 1;
}

/* ---- handle snapshot --------------------------------------------------- */

typedef struct core_snapshot {
    clh_paradigm paradigm;
    int64_t in_features, total_classes, capacity;
    int is_setup;
    size_t num_tasks, count;
    int64_t *task_ids, *classes, *offsets;
    int *frozen, *masked, *has_grad;
    unsigned char *params, *grads;
} core_snapshot;

/* Everything the public API lets a caller observe, copied. */
static inline core_snapshot snapshot_take(const clh_heads *h) {
    core_snapshot s;
    memset(&s, 0, sizeof s);
    s.paradigm = clh_heads_paradigm(h);
    s.in_features = clh_heads_in_features(h);
    s.total_classes = clh_heads_total_classes(h);
    s.capacity = clh_heads_capacity_rows(h);
    s.is_setup = clh_heads_is_setup(h);
    s.num_tasks = clh_heads_num_tasks(h);
    size_t n = s.num_tasks ? s.num_tasks : 1;
    s.task_ids = calloc(n, sizeof *s.task_ids);
    s.classes = calloc(n, sizeof *s.classes);
    s.offsets = calloc(n, sizeof *s.offsets);
    s.frozen = calloc(n, sizeof *s.frozen);
    s.masked = calloc(n, sizeof *s.masked);
    s.has_grad = calloc(n, sizeof *s.has_grad);
    const int64_t *ids = clh_heads_task_ids(h);
    for (size_t i = 0; i < s.num_tasks; i++) {
        int64_t id = ids ? ids[i] : -1;
        int64_t query = CLH_NO_TASK;
        (void)clh_heads_task_at(h, i, &query);
        s.task_ids[i] = id;
        s.classes[i] = s.offsets[i] = -7;
        (void)clh_heads_task_classes(h, query, &s.classes[i], &s.offsets[i]);
        s.frozen[i] = s.masked[i] = -7;
        (void)clh_heads_is_frozen(h, query, &s.frozen[i]);
        if (s.paradigm == CLH_CIL) (void)clh_heads_is_masked(h, query, &s.masked[i]);
        s.has_grad[i] = -7;
        (void)clh_heads_task_has_grad(h, query, &s.has_grad[i]);
    }
    const float *params = NULL, *grads = NULL;
    clh_heads_flat_const(h, &params, &grads, &s.count);
    size_t bytes = s.count * sizeof(float);
    s.params = malloc(bytes ? bytes : 1);
    s.grads = malloc(bytes ? bytes : 1);
    if (bytes) {
        memcpy(s.params, params, bytes);
        memcpy(s.grads, grads, bytes);
    }
    return s;
}

static inline void snapshot_free(core_snapshot *s) {
    free(s->task_ids);
    free(s->classes);
    free(s->offsets);
    free(s->frozen);
    free(s->masked);
    free(s->has_grad);
    free(s->params);
    free(s->grads);
    memset(s, 0, sizeof *s);
}

/* 1 when equal; otherwise prints the first difference. */
static inline int snapshot_equal(const core_snapshot *a, const core_snapshot *b) {
#define SNAP_FIELD(f)                                                         \
    if (a->f != b->f) {                                                       \
        fprintf(stderr, "  snapshot differs in " #f ": %lld vs %lld\n",       \
                (long long)a->f, (long long)b->f);                            \
        return 0;                                                             \
    }
    SNAP_FIELD(paradigm)
    SNAP_FIELD(in_features)
    SNAP_FIELD(total_classes)
    SNAP_FIELD(capacity)
    SNAP_FIELD(is_setup)
    SNAP_FIELD(num_tasks)
    SNAP_FIELD(count)
    for (size_t i = 0; i < a->num_tasks; i++) {
        SNAP_FIELD(task_ids[i])
        SNAP_FIELD(classes[i])
        SNAP_FIELD(offsets[i])
        SNAP_FIELD(frozen[i])
        SNAP_FIELD(masked[i])
        SNAP_FIELD(has_grad[i])
    }
#undef SNAP_FIELD
    size_t bytes = a->count * sizeof(float);
    if (memcmp(a->params, b->params, bytes) != 0) {
        fprintf(stderr, "  snapshot differs in the parameters\n");
        return 0;
    }
    if (memcmp(a->grads, b->grads, bytes) != 0) {
        fprintf(stderr, "  snapshot differs in the gradients\n");
        return 0;
    }
    return 1;
}

/* Checks that `h` still matches `before` (one counted check). */
#define CHECK_UNCHANGED(h, before)                        \
    do {                                                  \
        core_snapshot after_ = snapshot_take(h);          \
        CHECK(snapshot_equal(&(before), &after_));        \
        snapshot_free(&after_);                           \
    } while (0)

/* ---- comparisons ------------------------------------------------------- */

/* Largest |ref| over its finite entries. */
static inline double finite_max_abs(const float *ref, size_t n) {
    double m = 0;
    for (size_t i = 0; i < n; i++)
        if (isfinite(ref[i]) && fabs((double)ref[i]) > m) m = fabs((double)ref[i]);
    return m;
}

/* max |got - ref| / max |ref| over finite reference entries; infinite reference
 * entries must match exactly (the -inf padding). Returns the relative error
 * (HUGE_VAL on an infinity mismatch; with an all-zero reference, any non-zero
 * difference is HUGE_VAL too, so untouched gradients must stay exactly 0). */
static inline double rel_error(const float *got, const float *ref, size_t n, size_t *worst) {
    double scale = finite_max_abs(ref, n), err = 0;
    *worst = 0;
    for (size_t i = 0; i < n; i++) {
        double e;
        if (!isfinite(ref[i])) {
            e = (got[i] == ref[i]) ? 0 : HUGE_VAL;
        } else {
            double d = fabs((double)got[i] - (double)ref[i]);
            if (isnan(d)) d = HUGE_VAL;
            e = scale > 0 ? d / scale : (d > 0 ? HUGE_VAL : 0);
        }
        if (e > err) {
            err = e;
            *worst = i;
        }
    }
    return err;
}

/* One check: got matches ref within tol relative to ref's largest magnitude. */
static inline double check_array(const char *what, const float *got, const float *ref, size_t n,
                                 double tol) {
    size_t worst;
    double err = rel_error(got, ref, n, &worst);
    check_count++;
    if (!(err <= tol)) {
        check_failures++;
        fprintf(stderr, "%s: relative error %.3g > %.3g (element %zu: got %.9g, expected %.9g)\n",
                what, err, tol, worst, n ? (double)got[worst] : 0.0,
                n ? (double)ref[worst] : 0.0);
    }
    return err;
}

static inline int bits_equal(const float *a, const float *b, size_t n) {
    return n == 0 || memcmp(a, b, n * sizeof *a) == 0;
}

#endif
