/* `clheads run`: the configuration, the learner (backbone + heads +
 * optimizers + shuffle state) and the results it produces. */
#ifndef CLI_RUN_H
#define CLI_RUN_H

#include <stdint.h>
#include <stdio.h>

#include "clheads.h"
#include "clheads/optim.h"
#include "clheads/analytic.h"
#include "clheads/safetensors.h"
#include "dataset.h"
#include "mlp.h"
#include "progress.h"
#include "cli_rng.h"
#include "parallel.h"
#include "method.h"

/* Which options the user gave explicitly (a resumed run checks them against
 * the checkpoint). */
enum {
    CLI_SET_PARADIGM = 1 << 0,
    CLI_SET_DATASET = 1 << 1,
    CLI_SET_TASKS = 1 << 2,
    CLI_SET_OPTIMIZER = 1 << 3,
    CLI_SET_LR = 1 << 4,
    CLI_SET_MOMENTUM = 1 << 5,
    CLI_SET_WEIGHT_DECAY = 1 << 6,
    CLI_SET_BATCH = 1 << 7,
    CLI_SET_EPOCHS = 1 << 8,
    CLI_SET_SEED = 1 << 9,
    CLI_SET_FREEZE = 1 << 10,
    CLI_SET_PAD32 = 1 << 11,
    CLI_SET_METHOD = 1 << 12,
    CLI_SET_EXPANSION = 1 << 13,
    CLI_SET_RIDGE_LAMBDA = 1 << 14,
    CLI_SET_LDA_SHRINKAGE = 1 << 15,
    CLI_SET_NCM_NORMALIZE = 1 << 16,
    CLI_SET_STATS_PRECISION = 1 << 17
};

typedef struct cli_run_config {
    clh_paradigm paradigm;     /* TIL, CIL, DIL: tasks in sequence; MTL, STL: joint */
    cli_dataset_kind dataset;
    const char *data_path;     /* --data; NULL: the kind's default (dataset.h) */
    const char *train_path;    /* --dataset features: --train FILE and --test FILE */
    const char *test_path;
    int pad32;                 /* --pad32: 28x28 images framed to 32x32 */
    int64_t input_dim;         /* inputs per image (784, or 1024 padded), set once loaded */
    int64_t num_tasks;
    clh_optim_config optim;
    int64_t batch_size;
    int64_t epochs;            /* per task (joint: over the union of all tasks) */
    uint64_t seed;
    int threads;               /* 0: the library's default */
    int freeze_backbone;
    const char *out_dir;
    const char *resume_dir;
    int quiet;
    int force;                 /* --force: replace another run in out_dir */
    int64_t stop_after;        /* stop after this many tasks (0: never); simulates an interruption */
    cli_method method;         /* --method (method.h) */
    cli_method_options mopt;   /* the gradient methods' options */
    /* The analytic methods (method_analytic.c): */
    int64_t expansion;         /* random ReLU features of this width (0: the raw inputs) */
    double ridge_lambda;       /* ridge: λ */
    double lda_shrinkage;      /* slda: ε */
    int ncm_normalize;         /* ncm: L2-normalised features and means */
    clh_dtype stats_precision; /* ridge, slda: CLH_DT_F64 or CLH_DT_F32 */
    unsigned set;              /* CLI_SET_* flags */
} cli_run_config;

/* Bounds of the options, shared by the option parser and the checkpoint
 * reader of --resume (a checkpoint is outside input too). */
#define CLI_MAX_TASKS 100
#define CLI_MAX_BATCH 65536
#define CLI_MAX_EPOCHS 100000
#define CLI_MAX_LR 1e6
#define CLI_MAX_WEIGHT_DECAY 1e6
#define CLI_MAX_EXPANSION 65536
#define CLI_MAX_RIDGE_LAMBDA 1e12
#define CLI_DEFAULT_EXPANSION 4096
/* Seeds are recorded as JSON integers (signed 64-bit): 0..INT64_MAX. */
#define CLI_MAX_SEED ((uint64_t)INT64_MAX)

/* Longest --out/--resume directory name: leaves room for "/<file name>" in
 * the 4096-byte path buffers. */
#define CLI_MAX_DIR_LEN 4000

#define CLI_HIDDEN 400
#define CLI_EVAL_BATCH 512

/* 1 for the joint references (all tasks at once). */
static inline int cli_is_joint(clh_paradigm p) { return p == CLH_MTL || p == CLH_STL; }
/* 1 for a run with one phase over all tasks: the joint references and
 * --method offline. */
static inline int cli_run_joint(const cli_run_config *c) {
    return cli_is_joint(c->paradigm) || c->method == CLI_METHOD_OFFLINE;
}

typedef struct cli_results {
    int64_t tasks;       /* columns */
    int64_t rows;        /* evaluation points: tasks (sequential) or 1 (joint) */
    int64_t rows_done;
    double *acc;         /* [rows * tasks], NaN where not evaluated */
    double *acc_aware;   /* CIL only (task-aware accuracy), else NULL */
    double *loss;        /* [rows]: mean training loss of the last epoch */
} cli_results;

int cli_results_init(cli_results *results, int64_t tasks, int64_t rows, int with_aware);
void cli_results_free(cli_results *results);

typedef struct cli_analytic_run cli_analytic_run;

typedef struct cli_learner {
    const cli_run_config *config;
    const cli_images *images;
    const cli_tasks *tasks;
    cli_mlp mlp;
    clh_heads *heads;
    clh_optim *opt_heads;
    clh_optim *opt_backbone;
    cli_rng shuffle;
    int64_t max_width;  /* widest logits any call writes */
    float *x, *logits, *dlogits, *dfeature;
    int64_t *labels, *task_ids;
    void *workspace;
    size_t workspace_bytes;
    /* Data-parallel runs (parallel.h): the processes, or NULL for one; the
     * vector of one step's sum (backbone and heads gradients, the loss). */
    cli_parallel *par;
    float *step_sum;
    size_t step_sum_len;
    int64_t feature_dim;        /* the heads' in_features: the backbone's, the expansion's or
                                 * the raw inputs' width */
    cli_analytic_run *analytic; /* the analytic methods' state, else NULL */
    int backbone_frozen; /* --freeze-backbone, or --method fix after the first task */
    cli_method_state ms; /* the method's state between tasks (method_state.c) */
} cli_learner;

/* A digest of everything that must be identical on every process of a
 * data-parallel run: the parameters of backbone and heads, the methods'
 * anchors, importances and memory, and the shuffle stream's state. */
uint64_t cli_learner_digest(const cli_learner *learner);

/* In a data-parallel run, replaces the gradients of the heads (and of the
 * backbone when `backbone`) and extra[0..extra_count) by their sums over the
 * processes, in one vector, and marks a head as having a gradient when it
 * has one on any process. Every process must call it with the same
 * arguments' sizes. Alone: nothing. 0, or 1 with a message naming `what`. */
int cli_learner_sum_grads(cli_learner *learner, int backbone, float *extra, size_t extra_count,
                          const char *what, char *err, size_t err_len);

/* Creates the learner for a fresh run (backbone and heads initialised from the
 * seed, no heads set up yet for TIL/CIL). err gets a message on failure. */
int cli_learner_init(cli_learner *learner, const cli_run_config *config,
                     const cli_images *images, const cli_tasks *tasks, char *err, size_t err_len);
void cli_learner_free(cli_learner *learner);

/* Trains phase `row` (task `row` in a sequential run, everything in a joint
 * one) and evaluates into results row `row`. */
int cli_train_phase(cli_learner *learner, int64_t row, cli_results *results,
                    cli_progress *progress, char *err, size_t err_len);

/* 0 when the heads take the inputs (or their expansion) directly: the
 * analytic methods, and fine-tuning the user's own features. */
static inline int cli_learner_has_backbone(const cli_learner *learner) {
    return learner->mlp.params != NULL;
}
/* Accuracy on task tau's test data (train_loop.c). */
int cli_evaluate_task(cli_learner *learner, int64_t tau, double *agnostic, double *aware,
                      char *err, size_t err_len);
/* The label a sample is trained and scored with, and the task id a call
 * over one task's batch takes (train_loop.c). */
int64_t cli_sample_label(const cli_learner *learner, int64_t task, int64_t image);
int64_t cli_call_task_id(clh_paradigm p, int64_t task);

/* ---- the analytic methods (method_analytic.c) ------------------------------
 * No backbone is trained: per task the inputs (expanded by a seeded random
 * ReLU projection of width config->expansion, or raw) are added to the
 * statistics of include/clheads/analytic.h, the heads are solved from them,
 * and every task seen is evaluated. A checkpoint carries heads, statistics
 * and the expansion's (seed, in, width). */
int cli_analytic_init(cli_learner *learner, char *err, size_t err_len);
void cli_analytic_free(cli_analytic_run *run);
/* The features of test samples [begin, begin + batch) of task tau (counted
 * among the task's test images this process holds: all of them alone), whose
 * inputs are in x [batch, input_dim]: the expansion of x, or x itself. The
 * features do not change between evaluations, so the expansion of a task's
 * test set is kept once computed (within a memory budget). NULL on failure. */
const float *cli_analytic_test_features(cli_learner *learner, int64_t tau, int64_t begin,
                                        int64_t batch, const float *x);
int cli_analytic_phase(cli_learner *learner, int64_t row, cli_results *results,
                       cli_progress *progress, char *err, size_t err_len);
/* The time spent in expansion, statistics, solves and evaluation so far
 * (this process: a resumed run counts its own phases). */
void cli_analytic_print_times(const cli_learner *learner, FILE *out);
/* The statistics and expansion as checkpoint tensors (free with
 * clh_analytic_export_free). */
int cli_analytic_export(const cli_learner *learner, clh_analytic_export **out, char *err,
                        size_t err_len);
/* Replaces the learner's statistics with the checkpoint's, after checking
 * that they are this run's (method, options, tasks, expansion). */
int cli_analytic_restore(cli_learner *learner, const clh_st_file *file, int64_t phases,
                         char *err, size_t err_len);

/* Checkpoint of everything a resume needs, in DIR/checkpoint.safetensors
 * (written atomically). run_state.c. */
int cli_state_save(const cli_learner *learner, const cli_results *results, const char *dir,
                   char *err, size_t err_len);
/* Reads DIR/checkpoint.safetensors: checks the options the user set against
 * it and fills in the rest of *config (run_state.c: cli_state_read_config),
 * then restores learner and results (cli_state_restore). */
int cli_state_read_config(const char *dir, cli_run_config *config, char *err, size_t err_len);
int cli_state_restore(cli_learner *learner, cli_results *results, const char *dir, char *err,
                      size_t err_len);
/* The same on a parsed checkpoint (dir only names it in messages); the fuzz
 * target of the resume path calls these. */
int cli_state_config_from(const clh_st_file *file, const char *dir, cli_run_config *config,
                          char *err, size_t err_len);
int cli_state_restore_from(cli_learner *learner, cli_results *results, const clh_st_file *file,
                           const char *dir, char *err, size_t err_len);

/* Checks of the run state read back on resume, as strict as the options
 * (run_state_check.c). The results after `phases` completed phases: for a
 * completed row every accuracy of a task seen by then finite in [0, 1] and
 * the others NaN (not evaluated), its loss finite and >= 0 (NaN when it had
 * no epochs); every later row all NaN. Returns 0, or 1 naming the cell. */
int cli_state_check_results(const cli_results *results, int64_t phases, int joint,
                            int has_epochs, char *err, size_t err_len);
/* Every value finite; else 1 naming the tensor and index. */
int cli_state_check_finite(const char *name, const float *values, size_t count, char *err,
                           size_t err_len);

#endif
