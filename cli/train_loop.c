/* Training and evaluation of `clheads run` (see run.h).
 *
 * One phase: for a sequential run (TIL, CIL, DIL) the training data of task
 * `row`; for a joint reference (MTL, STL) the union of all tasks' training
 * data. Each epoch shuffles the phase's samples with the run's stream (whose
 * state a checkpoint keeps), then runs mini-batches of --batch-size:
 *   images -> MLP -> feature -> heads -> logits -> cross-entropy
 *   d(logits) -> heads backward (-> d(feature)) -> MLP backward
 *   optimizer steps (heads; backbone unless frozen), gradients zeroed.
 * After the phase every task seen so far is evaluated on its test data,
 * counting correct predictions per sample.
 *
 * In a data-parallel run (parallel.h) every process draws the same order
 * and takes, of each global batch, the samples whose images it holds; its
 * gradient is scaled by (its samples / the global batch), so that the sum
 * over the processes is the gradient of the mean loss over the global batch,
 * and one sum per step gives every process that gradient. Evaluation counts
 * are summed the same way. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clheads/loss.h"
#include "method_hooks.h"
#include "run.h"

static int lib_fail(char *err, size_t err_len, const char *what, clh_status status) {
    snprintf(err, err_len, "%s failed: %s (%s)", what, clh_status_message(status),
             clh_last_error());
    return 1;
}

int cli_results_init(cli_results *results, int64_t tasks, int64_t rows, int with_aware) {
    memset(results, 0, sizeof *results);
    results->tasks = tasks;
    results->rows = rows;
    size_t n = (size_t)(tasks * rows);
    results->acc = malloc(n * sizeof(double));
    results->acc_aware = with_aware ? malloc(n * sizeof(double)) : NULL;
    results->loss = malloc((size_t)rows * sizeof(double));
    if (!results->acc || (with_aware && !results->acc_aware) || !results->loss) {
        cli_results_free(results);
        return 1;
    }
    for (size_t i = 0; i < n; i++) {
        results->acc[i] = NAN;
        if (with_aware) results->acc_aware[i] = NAN;
    }
    for (int64_t r = 0; r < rows; r++) results->loss[r] = NAN;
    return 0;
}

void cli_results_free(cli_results *results) {
    if (!results) return;
    free(results->acc);
    free(results->acc_aware);
    free(results->loss);
    memset(results, 0, sizeof *results);
}

int cli_learner_init(cli_learner *learner, const cli_run_config *config,
                     const cli_images *images, const cli_tasks *tasks, char *err, size_t err_len) {
    memset(learner, 0, sizeof *learner);
    learner->config = config;
    learner->images = images;
    learner->tasks = tasks;
    learner->shuffle = cli_rng_stream(config->seed, CLI_STREAM_SHUFFLE);
    int64_t batch = config->batch_size > CLI_EVAL_BATCH ? config->batch_size : CLI_EVAL_BATCH;
    int analytic = cli_method_is_analytic(config->method);
    /* The analytic methods train no backbone: their features are the
     * inputs' expansion (or the inputs). The user's own features are
     * fine-tuned with the heads alone. */
    int backbone = !analytic && config->dataset != CLI_DATA_FEATURES;
    learner->feature_dim = backbone                ? CLI_HIDDEN
                           : config->expansion > 0 && analytic ? config->expansion
                                                   : images->dim;
    if (backbone && cli_mlp_init(&learner->mlp, images->dim, CLI_HIDDEN, batch, config->seed)) {
        snprintf(err, err_len, "out of memory for the backbone");
        return 1;
    }
    clh_status st = clh_heads_create(&learner->heads, config->paradigm, learner->feature_dim,
                                     config->seed);
    if (st != CLH_OK) {
        cli_learner_free(learner);
        return lib_fail(err, err_len, "creating the heads", st);
    }
    /* Heads that exist for the whole run are set up now: DIL's one head (the
     * classes of a task), the joint MTL heads and STL's head over all classes. */
    const cli_task *t0 = &tasks->tasks[0];
    if (config->paradigm == CLH_DIL) {
        st = clh_heads_setup_single(learner->heads, t0->num_classes);
    } else if (config->paradigm == CLH_STL) {
        st = clh_heads_setup_single(learner->heads, tasks->total_classes);
    } else if (config->paradigm == CLH_MTL) {
        int64_t *ids = malloc((size_t)tasks->count * sizeof(int64_t));
        int64_t *classes = malloc((size_t)tasks->count * sizeof(int64_t));
        if (!ids || !classes) {
            st = CLH_E_NOMEM;
        } else {
            for (int64_t t = 0; t < tasks->count; t++) {
                ids[t] = t;
                classes[t] = tasks->tasks[t].num_classes;
            }
            st = clh_heads_setup_tasks(learner->heads, ids, classes, (size_t)tasks->count);
        }
        free(ids);
        free(classes);
    }
    if (st != CLH_OK) {
        cli_learner_free(learner);
        return lib_fail(err, err_len, "setting up the heads", st);
    }
    learner->max_width = tasks->total_classes;
    size_t b = (size_t)batch, w = (size_t)learner->max_width;
    learner->x = malloc(b * (size_t)images->dim * sizeof(float));
    learner->logits = malloc(b * w * sizeof(float));
    learner->dlogits = malloc(b * w * sizeof(float));
    learner->dfeature = malloc(b * (size_t)learner->feature_dim * sizeof(float));
    learner->labels = malloc(b * sizeof(int64_t));
    learner->task_ids = malloc(b * sizeof(int64_t));
    if (!learner->x || !learner->logits || !learner->dlogits || !learner->dfeature ||
        !learner->labels || !learner->task_ids) {
        cli_learner_free(learner);
        snprintf(err, err_len, "out of memory for the batch buffers");
        return 1;
    }
    if (config->paradigm == CLH_MTL) {
        st = clh_heads_mixed_workspace_size(learner->heads, batch, &learner->workspace_bytes);
        if (st == CLH_OK && !(learner->workspace = malloc(learner->workspace_bytes ? learner->workspace_bytes : 1)))
            st = CLH_E_NOMEM;
        if (st != CLH_OK) {
            cli_learner_free(learner);
            return lib_fail(err, err_len, "allocating the mixed-batch workspace", st);
        }
    }
    st = clh_optim_create(&learner->opt_heads, &config->optim);
    if (st == CLH_OK) st = clh_optim_create(&learner->opt_backbone, &config->optim);
    if (st != CLH_OK) {
        cli_learner_free(learner);
        return lib_fail(err, err_len, "creating the optimizer", st);
    }
    if (analytic ? cli_analytic_init(learner, err, err_len) : cli_method_init(learner, err, err_len)) {
        cli_learner_free(learner);
        return 1;
    }
    return 0;
}


void cli_learner_free(cli_learner *learner) {
    if (!learner) return;
    cli_mlp_free(&learner->mlp);
    clh_heads_free(learner->heads);
    clh_optim_free(learner->opt_heads);
    clh_optim_free(learner->opt_backbone);
    free(learner->x);
    free(learner->logits);
    free(learner->dlogits);
    free(learner->dfeature);
    free(learner->labels);
    free(learner->task_ids);
    free(learner->workspace);
    free(learner->step_sum);
    cli_analytic_free(learner->analytic);
    cli_method_free(learner);
    memset(learner, 0, sizeof *learner);
}

/* The label a sample is trained and scored with: global (offset + local) for
 * CIL and the STL reference, local to its task otherwise. */
int64_t cli_sample_label(const cli_learner *learner, int64_t task, int64_t image) {
    const cli_task *t = &learner->tasks->tasks[task];
    const cli_images *images = learner->images;
    int64_t local = images->feature_label ? images->feature_label[image]
                                          : t->local_of_digit[images->labels[image]];
    clh_paradigm p = learner->config->paradigm;
    return (p == CLH_CIL || p == CLH_STL) ? t->class_offset + local : local;
}

/* The task id a forward call over one task's batch takes. */
int64_t cli_call_task_id(clh_paradigm p, int64_t task) {
    return (p == CLH_TIL || p == CLH_MTL) ? task : CLH_NO_TASK;
}

/* 1 when this process computes sample (image) of a step: an image of its
 * shard, or a rehearsal memory item (image -1 - i; the memory is the same on
 * every process) with i % size == rank. Always 1 in a single process. */
static int computes_here(const cli_learner *learner, int64_t image) {
    const cli_parallel *par = learner->par;
    if (image >= 0) return cli_images_holds(learner->images, image);
    return !par || par->size <= 1 || (-1 - image) % par->size == par->rank;
}

/* Loads the samples of [begin, end) of the phase (pairs of task, image; an
 * image -1 - i is item i of the rehearsal memory) that this process computes
 * (all of them in a single-process run) into the batch buffers; returns how
 * many. TIL batches are grouped by task (stable), so each head runs once
 * over its own samples. */
static int64_t gather(cli_learner *learner, const int64_t *pair_task, const int64_t *pair_image,
                      const int64_t *order, int64_t begin, int64_t end) {
    int64_t dim = learner->images->dim;
    const clh_memory *mem = learner->ms.memory;
    int grouped = learner->config->paradigm == CLH_TIL;
    int64_t tasks = grouped ? learner->tasks->count : 1, b = 0;
    for (int64_t want = 0; want < tasks; want++) {
        for (int64_t i = begin; i < end; i++) {
            int64_t k = order[i];
            int64_t task = pair_task[k], image = pair_image[k];
            if (grouped && task != want) continue;
            if (!computes_here(learner, image)) continue;
            if (image < 0) {
                size_t item = (size_t)(-1 - image);
                memcpy(learner->x + b * dim, clh_memory_inputs(mem) + item * (size_t)dim,
                       (size_t)dim * sizeof(float));
                learner->labels[b] = clh_memory_labels(mem)[item];
            } else {
                cli_images_row(learner->images, image, learner->tasks->tasks[task].perm,
                               learner->x + b * dim);
                learner->labels[b] = cli_sample_label(learner, task, image);
            }
            learner->task_ids[b] = task;
            b++;
        }
    }
    return b;
}

uint64_t cli_learner_digest(const cli_learner *learner) {
    uint64_t h = cli_digest(CLI_DIGEST_START, learner->mlp.params,
                            learner->mlp.count * sizeof(float));
    const float *params = NULL, *grads = NULL;
    size_t count = 0;
    clh_heads_flat_const(learner->heads, &params, &grads, &count);
    if (count) h = cli_digest(h, params, count * sizeof(float));
    /* What the methods computed from data (the importances are summed over
     * the processes, the memory is filled from every process's shard). */
    const cli_method_state *ms = &learner->ms;
    for (int64_t k = 0; k < ms->terms; k++) {
        if (ms->anchor[k]) h = cli_digest(h, ms->anchor[k], ms->count * sizeof(float));
        if (ms->omega[k]) h = cli_digest(h, ms->omega[k], ms->count * sizeof(float));
    }
    if (ms->memory && clh_memory_size(ms->memory))
        h = cli_digest(h, clh_memory_inputs(ms->memory),
                       clh_memory_size(ms->memory) * (size_t)learner->images->dim * sizeof(float));
    return cli_digest(h, &learner->shuffle, sizeof learner->shuffle);
}

int cli_learner_sum_grads(cli_learner *learner, int backbone, float *extra, size_t extra_count,
                          const char *what, char *err, size_t err_len) {
    cli_parallel *par = learner->par;
    if (!par || par->size <= 1) return 0;
    float *hp = NULL, *hg = NULL;
    size_t hn = 0, heads = clh_heads_num_tasks(learner->heads);
    clh_heads_flat(learner->heads, &hp, &hg, &hn);
    size_t bn = backbone ? learner->mlp.count : 0, n = bn + hn + heads + extra_count;
    if (n > learner->step_sum_len) {
        float *grown = realloc(learner->step_sum, n * sizeof(float));
        if (!grown) {
            snprintf(err, err_len, "out of memory for the sum of %s (%zu values)", what, n);
            return 1;
        }
        learner->step_sum = grown;
        learner->step_sum_len = n;
    }
    float *v = learner->step_sum, *flags = v + bn + hn;
    if (bn) memcpy(v, learner->mlp.grads, bn * sizeof(float));
    if (hn) memcpy(v + bn, hg, hn * sizeof(float));
    /* Which heads had a gradient (an optimizer skips the others): a head
     * that got one on any process got one in the global batch. */
    for (size_t i = 0; i < heads; i++) {
        int has = 0;
        clh_heads_task_has_grad(learner->heads, (int64_t)i, &has);
        flags[i] = has ? 1.0f : 0.0f;
    }
    if (extra_count) memcpy(flags + heads, extra, extra_count * sizeof(float));
    if (cli_parallel_sum_f32(par, v, n, what, err, err_len)) return 1;
    if (bn) memcpy(learner->mlp.grads, v, bn * sizeof(float));
    if (hn) memcpy(hg, v + bn, hn * sizeof(float));
    for (size_t i = 0; i < heads; i++)
        if (flags[i] > 0.0f) clh_heads_set_task_has_grad(learner->heads, (int64_t)i, 1);
    if (extra_count) memcpy(extra, flags + heads, extra_count * sizeof(float));
    return 0;
}

/* The one sum of a step: backbone gradients (unless frozen), heads
 * gradients and the loss (each process's share of the global batch's), in
 * one vector. */
static int sum_step(cli_learner *learner, float *loss, char *err, size_t err_len) {
    int train_backbone = cli_learner_has_backbone(learner) && !learner->backbone_frozen;
    if (cli_learner_sum_grads(learner, train_backbone, loss, 1, "the step's gradients", err,
                              err_len))
        return 1;
    size_t hn = 0;
    clh_heads_flat(learner->heads, NULL, NULL, &hn);
    learner->par->step_values = (train_backbone ? learner->mlp.count : 0) + hn +
                                clh_heads_num_tasks(learner->heads) + 1;
    return 0;
}

/* 1 when every logit a loss or an accuracy reads is finite: the row's
 * width for one call, a sample's own head for an MTL mixed batch (past it
 * the row holds -inf by design). A non-finite logit means training diverged
 * (a learning rate too large); it is reported as such, before the loss
 * sees it. */
static int logits_finite(const cli_learner *learner, int64_t batch, int64_t id) {
    const clh_heads *heads = learner->heads;
    int mixed = learner->config->paradigm == CLH_MTL && id == CLH_NO_TASK;
    int64_t width = 0;
    if (clh_heads_logits_width(heads, id, &width) != CLH_OK) return 0;
    for (int64_t b = 0; b < batch; b++) {
        int64_t used = width;
        if (mixed) clh_heads_task_classes(heads, learner->task_ids[b], &used, NULL);
        const float *row = learner->logits + b * width;
        for (int64_t j = 0; j < used; j++)
            if (!isfinite(row[j])) return 0;
    }
    return 1;
}

static int diverged(char *err, size_t err_len, const char *what, const char *where) {
    snprintf(err, err_len, "training diverged: %s at %s (try a smaller --lr)", what, where);
    return 1;
}

static int forward_failed(char *err, size_t err_len) {
    return lib_fail(err, err_len, "backbone forward", CLH_E_INVALID_ARG);
}

/* d(logits) of the local samples scaled from their mean to their share of
 * the global batch's mean. */
static void scale_dlogits(cli_learner *learner, int64_t batch, int64_t global, int64_t id) {
    if (batch == global) return;
    int64_t width = 0;
    clh_heads_logits_width(learner->heads, id, &width);
    float scale = (float)((double)batch / (double)global);
    size_t n = (size_t)batch * (size_t)width;
    for (size_t i = 0; i < n; i++) learner->dlogits[i] *= scale;
}

/* Forward and backward of the local samples of a step (batch of the global
 * batch's `global`); their gradients accumulate, scaled to their share of
 * the global batch's mean loss, which goes to *loss. */
static int local_gradients(cli_learner *learner, int64_t batch, int64_t global, int64_t task,
                           float *loss, const char *where, char *err, size_t err_len) {
    const cli_run_config *cfg = learner->config;
    clh_paradigm p = cfg->paradigm;
    int backbone = cli_learner_has_backbone(learner);
    const float *feature = backbone ? cli_mlp_forward(&learner->mlp, learner->x, batch)
                                    : learner->x;
    if (!feature) return forward_failed(err, err_len);
    int train_backbone = backbone && !learner->backbone_frozen;
    float *dfeature = train_backbone ? learner->dfeature : NULL;
    clh_status st;
    if (p == CLH_MTL) {
        /* Joint multi-task: one batch mixes tasks; each head runs on its own samples. */
        st = clh_heads_forward_mixed(learner->heads, feature, batch, learner->task_ids,
                                     learner->logits, learner->workspace, learner->workspace_bytes);
        if (st != CLH_OK) return lib_fail(err, err_len, "mixed forward", st);
        if (!logits_finite(learner, batch, CLH_NO_TASK))
            return diverged(err, err_len, "non-finite logits", where);
        st = clh_heads_cross_entropy(learner->heads, learner->logits, batch, CLH_NO_TASK,
                                     learner->task_ids, learner->labels, loss, learner->dlogits);
        if (st != CLH_OK) return lib_fail(err, err_len, "cross-entropy", st);
        /* The mean over this process's samples -> their share of the global
         * batch's mean. */
        scale_dlogits(learner, batch, global, CLH_NO_TASK);
        if (batch != global) *loss = (float)((double)*loss * (double)batch / (double)global);
        st = clh_heads_backward_mixed(learner->heads, feature, batch, learner->task_ids,
                                      learner->dlogits, dfeature, learner->workspace,
                                      learner->workspace_bytes);
        if (st != CLH_OK) return lib_fail(err, err_len, "mixed backward", st);
    } else {
        /* One call per task in the batch (a TIL batch with rehearsed items
         * mixes tasks, grouped by gather): each group's mean loss weighted by
         * its share of the (global) batch, and by LwF's 1/t. */
        double weight = cli_lwf_current_weight(learner, task), total = 0.0;
        for (int64_t s0 = 0, e0; s0 < batch; s0 = e0) {
            e0 = s0 + 1;
            if (p == CLH_TIL)
                while (e0 < batch && learner->task_ids[e0] == learner->task_ids[s0]) e0++;
            else
                e0 = batch;
            int64_t n = e0 - s0;
            int64_t id = cli_call_task_id(p, p == CLH_TIL ? learner->task_ids[s0] : task);
            const float *f = feature + s0 * learner->feature_dim;
            float group_loss = 0.0f;
            st = clh_heads_forward(learner->heads, f, n, id, learner->logits);
            if (st != CLH_OK) return lib_fail(err, err_len, "heads forward", st);
            if (!logits_finite(learner, n, id))
                return diverged(err, err_len, "non-finite logits", where);
            st = clh_heads_cross_entropy(learner->heads, learner->logits, n, id, NULL,
                                         learner->labels + s0, &group_loss, learner->dlogits);
            if (st != CLH_OK) return lib_fail(err, err_len, "cross-entropy", st);
            double share = weight * (double)n / (double)global;
            if (share != 1.0) {
                int64_t width = 0;
                clh_heads_logits_width(learner->heads, id, &width);
                for (int64_t j = 0; j < n * width; j++) learner->dlogits[j] *= (float)share;
            }
            st = clh_heads_backward(learner->heads, f, n, id, learner->dlogits,
                                    dfeature ? dfeature + s0 * learner->feature_dim : NULL);
            if (st != CLH_OK) return lib_fail(err, err_len, "heads backward", st);
            total += (double)group_loss * share;
        }
        *loss = (float)total;
        if (cli_lwf_distill(learner, feature, batch, global, task, dfeature, loss, err, err_len))
            return 1;
    }
    if (!isfinite(*loss)) return diverged(err, err_len, "a non-finite loss", where);
    if (train_backbone &&
        cli_mlp_backward(&learner->mlp, learner->x, batch, learner->dfeature))
        return lib_fail(err, err_len, "backbone backward", CLH_E_INVALID_ARG);
    return 0;
}

/* One optimisation step on a global batch of `global` samples, `batch` of
 * them gathered here; writes the global batch's loss. where names the step
 * for a divergence message ("task 2/5, epoch 1, step 7").
 *
 * The data terms (cross-entropy, LwF's distillation) are the only parts
 * computed on this process's samples: their gradients are summed once, and
 * everything after the sum (the methods' penalties, SI's record of the
 * gradient, GEM's projection on the memory every process holds whole, the
 * optimizer steps) sees the global batch's gradient and is the same on every
 * process, so a penalty is counted once. */
static int train_batch(cli_learner *learner, int64_t batch, int64_t global, int64_t task,
                       float *loss, const char *where, char *err, size_t err_len) {
    float local_loss = 0.0f;
    /* A process may hold none of a (small, last) batch's samples: it adds
     * zero gradients to the sum. */
    if (batch > 0 && local_gradients(learner, batch, global, task, &local_loss, where, err,
                                     err_len))
        return 1;
    if (learner->par && learner->par->size > 1 && sum_step(learner, &local_loss, err, err_len))
        return 1;
    *loss = local_loss;
    clh_status st;
    int train_backbone = cli_learner_has_backbone(learner) && !learner->backbone_frozen;
    if (cli_method_before_step(learner, task, loss, err, err_len)) return 1;
    if (!isfinite(*loss)) return diverged(err, err_len, "a non-finite loss", where);
    if (train_backbone) {
        st = clh_optim_step(learner->opt_backbone, learner->mlp.params, learner->mlp.grads,
                            learner->mlp.count);
        if (st != CLH_OK) return lib_fail(err, err_len, "backbone optimizer step", st);
    }
    st = clh_optim_step_heads(learner->opt_heads, learner->heads);
    if (st != CLH_OK) return lib_fail(err, err_len, "heads optimizer step", st);
    if (cli_method_after_step(learner, err, err_len)) return 1;
    if (!learner->backbone_frozen) cli_mlp_zero_grad(&learner->mlp);
    clh_heads_zero_grad(learner->heads);
    return 0;
}

/* Accuracy on task tau's test data, counted per sample: this process's
 * test images in batches, then the counts summed over the processes. */
int cli_evaluate_task(cli_learner *learner, int64_t tau, double *agnostic, double *aware,
                      char *err, size_t err_len) {
    const cli_task *task = &learner->tasks->tasks[tau];
    clh_paradigm p = learner->config->paradigm;
    int64_t dim = learner->images->dim, id = cli_call_task_id(p, tau);
    clh_accuracy counts = {0, 0, 0};
    /* held: this process's test images of the task before this batch (the
     * analytic methods' cache of expanded test features is indexed by it). */
    int64_t next = 0, held = 0;
    while (next < task->num_test) {
        int64_t batch = 0;
        for (; next < task->num_test && batch < CLI_EVAL_BATCH; next++) {
            int64_t image = task->test[next];
            if (!cli_images_holds(learner->images, image)) continue;
            cli_images_row(learner->images, image, task->perm, learner->x + batch * dim);
            learner->labels[batch++] = cli_sample_label(learner, tau, image);
        }
        if (batch == 0) break;
        const float *feature = learner->analytic
                                   ? cli_analytic_test_features(learner, tau, held, batch,
                                                                learner->x)
                                   : cli_learner_has_backbone(learner)
                                       ? cli_mlp_forward(&learner->mlp, learner->x, batch)
                                       : learner->x;
        held += batch;
        if (!feature) return forward_failed(err, err_len);
        clh_status st = clh_heads_forward(learner->heads, feature, batch, id, learner->logits);
        if (st != CLH_OK) return lib_fail(err, err_len, "evaluation forward", st);
        if (!logits_finite(learner, batch, id)) {
            char where[64];
            snprintf(where, sizeof where, "the evaluation on task %lld", (long long)tau + 1);
            return diverged(err, err_len, "non-finite logits", where);
        }
        st = clh_heads_accuracy(learner->heads, learner->logits, batch, id, NULL, learner->labels,
                                &counts);
        if (st != CLH_OK) return lib_fail(err, err_len, "accuracy", st);
    }
    /* Counts are integers below 2^53: their sum in double is exact. */
    double sums[3] = {(double)counts.samples, (double)counts.correct_agnostic,
                      (double)counts.correct_aware};
    if (cli_parallel_sum_f64(learner->par, sums, 3, "the evaluation counts", err, err_len))
        return 1;
    *agnostic = sums[1] / sums[0];
    *aware = sums[2] / sums[0];
    return 0;
}

int cli_train_phase(cli_learner *learner, int64_t row, cli_results *results,
                    cli_progress *progress, char *err, size_t err_len) {
    if (learner->analytic) return cli_analytic_phase(learner, row, results, progress, err, err_len);
    const cli_run_config *cfg = learner->config;
    const cli_tasks *tasks = learner->tasks;
    int joint = cli_run_joint(cfg);
    int64_t first = joint ? 0 : row, last = joint ? tasks->count - 1 : row;
    if (cfg->paradigm == CLH_TIL || cfg->paradigm == CLH_CIL) {
        /* --method offline: every task's head at once. */
        for (int64_t t = first; t <= last; t++) {
            clh_status st = clh_heads_setup_task(learner->heads, t, tasks->tasks[t].num_classes);
            if (st != CLH_OK) return lib_fail(err, err_len, "setting up the task's head", st);
        }
    }
    if (cli_method_phase_begin(learner, row, err, err_len)) return 1;
    int64_t n = cli_replay_items(learner, row);
    for (int64_t t = first; t <= last; t++) n += tasks->tasks[t].num_train;
    int64_t *pair_task = malloc((size_t)n * sizeof(int64_t));
    int64_t *pair_image = malloc((size_t)n * sizeof(int64_t));
    int64_t *order = malloc((size_t)n * sizeof(int64_t));
    if (!pair_task || !pair_image || !order) {
        free(pair_task);
        free(pair_image);
        free(order);
        snprintf(err, err_len, "out of memory for %lld training samples", (long long)n);
        return 1;
    }
    int64_t k = cli_replay_items(learner, row);
    if (k) cli_replay_pairs(learner, row, pair_task, pair_image);
    for (int64_t t = first; t <= last; t++) {
        for (int64_t i = 0; i < tasks->tasks[t].num_train; i++, k++) {
            pair_task[k] = t;
            pair_image[k] = tasks->tasks[t].train[i];
        }
    }
    char phase[64];
    if (joint)
        snprintf(phase, sizeof phase, "joint %s (%lld tasks)", clh_paradigm_name(cfg->paradigm),
                 (long long)tasks->count);
    else
        snprintf(phase, sizeof phase, "task %lld/%lld", (long long)row + 1, (long long)tasks->count);
    int rc = 0;
    int64_t batches = (n + cfg->batch_size - 1) / cfg->batch_size;
    for (int64_t epoch = 0; epoch < cfg->epochs && !rc; epoch++) {
        double start = cli_now(), loss_sum = 0.0;
        /* The epoch's order: the identity, shuffled (Fisher-Yates) from the
         * run's stream, so the same seed gives the same batches. */
        for (int64_t i = 0; i < n; i++) order[i] = i;
        for (int64_t i = n - 1; i > 0; i--) {
            int64_t j = (int64_t)cli_rng_below(&learner->shuffle, (uint64_t)i + 1);
            int64_t tmp = order[i];
            order[i] = order[j];
            order[j] = tmp;
        }
        for (int64_t b = 0; b < batches; b++) {
            int64_t begin = b * cfg->batch_size;
            int64_t end = begin + cfg->batch_size < n ? begin + cfg->batch_size : n;
            int64_t local = gather(learner, pair_task, pair_image, order, begin, end);
            float loss = 0.0f;
            char where[128];
            snprintf(where, sizeof where, "%s, epoch %lld, step %lld", phase, (long long)epoch + 1,
                     (long long)b + 1);
            if (train_batch(learner, local, end - begin, row, &loss, where, err, err_len)) {
                rc = 1;
                break;
            }
            loss_sum += (double)loss * (double)(end - begin); /* per sample, not per batch */
            cli_progress_batch(progress, phase, epoch, cfg->epochs, b, batches, loss);
        }
        if (!rc) {
            results->loss[row] = loss_sum / (double)n;
            cli_progress_epoch(progress, phase, epoch, cfg->epochs, results->loss[row],
                               cli_now() - start);
        }
    }
    free(pair_task);
    free(pair_image);
    free(order);
    if (rc) return rc;
    if (cli_method_phase_end(learner, row, err, err_len)) return 1;
    int64_t seen = joint ? tasks->count : row + 1;
    for (int64_t tau = 0; tau < seen; tau++) {
        double agnostic, aware;
        cli_backbone_select(learner, tau, row);
        int failed = cli_evaluate_task(learner, tau, &agnostic, &aware, err, err_len);
        cli_backbone_select(learner, -1, row);
        if (failed) return 1;
        results->acc[row * tasks->count + tau] = agnostic;
        if (results->acc_aware) results->acc_aware[row * tasks->count + tau] = aware;
    }
    results->rows_done = row + 1;
    return 0;
}
