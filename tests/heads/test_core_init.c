/* Initialisation: nn.Linear's distribution from the seed, repeatable, and a
 * head's values depend only on (seed, task id, shape) — not on set-up order.
 * (Bit-exact agreement with the Python replica scripts/clheads_init.py is
 * checked in test_core_reference against tests/data/core/.) */
#include <stdint.h>
#include <string.h>

#include "test_core_util.h"

static clh_heads *til(uint64_t seed, const int64_t *ids, const int64_t *classes, size_t n) {
    clh_heads *h = NULL;
    CHECK_OK(clh_heads_create(&h, CLH_TIL, 13, seed));
    for (size_t i = 0; i < n; i++) CHECK_OK(clh_heads_setup_task(h, ids[i], classes[i]));
    return h;
}

static int same_head(clh_heads *a, clh_heads *b, int64_t task) {
    clh_head_view va, vb;
    if (clh_heads_get_head(a, task, &va) != CLH_OK || clh_heads_get_head(b, task, &vb) != CLH_OK)
        return 0;
    size_t n = (size_t)(va.out_features * va.in_features);
    return va.out_features == vb.out_features && bits_equal(va.weight, vb.weight, n) &&
           bits_equal(va.bias, vb.bias, (size_t)va.out_features);
}

int main(void) {
    const int64_t ids[] = {3, 1, 2}, reversed[] = {2, 1, 3}, classes[] = {4, 2, 5},
                  classes_rev[] = {5, 2, 4};
    clh_heads *a = til(42, ids, classes, 3), *b = til(42, ids, classes, 3);
    clh_heads *c = til(42, reversed, classes_rev, 3), *d = til(43, ids, classes, 3);

    /* Same seed, same set-up: identical bank. */
    core_snapshot sa = snapshot_take(a), sb = snapshot_take(b);
    CHECK(snapshot_equal(&sa, &sb));
    /* Set-up order changes the bank layout but not any head's values. */
    for (int i = 0; i < 3; i++) CHECK(same_head(a, c, ids[i]));
    /* Another seed gives other values. */
    for (int i = 0; i < 3; i++) CHECK(!same_head(a, d, ids[i]));

    /* W and b within ±1/sqrt(in), spread over the range (not all tiny or equal). */
    double bound = 1.0 / sqrt(13.0), lo = 1, hi = -1, sum = 0;
    const float *params = NULL;
    size_t count = 0;
    clh_heads_flat_const(a, &params, NULL, &count);
    CHECK(count == (size_t)(4 + 2 + 5) * 14);
    for (size_t i = 0; i < count; i++) {
        CHECK(fabs((double)params[i]) <= bound);
        if (params[i] < lo) lo = params[i];
        if (params[i] > hi) hi = params[i];
        sum += params[i];
    }
    CHECK(lo < -0.8 * bound && hi > 0.8 * bound);
    CHECK(fabs(sum / (double)count) < 0.1 * bound);

    /* DIL and STL use task id 0's stream: same values as a TIL head 0 of that shape. */
    clh_heads *dil = NULL, *stl = NULL, *til0 = NULL;
    const int64_t zero = 0, six = 6;
    CHECK_OK(clh_heads_create(&dil, CLH_DIL, 13, 42));
    CHECK_OK(clh_heads_create(&stl, CLH_STL, 13, 42));
    CHECK_OK(clh_heads_setup_single(dil, 6));
    CHECK_OK(clh_heads_setup_single(stl, 6));
    til0 = til(42, &zero, &six, 1);
    core_snapshot s0 = snapshot_take(til0), s1 = snapshot_take(dil), s2 = snapshot_take(stl);
    CHECK(s0.count == s1.count && bits_equal((float *)s0.params, (float *)s1.params, s0.count));
    CHECK(s0.count == s2.count && bits_equal((float *)s0.params, (float *)s2.params, s0.count));
    CHECK(clh_heads_is_setup(dil) == 1 && clh_heads_num_tasks(dil) == 1);
    /* Gradients start at zero. */
    for (size_t i = 0; i < s1.count; i++) CHECK(((float *)s1.grads)[i] == 0.0f);

    snapshot_free(&s0);
    snapshot_free(&s1);
    snapshot_free(&s2);
    snapshot_free(&sa);
    snapshot_free(&sb);
    clh_heads_free(til0);
    clh_heads_free(dil);
    clh_heads_free(stl);
    clh_heads_free(a);
    clh_heads_free(b);
    clh_heads_free(c);
    clh_heads_free(d);
    clh_heads_free(NULL); /* accepted */

    /* Paradigm names. */
    const char *names[] = {"TIL", "CIL", "DIL", "MTL", "STL"};
    for (int p = 0; p < 5; p++) {
        clh_paradigm parsed = (clh_paradigm)-1;
        char lower[4];
        for (int i = 0; i < 4; i++) lower[i] = (char)(names[p][i] ? names[p][i] + 32 : 0);
        const char *name = clh_paradigm_name((clh_paradigm)p);
        CHECK(name && strcmp(name, names[p]) == 0);
        CHECK_OK(clh_paradigm_parse(names[p], &parsed));
        CHECK(parsed == (clh_paradigm)p);
        parsed = (clh_paradigm)-1;
        CHECK_OK(clh_paradigm_parse(lower, &parsed));
        CHECK(parsed == (clh_paradigm)p);
    }
    clh_paradigm untouched = CLH_MTL;
    CHECK_STATUS(clh_paradigm_parse("XIL", &untouched), CLH_E_INVALID_ARG);
    CHECK(untouched == CLH_MTL);
    CHECK(clh_paradigm_name((clh_paradigm)9) == NULL);
    return check_done("test_core_init");
}
