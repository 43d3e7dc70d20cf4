/* MTL mixed batches (one task id per sample). The batch is grouped by task
 * with a counting sort of sample indices; each task present gets its rows of
 * x gathered into one block and runs one multiply; results are scattered
 * back. Logits are [B, widest head], positions past a sample's head -inf. */
#include <math.h>
#include <string.h>

#include "common/alloc.h"
#include "common/checked.h"
#include "kernels/gemm.h"
#include "heads/heads_internal.h"
#include "kernels/linear_internal.h"

enum { WORKSPACE_ALIGN = 64 };

/* *offset = round_up(*offset, WORKSPACE_ALIGN), then reserves `bytes` after it. */
static int place(size_t *cursor, size_t bytes, size_t *offset) {
    size_t aligned;
    if (!clh_add_size(*cursor, WORKSPACE_ALIGN - 1, &aligned)) return 0;
    aligned -= aligned % WORKSPACE_ALIGN;
    *offset = aligned;
    return clh_add_size(aligned, bytes, cursor);
}

static clh_status mixed_layout(const clh_heads *heads, int64_t batch, const char *what,
                               clh_mixed_layout *layout) {
    size_t batch_size, index_bytes, start_bytes, x_bytes, y_bytes, cursor = 0, tasks_plus_one;
    *layout = (clh_mixed_layout){0};
    int ok = clh_i64_to_size(batch, &batch_size) &&
             clh_mul_size(batch_size, sizeof(size_t), &index_bytes) &&
             clh_add_size(heads->num_tasks, 1, &tasks_plus_one) &&
             clh_mul_size(tasks_plus_one, sizeof(size_t), &start_bytes) &&
             clh_float_bytes(batch, heads->in, &x_bytes) &&
             clh_float_bytes(batch, heads->widest, &y_bytes) &&
             place(&cursor, index_bytes, &layout->order_off) &&
             place(&cursor, index_bytes, &layout->task_off) &&
             place(&cursor, start_bytes, &layout->start_off) &&
             place(&cursor, x_bytes, &layout->x_off) && place(&cursor, y_bytes, &layout->y_off) &&
             place(&cursor, x_bytes, &layout->dx_off) &&
             clh_add_size(cursor, WORKSPACE_ALIGN - 1, &layout->bytes); /* slack to align the base */
    if (!ok)
        return clh_heads_fail(heads, CLH_E_OVERFLOW,
                              "%s: workspace for batch %lld (in_features %lld, widest head %lld) overflows",
                              what, (long long)batch, (long long)heads->in, (long long)heads->widest);
    return CLH_OK;
}

/* Paradigm, batch and set-up checks shared by the three mixed calls. */
static clh_status check_mixed_call(const clh_heads *heads, int64_t batch, const char *what) {
    if (heads->paradigm != CLH_MTL)
        return clh_heads_fail(heads, CLH_E_PARADIGM, "%s: per-sample task ids are MTL only, handle is %s",
                              what, clh_paradigm_name(heads->paradigm));
    return clh_heads_check_batch(heads, batch, what);
}

clh_status clh_heads_mixed_workspace_size(const clh_heads *heads, int64_t batch, size_t *bytes) {
    static const char what[] = "clh_heads_mixed_workspace_size";
    if (!heads) return clh_fail(CLH_E_NULL, "%s: heads is NULL", what);
    if (!bytes) return clh_heads_fail(heads, CLH_E_NULL, "%s: bytes is NULL", what);
    clh_status st = check_mixed_call(heads, batch, what);
    if (st) return st;
    clh_mixed_layout layout;
    if ((st = mixed_layout(heads, batch, what, &layout))) return st;
    *bytes = layout.bytes;
    return CLH_OK;
}

/* The workspace carved into its arrays, samples grouped by task. */
typedef struct mixed_groups {
    size_t *order; /* sample indices, task by task (processed order) */
    size_t *start; /* order[start[t] .. start[t+1]) are task t's samples */
    float *x;      /* gathered features */
    float *y;      /* gathered logits or dlogits */
    float *dx;     /* gathered d(feature) */
    void *owned;   /* internally allocated workspace, or NULL */
} mixed_groups;

/* Validates everything a mixed call reads (before any output is written),
 * then takes the workspace and groups the samples by task. */
static clh_status prepare_mixed(const clh_heads *heads, int64_t batch, const float *x,
                                const int64_t *task_ids, void *workspace, size_t workspace_bytes,
                                const char *what, mixed_groups *groups) {
    if (!x) return clh_heads_fail(heads, CLH_E_NULL, "%s: x is NULL (batch %lld)", what, (long long)batch);
    if (!task_ids)
        return clh_heads_fail(heads, CLH_E_NULL, "%s: task_ids is NULL (batch %lld)", what, (long long)batch);
    /* Sizes first: an overflowing batch is rejected before any input is read. */
    clh_mixed_layout layout;
    clh_status st = mixed_layout(heads, batch, what, &layout);
    if (st) return st;
    for (int64_t i = 0; i < batch; i++) {
        if (clh_heads_find(heads, task_ids[i]) < 0)
            return clh_heads_fail(heads, CLH_E_UNKNOWN_TASK, "%s: sample %lld has task id %lld, never set up",
                                  what, (long long)i, (long long)task_ids[i]);
    }
    groups->owned = NULL;
    if (!workspace) {
        workspace = groups->owned = clh_malloc(layout.bytes);
        if (!workspace)
            return clh_heads_fail(heads, CLH_E_NOMEM, "%s: cannot allocate a %zu-byte workspace for batch %lld",
                                  what, layout.bytes, (long long)batch);
    } else if (workspace_bytes < layout.bytes) {
        return clh_heads_fail(heads, CLH_E_WORKSPACE,
                              "%s: workspace has %zu bytes, batch %lld needs %zu (clh_heads_mixed_workspace_size)",
                              what, workspace_bytes, (long long)batch, layout.bytes);
    }
    uintptr_t base = (uintptr_t)workspace;
    base = (base + WORKSPACE_ALIGN - 1) / WORKSPACE_ALIGN * WORKSPACE_ALIGN;
    unsigned char *ws = (unsigned char *)workspace + (base - (uintptr_t)workspace);
    groups->order = (size_t *)(void *)(ws + layout.order_off);
    size_t *sample_task = (size_t *)(void *)(ws + layout.task_off);
    groups->start = (size_t *)(void *)(ws + layout.start_off);
    groups->x = (float *)(void *)(ws + layout.x_off);
    groups->y = (float *)(void *)(ws + layout.y_off);
    groups->dx = (float *)(void *)(ws + layout.dx_off);

    /* Counting sort: count per task, prefix sums, then place sample indices
     * (stable, so each group keeps the batch order). */
    const size_t tasks = heads->num_tasks;
    memset(groups->start, 0, (tasks + 1) * sizeof(size_t));
    for (int64_t i = 0; i < batch; i++) {
        sample_task[i] = (size_t)clh_heads_find(heads, task_ids[i]);
        groups->start[sample_task[i] + 1]++;
    }
    for (size_t t = 0; t < tasks; t++) groups->start[t + 1] += groups->start[t];
    /* Fill by advancing start[t]; afterwards start[t] holds task t's end, so shift back. */
    for (int64_t i = 0; i < batch; i++) groups->order[groups->start[sample_task[i]]++] = (size_t)i;
    memmove(groups->start + 1, groups->start, tasks * sizeof(size_t));
    groups->start[0] = 0;
    return CLH_OK;
}

/* Copies rows order[0..n) of src ([*, ld], first cols columns) into dst [n, cols]. */
static void gather_rows(float *dst, const float *src, const size_t *order, size_t n, int64_t cols,
                        int64_t ld) {
    for (size_t j = 0; j < n; j++)
        memcpy(dst + (int64_t)j * cols, src + (int64_t)order[j] * ld, (size_t)cols * sizeof(float));
}

clh_status clh_heads_forward_mixed(const clh_heads *heads, const float *x, int64_t batch,
                                   const int64_t *task_ids, float *logits, void *workspace,
                                   size_t workspace_bytes) {
    static const char what[] = "clh_heads_forward_mixed";
    if (!heads) return clh_fail(CLH_E_NULL, "%s: heads is NULL", what);
    clh_status st = check_mixed_call(heads, batch, what);
    if (st || batch == 0) return st;
    if (!logits)
        return clh_heads_fail(heads, CLH_E_NULL, "%s: logits is NULL (batch %lld)", what, (long long)batch);
    mixed_groups groups = {0};
    if ((st = prepare_mixed(heads, batch, x, task_ids, workspace, workspace_bytes, what, &groups)))
        return st;

    const clh_bank *bank = &heads->bank;
    const int64_t in = heads->in, width = heads->widest;
    for (size_t t = 0; t < heads->num_tasks; t++) {
        const size_t *order = groups.order + groups.start[t];
        size_t n = groups.start[t + 1] - groups.start[t];
        if (n == 0) continue;
        const clh_task *task = &heads->tasks[t];
        gather_rows(groups.x, x, order, n, in, in);
        /* One multiply per task present: Y[n, C_t] = X_t · W_tᵀ + b_t. */
        clh_gemm(0, 1, (int64_t)n, task->classes, in, 1.0f, groups.x, in,
                 clh_bank_weights(bank) + task->offset * in, in, 0.0f, groups.y, task->classes);
        clh_add_bias_rows(groups.y, clh_bank_biases(bank) + task->offset, (int64_t)n, task->classes,
                          task->classes);
        for (size_t j = 0; j < n; j++) {
            float *row = logits + (int64_t)order[j] * width;
            memcpy(row, groups.y + (int64_t)j * task->classes, (size_t)task->classes * sizeof(float));
            for (int64_t c = task->classes; c < width; c++) row[c] = -INFINITY;
        }
    }
    clh_free(groups.owned);
    return CLH_OK;
}

clh_status clh_heads_backward_mixed(clh_heads *heads, const float *x, int64_t batch,
                                    const int64_t *task_ids, const float *dlogits, float *dx,
                                    void *workspace, size_t workspace_bytes) {
    static const char what[] = "clh_heads_backward_mixed";
    if (!heads) return clh_fail(CLH_E_NULL, "%s: heads is NULL", what);
    clh_status st = check_mixed_call(heads, batch, what);
    if (st || batch == 0) return st;
    if (!dlogits)
        return clh_heads_fail(heads, CLH_E_NULL, "%s: dlogits is NULL (batch %lld)", what, (long long)batch);
    mixed_groups groups = {0};
    if ((st = prepare_mixed(heads, batch, x, task_ids, workspace, workspace_bytes, what, &groups)))
        return st;

    const int64_t in = heads->in, width = heads->widest;
    for (size_t t = 0; t < heads->num_tasks; t++) {
        const size_t *order = groups.order + groups.start[t];
        size_t n = groups.start[t + 1] - groups.start[t];
        if (n == 0) continue;
        clh_task *task = &heads->tasks[t];
        const int64_t r0 = task->offset, r1 = task->offset + task->classes;
        gather_rows(groups.x, x, order, n, in, in);
        /* Only the sample's own head's columns: padding positions are never read. */
        gather_rows(groups.y, dlogits, order, n, task->classes, width);
        if (!task->frozen) {
            clh_heads_accumulate_rows(&heads->bank, groups.x, (int64_t)n, groups.y, task->classes, r0, r1);
            task->has_grad = 1;
        }
        if (dx) {
            clh_heads_rows_dx(&heads->bank, groups.y, (int64_t)n, task->classes, r0, r1, 0.0f, groups.dx);
            for (size_t j = 0; j < n; j++)
                memcpy(dx + (int64_t)order[j] * in, groups.dx + (int64_t)j * in, (size_t)in * sizeof(float));
        }
    }
    clh_free(groups.owned);
    return CLH_OK;
}
