/* The methods' building blocks against PyTorch / numpy references
 * (scripts/gen_methods_reference.py -> tests/data/methods/methods.ref):
 * the anchor penalty and its gradient; EWC's Fisher (per sample and per batch,
 * at predicted labels), online EWC's running Fisher, MAS's importance and SI's
 * path integral, each computed with the library's heads, loss and Adam the way
 * Hsu et al.'s code does on a linear model; LwF's loss and gradient (CIL and
 * TIL, cross-entropy and KL, with and without T²); GEM's projection against a
 * float64 brute-force QP. Tolerance 1e-5 relative to each array's magnitude. */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "clheads.h"
#include "refdata.h"

#define TOL 1e-5
#define IN 6
#define C 4
#define N 7
#define P (C * IN + C)

static const refdata *rd;

static const float *arr(const char *name, size_t want) {
    size_t n = 0;
    const float *a = refdata_f32(rd, &n, "%s", name);
    if (!a || n != want) {
        fprintf(stderr, "reference array %s missing or of %zu elements (want %zu)\n", name, n,
                want);
        exit(EXIT_FAILURE);
    }
    return a;
}

/* Every element within TOL of the reference's largest magnitude. */
static void check_vector(const char *what, const float *got, const float *want, size_t n) {
    double scale = check_max_abs(want, n);
    if (scale == 0) scale = 1;
    double worst = 0;
    for (size_t i = 0; i < n; i++) {
        double d = fabs((double)got[i] - (double)want[i]);
        if (d > worst) worst = d;
    }
    check_count++;
    if (!(worst <= TOL * scale)) {
        check_failures++;
        fprintf(stderr, "%s: max error %.3g against scale %.3g\n", what, worst, scale);
    }
}

/* A single linear head (STL) holding the given flat parameters. */
static clh_heads *linear_head(const float *params) {
    clh_heads *h = NULL;
    CHECK_OK(clh_heads_create(&h, CLH_STL, IN, 1));
    CHECK_OK(clh_heads_setup_single(h, C));
    float *p;
    size_t count;
    clh_heads_flat(h, &p, NULL, &count);
    CHECK(count == P);
    memcpy(p, params, P * sizeof(float));
    return h;
}

static float *head_grads(clh_heads *h) {
    float *g;
    clh_heads_flat(h, NULL, &g, NULL);
    return g;
}

/* zero_grad; forward rows [first, first+n); loss at `labels` (NULL: the
 * argmax of each row, as EWC's predicted labels); backward. */
static void ce_gradient(clh_heads *h, const float *x, size_t first, size_t n,
                        const int64_t *labels) {
    float logits[N * C], dlogits[N * C], loss;
    int64_t predicted[N];
    clh_heads_zero_grad(h);
    const float *rows = x + first * IN;
    CHECK_OK(clh_heads_forward(h, rows, (int64_t)n, CLH_NO_TASK, logits));
    for (size_t b = 0; b < n && !labels; b++) {
        int64_t best = 0;
        for (int64_t c = 1; c < C; c++)
            if (logits[b * C + c] > logits[b * C + best]) best = c;
        predicted[b] = best;
    }
    CHECK_OK(clh_cross_entropy(logits, (int64_t)n, C, labels ? labels + first : predicted, &loss,
                               dlogits));
    CHECK_OK(clh_heads_backward(h, rows, (int64_t)n, CLH_NO_TASK, dlogits, NULL));
}

static void test_penalty(void) {
    const float *params = arr("penalty.params", 37), *anchor = arr("penalty.anchor", 37);
    const float *omega = arr("penalty.omega", 37);
    double lambda = 2.0 * arr("penalty.reg_coef", 1)[0];
    for (int l2 = 0; l2 < 2; l2++) {
        float grads[37];
        for (int i = 0; i < 37; i++) grads[i] = 0.25f; /* accumulates onto what is there */
        double value = 0;
        CHECK_OK(clh_anchor_penalty(params, anchor, l2 ? NULL : omega, 37, lambda, &value, grads));
        const float *want = arr(l2 ? "penalty.l2.grad" : "penalty.omega.grad", 37);
        for (int i = 0; i < 37; i++) grads[i] -= 0.25f;
        check_vector(l2 ? "penalty l2 grad" : "penalty grad", grads, want, 37);
        double ref = arr(l2 ? "penalty.l2.value" : "penalty.omega.value", 1)[0];
        CHECK_CLOSE(value, ref, TOL, fabs(ref));
    }
}

/* Hsu et al.'s EWC Fisher with batches of `batch` samples in order. */
static void fisher(const float *params, const float *x, size_t batch, float *out) {
    clh_heads *h = linear_head(params);
    memset(out, 0, P * sizeof(float));
    size_t groups = (N + batch - 1) / batch;
    for (size_t first = 0; first < N; first += batch) {
        size_t n = first + batch <= N ? batch : N - first;
        ce_gradient(h, x, first, n, NULL);
        CHECK_OK(clh_fisher_accumulate(out, head_grads(h), P, (double)n / (double)groups));
    }
    clh_heads_free(h);
}

static void test_ewc(void) {
    const float *params = arr("ewc.params", P), *x = arr("ewc.x", N * IN);
    float f[P];
    fisher(params, x, 1, f);
    check_vector("EWC Fisher per sample", f, arr("ewc.fisher_sample", P), P);
    fisher(params, x, 3, f);
    check_vector("EWC Fisher per batch", f, arr("ewc.fisher_batch", P), P);

    float running[P];
    memcpy(running, arr("online.fisher1", P), sizeof running);
    CHECK_OK(clh_fisher_merge(running, arr("online.fisher2", P), P, 1.0));
    check_vector("online EWC gamma 1", running, arr("online.gamma1", P), P);
    memcpy(running, arr("online.fisher1", P), sizeof running);
    CHECK_OK(clh_fisher_merge(running, arr("online.fisher2", P), P, 0.9));
    check_vector("online EWC gamma 0.9", running, arr("online.gamma09", P), P);
}

static void test_mas(void) {
    clh_heads *h = linear_head(arr("mas.params", P));
    const float *x = arr("mas.x", N * IN);
    float omega[P] = {0}, logits[3 * C], dlogits[3 * C];
    size_t groups = 3;
    for (size_t first = 0; first < N; first += 3) {
        size_t n = first + 3 <= N ? 3 : N - first;
        clh_heads_zero_grad(h);
        CHECK_OK(clh_heads_forward(h, x + first * IN, (int64_t)n, CLH_NO_TASK, logits));
        double loss = -1;
        CHECK_OK(clh_mas_output_grad(logits, n, C, C, &loss, dlogits));
        CHECK(loss > 0);
        CHECK_OK(clh_heads_backward(h, x + first * IN, (int64_t)n, CLH_NO_TASK, dlogits, NULL));
        CHECK_OK(clh_mas_accumulate(omega, head_grads(h), P, 1.0 / (double)groups));
    }
    check_vector("MAS importance", omega, arr("mas.omega", P), P);
    clh_heads_free(h);
}

static void test_si(void) {
    const float *config = arr("si.config", 4);
    double lambda = 2.0 * config[0], damping = config[1];
    int steps = (int)config[3];
    clh_heads *h = linear_head(arr("si.init", P));
    clh_optim_config oc;
    clh_optim_config_init(&oc, CLH_OPTIM_ADAM, config[2]);
    oc.lr = 0.05; /* the float in the file rounds 0.05; torch used the double */
    clh_optim *opt = NULL;
    CHECK_OK(clh_optim_create(&opt, &oc));
    float *params, *grads;
    clh_heads_flat(h, &params, &grads, NULL);
    float w[P] = {0}, omega[P] = {0}, prev[P], anchor[P], before[P], unreg[P];
    memcpy(prev, params, sizeof prev);
    for (int t = 0; t < 2; t++) {
        char name[32];
        snprintf(name, sizeof name, "si.x%d", t);
        const float *x = arr(name, N * IN);
        size_t ny = 0;
        const int64_t *y = refdata_i64(rd, &ny, "si.y%d", t);
        CHECK(y && ny == N);
        if (!y) break;
        for (int s = 0; s < steps; s++) {
            memcpy(before, params, sizeof before);
            ce_gradient(h, x, 0, N, y);
            memcpy(unreg, grads, sizeof unreg);
            if (t > 0) CHECK_OK(clh_anchor_penalty(params, anchor, omega, P, lambda, NULL, grads));
            CHECK_OK(clh_optim_step(opt, params, grads, P));
            CHECK_OK(clh_si_accumulate(w, unreg, before, params, P));
        }
        CHECK_OK(clh_si_consolidate(omega, w, params, prev, P, damping));
        for (int i = 0; i < P; i++) CHECK(w[i] == 0.0f);
        memcpy(prev, params, sizeof prev);
        memcpy(anchor, params, sizeof anchor);
        snprintf(name, sizeof name, "si.params%d", t);
        check_vector(name, params, arr(name, P), P);
        snprintf(name, sizeof name, "si.omega%d", t);
        check_vector(name, omega, arr(name, P), P);
    }
    clh_optim_free(opt);
    clh_heads_free(h);
}

static void test_lwf(void) {
    static const char *const cases[] = {"cil_ce", "til_ce", "cil_ce_not2", "til_kl"};
    const float *logits = arr("lwf.logits", 5 * 6), *old = arr("lwf.old", 5 * 4);
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        char name[48];
        snprintf(name, sizeof name, "lwf.%s.config", cases[k]);
        const float *cfg = arr(name, 5);
        size_t cols = (size_t)cfg[0];
        clh_lwf_options o;
        clh_lwf_options_init(&o);
        o.temperature = cfg[1];
        o.weight = cfg[2];
        o.t_squared = (int)cfg[3];
        o.kind = (clh_lwf_kind)(int)cfg[4];
        float grad[5 * 6];
        for (int i = 0; i < 30; i++) grad[i] = 1.0f; /* accumulated onto */
        double loss = 0;
        /* the student's logits are the first `cols` columns of a 6-wide batch */
        CHECK_OK(clh_lwf_loss(&o, logits, 5, cols, 6, old, 4, 4, &loss, grad));
        float got[5 * 6];
        for (size_t b = 0; b < 5; b++)
            for (size_t c = 0; c < cols; c++) got[b * cols + c] = grad[b * 6 + c] - 1.0f;
        for (size_t b = 0; b < 5; b++)
            for (size_t c = cols; c < 6; c++) CHECK(grad[b * 6 + c] == 1.0f);
        snprintf(name, sizeof name, "lwf.%s.grad", cases[k]);
        check_vector(name, got, arr(name, 5 * cols), 5 * cols);
        snprintf(name, sizeof name, "lwf.%s.loss", cases[k]);
        double ref = arr(name, 1)[0];
        CHECK_CLOSE(loss, ref, TOL, fabs(ref));
    }
}

static void test_gem(void) {
    static const char *const cases[] = {"k3", "k3_plain", "k1", "k5", "ok"};
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        char name[48];
        snprintf(name, sizeof name, "gem.%s.config", cases[k]);
        const float *cfg = arr(name, 4);
        size_t tasks = (size_t)cfg[0];
        double margin = cfg[1], eps = tasks && cfg[2] > 0 ? 1e-3 : 0.0;
        snprintf(name, sizeof name, "gem.%s.g", cases[k]);
        float g[50];
        memcpy(g, arr(name, 50), sizeof g);
        snprintf(name, sizeof name, "gem.%s.G", cases[k]);
        const float *G = arr(name, tasks * 50);
        int projected = -1;
        CHECK_OK(clh_gem_project(g, 50, G, tasks, margin, eps, &projected));
        CHECK(projected == (cfg[3] > 0));
        snprintf(name, sizeof name, "gem.%s.projected", cases[k]);
        const float *want = arr(name, 50);
        check_vector(name, g, want, 50);
        if (!projected) CHECK(memcmp(g, want, sizeof g) == 0); /* untouched, bit for bit */
    }
}

int main(void) {
    refdata *data = refdata_load_test_file("methods/methods.ref");
    if (!data) return EXIT_FAILURE;
    rd = data;
    test_penalty();
    test_ewc();
    test_mas();
    test_si();
    test_lwf();
    test_gem();
    refdata_free(data);
    return check_done("test_methods_reference");
}
