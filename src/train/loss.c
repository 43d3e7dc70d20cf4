/* Softmax cross-entropy (torch.nn.functional.cross_entropy, reduction "mean")
 * and the per-paradigm label checks shared with accuracy.c. */
#include <math.h>
#include <stddef.h>

#include "common/checked.h"
#include "clheads/loss.h"
#include "common/error.h"
#include "heads/heads_internal.h"
#include "train/loss_internal.h"

/* ---- label spaces --------------------------------------------------------- */

clh_status clh_label_space_resolve(const clh_heads *heads, int64_t task_id,
                                   const int64_t *task_ids, const char *what,
                                   clh_label_space *space) {
    if (!heads) return clh_fail(CLH_E_NULL, "%s: heads is NULL", what);
    clh_label_space s = {heads, clh_heads_paradigm(heads), 0, NULL};
    if (task_ids) {
        if (s.paradigm != CLH_MTL)
            return clh_fail_owner(heads, CLH_E_PARADIGM,
                                  "%s: per-sample task ids are for MTL mixed batches, not %s", what,
                                  clh_paradigm_name(s.paradigm));
        if (task_id != CLH_NO_TASK)
            return clh_fail_owner(heads, CLH_E_INVALID_ARG,
                                  "%s: a mixed batch takes task_id CLH_NO_TASK, got %lld", what,
                                  (long long)task_id);
        s.task_ids = task_ids;
        clh_status st = clh_heads_check_batch(heads, 0, what);
        if (st) return st;
        s.width = heads->widest; /* forward_mixed's logits */
    } else {
        /* The task id exactly as the forward call takes it (CIL and DIL ignore
         * it, STL needs CLH_NO_TASK, TIL and MTL a set-up task). */
        clh_heads_plan plan;
        clh_status st = clh_heads_plan_call(heads, 0, task_id, what, &plan);
        if (st) return st;
        s.width = plan.width;
    }
    *space = s;
    return CLH_OK;
}

/* CIL: the task block holding global label `label` (already in range). The
 * tasks' rows tile 0..total-1 in processed order, so this is the last task
 * whose offset is <= label. */
static void cil_block(const clh_heads *heads, int64_t label, clh_sample_block *block) {
    size_t lo = 0, hi = heads->num_tasks; /* num_tasks >= 1: resolve checked the set-up */
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;
        if (heads->tasks[mid].offset <= label)
            lo = mid;
        else
            hi = mid;
    }
    block->begin = heads->tasks[lo].offset;
    block->end = block->begin + heads->tasks[lo].classes;
}

clh_status clh_label_space_sample(const clh_label_space *space, int64_t i, int64_t label,
                                  const char *what, clh_sample_block *block) {
    /* Single-task batches: labels 0..C-1 and the whole row; CIL: 0..total-1. */
    clh_sample_block b = {space->width, 0, space->width};
    if (space->task_ids) {
        ptrdiff_t task = clh_heads_find(space->heads, space->task_ids[i]);
        if (task < 0) /* as forward_mixed reports it */
            return clh_fail_owner(space->heads, CLH_E_UNKNOWN_TASK,
                                  "%s: sample %lld: task id %lld is not set up", what, (long long)i,
                                  (long long)space->task_ids[i]);
        b.label_end = b.end = space->heads->tasks[task].classes;
    }
    if (label < 0 || label >= b.label_end)
        return clh_fail_owner(space->heads, CLH_E_LABEL,
                              "%s: sample %lld: label %lld is outside %s range 0..%lld", what,
                              (long long)i, (long long)label,
                              space->paradigm == CLH_CIL ? "the global (CIL)" : "its task's",
                              (long long)(b.label_end - 1));
    if (space->paradigm == CLH_CIL) cil_block(space->heads, label, &b);
    *block = b;
    return CLH_OK;
}

/* ---- the loss --------------------------------------------------------------- */

/* A row holding NaN, or +inf as its largest logit: PyTorch's log-sum-exp
 * gives NaN for the loss and for every gradient entry except the -inf ones,
 * which stay exactly 0. */
static double row_not_finite(const float *x, int64_t classes, float *grad) {
    if (grad) /* one read then one write per entry: safe when grad aliases x */
        for (int64_t j = 0; j < classes; j++) grad[j] = x[j] == -INFINITY ? 0.0f : NAN;
    return NAN;
}

/* One row: -log softmax(x)[label] = max + log(sum_j exp(x_j - max)) - x_label.
 * One float expf per logit; the sum is accumulated in double so a wide row
 * (thousands of classes) keeps the loss accurate to float precision. When
 * grad is not NULL each exp is stored there, then the row is normalised into
 * (softmax - onehot) * scale; grad may alias x, which is why x_label is read
 * before the first write. With a finite max, a -inf logit gives expf(-inf)
 * = 0 exactly, hence exactly 0 gradient, with no special case. */
static double row_cross_entropy(const float *x, int64_t classes, int64_t label, double scale,
                                float *grad) {
    /* Max and a NaN flag as two plain reductions: a NaN-sticky max compiles
     * to a slow dependency chain. */
    float max = -INFINITY;
    int has_nan = 0;
    for (int64_t j = 0; j < classes; j++) {
        max = x[j] > max ? x[j] : max;
        has_nan |= isnan(x[j]);
    }
    /* max is never -inf: the label's logit is not. */
    if (has_nan || max == INFINITY) return row_not_finite(x, classes, grad);
    const float x_label = x[label];
    double sum = 0.0; /* >= 1: the max's own term is expf(0) */
    if (grad) {
        for (int64_t j = 0; j < classes; j++) {
            float e = expf(x[j] - max);
            grad[j] = e;
            sum += e;
        }
    } else { /* the same terms in the same order: the loss does not depend on grad */
        for (int64_t j = 0; j < classes; j++) sum += expf(x[j] - max);
    }
    if (grad) {
        const float e_label = grad[label];
        const float norm = (float)(scale / sum);
        for (int64_t j = 0; j < classes; j++) grad[j] *= norm;
        /* The label's entry p - 1 cancels when p is near 1: form it in double. */
        grad[label] = (float)(((double)e_label / sum - 1.0) * scale);
    }
    return (double)max + log(sum) - (double)x_label;
}

/* Mean over the rows; labels validated by the caller. */
static float batch_cross_entropy(const float *logits, int64_t batch, int64_t classes,
                                 const int64_t *labels, float *dlogits) {
    if (batch == 0) return 0.0f;
    double scale = 1.0 / (double)batch, total = 0.0;
    for (int64_t i = 0; i < batch; i++) {
        const float *row = logits + i * classes;
        total += row_cross_entropy(row, classes, labels[i], scale,
                                   dlogits ? dlogits + i * classes : NULL);
    }
    return (float)(total * scale);
}

/* A label whose logit is -inf has probability 0: its loss would be +inf. */
static clh_status check_label_logit(const void *owner, const float *logits, int64_t classes,
                                    int64_t i, int64_t label, const char *what) {
    if (logits[i * classes + label] == -INFINITY)
        return clh_fail_owner(owner, CLH_E_LABEL,
                              "%s: sample %lld: label %lld falls on a -inf logit (a masked task "
                              "or padding)",
                              what, (long long)i, (long long)label);
    return CLH_OK;
}

clh_status clh_check_logits_batch(const void *owner, const float *logits, int64_t batch,
                                  int64_t classes, const int64_t *labels, const char *what) {
    if (batch < 0)
        return clh_fail_owner(owner, CLH_E_INVALID_ARG, "%s: batch %lld is negative", what,
                              (long long)batch);
    if (classes <= 0)
        return clh_fail_owner(owner, CLH_E_INVALID_ARG, "%s: classes %lld must be positive",
                              what, (long long)classes);
    size_t bytes;
    if (!clh_float_bytes(batch, classes, &bytes))
        return clh_fail_owner(owner, CLH_E_OVERFLOW, "%s: batch %lld x classes %lld overflows",
                              what, (long long)batch, (long long)classes);
    if (batch > 0 && (!logits || !labels))
        return clh_fail_owner(owner, CLH_E_NULL, "%s: %s is NULL", what,
                              logits ? "labels" : "logits");
    return CLH_OK;
}

clh_status clh_cross_entropy(const float *logits, int64_t batch, int64_t classes,
                             const int64_t *labels, float *loss, float *dlogits) {
    static const char what[] = "clh_cross_entropy";
    if (!loss) return clh_fail(CLH_E_NULL, "%s: loss is NULL", what);
    clh_status st = clh_check_logits_batch(NULL, logits, batch, classes, labels, what);
    if (st) return st;
    for (int64_t i = 0; i < batch; i++) {
        if (labels[i] < 0 || labels[i] >= classes)
            return clh_fail(CLH_E_LABEL, "%s: sample %lld: label %lld is outside 0..%lld", what,
                            (long long)i, (long long)labels[i], (long long)(classes - 1));
        st = check_label_logit(NULL, logits, classes, i, labels[i], what);
        if (st) return st;
    }
    *loss = batch_cross_entropy(logits, batch, classes, labels, dlogits);
    return CLH_OK;
}

clh_status clh_heads_cross_entropy(const clh_heads *heads, const float *logits, int64_t batch,
                                   int64_t task_id, const int64_t *task_ids,
                                   const int64_t *labels, float *loss, float *dlogits) {
    static const char what[] = "clh_heads_cross_entropy";
    clh_label_space space;
    clh_status st = clh_label_space_resolve(heads, task_id, task_ids, what, &space);
    if (st) return st;
    if (!loss) return clh_fail_owner(heads, CLH_E_NULL, "%s: loss is NULL", what);
    st = clh_check_logits_batch(heads, logits, batch, space.width, labels, what);
    if (st) return st;
    for (int64_t i = 0; i < batch; i++) {
        clh_sample_block block;
        st = clh_label_space_sample(&space, i, labels[i], what, &block);
        if (st) return st;
        st = check_label_logit(heads, logits, space.width, i, labels[i], what);
        if (st) return st;
    }
    *loss = batch_cross_entropy(logits, batch, space.width, labels, dlogits);
    return CLH_OK;
}

clh_status clh_heads_global_label(const clh_heads *heads, int64_t task_id, int64_t local_label,
                                  int64_t *global_label) {
    static const char what[] = "clh_heads_global_label";
    if (!heads) return clh_fail(CLH_E_NULL, "%s: heads is NULL", what);
    if (!global_label) return clh_fail_owner(heads, CLH_E_NULL, "%s: global_label is NULL", what);
    int64_t classes = 0, offset = 0;
    clh_status st = clh_heads_task_classes(heads, task_id, &classes, &offset);
    if (st) return st;
    if (local_label < 0 || local_label >= classes)
        return clh_fail_owner(heads, CLH_E_LABEL, "%s: label %lld is outside task %lld's 0..%lld",
                              what, (long long)local_label, (long long)task_id,
                              (long long)(classes - 1));
    *global_label = clh_heads_paradigm(heads) == CLH_CIL ? offset + local_label : local_label;
    return CLH_OK;
}
