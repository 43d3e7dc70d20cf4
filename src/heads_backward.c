/* Backward with one task id per batch (or none): accumulates dW += dYᵀX and
 * db += ΣdY into the rows involved, writes dx = dY·W. Frozen heads get no
 * gradient but still pass one to the feature; masked CIL tasks do neither. */
#include <string.h>

#include "checked.h"
#include "gemm.h"
#include "heads_internal.h"
#include "linear_internal.h"

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

/* CIL: all heads, dy [batch, rows]. Consecutive tasks that take a gradient
 * share one multiply (normally all of them: one multiply for dW, one for dx). */
static void backward_cil(clh_heads *heads, const float *x, int64_t batch, const float *dy, float *dx) {
    clh_bank *bank = &heads->bank;
    const int64_t in = bank->in, rows = bank->rows;
    size_t t = 0;
    while (t < heads->num_tasks) { /* dW, db: runs of tasks neither masked nor frozen */
        clh_task *first = &heads->tasks[t];
        if (first->masked || first->frozen) {
            t++;
            continue;
        }
        size_t end = t;
        while (end < heads->num_tasks && !heads->tasks[end].masked && !heads->tasks[end].frozen) {
            heads->tasks[end].has_grad = 1;
            end++;
        }
        const clh_task *last = &heads->tasks[end - 1];
        int64_t r0 = first->offset, r1 = last->offset + last->classes;
        clh_heads_accumulate_rows(bank, x, batch, dy + r0, rows, r0, r1);
        t = end;
    }
    if (!dx) return;
    float beta = 0.0f; /* the first run writes dx, later runs add to it */
    t = 0;
    while (t < heads->num_tasks) { /* dx: runs of unmasked tasks (frozen ones included) */
        const clh_task *first = &heads->tasks[t];
        if (first->masked) {
            t++;
            continue;
        }
        size_t end = t;
        while (end < heads->num_tasks && !heads->tasks[end].masked) end++;
        const clh_task *last = &heads->tasks[end - 1];
        int64_t r0 = first->offset, r1 = last->offset + last->classes;
        clh_heads_rows_dx(bank, dy + r0, batch, rows, r0, r1, beta, dx);
        beta = 1.0f;
        t = end;
    }
    if (beta == 0.0f) memset(dx, 0, (size_t)(batch * in) * sizeof(float)); /* every task masked */
}

clh_status clh_heads_backward(clh_heads *heads, const float *x, int64_t batch, int64_t task_id,
                              const float *dlogits, float *dx) {
    static const char what[] = "clh_heads_backward";
    if (!heads) return clh_fail(CLH_E_NULL, "%s: heads is NULL", what);
    clh_heads_plan plan = {0};
    clh_status st = clh_heads_plan_call(heads, batch, task_id, what, &plan);
    if (st) return st;
    if (batch == 0) return CLH_OK;
    if (!x) return clh_heads_fail(heads, CLH_E_NULL, "%s: x is NULL (batch %lld)", what, (long long)batch);
    if (!dlogits)
        return clh_heads_fail(heads, CLH_E_NULL, "%s: dlogits is NULL (batch %lld)", what, (long long)batch);
    size_t bytes;
    if (!clh_float_bytes(batch, heads->in, &bytes))
        return clh_heads_fail(heads, CLH_E_OVERFLOW, "%s: x of %lld x %lld floats overflows size_t", what,
                              (long long)batch, (long long)heads->in);
    if (!clh_float_bytes(batch, plan.width, &bytes))
        return clh_heads_fail(heads, CLH_E_OVERFLOW, "%s: dlogits of %lld x %lld floats overflows size_t",
                              what, (long long)batch, (long long)plan.width);

    if (plan.task_index == SIZE_MAX)
        backward_cil(heads, x, batch, dlogits, dx);
    else
        backward_one(heads, plan.task_index, x, batch, dlogits, dx);
    return CLH_OK;
}
