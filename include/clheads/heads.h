/* clheads — the five head types over one parameter bank.
 *
 * A clh_heads handle holds the output heads of one continual learner in one
 * paradigm (TIL, CIL, DIL, MTL or STL). Every head is nn.Linear: logits =
 * feature · Wᵀ + b, W stored [out_features, in_features] row-major.
 *
 * Storage ("the bank"): all heads' weight rows in one contiguous block
 * [rows, in] in set-up order, each task's rows exactly its nn.Linear.weight,
 * immediately followed by all biases [rows]. So the parameters in use are one
 * flat vector of rows*(in+1) floats; gradients have the same layout. Adding a
 * task appends rows (capacity grows geometrically; old values are kept bit
 * for bit).
 *
 * Thread safety: forward calls and queries do not modify the handle and may
 * run concurrently on one handle (also alongside saving it). Set-up,
 * backward, zero-grad, freezing, masking, loading into it and optimizer steps
 * modify it and need exclusive access. Different handles share nothing.
 *
 * Errors: every function returns CLH_OK or an error status and, on error,
 * leaves the handle and every caller-owned output exactly as they were.
 */
#ifndef CLHEADS_HEADS_H
#define CLHEADS_HEADS_H

#include <stddef.h>
#include <stdint.h>

#include "export.h"
#include "status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum clh_paradigm {
    CLH_TIL = 0, /* task-incremental: one head per task, forward(x, t) selects it */
    CLH_CIL = 1, /* class-incremental: forward(x) concatenates all heads in set-up order */
    CLH_DIL = 2, /* domain-incremental: one head shared by all tasks */
    CLH_MTL = 3, /* multi-task: all tasks set up at once; per-batch or per-sample task ids */
    CLH_STL = 4, /* single-task: one head */
    CLH_PARADIGM_INVALID = -1 /* no paradigm: what clh_heads_paradigm(NULL) returns */
} clh_paradigm;

/* "TIL", "CIL", "DIL", "MTL", "STL"; NULL for a value outside the enum. */
CLH_API const char *clh_paradigm_name(clh_paradigm paradigm);
/* Parses "TIL"/"til"/... into *out. CLH_E_INVALID_ARG for anything else. */
CLH_API clh_status clh_paradigm_parse(const char *name, clh_paradigm *out);

/* Pass as task_id where a call takes no task (CIL, DIL, STL). */
#define CLH_NO_TASK INT64_MIN

typedef struct clh_heads clh_heads;

/* ---- life cycle ------------------------------------------------------- */

/* Creates a handle with no heads. in_features > 0. seed drives the
 * nn.Linear-style initialisation (W and b uniform in ±1/sqrt(in)); the same
 * seed and the same set-up calls give the same weights. */
CLH_API clh_status clh_heads_create(clh_heads **out, clh_paradigm paradigm, int64_t in_features,
                                    uint64_t seed);

/* Releases the handle. NULL is accepted and ignored. */
CLH_API void clh_heads_free(clh_heads *heads);

/* The detail of the last failure on this thread if it concerned `heads`, else "". */
CLH_API const char *clh_heads_last_error(const clh_heads *heads);

/* ---- set-up ------------------------------------------------------------ */

/* TIL and CIL: adds head task_id with num_classes classes when the task
 * arrives (task ids are >= 0 and may arrive in any order, e.g. 3, 1, 2). Repeating the call
 * with the same class count is a no-op that keeps the trained weights; with a
 * different count it is CLH_E_TASK_CONFLICT. */
CLH_API clh_status clh_heads_setup_task(clh_heads *heads, int64_t task_id, int64_t num_classes);

/* DIL and STL: sets up the one head. A repeat with the same class count is a
 * no-op; a different count is CLH_E_TASK_CONFLICT. */
CLH_API clh_status clh_heads_setup_single(clh_heads *heads, int64_t num_classes);

/* MTL: sets up n tasks at once, in the order given. Ids must be distinct
 * within the call. Tasks already set up with the same class count are kept;
 * a different count is CLH_E_TASK_CONFLICT and nothing is added. */
CLH_API clh_status clh_heads_setup_tasks(clh_heads *heads, const int64_t *task_ids,
                                         const int64_t *num_classes, size_t n);

/* Reserves capacity for `rows` rows in total (the sum of all class counts)
 * and `tasks` tasks in total, so that set-up calls that stay within both
 * allocate nothing (e.g. for a program that must not allocate once running).
 * Never shrinks; values are kept bit for bit. CLH_E_NOMEM or CLH_E_OVERFLOW
 * leave the heads unchanged (the task table may have grown). */
CLH_API clh_status clh_heads_reserve(clh_heads *heads, int64_t rows, size_t tasks);

/* ---- queries ----------------------------------------------------------- */

/* The handle's paradigm; CLH_PARADIGM_INVALID for NULL. */
CLH_API clh_paradigm clh_heads_paradigm(const clh_heads *heads);
CLH_API int64_t clh_heads_in_features(const clh_heads *heads);
/* 1 once at least one head is set up (DIL's if_head_setup()). */
CLH_API int clh_heads_is_setup(const clh_heads *heads);
/* Number of tasks set up (1 for DIL/STL once set up; their task id is 0). */
CLH_API size_t clh_heads_num_tasks(const clh_heads *heads);
/* The task ids in set-up (processed) order; NULL when there are none. Valid
 * until the next set-up call. */
CLH_API const int64_t *clh_heads_task_ids(const clh_heads *heads);
/* The task at position `index` in set-up order, as the id every call that
 * takes a task id accepts: task_ids[index] for TIL, CIL and MTL, CLH_NO_TASK
 * for DIL/STL's one head. So a loop over the heads needs no paradigm test:
 *   for (size_t i = 0; i < clh_heads_num_tasks(h); i++) {
 *       int64_t id; clh_heads_task_at(h, i, &id); clh_heads_task_classes(h, id, ...); }
 * CLH_E_INVALID_ARG when index is past the tasks set up. */
CLH_API clh_status clh_heads_task_at(const clh_heads *heads, size_t index, int64_t *task_id);
/* Sum of all heads' class counts (the rows in use). */
CLH_API int64_t clh_heads_total_classes(const clh_heads *heads);
/* A task's class count and the offset of its first row / CIL logit.
 * Either output may be NULL. DIL/STL accept CLH_NO_TASK or 0. */
CLH_API clh_status clh_heads_task_classes(const clh_heads *heads, int64_t task_id,
                                          int64_t *num_classes, int64_t *offset);
/* Width of the logits that a forward call writes:
 * TIL, MTL with one task: that task's class count; CIL: total classes;
 * DIL, STL: the head's classes; MTL mixed (task_id = CLH_NO_TASK): the widest head. */
CLH_API clh_status clh_heads_logits_width(const clh_heads *heads, int64_t task_id, int64_t *width);

/* One head's storage, as pointers into the bank (valid until the next set-up
 * call, which may move the bank). weight: [out_features, in_features].
 * ABI: frozen, never grows (the library fills all of it); a later
 * version that needs more members adds a new struct and new functions beside
 * these, which stay as they are. */
typedef struct clh_head_view {
    float *weight;
    float *bias;
    float *grad_weight;
    float *grad_bias;
    int64_t out_features;
    int64_t in_features;
} clh_head_view;

/* TIL, CIL, MTL: task_id's head. DIL, STL: the one head (CLH_NO_TASK or 0). */
CLH_API clh_status clh_heads_get_head(clh_heads *heads, int64_t task_id, clh_head_view *out);

/* All parameters in use as one flat vector (weights rows*in, then biases
 * rows), and the gradients with the same layout. Any pointer may be NULL. */
CLH_API void clh_heads_flat(clh_heads *heads, float **params, float **grads, size_t *count);
CLH_API void clh_heads_flat_const(const clh_heads *heads, const float **params, const float **grads,
                                  size_t *count);
/* Rows of reserved capacity (>= total classes, <= 2x total once grown). */
CLH_API int64_t clh_heads_capacity_rows(const clh_heads *heads);

/* ---- forward ----------------------------------------------------------- */

/* Task ids: one rule for every call that takes one (forward, backward,
 * cross-entropy, accuracy, the queries and accessors):
 *   TIL, MTL: a set-up task id selects the head (CLH_NO_TASK: CLH_E_PARADIGM,
 *             except MTL's widest-head width; per-sample ids: the _mixed calls).
 *   CIL:      queries and accessors need a set-up id; forward, backward and
 *             the loss span all heads and take CLH_NO_TASK or a set-up id
 *             (the batch's task, as the seed passes it).
 *   DIL, STL: the one head is task 0: CLH_NO_TASK or 0.
 * Any other id is CLH_E_UNKNOWN_TASK naming it. */

/* Logits for a batch of B feature rows (x: [B, in] row-major) into
 * logits ([B, width], see clh_heads_logits_width). B may be 0.
 * TIL and MTL: task_id selects the head. CIL: all heads. DIL, STL: the one
 * head (task ids as above). CIL makes exactly one matrix multiply
 * over all heads; masked tasks' logits are -inf. Allocates nothing. */
CLH_API clh_status clh_heads_forward(const clh_heads *heads, const float *x, int64_t batch,
                                     int64_t task_id, float *logits);

/* MTL only: one task id per sample (task_ids: [B]). The batch is grouped by
 * task so each head runs one multiply over its own samples. logits is
 * [B, widest head]; positions past a sample's own head are -inf.
 * workspace may be NULL (then the call allocates and frees its own) or at
 * least clh_heads_mixed_workspace_size() bytes. */
CLH_API clh_status clh_heads_forward_mixed(const clh_heads *heads, const float *x, int64_t batch,
                                           const int64_t *task_ids, float *logits, void *workspace,
                                           size_t workspace_bytes);
/* Bytes of workspace that forward_mixed/backward_mixed need for `batch` samples. */
CLH_API clh_status clh_heads_mixed_workspace_size(const clh_heads *heads, int64_t batch,
                                                  size_t *bytes);

/* ---- backward ---------------------------------------------------------- */

/* Given the forward call's inputs and dlogits (same shape as its logits):
 * accumulates into the gradients of the rows involved (rows no sample used
 * and frozen heads stay untouched) and, when dx is not NULL, writes
 * d(feature) [B, in] (overwritten, not accumulated; frozen heads still pass
 * gradient to the feature). Masked CIL logits carry no gradient. */
CLH_API clh_status clh_heads_backward(clh_heads *heads, const float *x, int64_t batch,
                                      int64_t task_id, const float *dlogits, float *dx);
/* MTL per-sample task ids; padding positions of dlogits are never read. */
CLH_API clh_status clh_heads_backward_mixed(clh_heads *heads, const float *x, int64_t batch,
                                            const int64_t *task_ids, const float *dlogits,
                                            float *dx, void *workspace, size_t workspace_bytes);

/* Sets all gradients to 0. */
CLH_API void clh_heads_zero_grad(clh_heads *heads);
/* Sets one task's gradients to 0. */
CLH_API clh_status clh_heads_zero_grad_task(clh_heads *heads, int64_t task_id);

/* ---- freezing and masking --------------------------------------------- */

/* A frozen head receives no gradient in backward and no optimizer step moves
 * it (not weight decay, not leftover momentum). */
CLH_API clh_status clh_heads_set_frozen(clh_heads *heads, int64_t task_id, int frozen);
CLH_API clh_status clh_heads_is_frozen(const clh_heads *heads, int64_t task_id, int *frozen);

/* CIL only (off by default): a masked task's logits are -inf in every forward,
 * in training and evaluation alike, and carry no gradient. Masking does not
 * freeze: a masked head that had a gradient before is still stepped on its
 * (zero) gradient, so weight decay moves it; freeze it too to keep it fixed. */
CLH_API clh_status clh_heads_set_masked(clh_heads *heads, int64_t task_id, int masked);
CLH_API clh_status clh_heads_is_masked(const clh_heads *heads, int64_t task_id, int *masked);

/* *has_grad = 1 once backward has written a gradient into the task's rows
 * (torch's ".grad is not None"); an optimizer skips heads that never had one.
 * task_id as in every call that takes one (DIL/STL: CLH_NO_TASK or 0). */
CLH_API clh_status clh_heads_task_has_grad(const clh_heads *heads, int64_t task_id, int *has_grad);
/* Restores that flag (e.g. when resuming from a checkpoint that recorded it). */
CLH_API clh_status clh_heads_set_task_has_grad(clh_heads *heads, int64_t task_id, int has_grad);

#ifdef __cplusplus
}
#endif
#endif
