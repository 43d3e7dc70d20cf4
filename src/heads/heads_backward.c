/* Backward with one task id per batch (or none): accumulates dW += dYᵀX and
 * db += ΣdY into the rows involved, writes dx = dY·W. Frozen heads get no
 * gradient but still pass one to the feature; masked CIL tasks do neither. */
#include <string.h>

#include "kernels/gemm.h"
#include "heads/heads_internal.h"
#include "kernels/linear_internal.h"

void clh_heads_accumulate_rows(clh_bank *bank, const float *x, int64_t batch, const float *dy,
                               int64_t ld, int64_t r0, int64_t r1) {
    const int64_t in = bank->in;
    clh_gemm(1, 0, r1 - r0, in, batch, 1.0f, dy, ld, x, in, 1.0f, clh_bank_grad_weights(bank) + r0 * in,
             in);
    clh_add_column_sums(clh_bank_grad_biases(bank) + r0, dy, batch, r1 - r0, ld);
}

void clh_heads_rows_dx(const clh_bank *bank, const float *dy, int64_t batch, int64_t ld, int64_t r0,
                       int64_t r1, float beta, float *dx) {
    const int64_t in = bank->in;
    clh_gemm(0, 0, batch, in, r1 - r0, 1.0f, dy, ld, clh_bank_weights(bank) + r0 * in, in, beta, dx, in);
}

/* One head (TIL, MTL with a batch task id, DIL, STL): dy is [batch, classes]. */
static void backward_one(clh_heads *heads, size_t index, const float *x, int64_t batch,
                         const float *dy, float *dx) {
    clh_task *task = &heads->tasks[index];
    const int64_t r0 = task->offset, r1 = task->offset + task->classes;
    if (!task->frozen) {
        clh_heads_accumulate_rows(&heads->bank, x, batch, dy, task->classes, r0, r1);
        task->has_grad = 1;
    }
    if (dx) clh_heads_rows_dx(&heads->bank, dy, batch, task->classes, r0, r1, 0.0f, dx);
}

/* A run of consecutive CIL tasks [first, end) whose rows [r0, r1) share one multiply. */
typedef struct task_run {
    size_t first, end;
    int64_t r0, r1;
} task_run;

/* Masked tasks carry no gradient at all; frozen ones still pass one to dx. */
static int in_run(const clh_task *task, int for_weights) {
    return !task->masked && !(for_weights && task->frozen);
}

/* The next run at or after task *t of tasks in_run(for_weights); moves *t past
 * it. 0 when no such task is left. */
static int next_run(const clh_heads *heads, size_t *t, int for_weights, task_run *run) {
    size_t i = *t, n = heads->num_tasks;
    while (i < n && !in_run(&heads->tasks[i], for_weights)) i++;
    *t = i;
    if (i == n) return 0;
    run->first = i;
    while (i < n && in_run(&heads->tasks[i], for_weights)) i++;
    run->end = *t = i;
    run->r0 = heads->tasks[run->first].offset;
    run->r1 = heads->tasks[i - 1].offset + heads->tasks[i - 1].classes;
    return 1;
}

/* CIL: all heads, dy [batch, rows]. Each run of tasks shares one multiply
 * (normally all of them: one multiply for dW, one for dx). */
static void backward_cil(clh_heads *heads, const float *x, int64_t batch, const float *dy, float *dx) {
    clh_bank *bank = &heads->bank;
    const int64_t in = bank->in, rows = bank->rows;
    task_run run;
    for (size_t t = 0; next_run(heads, &t, 1, &run);) { /* dW, db */
        for (size_t k = run.first; k < run.end; k++) heads->tasks[k].has_grad = 1;
        clh_heads_accumulate_rows(bank, x, batch, dy + run.r0, rows, run.r0, run.r1);
    }
    if (!dx) return;
    float beta = 0.0f; /* the first run writes dx, later runs add to it */
    for (size_t t = 0; next_run(heads, &t, 0, &run);) {
        clh_heads_rows_dx(bank, dy + run.r0, batch, rows, run.r0, run.r1, beta, dx);
        beta = 1.0f;
    }
    if (beta == 0.0f) memset(dx, 0, (size_t)(batch * in) * sizeof(float)); /* every task masked */
}

clh_status clh_heads_backward(clh_heads *heads, const float *x, int64_t batch, int64_t task_id,
                              const float *dlogits, float *dx) {
    static const char what[] = "clh_heads_backward";
    if (!heads) return clh_fail(CLH_E_NULL, "%s: heads is NULL", what);
    clh_heads_plan plan = {0};
    clh_status st = clh_heads_check_call(heads, x, batch, task_id, dlogits, "dlogits", what, &plan);
    if (st || batch == 0) return st;

    if (plan.task_index == SIZE_MAX)
        backward_cil(heads, x, batch, dlogits, dx);
    else
        backward_one(heads, plan.task_index, x, batch, dlogits, dx);
    return CLH_OK;
}
