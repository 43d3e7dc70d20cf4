/* The clh_heads handle: life cycle, queries, task lookup, parameter views,
 * freezing, masking and zero-grad. Set-up, forward and backward live in
 * heads_setup.c, heads_forward.c, heads_backward.c and heads_mixed.c. */
#include <string.h>

#include "common/alloc.h"
#include "heads/heads_internal.h"

clh_status clh_heads_create(clh_heads **out, clh_paradigm paradigm, int64_t in_features,
                            uint64_t seed) {
    if (!out) return clh_fail(CLH_E_NULL, "clh_heads_create: out is NULL");
    if (!clh_paradigm_name(paradigm))
        return clh_fail(CLH_E_INVALID_ARG, "clh_heads_create: paradigm %d is not TIL/CIL/DIL/MTL/STL",
                        (int)paradigm);
    if (in_features <= 0)
        return clh_fail(CLH_E_INVALID_ARG, "clh_heads_create: in_features is %lld, must be > 0",
                        (long long)in_features);
    if (in_features >= INT64_MAX / 2)
        return clh_fail(CLH_E_OVERFLOW, "clh_heads_create: in_features %lld is too large",
                        (long long)in_features);
    clh_heads *heads = clh_calloc(1, sizeof *heads);
    if (!heads) return clh_fail(CLH_E_NOMEM, "clh_heads_create: cannot allocate the handle");
    heads->paradigm = paradigm;
    heads->in = in_features;
    heads->seed = seed;
    heads->bank.in = in_features;
    *out = heads;
    return CLH_OK;
}

void clh_heads_free(clh_heads *heads) {
    if (!heads) return;
    clh_bank_release(&heads->bank);
    clh_free(heads->tasks);
    clh_free(heads->ids);
    clh_free(heads->by_id);
    clh_free(heads);
}

const char *clh_heads_last_error(const clh_heads *heads) {
    if (heads && clh_error_owner() == (const void *)heads) return clh_last_error();
    return "";
}

/* ---- task lookup ---- */

ptrdiff_t clh_heads_find(const clh_heads *heads, int64_t task_id) {
    return clh_heads_find_among(heads, heads->num_tasks, task_id);
}

ptrdiff_t clh_heads_find_among(const clh_heads *heads, size_t indexed, int64_t task_id) {
    size_t lo = 0, hi = indexed;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int64_t id = heads->tasks[heads->by_id[mid]].id;
        if (id == task_id) return (ptrdiff_t)heads->by_id[mid];
        if (id < task_id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return -1;
}

static int single_head(clh_paradigm p) { return p == CLH_DIL || p == CLH_STL; }

clh_status clh_heads_fail_not_setup(const clh_heads *heads, const char *what) {
    const char *missing;
    switch (heads->paradigm) {
    case CLH_TIL:
    case CLH_CIL: missing = "clh_heads_setup_task"; break;
    case CLH_MTL: missing = "clh_heads_setup_tasks"; break;
    default: missing = "clh_heads_setup_single"; break;
    }
    return clh_heads_fail(heads, CLH_E_NOT_SETUP, "%s: no head is set up yet; call %s first (%s)",
                          what, missing, clh_paradigm_name(heads->paradigm));
}

clh_status clh_heads_resolve(const clh_heads *heads, int64_t task_id, const char *what,
                             size_t *index) {
    if (single_head(heads->paradigm)) {
        if (task_id != CLH_NO_TASK && task_id != 0)
            return clh_heads_fail(heads, CLH_E_UNKNOWN_TASK,
                                  "%s: task id %lld: %s has one head (task 0), pass CLH_NO_TASK or 0", what,
                                  (long long)task_id, clh_paradigm_name(heads->paradigm));
        if (heads->num_tasks == 0) return clh_heads_fail_not_setup(heads, what);
        *index = 0;
        return CLH_OK;
    }
    if (task_id == CLH_NO_TASK)
        return clh_heads_fail(heads, CLH_E_PARADIGM, "%s: %s needs a task id, got CLH_NO_TASK", what,
                              clh_paradigm_name(heads->paradigm));
    ptrdiff_t found = clh_heads_find(heads, task_id);
    if (found < 0)
        return clh_heads_fail(heads, CLH_E_UNKNOWN_TASK, "%s: task id %lld was never set up", what,
                              (long long)task_id);
    *index = (size_t)found;
    return CLH_OK;
}

/* ---- queries ---- */

clh_paradigm clh_heads_paradigm(const clh_heads *heads) {
    return heads ? heads->paradigm : CLH_PARADIGM_INVALID;
}

int64_t clh_heads_in_features(const clh_heads *heads) { return heads ? heads->in : 0; }

int clh_heads_is_setup(const clh_heads *heads) { return heads && heads->num_tasks > 0; }

size_t clh_heads_num_tasks(const clh_heads *heads) { return heads ? heads->num_tasks : 0; }

const int64_t *clh_heads_task_ids(const clh_heads *heads) {
    return heads && heads->num_tasks ? heads->ids : NULL;
}

int64_t clh_heads_total_classes(const clh_heads *heads) { return heads ? heads->bank.rows : 0; }

int64_t clh_heads_capacity_rows(const clh_heads *heads) { return heads ? heads->bank.cap_rows : 0; }

clh_status clh_heads_task_classes(const clh_heads *heads, int64_t task_id, int64_t *num_classes,
                                  int64_t *offset) {
    if (!heads) return clh_fail(CLH_E_NULL, "clh_heads_task_classes: heads is NULL");
    size_t index = 0;
    clh_status st = clh_heads_resolve(heads, task_id, "clh_heads_task_classes", &index);
    if (st) return st;
    if (num_classes) *num_classes = heads->tasks[index].classes;
    if (offset) *offset = heads->tasks[index].offset;
    return CLH_OK;
}

clh_status clh_heads_logits_width(const clh_heads *heads, int64_t task_id, int64_t *width) {
    if (!heads) return clh_fail(CLH_E_NULL, "clh_heads_logits_width: heads is NULL");
    if (!width) return clh_heads_fail(heads, CLH_E_NULL, "clh_heads_logits_width: width is NULL");
    if (heads->paradigm == CLH_MTL && task_id == CLH_NO_TASK) {
        if (heads->num_tasks == 0) return clh_heads_fail_not_setup(heads, "clh_heads_logits_width");
        *width = heads->widest;
        return CLH_OK;
    }
    clh_heads_plan plan = {0};
    clh_status st = clh_heads_plan_call(heads, 0, task_id, "clh_heads_logits_width", &plan);
    if (st) return st;
    *width = plan.width;
    return CLH_OK;
}

clh_status clh_heads_get_head(clh_heads *heads, int64_t task_id, clh_head_view *out) {
    if (!heads) return clh_fail(CLH_E_NULL, "clh_heads_get_head: heads is NULL");
    if (!out) return clh_heads_fail(heads, CLH_E_NULL, "clh_heads_get_head: out is NULL");
    size_t index = 0;
    clh_status st = clh_heads_resolve(heads, task_id, "clh_heads_get_head", &index);
    if (st) return st;
    const clh_task *task = &heads->tasks[index];
    const clh_bank *bank = &heads->bank;
    out->weight = clh_bank_weights(bank) + task->offset * bank->in;
    out->bias = clh_bank_biases(bank) + task->offset;
    out->grad_weight = clh_bank_grad_weights(bank) + task->offset * bank->in;
    out->grad_bias = clh_bank_grad_biases(bank) + task->offset;
    out->out_features = task->classes;
    out->in_features = bank->in;
    return CLH_OK;
}

/* rows*(in+1): cannot overflow, the bank was allocated with at least that many floats. */
static size_t flat_count(const clh_heads *heads) {
    return (size_t)heads->bank.rows * (size_t)(heads->in + 1);
}

void clh_heads_flat(clh_heads *heads, float **params, float **grads, size_t *count) {
    if (params) *params = heads ? heads->bank.params : NULL;
    if (grads) *grads = heads ? heads->bank.grads : NULL;
    if (count) *count = heads ? flat_count(heads) : 0;
}

void clh_heads_flat_const(const clh_heads *heads, const float **params, const float **grads,
                          size_t *count) {
    if (params) *params = heads ? heads->bank.params : NULL;
    if (grads) *grads = heads ? heads->bank.grads : NULL;
    if (count) *count = heads ? flat_count(heads) : 0;
}

/* ---- gradients ---- */

void clh_heads_zero_grad(clh_heads *heads) {
    if (!heads || !heads->bank.grads) return;
    memset(heads->bank.grads, 0, flat_count(heads) * sizeof(float));
}

clh_status clh_heads_zero_grad_task(clh_heads *heads, int64_t task_id) {
    if (!heads) return clh_fail(CLH_E_NULL, "clh_heads_zero_grad_task: heads is NULL");
    size_t index = 0;
    clh_status st = clh_heads_resolve(heads, task_id, "clh_heads_zero_grad_task", &index);
    if (st) return st;
    const clh_task *task = &heads->tasks[index];
    const clh_bank *bank = &heads->bank;
    memset(clh_bank_grad_weights(bank) + task->offset * bank->in, 0,
           (size_t)(task->classes * bank->in) * sizeof(float));
    memset(clh_bank_grad_biases(bank) + task->offset, 0, (size_t)task->classes * sizeof(float));
    return CLH_OK;
}

clh_status clh_heads_task_at(const clh_heads *heads, size_t index, int64_t *task_id) {
    if (!heads || !task_id)
        return clh_fail(CLH_E_NULL, "clh_heads_task_at: %s is NULL", heads ? "task_id" : "heads");
    if (index >= heads->num_tasks)
        return clh_fail_owner(heads, CLH_E_INVALID_ARG,
                              "clh_heads_task_at: index %zu is past the %zu tasks set up", index,
                              heads->num_tasks);
    *task_id = heads->paradigm == CLH_DIL || heads->paradigm == CLH_STL ? CLH_NO_TASK
                                                                         : heads->tasks[index].id;
    return CLH_OK;
}

clh_status clh_heads_task_has_grad(const clh_heads *heads, int64_t task_id, int *has_grad) {
    if (!heads || !has_grad)
        return clh_fail(CLH_E_NULL, "clh_heads_task_has_grad: %s is NULL", heads ? "has_grad" : "heads");
    size_t index = 0;
    clh_status st = clh_heads_resolve(heads, task_id, "clh_heads_task_has_grad", &index);
    if (st) return st;
    *has_grad = heads->tasks[index].has_grad;
    return CLH_OK;
}

clh_status clh_heads_set_task_has_grad(clh_heads *heads, int64_t task_id, int has_grad) {
    if (!heads) return clh_fail(CLH_E_NULL, "clh_heads_set_task_has_grad: heads is NULL");
    size_t index = 0;
    clh_status st = clh_heads_resolve(heads, task_id, "clh_heads_set_task_has_grad", &index);
    if (st) return st;
    heads->tasks[index].has_grad = has_grad ? 1 : 0;
    return CLH_OK;
}

/* ---- freezing and masking ---- */

clh_status clh_heads_set_frozen(clh_heads *heads, int64_t task_id, int frozen) {
    if (!heads) return clh_fail(CLH_E_NULL, "clh_heads_set_frozen: heads is NULL");
    size_t index = 0;
    clh_status st = clh_heads_resolve(heads, task_id, "clh_heads_set_frozen", &index);
    if (st) return st;
    heads->tasks[index].frozen = frozen != 0;
    return CLH_OK;
}

clh_status clh_heads_is_frozen(const clh_heads *heads, int64_t task_id, int *frozen) {
    if (!heads) return clh_fail(CLH_E_NULL, "clh_heads_is_frozen: heads is NULL");
    if (!frozen) return clh_heads_fail(heads, CLH_E_NULL, "clh_heads_is_frozen: frozen is NULL");
    size_t index = 0;
    clh_status st = clh_heads_resolve(heads, task_id, "clh_heads_is_frozen", &index);
    if (st) return st;
    *frozen = heads->tasks[index].frozen;
    return CLH_OK;
}

clh_status clh_heads_set_masked(clh_heads *heads, int64_t task_id, int masked) {
    if (!heads) return clh_fail(CLH_E_NULL, "clh_heads_set_masked: heads is NULL");
    if (heads->paradigm != CLH_CIL)
        return clh_heads_fail(heads, CLH_E_PARADIGM, "clh_heads_set_masked: masking is CIL only, handle is %s",
                              clh_paradigm_name(heads->paradigm));
    size_t index = 0;
    clh_status st = clh_heads_resolve(heads, task_id, "clh_heads_set_masked", &index);
    if (st) return st;
    heads->tasks[index].masked = masked != 0;
    return CLH_OK;
}

clh_status clh_heads_is_masked(const clh_heads *heads, int64_t task_id, int *masked) {
    if (!heads) return clh_fail(CLH_E_NULL, "clh_heads_is_masked: heads is NULL");
    if (!masked) return clh_heads_fail(heads, CLH_E_NULL, "clh_heads_is_masked: masked is NULL");
    size_t index = 0;
    clh_status st = clh_heads_resolve(heads, task_id, "clh_heads_is_masked", &index);
    if (st) return st;
    *masked = heads->tasks[index].masked; /* always 0 outside CIL */
    return CLH_OK;
}
