/* Forward with one task id per batch (or none): TIL/MTL select a head, CIL
 * runs one multiply over all rows, DIL/STL use their one head. Also the
 * validation shared with backward (clh_heads_check_call) and with the mixed
 * calls (clh_heads_check_batch). */
#include <math.h>

#include "common/checked.h"
#include "kernels/gemm.h"
#include "heads/heads_internal.h"
#include "kernels/linear_internal.h"

clh_status clh_heads_check_batch(const clh_heads *heads, int64_t batch, const char *what) {
    if (batch < 0)
        return clh_heads_fail(heads, CLH_E_INVALID_ARG, "%s: batch is %lld, must be >= 0", what,
                              (long long)batch);
    if (heads->num_tasks == 0) return clh_heads_fail_not_setup(heads, what);
    return CLH_OK;
}

clh_status clh_heads_plan_call(const clh_heads *heads, int64_t batch, int64_t task_id,
                               const char *what, clh_heads_plan *plan) {
    clh_status st = clh_heads_check_batch(heads, batch, what);
    if (st) return st;
    if (heads->paradigm == CLH_CIL) {
        /* All heads, concatenated; a task id, when given, must be set up
         * (the one task-id rule, clh_heads_resolve). */
        size_t index;
        if (task_id != CLH_NO_TASK && (st = clh_heads_resolve(heads, task_id, what, &index)))
            return st;
        plan->task_index = SIZE_MAX;
        plan->first_row = 0;
        plan->width = heads->bank.rows;
        return CLH_OK;
    }
    if (heads->paradigm == CLH_MTL && task_id == CLH_NO_TASK)
        return clh_heads_fail(heads, CLH_E_PARADIGM,
                              "%s: MTL needs the batch's task id, got CLH_NO_TASK (per-sample ids: "
                              "the _mixed calls)", what);
    st = clh_heads_resolve(heads, task_id, what, &plan->task_index);
    if (st) return st;
    plan->first_row = heads->tasks[plan->task_index].offset;
    plan->width = heads->tasks[plan->task_index].classes;
    return CLH_OK;
}

/* Checks that a [batch, cols] float matrix has a byte size (for pointer arithmetic). */
static clh_status check_matrix(const clh_heads *heads, const char *what, const char *name,
                               int64_t batch, int64_t cols) {
    size_t bytes;
    if (!clh_float_bytes(batch, cols, &bytes))
        return clh_heads_fail(heads, CLH_E_OVERFLOW, "%s: %s of %lld x %lld floats overflows size_t", what,
                              name, (long long)batch, (long long)cols);
    return CLH_OK;
}

clh_status clh_heads_check_call(const clh_heads *heads, const float *x, int64_t batch,
                                int64_t task_id, const float *matrix, const char *matrix_name,
                                const char *what, clh_heads_plan *plan) {
    clh_status st = clh_heads_plan_call(heads, batch, task_id, what, plan);
    if (st || batch == 0) return st;
    if (!x) return clh_heads_fail(heads, CLH_E_NULL, "%s: x is NULL (batch %lld)", what, (long long)batch);
    if (!matrix)
        return clh_heads_fail(heads, CLH_E_NULL, "%s: %s is NULL (batch %lld)", what, matrix_name,
                              (long long)batch);
    if ((st = check_matrix(heads, what, "x", batch, heads->in))) return st;
    return check_matrix(heads, what, matrix_name, batch, plan->width);
}

clh_status clh_heads_forward(const clh_heads *heads, const float *x, int64_t batch,
                             int64_t task_id, float *logits) {
    static const char what[] = "clh_heads_forward";
    if (!heads) return clh_fail(CLH_E_NULL, "%s: heads is NULL", what);
    clh_heads_plan plan = {0};
    clh_status st = clh_heads_check_call(heads, x, batch, task_id, logits, "logits", what, &plan);
    if (st || batch == 0) return st;

    const clh_bank *bank = &heads->bank;
    const int64_t in = bank->in, width = plan.width;
    const float *weight = clh_bank_weights(bank) + plan.first_row * in;
    const float *bias = clh_bank_biases(bank) + plan.first_row;

    /* logits = x · Wᵀ: for CIL the heads' rows are contiguous, so this one
     * multiply covers every head (no per-task multiply, no concatenation). */
    clh_gemm(0, 1, batch, width, in, 1.0f, x, in, weight, in, 0.0f, logits, width);
    clh_add_bias_rows(logits, bias, batch, width, width);
    if (heads->paradigm == CLH_CIL) {
        for (size_t t = 0; t < heads->num_tasks; t++) {
            const clh_task *task = &heads->tasks[t];
            if (!task->masked) continue;
            for (int64_t i = 0; i < batch; i++) {
                float *row = logits + i * width + task->offset;
                for (int64_t c = 0; c < task->classes; c++) row[c] = -INFINITY;
            }
        }
    }
    return CLH_OK;
}
