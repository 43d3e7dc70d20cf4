/* Every option of the methods' building blocks is checked: negative or
 * non-finite strengths and scales, decay outside [0, 1], damping <= 0,
 * temperature <= 0, bad LwF kinds and shapes, GEM's margin, eps and task
 * count, non-finite inputs. Each fails with CLH_E_INVALID_ARG (NULLs with
 * CLH_E_NULL), a detail naming what was wrong, and leaves every output
 * buffer bit-identical. */
#include <string.h>

#include "check.h"
#include "clheads.h"

#define N 6
static float out[64], out_copy[64], out2[64], out2_copy[64];

static void arm(void) {
    for (int i = 0; i < 64; i++) out[i] = out2[i] = (float)i * 0.5f - 3.0f;
    memcpy(out_copy, out, sizeof out);
    memcpy(out2_copy, out2, sizeof out2);
}

/* The call failed with `status`, its detail mentions `word`, outputs unchanged. */
#define FAILS(call, status, word)                                             \
    do {                                                                      \
        arm();                                                                \
        CHECK_STATUS(call, status);                                           \
        CHECK(strstr(clh_last_error(), word) != NULL);                        \
        CHECK(memcmp(out, out_copy, sizeof out) == 0);                        \
        CHECK(memcmp(out2, out2_copy, sizeof out2) == 0);                     \
    } while (0)

int main(void) {
    const float p[N] = {1, 2, 3, 4, 5, 6}, a[N] = {0, 1, 0, 1, 0, 1};
    double v;
    FAILS(clh_anchor_penalty(p, a, NULL, N, -1.0, &v, out), CLH_E_INVALID_ARG, "lambda");
    FAILS(clh_anchor_penalty(p, a, NULL, N, NAN, &v, out), CLH_E_INVALID_ARG, "lambda");
    FAILS(clh_anchor_penalty(p, a, NULL, N, INFINITY, &v, out), CLH_E_INVALID_ARG, "lambda");
    FAILS(clh_anchor_penalty(p, NULL, NULL, N, 1.0, &v, out), CLH_E_NULL, "anchor");
    CHECK_OK(clh_anchor_penalty(NULL, NULL, NULL, 0, 1.0, &v, NULL)); /* empty vectors */
    CHECK(v == 0);

    FAILS(clh_fisher_accumulate(out, p, N, -0.5), CLH_E_INVALID_ARG, "scale");
    FAILS(clh_fisher_accumulate(out, p, N, NAN), CLH_E_INVALID_ARG, "scale");
    FAILS(clh_fisher_accumulate(out, NULL, N, 1), CLH_E_NULL, "grads");
    FAILS(clh_fisher_merge(out, p, N, 1.01), CLH_E_INVALID_ARG, "gamma");
    FAILS(clh_fisher_merge(out, p, N, -0.01), CLH_E_INVALID_ARG, "gamma");
    FAILS(clh_fisher_merge(out, p, N, NAN), CLH_E_INVALID_ARG, "gamma");
    FAILS(clh_si_consolidate(out, out2, p, a, N, 0.0), CLH_E_INVALID_ARG, "damping");
    FAILS(clh_si_consolidate(out, out2, p, a, N, -0.1), CLH_E_INVALID_ARG, "damping");
    FAILS(clh_si_consolidate(out, out2, p, a, N, NAN), CLH_E_INVALID_ARG, "damping");
    FAILS(clh_si_accumulate(out, p, NULL, a, N), CLH_E_NULL, "params_before");
    FAILS(clh_mas_accumulate(out, p, N, -1), CLH_E_INVALID_ARG, "scale");
    FAILS(clh_mas_output_grad(p, 0, 3, 3, &v, out), CLH_E_INVALID_ARG, "batch");
    FAILS(clh_mas_output_grad(p, 2, 3, 2, &v, out), CLH_E_INVALID_ARG, "stride");
    const float bad[N] = {1, NAN, 3, 4, 5, 6};
    FAILS(clh_mas_output_grad(bad, 2, 3, 3, &v, out), CLH_E_INVALID_ARG, "not finite");

    clh_lwf_options o, good;
    clh_lwf_options_init(&good);
    CHECK(good.temperature == 2.0 && good.weight == 1.0 && good.t_squared == 1 &&
          good.kind == CLH_LWF_CROSS_ENTROPY);
    const double temps[] = {0.0, -1.0, NAN, INFINITY};
    for (int i = 0; i < 4; i++) {
        o = good;
        o.temperature = temps[i];
        FAILS(clh_lwf_loss(&o, p, 2, 3, 3, a, 3, 3, &v, out), CLH_E_INVALID_ARG, "temperature");
    }
    o = good;
    o.weight = -0.1;
    FAILS(clh_lwf_loss(&o, p, 2, 3, 3, a, 3, 3, &v, out), CLH_E_INVALID_ARG, "weight");
    o = good;
    o.kind = (clh_lwf_kind)7;
    FAILS(clh_lwf_loss(&o, p, 2, 3, 3, a, 3, 3, &v, out), CLH_E_INVALID_ARG, "kind");
    o = good;
    o.t_squared = 2;
    FAILS(clh_lwf_loss(&o, p, 2, 3, 3, a, 3, 3, &v, out), CLH_E_INVALID_ARG, "t_squared");
    FAILS(clh_lwf_loss(&good, p, 2, 2, 3, a, 3, 3, &v, out), CLH_E_INVALID_ARG, "old_cols");
    FAILS(clh_lwf_loss(&good, p, 2, 3, 3, a, 0, 3, &v, out), CLH_E_INVALID_ARG, "old_cols");
    FAILS(clh_lwf_loss(&good, p, 0, 3, 3, a, 3, 3, &v, out), CLH_E_INVALID_ARG, "batch");
    FAILS(clh_lwf_loss(&good, bad, 2, 3, 3, a, 3, 3, &v, out), CLH_E_INVALID_ARG, "not finite");
    FAILS(clh_lwf_loss(&good, p, 2, 3, 3, bad, 3, 3, &v, out), CLH_E_INVALID_ARG, "old logit");
    FAILS(clh_lwf_loss(NULL, p, 2, 3, 3, a, 3, 3, &v, out), CLH_E_NULL, "options");

    /* GEM: out is the gradient, out2 the memory gradients (conflicting) */
    for (int i = 0; i < 8; i++) out2_copy[i] = -out_copy[i];
    FAILS(clh_gem_project(out, 8, out2, 1, -0.5, 1e-3, NULL), CLH_E_INVALID_ARG, "margin");
    FAILS(clh_gem_project(out, 8, out2, 1, NAN, 1e-3, NULL), CLH_E_INVALID_ARG, "margin");
    FAILS(clh_gem_project(out, 8, out2, 1, 0.5, -1e-3, NULL), CLH_E_INVALID_ARG, "eps");
    FAILS(clh_gem_project(out, 8, out2, 1, 0.5, INFINITY, NULL), CLH_E_INVALID_ARG, "eps");
    FAILS(clh_gem_project(out, 1, out2, CLH_GEM_MAX_TASKS + 1, 0.5, 1e-3, NULL), CLH_E_INVALID_ARG,
          "at most");
    FAILS(clh_gem_project(out, 8, NULL, 1, 0.5, 1e-3, NULL), CLH_E_NULL, "memory_grads");
    /* linearly dependent memory gradients without eps: the dual has many
     * solutions, the projection one (here g - g = 0) */
    arm();
    float dup[16];
    for (int i = 0; i < 8; i++) dup[i] = dup[8 + i] = -out[i];
    int projected = 0;
    CHECK_OK(clh_gem_project(out, 8, dup, 2, 0.0, 0.0, &projected));
    CHECK(projected == 1);
    for (int i = 0; i < 8; i++) CHECK(fabsf(out[i]) <= 1e-6f * 4);
    /* a NaN in a memory gradient */
    arm();
    out2[3] = NAN;
    CHECK_STATUS(clh_gem_project(out, 8, out2, 1, 0.5, 1e-3, NULL), CLH_E_INVALID_ARG);
    CHECK(memcmp(out, out_copy, sizeof out) == 0);
    return check_done("test_methods_errors");
}
