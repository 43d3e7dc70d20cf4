/* Internal: how the heads-aware loss and accuracy read a batch's labels.
 * Shared by loss.c and accuracy.c, with the batch checks they both make. */
#ifndef CLH_INTERNAL_LOSS_H
#define CLH_INTERNAL_LOSS_H

#include <stdint.h>

#include "clheads/heads.h"
#include "clheads/status.h"

/* A batch as a forward call described it, resolved once per call. */
typedef struct clh_label_space {
    const clh_heads *heads;
    clh_paradigm paradigm;
    int64_t width;           /* logits per sample (single-task batches: the label range) */
    const int64_t *task_ids; /* MTL mixed batches: per-sample task ids, else NULL */
} clh_label_space;

/* Where a sample's label may lie and which logits form its own task block. */
typedef struct clh_sample_block {
    int64_t label_end; /* labels must lie in [0, label_end) */
    int64_t begin;     /* the task block [begin, end) within the sample's logits */
    int64_t end;
} clh_sample_block;

/* Validates the batch description against the handle; `what` names the
 * calling function in the detail. */
clh_status clh_label_space_resolve(const clh_heads *heads, int64_t task_id,
                                   const int64_t *task_ids, const char *what,
                                   clh_label_space *space);

/* Checks sample i's label and returns its block; CLH_E_LABEL (or
 * CLH_E_UNKNOWN_TASK for a mixed batch's unknown task id) naming the sample. */
clh_status clh_label_space_sample(const clh_label_space *space, int64_t i, int64_t label,
                                  const char *what, clh_sample_block *block);

/* The checks every logits-and-labels call makes (after its own output
 * pointer): batch >= 0, classes > 0, batch x classes floats representable,
 * logits and labels non-NULL when batch > 0. Failures are tied to owner. */
clh_status clh_check_logits_batch(const void *owner, const float *logits, int64_t batch,
                                  int64_t classes, const int64_t *labels, const char *what);

#endif
