/* clheads — building blocks of continual-learning methods over flat
 * parameter vectors (float *params, size_t count): the heads' vector
 * (clh_heads_flat) or any backbone a C user has. docs/methods.md records how
 * Hsu et al. (2018, GT-RIPL/Continual-Learning-Benchmark) use each one.
 *
 * Regularisation (L2, EWC, online EWC, SI, MAS) is one quadratic anchor
 * penalty whose importance Ω differs; the estimators only build Ω and keep no
 * state of their own: the caller owns every vector (anchor, Ω, SI's path
 * integral) and saves it with its checkpoint. LwF is a distillation loss with
 * its gradient w.r.t. the logits (the caller backpropagates it). GEM projects a
 * gradient. The rehearsal memory is an opaque handle with safetensors
 * export/load.
 *
 * Conventions: gradients are ACCUMULATED (+=) into the caller's vectors, like
 * the heads' backward; a NULL gradient pointer skips the gradient. Every
 * option is checked (negative or non-finite strengths, decay outside [0, 1],
 * temperature <= 0, capacity 0, ...) and fails with CLH_E_INVALID_ARG and a
 * detail naming it; on any error nothing the caller owns has changed.
 */
#ifndef CLHEADS_METHODS_H
#define CLHEADS_METHODS_H

#include <stddef.h>
#include <stdint.h>

#include "safetensors.h"
#include "export.h"
#include "status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- quadratic anchor penalty ------------------------------------------------
 *
 *   penalty = λ/2 · Σ_i Ω_i (θ_i − θ*_i)²,   ∂/∂θ_i = λ Ω_i (θ_i − θ*_i)
 *
 * omega NULL means Ω = 1 (L2). The value is summed in double. Hsu et al. add
 * reg_coef · Σ Ω(θ − θ*)² (no ½): their reg_coef is λ/2, so pass
 * lambda = 2 · reg_coef. EWC (not online) keeps one (θ*, Ω) pair per task and
 * sums the penalties: call this once per pair. lambda >= 0 and finite. */
CLH_API clh_status clh_anchor_penalty(const float *params, const float *anchor, const float *omega,
                              size_t count, double lambda, double *penalty, float *grads);

/* ---- importance estimators (all accumulate into the caller's Ω) -------------- */

/* EWC's diagonal Fisher: fisher_i += scale · g_i², for a gradient g the caller
 * computed (of one sample's or one batch's mean loss, at the labels it chose).
 * Hsu et al.: per sample, at the model's predicted label, scale = 1/N over the
 * N samples of the task (see docs/methods.md). scale >= 0 and finite. */
CLH_API clh_status clh_fisher_accumulate(float *fisher, const float *grads, size_t count, double scale);

/* Online EWC's running Fisher: running_i = gamma · running_i + fisher_i, with
 * gamma in [0, 1] (Hsu et al. use gamma = 1: a plain sum). */
CLH_API clh_status clh_fisher_merge(float *running, const float *fisher, size_t count, double gamma);

/* SI's path integral, after each optimizer step:
 *   w_i −= g_i · (θ_i(after) − θ_i(before))
 * with g the gradient of the loss WITHOUT the penalty (Hsu et al. step with
 * the penalised gradient but integrate the unpenalised one). */
CLH_API clh_status clh_si_accumulate(float *w, const float *unreg_grads, const float *params_before,
                             const float *params_after, size_t count);

/* SI's consolidation at the end of a task:
 *   omega_i += w_i / ((θ_i − θ_prev_i)² + damping),  then w_i = 0
 * with θ_prev the anchor of the previous task (the initial parameters for the
 * first). damping > 0 and finite (Hsu et al.: 0.1). */
CLH_API clh_status clh_si_consolidate(float *omega, float *w, const float *params,
                              const float *params_prev, size_t count, double damping);

/* MAS: the loss mean(z²) over a batch of logits z [batch, cols] (row stride
 * `stride` floats, >= cols) and its gradient 2 z / (batch · cols), written
 * (not accumulated) into grad_logits (same stride), for the caller to
 * backpropagate. This is Hsu et al.'s normaliser (pred.pow(2).mean());
 * Aljundi et al.'s squared L2 norm per sample is cols times it. loss may be
 * NULL. batch, cols > 0. */
CLH_API clh_status clh_mas_output_grad(const float *logits, size_t batch, size_t cols, size_t stride,
                               double *loss, float *grad_logits);

/* MAS's importance: omega_i += scale · |g_i| (Hsu et al.: scale = 1 / number
 * of batches). scale >= 0 and finite. */
CLH_API clh_status clh_mas_accumulate(float *omega, const float *grads, size_t count, double scale);

/* ---- LwF: distillation against recorded outputs of the old heads -------------
 *
 * For each sample b, with p = softmax(z_b / T) over the `cols` student logits
 * and q = softmax(z_old_b / T) over the `old_cols` recorded logits, padded
 * with zeros to `cols` (old_cols <= cols):
 *   CROSS_ENTROPY:  ℓ_b = − Σ_c q_c log p_c          (van de Ven & Tolias 2018)
 *   KL:             ℓ_b = Σ_c q_c (log q_c − log p_c) (same gradient)
 *   loss = weight · [T² if t_squared] · mean_b ℓ_b
 *   ∂loss/∂z_bc = weight · [T² if t_squared] · (p_c − q_c) / (T · batch)
 * TIL: call once per old task with that task's head logits (cols = old_cols).
 * DIL: the one head (cols = old_cols). CIL: the student's logits over every
 * class so far (old then new, cols > old_cols: the new classes get target 0,
 * as van de Ven & Tolias) or over the old classes only (cols = old_cols, as
 * Li & Hoiem's per-task outputs). */
typedef enum clh_lwf_kind { CLH_LWF_CROSS_ENTROPY = 0, CLH_LWF_KL = 1 } clh_lwf_kind;

/* ABI: as clh_optim_config, the struct grows by appending members;
 * struct_size (set by clh_lwf_options_init) is checked by every function
 * that takes the options (CLH_E_INVALID_ARG when 0 or larger than this
 * library's sizeof). */
typedef struct clh_lwf_options {
    size_t struct_size; /* sizeof(clh_lwf_options) of the caller's header */
    clh_lwf_kind kind;
    double temperature; /* > 0; van de Ven & Tolias: 2 */
    double weight;      /* >= 0, multiplies loss and gradient */
    int t_squared;      /* 1: multiply by T² (Hinton; van de Ven & Tolias) */
} clh_lwf_options;

/* struct_size; cross-entropy, T = 2, weight 1, T² on (van de Ven & Tolias). */
CLH_API void clh_lwf_options_init(clh_lwf_options *options);
CLH_API clh_status clh_lwf_options_check(const clh_lwf_options *options);

/* logits [batch, cols] with row stride `stride`; old_logits [batch, old_cols]
 * with row stride old_stride. The gradient (same stride as logits) is
 * accumulated when grad_logits is not NULL; loss may be NULL. batch > 0,
 * 0 < old_cols <= cols. Non-finite logits are CLH_E_INVALID_ARG. */
CLH_API clh_status clh_lwf_loss(const clh_lwf_options *options, const float *logits, size_t batch,
                        size_t cols, size_t stride, const float *old_logits, size_t old_cols,
                        size_t old_stride, double *loss, float *grad_logits);

/* ---- GEM: projection of a gradient -----------------------------------------
 *
 * g [count] and the memory tasks' gradients G [k, count] (row-major). When
 * some ⟨g, g_k⟩ < 0 (summed in double), solves the dual
 *   min_v ½ vᵀ (G Gᵀ + eps·I) v + (G g)ᵀ v   s.t.  v ≥ margin
 * exactly, in double, by enumerating the active sets (the problem has k ≤
 * CLH_GEM_MAX_TASKS variables), and replaces g by Gᵀv + g. margin is GEM's
 * memory_strength (Hsu et al.: reg_coef 0.5; Lopez-Paz & Ranzato: 0.5), eps
 * the regulariser they add to G Gᵀ (both: 1e-3); margin, eps >= 0 and finite.
 * *projected (may be NULL) is 1 when g was changed. When no constraint is
 * violated g is left bit-identical. With eps = 0 and linearly dependent g_k
 * the dual has many solutions but they all give the same g̃ (the primal,
 * min ‖g̃ − g‖² s.t. G g̃ ≥ 0, is strictly convex): one with linearly
 * independent support is returned. Non-finite gradients are
 * CLH_E_INVALID_ARG; so is the (rounding-only) case where no active set meets
 * the optimality conditions. On error g is unchanged. */
#define CLH_GEM_MAX_TASKS 16
CLH_API clh_status clh_gem_project(float *grad, size_t count, const float *memory_grads, size_t k,
                           double margin, double eps, int *projected);

/* ---- rehearsal memory ---------------------------------------------------------
 *
 * A fixed capacity split evenly over the tasks seen, as Hsu et al.'s
 * Naive_Rehearsal: when task number n arrives, quota = capacity / n (floor);
 * each old task keeps the first min(its count, quota) of its items (they were
 * drawn in random order, so this is a random subset), and the new task
 * stores min(its sample count, quota) samples drawn uniformly without
 * replacement (a seeded Fisher–Yates); with more tasks than capacity the
 * quota is 0, as in their code. Items are inputs (or features) of a
 * fixed width, labels and task ids, grouped by task in arrival order.
 * Everything is deterministic given the seed: two splitmix64 streams (the
 * generator of the heads' initialisation), one from state = seed for the
 * selection, one from seed ^ 0x5851F42D4C957F2D for replay batches; an index
 * uniform in [0, m) is x mod m for the first draw x >= 2^64 mod m (no modulo
 * bias). Fisher–Yates step i swaps item i with item i + uniform(m − i). */
typedef struct clh_memory clh_memory;

/* capacity > 0 items of `width` > 0 floats each. */
CLH_API clh_status clh_memory_create(clh_memory **out, size_t capacity, size_t width, uint64_t seed);
CLH_API void clh_memory_free(clh_memory *memory);

CLH_API size_t clh_memory_capacity(const clh_memory *memory);
CLH_API size_t clh_memory_width(const clh_memory *memory);
CLH_API size_t clh_memory_size(const clh_memory *memory);      /* items held */
CLH_API size_t clh_memory_num_tasks(const clh_memory *memory);

/* Adds task `task_id` (new to the memory) from its n > 0 samples: inputs
 * [n, width] with row stride `stride` (>= width) floats, labels [n]. Shrinks
 * the old tasks' shares first (see above). Non-finite inputs are
 * CLH_E_INVALID_ARG. */
CLH_API clh_status clh_memory_add_task(clh_memory *memory, int64_t task_id, const float *inputs,
                               size_t n, size_t stride, const int64_t *labels);

/* The i-th task in arrival order: its id, the index of its first item and its
 * item count. */
CLH_API clh_status clh_memory_task_at(const clh_memory *memory, size_t i, int64_t *task_id,
                              size_t *first, size_t *count);

/* Views of all items (valid until the next add, load or free):
 * inputs [size, width], labels [size], task ids [size]. */
CLH_API const float *clh_memory_inputs(const clh_memory *memory);
CLH_API const int64_t *clh_memory_labels(const clh_memory *memory);
CLH_API const int64_t *clh_memory_task_ids(const clh_memory *memory);

/* A replay batch of `batch` (<= size) distinct items drawn uniformly from the
 * whole memory by the memory's own generator (advanced by each call, saved
 * with it): their indices into the memory (indices may be NULL) and copies
 * of their inputs [batch, width] (contiguous), labels and task ids (each may
 * be NULL). */
CLH_API clh_status clh_memory_sample(clh_memory *memory, size_t batch, size_t *indices, float *inputs,
                             int64_t *labels, int64_t *task_ids);

/* Safetensors tensors under "<prefix>." (prefix e.g. "memory"):
 *   <prefix>.inputs      F32 [size, width]
 *   <prefix>.labels      I64 [size]
 *   <prefix>.task_ids    I64 [size]
 *   <prefix>.tasks       I64 [num_tasks]   task ids in arrival order
 *   <prefix>.task_counts I64 [num_tasks]   items each
 *   <prefix>.rng         U64 [2]           selection and sampling generators
 * and metadata <prefix>.format "1", <prefix>.capacity, <prefix>.width,
 * <prefix>.seed. Tensor data points into the memory (valid until its next
 * add, sample, load or free). */
typedef struct clh_memory_export clh_memory_export;
CLH_API clh_status clh_memory_export_create(const clh_memory *memory, const char *prefix,
                                    clh_memory_export **out);
CLH_API const clh_st_tensor *clh_memory_export_tensors(const clh_memory_export *exported, size_t *count);
CLH_API const clh_st_meta *clh_memory_export_meta(const clh_memory_export *exported, size_t *count);
CLH_API void clh_memory_export_free(clh_memory_export *exported);

/* Saves atomically (the safetensors writer). */
CLH_API clh_status clh_memory_save(const clh_memory *memory, const char *prefix, const char *path);

/* Builds a new memory from the tensors under "<prefix>." of a parsed file,
 * checking every dtype, shape and size, that the task counts add up to the
 * items and fit the capacity's quota, that the items' task ids follow the
 * task order, that task ids are distinct and inputs finite (CLH_E_FORMAT or
 * CLH_E_MISMATCH naming the tensor). Tensors outside the prefix are ignored;
 * an unknown tensor under it is an error. *out is written only on success. */
CLH_API clh_status clh_memory_load_file(clh_memory **out, const clh_st_file *file, const char *prefix);
CLH_API clh_status clh_memory_load(clh_memory **out, const char *path, const char *prefix);

#ifdef __cplusplus
}
#endif
#endif
