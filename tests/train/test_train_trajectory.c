/* Replays training runs recorded with PyTorch (scripts/gen_train_reference.py:
 * the seed's heads trained by torch.optim from clheads' initial weights) and
 * checks every step's loss and the parameters after every step within 1e-5
 * relative. Each run is a list of ops: set-up, freeze, step. Runs cover TIL,
 * CIL, MTL (mixed batches), DIL, STL with SGD (momentum, nesterov, dampening,
 * weight decay), Adam (L2, amsgrad) and AdamW (amsgrad), a task added
 * part-way, and a head frozen for some steps (bit-identical while frozen). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "clheads.h"
#include "refdata.h"

#define TOL 1e-5
#define OP_SETUP 1
#define OP_SETUP_TASKS 2
#define OP_FREEZE 3
#define OP_STEP 4

static double from_bits(int64_t bits) {
    double d;
    memcpy(&d, &bits, sizeof d);
    return d;
}

/* The worst relative errors of one run (loss: |d|/|ref|; params: max|d| / max|ref|). */
typedef struct run_errors {
    double loss;
    double params;
} run_errors;

static void read_config(const refdata *rd, clh_optim_config *config) {
    const int64_t *kind = refdata_i64(rd, NULL, "optim.kind");
    const int64_t *f = refdata_i64(rd, NULL, "optim.f64");
    clh_optim_config_init(config, (clh_optim_kind)kind[0], from_bits(f[0]));
    config->weight_decay = from_bits(f[1]);
    config->momentum = from_bits(f[2]);
    config->dampening = from_bits(f[3]);
    config->beta1 = from_bits(f[4]);
    config->beta2 = from_bits(f[5]);
    config->eps = from_bits(f[6]);
    config->nesterov = (int)kind[1];
    config->amsgrad = (int)kind[2];
}

/* max |a - b| / max |b| over n floats. */
static double relative_error(const float *got, const float *want, size_t n) {
    double scale = check_max_abs(want, n), worst = 0;
    for (size_t i = 0; i < n; i++) {
        double d = fabs((double)got[i] - (double)want[i]);
        if (d > worst) worst = d;
    }
    return scale > 0 ? worst / scale : worst;
}

/* One training step as the generator did it: zero_grad, forward, loss,
 * backward, optimizer step. Returns the loss. */
static float train_step(clh_heads *heads, clh_optim *optim, const refdata *rd, int64_t k,
                        int64_t task_id, int mixed) {
    size_t nx = 0, batch = 0;
    const float *x = refdata_f32(rd, &nx, "step%lld.x", (long long)k);
    const int64_t *labels = refdata_i64(rd, &batch, "step%lld.labels", (long long)k);
    const int64_t *task_ids = mixed ? refdata_i64(rd, NULL, "step%lld.task_ids", (long long)k) : NULL;
    CHECK(x && labels && (!mixed || task_ids));
    if (!x || !labels || (mixed && !task_ids)) return NAN;
    int64_t width = 0;
    CHECK_OK(clh_heads_logits_width(heads, mixed ? CLH_NO_TASK : task_id, &width));
    float *logits = malloc((batch * (size_t)width + 1) * sizeof(float));
    float *dlogits = malloc((batch * (size_t)width + 1) * sizeof(float));
    float loss = NAN;
    clh_heads_zero_grad(heads);
    if (mixed) {
        CHECK_OK(clh_heads_forward_mixed(heads, x, (int64_t)batch, task_ids, logits, NULL, 0));
        CHECK_OK(clh_heads_cross_entropy(heads, logits, (int64_t)batch, CLH_NO_TASK, task_ids,
                                         labels, &loss, dlogits));
        CHECK_OK(clh_heads_backward_mixed(heads, x, (int64_t)batch, task_ids, dlogits, NULL, NULL,
                                          0));
    } else {
        CHECK_OK(clh_heads_forward(heads, x, (int64_t)batch, task_id, logits));
        CHECK_OK(clh_heads_cross_entropy(heads, logits, (int64_t)batch, task_id, NULL, labels,
                                         &loss, dlogits));
        CHECK_OK(clh_heads_backward(heads, x, (int64_t)batch, task_id, dlogits, NULL));
    }
    CHECK_OK(clh_optim_step_heads(optim, heads));
    free(logits);
    free(dlogits);
    return loss;
}

/* A frozen head's parameters, copied when it is frozen, to compare bit for bit. */
typedef struct frozen_copy {
    int64_t task_id;
    float *weight;
    float *bias;
    size_t weight_n, bias_n;
} frozen_copy;

static void snapshot(clh_heads *heads, int64_t task_id, frozen_copy *copy) {
    clh_head_view v;
    CHECK_OK(clh_heads_get_head(heads, task_id, &v));
    copy->task_id = task_id;
    copy->weight_n = (size_t)(v.out_features * v.in_features);
    copy->bias_n = (size_t)v.out_features;
    copy->weight = malloc(copy->weight_n * sizeof(float));
    copy->bias = malloc(copy->bias_n * sizeof(float));
    memcpy(copy->weight, v.weight, copy->weight_n * sizeof(float));
    memcpy(copy->bias, v.bias, copy->bias_n * sizeof(float));
}

static int unchanged(clh_heads *heads, const frozen_copy *copy) {
    clh_head_view v;
    if (clh_heads_get_head(heads, copy->task_id, &v) != CLH_OK) return 0;
    return memcmp(v.weight, copy->weight, copy->weight_n * sizeof(float)) == 0 &&
           memcmp(v.bias, copy->bias, copy->bias_n * sizeof(float)) == 0;
}

static run_errors replay(const char *name) {
    run_errors err = {0, 0};
    char path[256];
    snprintf(path, sizeof path, "train/%s", name);
    refdata *rd = refdata_load_test_file(path);
    CHECK(rd != NULL);
    if (!rd) return err;
    const int64_t *config = refdata_i64(rd, NULL, "config");
    size_t n_ops = 0;
    const int64_t *ops = refdata_i64(rd, &n_ops, "ops");
    CHECK(config && ops);
    if (!config || !ops) {
        refdata_free(rd);
        return err;
    }
    n_ops /= 4;
    clh_paradigm paradigm = (clh_paradigm)config[0];
    clh_heads *heads = NULL;
    CHECK_OK(clh_heads_create(&heads, paradigm, config[1], (uint64_t)config[2]));
    clh_optim_config oc;
    read_config(rd, &oc);
    clh_optim *optim = NULL;
    CHECK_OK(clh_optim_create(&optim, &oc));
    frozen_copy frozen = {0, NULL, NULL, 0, 0};
    int frozen_steps = 0;

    for (size_t i = 0; heads && optim && i < n_ops; i++) {
        const int64_t *op = ops + 4 * i;
        if (op[0] == OP_SETUP) {
            if (paradigm == CLH_DIL || paradigm == CLH_STL)
                CHECK_OK(clh_heads_setup_single(heads, op[2]));
            else
                CHECK_OK(clh_heads_setup_task(heads, op[1], op[2]));
        } else if (op[0] == OP_SETUP_TASKS) {
            size_t n = 0;
            const int64_t *ids = refdata_i64(rd, &n, "setup%lld.ids", (long long)op[1]);
            const int64_t *classes = refdata_i64(rd, NULL, "setup%lld.classes", (long long)op[1]);
            CHECK(ids && classes);
            if (ids && classes) CHECK_OK(clh_heads_setup_tasks(heads, ids, classes, n));
        } else if (op[0] == OP_FREEZE) {
            CHECK_OK(clh_heads_set_frozen(heads, op[1], (int)op[2]));
            if (op[2]) {
                snapshot(heads, op[1], &frozen);
            } else {
                CHECK(frozen.weight && unchanged(heads, &frozen));
                CHECK(frozen_steps > 0);
                free(frozen.weight);
                free(frozen.bias);
                frozen.weight = frozen.bias = NULL;
            }
        } else if (op[0] == OP_STEP) {
            float loss = train_step(heads, optim, rd, op[1], op[2], (int)op[3]);
            const float *want_loss = refdata_f32(rd, NULL, "step%lld.loss", (long long)op[1]);
            size_t n_want = 0;
            const float *want = refdata_f32(rd, &n_want, "step%lld.params", (long long)op[1]);
            CHECK(want_loss && want);
            if (!want_loss || !want) continue;
            double loss_err = fabs((double)loss - want_loss[0]) / fabs((double)want_loss[0]);
            if (loss_err > err.loss) err.loss = loss_err;
            CHECK_CLOSE(loss, want_loss[0], TOL, fabs((double)want_loss[0]));
            float *params;
            size_t count;
            clh_heads_flat(heads, &params, NULL, &count);
            CHECK(count == n_want);
            if (count != n_want) continue;
            double e = relative_error(params, want, count);
            if (e > err.params) err.params = e;
            if (!(e <= TOL))
                fprintf(stderr, "%s: step %lld: parameters off by %.3g relative\n", name,
                        (long long)op[1], e);
            CHECK(e <= TOL);
            if (frozen.weight) {
                frozen_steps++;
                CHECK(unchanged(heads, &frozen)); /* not weight decay, not momentum */
            }
        }
    }
    size_t n_final = 0;
    const float *final = refdata_f32(rd, &n_final, "final.params");
    float *params = NULL;
    size_t count = 0;
    if (heads) clh_heads_flat(heads, &params, NULL, &count);
    CHECK(final && count == n_final);
    if (final && count == n_final) CHECK(relative_error(params, final, count) <= TOL);
    free(frozen.weight);
    free(frozen.bias);
    clh_optim_free(optim);
    clh_heads_free(heads);
    refdata_free(rd);
    return err;
}

/* clh_optim_step on a plain vector against torch.optim on one tensor. */
static double replay_flat(const char *name) {
    char path[256];
    snprintf(path, sizeof path, "train/%s", name);
    refdata *rd = refdata_load_test_file(path);
    CHECK(rd != NULL);
    if (!rd) return 1;
    size_t n = 0, total = 0;
    const float *init = refdata_f32(rd, &n, "init");
    const float *grads = refdata_f32(rd, &total, "grads");
    const float *want = refdata_f32(rd, NULL, "params");
    CHECK(init && grads && want && n > 0 && total % n == 0);
    double worst = 0;
    if (init && grads && want && n > 0) {
        clh_optim_config oc;
        read_config(rd, &oc);
        clh_optim *optim = NULL;
        CHECK_OK(clh_optim_create(&optim, &oc));
        float *p = malloc(n * sizeof(float));
        memcpy(p, init, n * sizeof(float));
        for (size_t k = 0; optim && k < total / n; k++) {
            CHECK_OK(clh_optim_step(optim, p, grads + k * n, n));
            double e = relative_error(p, want + k * n, n);
            if (e > worst) worst = e;
        }
        CHECK(worst <= TOL);
        free(p);
        clh_optim_free(optim);
    }
    refdata_free(rd);
    return worst;
}

int main(void) {
    char list[256];
    snprintf(list, sizeof list, "%s/train/trajectories.txt", CLH_TEST_DATA_DIR);
    FILE *f = fopen(list, "r");
    CHECK(f != NULL);
    char name[128];
    int runs = 0;
    while (f && fscanf(f, "%127s", name) == 1) {
        run_errors e = replay(name);
        printf("  %-28s max rel. error: loss %.2e, params %.2e\n", name, e.loss, e.params);
        runs++;
    }
    if (f) fclose(f);
    CHECK(runs >= 17);
    snprintf(list, sizeof list, "%s/train/flat.txt", CLH_TEST_DATA_DIR);
    f = fopen(list, "r");
    CHECK(f != NULL);
    int flats = 0;
    while (f && fscanf(f, "%127s", name) == 1) {
        printf("  %-28s max rel. error: params %.2e\n", name, replay_flat(name));
        flats++;
    }
    if (f) fclose(f);
    CHECK(flats >= 6);
    return check_done("test_train_trajectory");
}
