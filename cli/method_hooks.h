/* The hooks of --method in the training loop (train_loop.c calls them; see
 * method.h for the state). Each returns 0, or 1 with a message in err. */
#ifndef CLI_METHOD_HOOKS_H
#define CLI_METHOD_HOOKS_H

#include "run.h"

/* method_state.c: lifecycle and the full-layout vectors. */
int cli_method_init(cli_learner *learner, char *err, size_t err_len);
void cli_method_free(cli_learner *learner);
/* Re-lays out every full vector for the heads' current rows (after a task's
 * set-up); new rows get `fill` from the current parameters (anchors,
 * reference points) or 0 (importances, path integrals). */
int cli_method_grow(cli_learner *learner, char *err, size_t err_len);
/* The current parameters in the full layout. */
void cli_method_full_params(cli_learner *learner, float *out);
void cli_method_full_grads(cli_learner *learner, float *out);
/* Writes a full-layout gradient back into the backbone's and heads' grads. */
void cli_method_set_grads(cli_learner *learner, const float *full);
/* Marks every head as having a gradient (a penalty or a projection wrote
 * into all of them; torch's .grad is then not None). */
void cli_method_all_heads_have_grad(cli_learner *learner);
/* First row of task `task`'s head in the heads' flat layout. */
int64_t cli_method_head_row(const cli_learner *learner, int64_t task);

/* Checkpoint: tensors under method.* and memory.*, metadata run.method*. */
struct cli_extras;
int cli_method_state_save(const cli_learner *learner, struct cli_extras *extras, char *err,
                          size_t err_len);
int cli_method_state_restore(cli_learner *learner, const clh_st_file *file, int64_t phases,
                             char *err, size_t err_len);

/* The method and its options from a checkpoint's metadata, checked against
 * those given (run_state.c's cli_state_config_from calls it). */
int cli_method_config_from(const clh_st_file *file, const char *dir, cli_run_config *config,
                           clh_paradigm paradigm, int freeze, char *err, size_t err_len);

/* Start and end of a phase (row: the task). */
int cli_method_phase_begin(cli_learner *learner, int64_t row, char *err, size_t err_len);
int cli_method_phase_end(cli_learner *learner, int64_t row, char *err, size_t err_len);

/* After the batch's backward, before the optimizer steps: SI's record of the
 * unpenalised gradient, the anchor penalty (added to *loss), GEM's
 * projection. Then after the steps (SI's path integral). */
int cli_method_before_step(cli_learner *learner, int64_t row, float *loss, char *err,
                           size_t err_len);
int cli_method_after_step(cli_learner *learner, char *err, size_t err_len);

/* method_reg.c */
int cli_reg_penalty(cli_learner *learner, double *value, char *err, size_t err_len);
int cli_reg_consolidate(cli_learner *learner, int64_t row, char *err, size_t err_len);

/* method_replay.c: the memory items that join task row's training set
 * (replicated as Hsu et al.: max(n_row / capacity, 1) times), as pairs
 * (task, -1 - memory index). */
int64_t cli_replay_items(const cli_learner *learner, int64_t row);
void cli_replay_pairs(const cli_learner *learner, int64_t row, int64_t *pair_task,
                      int64_t *pair_image);
int cli_replay_store(cli_learner *learner, int64_t row, char *err, size_t err_len);
int cli_gem_project_step(cli_learner *learner, int64_t row, char *err, size_t err_len);

/* method_lwf.c: 1/t, the weight of the current task's loss (1 before any
 * old model); the distillation's gradient added into d(feature) and the
 * heads' grads, its value into *loss, over the batch's `batch` samples of a
 * global batch of `global` (a data-parallel run; else batch == global). */
double cli_lwf_current_weight(const cli_learner *learner, int64_t row);
int cli_lwf_distill(cli_learner *learner, const float *feature, int64_t batch, int64_t global,
                    int64_t row, float *dfeature, float *loss, char *err, size_t err_len);
int cli_lwf_snapshot(cli_learner *learner, char *err, size_t err_len);

/* method_backbone.c: Fix and Independent. */
int cli_backbone_phase_begin(cli_learner *learner, int64_t row, char *err, size_t err_len);
void cli_backbone_phase_end(cli_learner *learner, int64_t row);
/* Independent: puts task tau's backbone in place for its evaluation (and
 * the current one back with tau = -1). */
void cli_backbone_select(cli_learner *learner, int64_t tau, int64_t current);

int cli_method_lib_fail(char *err, size_t err_len, const char *what, clh_status status);

#endif
