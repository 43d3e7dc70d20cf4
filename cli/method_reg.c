/* The regularizers of --method: L2, EWC, online EWC, SI, MAS (method.h),
 * computed as Hsu et al.'s code does (docs/methods.md): the penalty
 * reg_coef * sum Omega (theta - theta*)^2 over every parameter, backbone and
 * heads (the library's lambda/2 form with lambda = 2 reg_coef), and the
 * importance Omega estimated after each task.
 *
 * In a data-parallel run (parallel.h) the penalty is computed by every
 * process on the same parameters after the step's gradients were summed
 * (train_loop.c), so it is counted once. The importances computed on data
 * are each process's part over its shard, summed: EWC's Fisher is a sum over
 * samples (one sum of the vector per task); MAS's is a sum over batches of
 * |batch gradient|, so each batch's gradient is summed before its absolute
 * value (one sum per batch, as in training). SI's comes from the summed
 * gradients and is the same everywhere. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clheads/loss.h"
#include "method_hooks.h"

/* The penalty of every term over params [begin, end) of one part (backbone
 * or heads), term after term; *value += each term's sum. */
static clh_status penalty_part(const cli_method_state *ms, const float *params, float *grads,
                               size_t offset, size_t begin, size_t end, double lambda,
                               double *value) {
    for (int64_t k = 0; k < ms->terms; k++) {
        const float *omega = ms->omega[k] ? ms->omega[k] + offset + begin : NULL;
        double v = 0.0;
        clh_status st = clh_anchor_penalty(params + begin, ms->anchor[k] + offset + begin, omega,
                                           end - begin, lambda, &v, grads + begin);
        if (st != CLH_OK) return st;
        *value += v;
    }
    return CLH_OK;
}

int cli_reg_penalty(cli_learner *l, double *value, char *err, size_t err_len) {
    /* Floats per slice: every term's anchor and Omega over one slice stay in
     * the cache while the terms are added. Each gradient entry still gets
     * its terms in order 0, 1, ...: the same floats as term after term over
     * the whole vector; only the penalty's double sum is grouped differently. */
    enum { SLICE = 4096 };
    cli_method_state *ms = &l->ms;
    double lambda = 2.0 * l->config->mopt.reg_coef;
    float *hp, *hg;
    size_t hc;
    clh_heads_flat(l->heads, &hp, &hg, &hc);
    *value = 0.0;
    clh_status st = CLH_OK;
    for (size_t b = 0; b < ms->backbone && st == CLH_OK; b += SLICE) {
        size_t e = b + SLICE < ms->backbone ? b + SLICE : ms->backbone;
        st = penalty_part(ms, l->mlp.params, l->mlp.grads, 0, b, e, lambda, value);
    }
    for (size_t b = 0; b < hc && st == CLH_OK; b += SLICE) {
        size_t e = b + SLICE < hc ? b + SLICE : hc;
        st = penalty_part(ms, hp, hg, ms->backbone, b, e, lambda, value);
    }
    if (st != CLH_OK) return cli_method_lib_fail(err, err_len, "the anchor penalty", st);
    /* The penalty's gradient reaches every head (torch: .grad is not None). */
    cli_method_all_heads_have_grad(l);
    return 0;
}

/* Logits of task row's call (TIL: its head; CIL: every class seen; DIL: the
 * one head) for the gathered images in l->x; the width in *width. */
static int forward_task(cli_learner *l, int64_t row, int64_t batch, const float **feature,
                        int64_t *width, char *err, size_t err_len) {
    int64_t id = cli_call_task_id(l->config->paradigm, row);
    *feature = cli_mlp_forward(&l->mlp, l->x, batch);
    if (!*feature) return cli_method_lib_fail(err, err_len, "backbone forward", CLH_E_INVALID_ARG);
    clh_status st = clh_heads_forward(l->heads, *feature, batch, id, l->logits);
    if (st == CLH_OK) st = clh_heads_logits_width(l->heads, id, width);
    return st != CLH_OK ? cli_method_lib_fail(err, err_len, "heads forward", st) : 0;
}

/* Loads the training images [begin, end) of task row that this process
 * holds (all of them alone) into l->x; returns how many. */
static int64_t load_images(cli_learner *l, int64_t row, int64_t begin, int64_t end) {
    const cli_task *task = &l->tasks->tasks[row];
    int64_t b = 0;
    for (int64_t i = begin; i < end; i++) {
        if (!cli_images_holds(l->images, task->train[i])) continue;
        cli_images_row(l->images, task->train[i], task->perm, l->x + b * l->images->dim);
        b++;
    }
    return b;
}

static void squares(float *out, const float *in, size_t n, float scale) {
    for (size_t i = 0; i < n; i++) out[i] = in[i] * in[i] * scale;
}

/* EWC's Fisher (Hsu et al.'s EWC_mnist): every training sample of the task,
 * one at a time, the gradient of its cross-entropy at the model's predicted
 * label, squared, / N. A sample's gradient of a linear layer is the outer
 * product of its output delta and its input, so the sum over samples of its
 * square is (delta^2)^T (input^2): each layer's Fisher is one product over a
 * batch of samples (exact; only the summation order differs from theirs). */
static int ewc_fisher(cli_learner *l, int64_t row, float *fisher, char *err, size_t err_len) {
    cli_method_state *ms = &l->ms;
    cli_mlp *mlp = &l->mlp;
    const cli_task *task = &l->tasks->tasks[row];
    int64_t n = task->num_train, chunk = mlp->max_batch, in = mlp->in, h = mlp->hidden;
    int64_t id = cli_call_task_id(l->config->paradigm, row);
    int64_t head_row = l->config->paradigm == CLH_CIL ? 0 : cli_method_head_row(l, row);
    float inv_n = (float)(1.0 / (double)n);
    int64_t widest = in > l->max_width ? in : l->max_width;
    if (h > widest) widest = h;
    size_t big = (size_t)chunk * (size_t)widest;
    const float *hp;
    clh_heads_flat_const(l->heads, &hp, NULL, NULL);
    float *sq_in = malloc(big * sizeof(float)), *sq_out = malloc(big * sizeof(float));
    int rc = 0;
    if (!sq_in || !sq_out) {
        snprintf(err, err_len, "out of memory for EWC's Fisher");
        rc = 1;
    }
    memset(fisher, 0, ms->count * sizeof(float));
    float *fw1 = fisher, *fb1 = fw1 + h * in, *fw2 = fb1 + h, *fb2 = fw2 + h * h;
    float *fheads = fisher + ms->backbone;
    /* Chunks of this process's samples (every sample's term is its own, so
     * how they are grouped does not matter; the processes' sums add up). */
    for (int64_t next = 0; next < n && !rc;) {
        int64_t end = next, held = 0;
        while (end < n && held < chunk) held += cli_images_holds(l->images, task->train[end++]);
        int64_t b = load_images(l, row, next, end);
        next = end;
        if (b == 0) continue;
        const float *feature;
        int64_t width;
        if (forward_task(l, row, b, &feature, &width, err, err_len)) {
            rc = 1;
            break;
        }
        for (int64_t i = 0; i < b; i++) {
            const float *z = l->logits + i * width;
            int64_t best = 0;
            for (int64_t c = 1; c < width; c++)
                if (z[c] > z[best]) best = c;
            l->labels[i] = best;
        }
        float loss;
        clh_status st = clh_cross_entropy(l->logits, b, width, l->labels, &loss, l->dlogits);
        /* Per sample, not the batch mean: each sample's loss is its own batch. */
        for (int64_t i = 0; st == CLH_OK && i < b * width; i++) l->dlogits[i] *= (float)b;
        if (st == CLH_OK)
            st = clh_heads_backward(l->heads, feature, b, id, l->dlogits, l->dfeature);
        if (st == CLH_OK && cli_mlp_backward(mlp, l->x, b, l->dfeature)) st = CLH_E_INVALID_ARG;
        /* The heads' rows of this call: d(logits)^2 x feature^2. */
        size_t rows = (size_t)ms->rows;
        if (st == CLH_OK) {
            squares(sq_out, l->dlogits, (size_t)(b * width), inv_n);
            squares(sq_in, feature, (size_t)(b * h), 1.0f);
            st = clh_linear_backward(NULL, fheads + (size_t)head_row * (size_t)h,
                                     fheads + rows * (size_t)h + (size_t)head_row, sq_out, sq_in,
                                     hp + (size_t)head_row * (size_t)h, b, h, width);
        }
        if (st == CLH_OK) { /* layer 2: delta is the masked d(feature), input h1 */
            squares(sq_out, l->dfeature, (size_t)(b * h), inv_n);
            squares(sq_in, mlp->h1, (size_t)(b * h), 1.0f);
            st = clh_linear_backward(NULL, fw2, fb2, sq_out, sq_in, mlp->w2, b, h, h);
        }
        if (st == CLH_OK) { /* layer 1: delta dh1, input the image */
            squares(sq_out, mlp->dh1, (size_t)(b * h), inv_n);
            squares(sq_in, l->x, (size_t)(b * in), 1.0f);
            st = clh_linear_backward(NULL, fw1, fb1, sq_out, sq_in, mlp->w1, b, in, h);
        }
        if (st != CLH_OK) rc = cli_method_lib_fail(err, err_len, "EWC's Fisher", st);
    }
    cli_mlp_zero_grad(mlp);
    clh_heads_zero_grad(l->heads);
    free(sq_in);
    free(sq_out);
    if (!rc && cli_parallel_sum_f32(l->par, fisher, ms->count, "EWC's Fisher", err, err_len))
        rc = 1;
    return rc;
}

/* MAS (Hsu et al.): over the task's training batches (--batch-size), the
 * gradient of mean(z^2) over batch and outputs; Omega += |g| / batches. */
static int mas_importance(cli_learner *l, int64_t row, float *omega, char *err, size_t err_len) {
    cli_method_state *ms = &l->ms;
    const cli_task *task = &l->tasks->tasks[row];
    int64_t n = task->num_train, bs = l->config->batch_size;
    int64_t id = cli_call_task_id(l->config->paradigm, row);
    int64_t batches = (n + bs - 1) / bs;
    for (int64_t begin = 0; begin < n; begin += bs) {
        int64_t end = begin + bs < n ? begin + bs : n, global = end - begin;
        int64_t b = load_images(l, row, begin, end);
        clh_status st = CLH_OK;
        if (b > 0) {
            const float *feature;
            int64_t width;
            if (forward_task(l, row, b, &feature, &width, err, err_len)) return 1;
            st = clh_mas_output_grad(l->logits, (size_t)b, (size_t)width, (size_t)width, NULL,
                                     l->dlogits);
            /* The mean over the batch: this process's share of it. */
            if (b != global)
                for (int64_t j = 0; st == CLH_OK && j < b * width; j++)
                    l->dlogits[j] *= (float)((double)b / (double)global);
            if (st == CLH_OK)
                st = clh_heads_backward(l->heads, feature, b, id, l->dlogits, l->dfeature);
            if (st == CLH_OK && cli_mlp_backward(&l->mlp, l->x, b, l->dfeature))
                st = CLH_E_INVALID_ARG;
        }
        /* The batch's gradient, before its absolute value. */
        if (st == CLH_OK && cli_learner_sum_grads(l, cli_learner_has_backbone(l), NULL, 0,
                                                  "MAS's batch gradient", err, err_len))
            return 1;
        const float *hg;
        size_t hc;
        clh_heads_flat_const(l->heads, NULL, &hg, &hc);
        double scale = 1.0 / (double)batches;
        if (st == CLH_OK) st = clh_mas_accumulate(omega, l->mlp.grads, ms->backbone, scale);
        if (st == CLH_OK) st = clh_mas_accumulate(omega + ms->backbone, hg, hc, scale);
        cli_mlp_zero_grad(&l->mlp);
        clh_heads_zero_grad(l->heads);
        if (st != CLH_OK) return cli_method_lib_fail(err, err_len, "MAS's importance", st);
    }
    return 0;
}

/* A zeroed vector of the full layout (or NULL). */
static float *zeros(const cli_method_state *ms) {
    return calloc(ms->count, sizeof(float));
}

int cli_reg_consolidate(cli_learner *l, int64_t row, char *err, size_t err_len) {
    cli_method_state *ms = &l->ms;
    cli_method m = l->config->method;
    size_t bytes = ms->count * sizeof(float);
    float *params = malloc(bytes);
    if (!params) {
        snprintf(err, err_len, "out of memory consolidating the task");
        return 1;
    }
    cli_method_full_params(l, params); /* the anchor: cloned before the importance */
    int64_t k = m == CLI_METHOD_EWC ? ms->terms : 0;
    if (k >= CLI_METHOD_MAX_TERMS) {
        free(params);
        snprintf(err, err_len, "EWC keeps at most %d terms", CLI_METHOD_MAX_TERMS);
        return 1;
    }
    int rc = 0;
    float *omega = ms->terms > k ? ms->omega[k] : NULL;
    if (m != CLI_METHOD_L2 && !omega && !(omega = zeros(ms))) rc = 1;
    if (!rc && m == CLI_METHOD_EWC) {
        rc = ewc_fisher(l, row, omega, err, err_len);
    } else if (!rc && m == CLI_METHOD_ONLINE_EWC) {
        /* The task's Fisher, merged into the running one: gamma * F + F_t. */
        rc = ewc_fisher(l, row, ms->scratch_a, err, err_len);
        clh_status st = rc ? CLH_OK
                           : clh_fisher_merge(omega, ms->scratch_a, ms->count,
                                              l->config->mopt.online_decay);
        if (st != CLH_OK) rc = cli_method_lib_fail(err, err_len, "online EWC's merge", st);
    } else if (!rc && m == CLI_METHOD_SI) {
        clh_status st = clh_si_consolidate(omega, ms->si_w, params, ms->si_prev, ms->count,
                                           l->config->mopt.si_damping);
        if (st != CLH_OK) rc = cli_method_lib_fail(err, err_len, "SI's consolidation", st);
        else memcpy(ms->si_prev, params, bytes);
    } else if (!rc && m == CLI_METHOD_MAS) {
        rc = mas_importance(l, row, omega, err, err_len);
    }
    if (rc) {
        if (omega && (ms->terms <= k || omega != ms->omega[k])) free(omega);
        free(params);
        if (!err[0]) snprintf(err, err_len, "out of memory consolidating the task");
        return 1;
    }
    if (ms->terms > k) free(ms->anchor[k]);
    ms->anchor[k] = params;
    ms->omega[k] = omega;
    if (ms->terms <= k) ms->terms = k + 1;
    return 0;
}
