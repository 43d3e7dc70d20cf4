/* Finite differences for every gradient the methods give (the anchor
 * penalty w.r.t. the parameters, LwF and MAS w.r.t. the logits), LwF's
 * stability at huge logits, and GEM's projection checked by its optimality
 * conditions on random problems up to CLH_GEM_MAX_TASKS memory tasks:
 * ⟨g̃, g_k⟩ ≥ margin-adjusted 0 for every k, g̃ − g = Gᵀv with v ≥ 0, and
 * v_k ⟨g̃, g_k⟩ = 0 (complementarity) when margin and eps are 0. */
#include <stdint.h>
#include <string.h>

#include "check.h"
#include "clheads.h"

static uint64_t state = 42;
static double uniform(void) { /* xorshift64*, in [-1, 1) */
    state ^= state >> 12;
    state ^= state << 25;
    state ^= state >> 27;
    return (double)((state * UINT64_C(2685821657736338717)) >> 11) * 0x1.0p-53 * 2.0 - 1.0;
}

static void fill(float *x, size_t n, double scale) {
    for (size_t i = 0; i < n; i++) x[i] = (float)(uniform() * scale);
}

static void test_penalty(void) {
    enum { n = 25 };
    float p[n], a[n], w[n], g[n] = {0};
    fill(p, n, 2);
    fill(a, n, 2);
    for (int i = 0; i < n; i++) w[i] = (float)(uniform() + 1.5);
    const double lambda = 3.5;
    CHECK_OK(clh_anchor_penalty(p, a, w, n, lambda, NULL, g));
    for (int i = 0; i < n; i++) {
        float keep = p[i];
        float up = keep + 1e-2f, down = keep - 1e-2f;
        double fu, fd;
        p[i] = up;
        CHECK_OK(clh_anchor_penalty(p, a, w, n, lambda, &fu, NULL));
        p[i] = down;
        CHECK_OK(clh_anchor_penalty(p, a, w, n, lambda, &fd, NULL));
        p[i] = keep;
        double numeric = (fu - fd) / ((double)up - (double)down); /* exact for a quadratic */
        CHECK_CLOSE(g[i], numeric, 1e-5, fabs(numeric) + 1);
    }
}

static void lwf_fd(const clh_lwf_options *o, size_t batch, size_t cols, size_t old_cols,
                   double scale) {
    float z[4 * 7], old[4 * 5], g[4 * 7] = {0};
    fill(z, batch * cols, scale);
    fill(old, batch * old_cols, scale);
    CHECK_OK(clh_lwf_loss(o, z, batch, cols, cols, old, old_cols, old_cols, NULL, g));
    for (size_t i = 0; i < batch * cols; i++) {
        float keep = z[i];
        float up = keep + 1e-2f, down = keep - 1e-2f;
        double fu, fd;
        z[i] = up;
        CHECK_OK(clh_lwf_loss(o, z, batch, cols, cols, old, old_cols, old_cols, &fu, NULL));
        z[i] = down;
        CHECK_OK(clh_lwf_loss(o, z, batch, cols, cols, old, old_cols, old_cols, &fd, NULL));
        z[i] = keep;
        double numeric = (fu - fd) / ((double)up - (double)down);
        CHECK_CLOSE(g[i], numeric, 2e-4, check_max_abs(g, batch * cols) + 1e-3);
    }
}

static void test_lwf(void) {
    clh_lwf_options o;
    clh_lwf_options_init(&o);
    lwf_fd(&o, 4, 7, 5, 3); /* CIL: new classes padded with target 0 */
    o.kind = CLH_LWF_KL;
    o.temperature = 0.5;
    o.weight = 2;
    lwf_fd(&o, 3, 5, 5, 2); /* TIL/DIL, KL */
    o.t_squared = 0;
    o.temperature = 4;
    lwf_fd(&o, 2, 6, 3, 5);

    /* huge logits: finite loss, gradient bounded by weight*T/batch */
    clh_lwf_options_init(&o);
    float z[2 * 3] = {1e4f, -1e4f, 3e4f, 0, 5e4f, -5e4f}, old[2 * 2] = {2e4f, -3e4f, -1e4f, 1e4f};
    float g[6] = {0};
    double loss = NAN;
    CHECK_OK(clh_lwf_loss(&o, z, 2, 3, 3, old, 2, 2, &loss, g));
    CHECK(isfinite(loss) && loss > 0);
    for (int i = 0; i < 6; i++) CHECK(isfinite(g[i]) && fabs(g[i]) <= 2.0 * 2 / 2 + 1e-6);
    /* identical student and teacher (TIL): zero gradient, KL loss 0 */
    float same[3] = {0.3f, -1.0f, 2.0f}, g2[3] = {0};
    o.kind = CLH_LWF_KL;
    CHECK_OK(clh_lwf_loss(&o, same, 1, 3, 3, same, 3, 3, &loss, g2));
    CHECK(fabs(loss) < 1e-12);
    for (int i = 0; i < 3; i++) CHECK(fabs(g2[i]) < 1e-7);
}

static void test_mas(void) {
    float z[3 * 5], g[3 * 5];
    fill(z, 15, 2);
    double loss;
    CHECK_OK(clh_mas_output_grad(z, 3, 4, 5, &loss, g)); /* stride 5, 4 columns used */
    double direct = 0;
    for (int b = 0; b < 3; b++)
        for (int c = 0; c < 4; c++) direct += (double)z[b * 5 + c] * z[b * 5 + c];
    CHECK_CLOSE(loss, direct / 12, 1e-12, 1);
    for (int b = 0; b < 3; b++)
        for (int c = 0; c < 4; c++) {
            int i = b * 5 + c;
            float keep = z[i], up = keep + 1e-2f, down = keep - 1e-2f;
            double fu, fd;
            float scratch[15];
            z[i] = up;
            CHECK_OK(clh_mas_output_grad(z, 3, 4, 5, &fu, scratch));
            z[i] = down;
            CHECK_OK(clh_mas_output_grad(z, 3, 4, 5, &fd, scratch));
            z[i] = keep;
            CHECK_CLOSE(g[i], (fu - fd) / ((double)up - (double)down), 1e-5, 1);
        }
}

/* Optimality of the projection (margin 0, eps 0): the result satisfies every
 * constraint and is g + Gᵀv with v ≥ 0 complementary to the constraints. */
static void gem_problem(size_t k, size_t n) {
    float g[64], G[CLH_GEM_MAX_TASKS * 64], orig[64];
    fill(g, n, 1);
    fill(G, k * n, 1);
    for (size_t i = 0; i < n; i++) G[i] = -0.7f * g[i] + 0.3f * G[i]; /* one conflict at least */
    memcpy(orig, g, sizeof orig);
    int projected = 0;
    CHECK_OK(clh_gem_project(g, n, G, k, 0.0, 0.0, &projected));
    CHECK(projected == 1);
    /* every constraint holds: ⟨g̃, g_k⟩ ≥ 0 */
    double dots[CLH_GEM_MAX_TASKS];
    double scale = 0;
    for (size_t a = 0; a < k; a++) {
        double s = 0;
        for (size_t i = 0; i < n; i++) s += (double)g[i] * G[a * n + i];
        dots[a] = s;
        scale = fmax(scale, fabs(s));
    }
    for (size_t a = 0; a < k; a++) CHECK(dots[a] >= -1e-4 * (scale + 1));
    /* complementarity: Σ v_k ⟨g̃, g_k⟩ = ⟨g̃, g̃ − g⟩ = 0, so ⟨g̃ − g, g⟩ = −‖g̃ − g‖² */
    double change = 0, moved = 0;
    for (size_t i = 0; i < n; i++) {
        double d = (double)g[i] - orig[i];
        change += d * d;
        moved += d * (double)orig[i];
    }
    CHECK(change > 0);
    CHECK_CLOSE(moved, -change, 1e-4, change + 1e-3);
}

static void test_gem(void) {
    gem_problem(1, 10);
    gem_problem(4, 30);
    gem_problem(9, 40);
    gem_problem(CLH_GEM_MAX_TASKS, 64);
    /* k = 1 in closed form: g − (⟨g, g1⟩ / ‖g1‖²) g1 */
    float g[3] = {1, 2, -1}, g1[3] = {-1, 0, 1};
    CHECK_OK(clh_gem_project(g, 3, g1, 1, 0.0, 0.0, NULL));
    CHECK_CLOSE(g[0], 0.0, 1e-6, 1);
    CHECK_CLOSE(g[1], 2.0, 1e-6, 1);
    CHECK_CLOSE(g[2], 0.0, 1e-6, 1);
}

int main(void) {
    test_penalty();
    test_lwf();
    test_mas();
    test_gem();
    return check_done("test_methods_gradcheck");
}
