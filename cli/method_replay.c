/* Naive rehearsal and GEM (method.h), as Hsu et al.'s Naive_Rehearsal and
 * GEM (docs/methods.md): the memory is filled after each task (the library's
 * clh_memory: capacity split evenly over the tasks seen), replicated into
 * the next task's training set so old : new is about 1 : 1, and GEM also
 * projects every step's gradient so that no stored task's loss increases.
 *
 * In a data-parallel run (parallel.h) the memory is the same on every
 * process: each process fills in the task's training images it holds (the
 * others zero) and one sum gives every process all of them (each value is
 * one process's plus zeros: exact), before the same selection. In training,
 * memory item i is computed by process i % N (train_loop.c); GEM's memory
 * gradients are computed whole by every process on the summed gradient, so
 * its projection is the same everywhere. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "method_hooks.h"

/* max(n_row / capacity, 1): the factor is from the capacity, not the
 * memory's content (their ConcatDataset). */
static int64_t replication(const cli_learner *l, int64_t row) {
    int64_t r = l->tasks->tasks[row].num_train / l->config->mopt.memory;
    return r > 1 ? r : 1;
}

int64_t cli_replay_items(const cli_learner *l, int64_t row) {
    if (!l->ms.memory) return 0;
    return (int64_t)clh_memory_size(l->ms.memory) * replication(l, row);
}

void cli_replay_pairs(const cli_learner *l, int64_t row, int64_t *pair_task, int64_t *pair_image) {
    const int64_t *ids = clh_memory_task_ids(l->ms.memory);
    int64_t size = (int64_t)clh_memory_size(l->ms.memory), k = 0;
    for (int64_t r = 0; r < replication(l, row); r++) {
        for (int64_t i = 0; i < size; i++, k++) {
            pair_task[k] = ids[i];
            pair_image[k] = -1 - i;
        }
    }
}

int cli_replay_store(cli_learner *l, int64_t row, char *err, size_t err_len) {
    const cli_task *task = &l->tasks->tasks[row];
    int64_t n = task->num_train, dim = l->images->dim;
    clh_paradigm p = l->config->paradigm;
    float *inputs = malloc((size_t)n * (size_t)dim * sizeof(float));
    int64_t *labels = malloc((size_t)n * sizeof(int64_t));
    if (!inputs || !labels) {
        free(inputs);
        free(labels);
        snprintf(err, err_len, "out of memory storing task %lld in the memory", (long long)row + 1);
        return 1;
    }
    for (int64_t i = 0; i < n; i++) {
        int64_t image = task->train[i];
        if (cli_images_holds(l->images, image))
            cli_images_row(l->images, image, task->perm, inputs + i * dim);
        else
            memset(inputs + i * dim, 0, (size_t)dim * sizeof(float));
        int64_t local = task->local_of_digit[l->images->labels[image]];
        labels[i] = p == CLH_CIL ? task->class_offset + local : local;
    }
    if (cli_parallel_sum_f32(l->par, inputs, (size_t)n * (size_t)dim,
                             "the task's images for the memory", err, err_len)) {
        free(inputs);
        free(labels);
        return 1;
    }
    clh_status st = clh_memory_add_task(l->ms.memory, row, inputs, (size_t)n, (size_t)dim, labels);
    free(inputs);
    free(labels);
    return st != CLH_OK ? cli_method_lib_fail(err, err_len, "storing the task in the memory", st)
                        : 0;
}

/* The gradient of the mean loss over every stored item of memory task i,
 * in chunks of the batch buffers, into grads (full layout). */
static int memory_task_grad(cli_learner *l, size_t i, float *grads, char *err, size_t err_len) {
    clh_memory *mem = l->ms.memory;
    int64_t id;
    size_t first, count;
    clh_memory_task_at(mem, i, &id, &first, &count);
    int64_t call = cli_call_task_id(l->config->paradigm, id);
    const float *inputs = clh_memory_inputs(mem);
    const int64_t *labels = clh_memory_labels(mem);
    int64_t dim = l->images->dim, chunk = l->mlp.max_batch;
    cli_mlp_zero_grad(&l->mlp);
    clh_heads_zero_grad(l->heads);
    for (size_t begin = 0; begin < count; begin += (size_t)chunk) {
        size_t end = begin + (size_t)chunk < count ? begin + (size_t)chunk : count;
        int64_t b = (int64_t)(end - begin);
        memcpy(l->x, inputs + (first + begin) * (size_t)dim, (size_t)b * (size_t)dim * sizeof(float));
        memcpy(l->labels, labels + first + begin, (size_t)b * sizeof(int64_t));
        const float *feature = cli_mlp_forward(&l->mlp, l->x, b);
        if (!feature) return cli_method_lib_fail(err, err_len, "backbone forward", CLH_E_INVALID_ARG);
        float loss;
        int64_t width = 0;
        clh_status st = clh_heads_forward(l->heads, feature, b, call, l->logits);
        if (st == CLH_OK) st = clh_heads_logits_width(l->heads, call, &width);
        if (st == CLH_OK)
            st = clh_heads_cross_entropy(l->heads, l->logits, b, call, NULL, l->labels, &loss,
                                         l->dlogits);
        /* The mean over the whole stored set, not over the chunk. */
        float scale = (float)((double)b / (double)count);
        for (int64_t j = 0; st == CLH_OK && j < b * width; j++) l->dlogits[j] *= scale;
        if (st == CLH_OK) st = clh_heads_backward(l->heads, feature, b, call, l->dlogits,
                                                  l->dfeature);
        if (st == CLH_OK && cli_mlp_backward(&l->mlp, l->x, b, l->dfeature)) st = CLH_E_INVALID_ARG;
        if (st != CLH_OK) return cli_method_lib_fail(err, err_len, "GEM's memory gradient", st);
    }
    cli_method_full_grads(l, grads);
    return 0;
}

int cli_gem_project_step(cli_learner *l, int64_t row, char *err, size_t err_len) {
    cli_method_state *ms = &l->ms;
    (void)row;
    size_t k = clh_memory_num_tasks(ms->memory);
    if (k == 0) return 0;
    cli_method_full_grads(l, ms->gem_g); /* the batch's gradient */
    for (size_t i = 0; i < k; i++)
        if (memory_task_grad(l, i, ms->gem_grads + i * ms->count, err, err_len)) return 1;
    int projected = 0;
    clh_status st = clh_gem_project(ms->gem_g, ms->count, ms->gem_grads, k,
                                    l->config->mopt.gem_margin, 1e-3, &projected);
    if (st != CLH_OK) return cli_method_lib_fail(err, err_len, "GEM's projection", st);
    cli_method_set_grads(l, ms->gem_g);
    cli_method_all_heads_have_grad(l);
    return 0;
}
