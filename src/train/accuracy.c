/* Task-aware and task-agnostic accuracy counted in one pass over a batch. */
#include <math.h>

#include "clheads/loss.h"
#include "common/error.h"
#include "train/loss_internal.h"

/* Index of the largest of x[begin, end): first one on ties (torch.argmax),
 * NaN counts as largest (as torch.argmax), -inf is never chosen; -1 when every
 * entry is -inf. */
static int64_t argmax_range(const float *x, int64_t begin, int64_t end) {
    int64_t best = -1;
    for (int64_t j = begin; j < end; j++) {
        if (isnan(x[j])) return j;
        if (x[j] == -INFINITY) continue;
        if (best < 0 || x[j] > x[best]) best = j;
    }
    return best;
}

clh_status clh_heads_accuracy(const clh_heads *heads, const float *logits, int64_t batch,
                              int64_t task_id, const int64_t *task_ids, const int64_t *labels,
                              clh_accuracy *counts) {
    static const char what[] = "clh_heads_accuracy";
    clh_label_space space;
    clh_status st = clh_label_space_resolve(heads, task_id, task_ids, what, &space);
    if (st) return st;
    if (!counts) return clh_fail_owner(heads, CLH_E_NULL, "%s: counts is NULL", what);
    st = clh_check_logits_batch(heads, logits, batch, space.width, labels, what);
    if (st) return st;

    clh_accuracy batch_counts = {0, 0, batch};
    for (int64_t i = 0; i < batch; i++) {
        clh_sample_block block;
        st = clh_label_space_sample(&space, i, labels[i], what, &block);
        if (st) return st; /* nothing added yet: counts untouched */
        const float *row = logits + i * space.width;
        int64_t aware = argmax_range(row, block.begin, block.end);
        /* Outside CIL the sample's own head is the only prediction there is. */
        int64_t agnostic = space.paradigm == CLH_CIL ? argmax_range(row, 0, space.width) : aware;
        batch_counts.correct_aware += aware == labels[i];
        batch_counts.correct_agnostic += agnostic == labels[i];
    }
    counts->correct_aware += batch_counts.correct_aware;
    counts->correct_agnostic += batch_counts.correct_agnostic;
    counts->samples += batch_counts.samples;
    return CLH_OK;
}
