/* clheads — softmax cross-entropy and classification accuracy.
 *
 * Cross-entropy is torch.nn.functional.cross_entropy with reduction "mean":
 * the mean over the batch of -log softmax(logits)[label], computed through
 * log-sum-exp so large logits do not overflow. A -inf logit (MTL padding, a
 * masked CIL task) contributes nothing to the sum and gets gradient 0. The
 * gradient written is d(loss)/d(logits) = (softmax - onehot(label)) / B, the
 * value PyTorch's backward puts into logits.grad.
 *
 * Labels, per paradigm (the heads-aware calls check them):
 *   TIL, MTL, DIL, STL: local to the sample's task, 0 .. C_t - 1;
 *   CIL: global, 0 .. total - 1, where task t's classes are
 *        offset_t .. offset_t + C_t - 1 and offset_t is the sum of the class
 *        counts of the tasks set up before t (clh_heads_global_label).
 * A label outside its range, or one whose logit is -inf (a masked task or
 * padding), is CLH_E_LABEL naming the sample index, the label and the range.
 * On any error nothing is written.
 *
 * An empty batch (B = 0) has loss 0 (PyTorch gives NaN) so that sums over
 * batches stay finite.
 *
 * Threads: these calls keep no state and take the handle as const, so they
 * may run concurrently (also with forward calls on the same handle).
 */
#ifndef CLHEADS_LOSS_H
#define CLHEADS_LOSS_H

#include <stddef.h>
#include <stdint.h>

#include "export.h"
#include "heads.h"
#include "status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Mean softmax cross-entropy of logits [B, C] (row-major) against labels [B]
 * (each in 0 .. C-1). Writes the loss into *loss and, when dlogits is not NULL,
 * the gradient [B, C] into dlogits (overwritten, not accumulated; may alias
 * logits). logits and labels may be NULL when B = 0. */
CLH_API clh_status clh_cross_entropy(const float *logits, int64_t batch, int64_t classes,
                                     const int64_t *labels, float *loss, float *dlogits);

/* The same for the logits a forward call on `heads` wrote, with the labels
 * checked against the paradigm's ranges (see above). The batch is described
 * exactly as for the forward call:
 *   TIL, MTL (one task for the batch): task_id, task_ids NULL; width C_t;
 *   MTL mixed batch: task_id CLH_NO_TASK and task_ids [B] (forward_mixed);
 *       width = the widest head, each sample's label checked against its own
 *       task's classes;
 *   CIL: task_id CLH_NO_TASK or a set-up id, task_ids NULL; width = total
 *       classes, labels global;
 *   DIL, STL: task_id CLH_NO_TASK or 0, task_ids NULL.
 * Task ids follow the one rule of heads.h ("Task ids"): an id the forward
 * call would reject is rejected the same way, with the same status. */
CLH_API clh_status clh_heads_cross_entropy(const clh_heads *heads, const float *logits, int64_t batch,
                                   int64_t task_id, const int64_t *task_ids,
                                   const int64_t *labels, float *loss, float *dlogits);

/* CIL: the global label of class `local_label` of task `task_id`
 * (offset_t + local_label). Other paradigms: the label itself (checked). */
CLH_API clh_status clh_heads_global_label(const clh_heads *heads, int64_t task_id,
                                          int64_t local_label, int64_t *global_label);

/* Correct predictions counted per sample; sum over batches, divide once.
 * ABI: frozen, never grows (callers zero it and add it up); a later
 * version that needs more members adds a new struct and new functions beside
 * these, which stay as they are. */
typedef struct clh_accuracy {
    int64_t correct_aware;    /* argmax within the sample's own task block was its label */
    int64_t correct_agnostic; /* argmax over all logits (CIL) was its label */
    int64_t samples;
} clh_accuracy;

/* One pass over a batch's logits (described as for clh_heads_cross_entropy),
 * ADDING this batch's counts to *counts (zero it before the first batch).
 *   task-aware: the prediction is the argmax within the sample's own task:
 *     CIL: the block [offset_t, offset_t + C_t) of the global logits, t being
 *          the task whose block holds the sample's (global) label;
 *     TIL, MTL: the head's own logits (padding ignored); DIL, STL: all logits.
 *   task-agnostic: CIL: the argmax over all logits; other paradigms have only
 *     the one prediction, so it equals the task-aware one.
 * Ties go to the lowest index, like torch.argmax; -inf logits are never chosen
 * unless the block is all -inf (then the sample counts as wrong). Labels are
 * checked as for the loss (CLH_E_LABEL; -inf label logits are allowed here:
 * such a sample is simply counted wrong). On error *counts is unchanged. */
CLH_API clh_status clh_heads_accuracy(const clh_heads *heads, const float *logits, int64_t batch,
                                      int64_t task_id, const int64_t *task_ids,
                                      const int64_t *labels, clh_accuracy *counts);

#ifdef __cplusplus
}
#endif
#endif
