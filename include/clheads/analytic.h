/* clheads — exemplar-free heads solved from streaming statistics: ridge
 * (analytic) heads, nearest class mean and streaming LDA, and a seeded random
 * feature expansion.
 *
 * A clh_analytic handle accumulates sums over the samples it is shown, one
 * sample or one batch at a time, task after task; nothing else of a sample is
 * kept. A solve turns the sums into ordinary linear heads and writes them
 * into a clh_heads handle's weights and biases, so forward, masking, predict
 * and checkpoints work unchanged. Because every statistic is a sum, the
 * result does not depend on how the data was cut into batches or in which
 * order the batches came (up to float rounding): solving after task t equals
 * solving once on all the data of tasks 0..t.
 *
 * The three methods (h: a feature row of width d, y: its class):
 *   ridge  (ACIL, Zhuang et al. 2022; RanPAC, McDonnell et al. 2023):
 *          G = Σ h hᵀ, Q = Σ h onehot(y)ᵀ, W = (G + λI)⁻¹ Q, W stored as the
 *          heads' [classes, d] rows. Bias: b = 0 (fit_bias = 0, as ACIL and
 *          RanPAC), or fit_bias = 1: a constant-1 feature is appended, so the
 *          system is (d+1)-dimensional, and λ does not penalise its weight
 *          (the intercept of sklearn's Ridge(fit_intercept=True)); its
 *          weight becomes the head's bias. Either way the head's forward
 *          h·Wᵀ + b is exactly the solved ridge predictor.
 *   ncm    (iCaRL's nearest class mean, SimpleCIL's prototypes): μ_c = the
 *          class mean, W_c = μ_c, b_c = −½‖μ_c‖², so argmax of the logits is
 *          argmin ‖h − μ_c‖. normalize = 1 (iCaRL): features are
 *          L2-normalised before averaging (as torch F.normalize, eps 1e-12)
 *          and W_c is the normalised mean, b_c = 0: the logits are
 *          ‖h‖·cos(h, μ_c), whose argmax is iCaRL's nearest normalised mean
 *          for the raw feature h the heads are given.
 *   lda    (streaming LDA, Hayes & Kanan 2020): class means μ_c and one
 *          shared within-class covariance Σ = (1/N) Σ_i (h_i − μ_yi)(h_i −
 *          μ_yi)ᵀ (the pooled maximum-likelihood estimate); Λ = ((1−ε)Σ +
 *          εI)⁻¹, W_c = Λμ_c, b_c = −½ μ_cᵀΛμ_c. Σ is kept as a scatter
 *          matrix merged batch by batch with Chan et al.'s pairwise update,
 *          which is exact and order-independent. (Avalanche's deep_slda
 *          updates per sample with the factor N/(N+1) of the global count
 *          where the exact update has n_c/(n_c+1) of the class count, so its
 *          Σ depends on the order of the samples; ours is the batch formula.)
 *
 * Paradigms (labels as in loss.h):
 *   CIL    one statistic over all tasks; classes are appended as tasks are
 *          set up (ridge: the columns of Q grow, G is shared); labels are
 *          global; the task id of an update is ignored. A solve writes every
 *          head: the ridge solution on all classes seen so far.
 *   DIL, STL  one head shared by every task; labels in [0, C); the task id
 *          of an update is ignored.
 *   TIL, MTL  one head per task; labels local to the task; the task id of an
 *          update is required. Class sums are per task by construction. The
 *          Gram / scatter matrix is chosen by `scope`:
 *            CLH_SCOPE_PER_TASK (ridge's default): each task has its own G,
 *              so head t is exactly the ridge regression of task t's data
 *              alone, as training that head on its task would be (d² per
 *              task of memory).
 *            CLH_SCOPE_SHARED (LDA's default): one matrix over all tasks.
 *              For LDA this is the pooled within-class covariance, still the
 *              exact LDA model with a shared Σ. For ridge it makes every
 *              other task's samples negatives (target 0) of task t's classes:
 *              head t is then the CIL solution's rows of task t, not task t's
 *              own regression.
 *
 * Precision (`precision`, ridge and LDA): the d×d matrix is accumulated in
 * float64 (CLH_DT_F64, the default: dsyrk) or float32 (CLH_DT_F32: ssyrk,
 * about twice as fast); class sums are always float64, and every solve is
 * as accurate as a float64 Cholesky (cholesky.h). Measured (docs/analytic.md,
 * tests/test_analytic_stream.c, bench/bench_analytic --mode precision):
 *   LDA: the scatter is centred before it is accumulated, so float32 stays
 *     within 1.3e-7 (relative) of the one-shot solution even one sample at
 *     a time.
 *   ridge: G of uncentred positive features is ill-conditioned, and float32
 *     accumulation moves the weights by about 6e-4 (relative): 5.8e-4 for
 *     60000 random ReLU features of width 4096 in batches of 2000 (the same
 *     test accuracy and the same prediction on 10000 of 10000 test images,
 *     a third of float64's statistics time), 3e-4 to 6e-4 for 1600 samples
 *     of width 20 streamed one at a time (5e-5 in batches of 64). That is
 *     more than the 1e-4 the equivalence tests ask; float64 agrees with the
 *     one-shot solution to float rounding in every case.
 * So float64 is the default, and float32 an option where predictions rather
 * than weights matter and the statistics must be fast.
 *
 * Thread safety: set-up and update modify the handle and need exclusive
 * access; solve and export only read it and may run concurrently with each
 * other (a solve writes the heads, which then need exclusive access).
 *
 * Errors: every function returns a clh_status and records a detail
 * (clh_last_error). On error the statistics are exactly as before the call
 * (an update checks every label and every feature value, and allocates what
 * it needs, before it adds anything), and a solve leaves the heads untouched.
 */
#ifndef CLHEADS_ANALYTIC_H
#define CLHEADS_ANALYTIC_H

#include <stddef.h>
#include <stdint.h>

#include "heads.h"
#include "safetensors.h"
#include "export.h"
#include "status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum clh_analytic_method {
    CLH_ANALYTIC_RIDGE = 0,
    CLH_ANALYTIC_NCM = 1,
    CLH_ANALYTIC_LDA = 2
} clh_analytic_method;

/* "ridge", "ncm", "slda"; NULL outside the enum. */
CLH_API const char *clh_analytic_method_name(clh_analytic_method method);
/* Parses "ridge", "ncm", "slda" (also "lda"), any case. CLH_E_INVALID_ARG otherwise. */
CLH_API clh_status clh_analytic_method_parse(const char *name, clh_analytic_method *out);

typedef enum clh_analytic_scope {
    CLH_SCOPE_DEFAULT = 0,  /* the method's default (ridge: per task, LDA: shared) */
    CLH_SCOPE_SHARED = 1,   /* one Gram / scatter matrix for all tasks */
    CLH_SCOPE_PER_TASK = 2  /* TIL and MTL only: one per task */
} clh_analytic_scope;

/* ABI: the struct grows by appending members. struct_size, set by
 * clh_analytic_config_init, tells the library which members the caller
 * knows; every function that takes or fills a config checks it
 * (CLH_E_INVALID_ARG when it is 0 or larger than this library's sizeof). So
 * call clh_analytic_config_init before anything else, also on a config that
 * clh_analytic_get_config will fill. */
typedef struct clh_analytic_config {
    size_t struct_size;   /* sizeof(clh_analytic_config) of the caller's header */
    clh_analytic_method method;
    double lambda;        /* ridge: λ >= 0 (default 1) */
    double shrinkage;     /* lda: ε in [0, 1] (default 1e-4, Avalanche's) */
    int fit_bias;         /* ridge: 0 (default) b = 0; 1 an unpenalised intercept */
    int normalize;        /* ncm: 1 = L2-normalised features and means (iCaRL); default 0 */
    clh_dtype precision;  /* ridge, lda: CLH_DT_F64 (default) or CLH_DT_F32 */
    clh_analytic_scope scope; /* TIL, MTL: see above */
} clh_analytic_config;

/* struct_size and the defaults above for a method. */
CLH_API void clh_analytic_config_init(clh_analytic_config *config, clh_analytic_method method);
/* CLH_E_INVALID_ARG naming the field that is out of range or does not apply
 * to the method (normalize for ridge, fit_bias for ncm, ...). */
CLH_API clh_status clh_analytic_config_check(const clh_analytic_config *config);

typedef struct clh_analytic clh_analytic;

/* A handle for features of width in_features (> 0) in a paradigm. The
 * shared matrix (ridge, LDA) is allocated here: (d+fit_bias)² elements of
 * the chosen precision. */
CLH_API clh_status clh_analytic_create(clh_analytic **out, const clh_analytic_config *config,
                               clh_paradigm paradigm, int64_t in_features);
/* NULL is accepted and ignored. */
CLH_API void clh_analytic_free(clh_analytic *analytic);
/* The detail of the last failure on this thread if it concerned `analytic`, else "". */
CLH_API const char *clh_analytic_last_error(const clh_analytic *analytic);

/* ---- set-up: the same calls and rules as the heads' ---------------------- */

/* TIL, CIL, MTL: adds task_id with num_classes classes (ids >= 0, any
 * order); a repeat with the same count is a no-op, with another count
 * CLH_E_TASK_CONFLICT. Per-task scope allocates that task's matrix here. */
CLH_API clh_status clh_analytic_setup_task(clh_analytic *analytic, int64_t task_id, int64_t num_classes);
/* DIL, STL: the one head. */
CLH_API clh_status clh_analytic_setup_single(clh_analytic *analytic, int64_t num_classes);
/* Sets up every task of `heads` (same paradigm and in_features) that is not
 * set up yet, in the heads' order, so the two stay aligned. Nothing is added
 * if any task conflicts. */
CLH_API clh_status clh_analytic_setup_like(clh_analytic *analytic, const clh_heads *heads);

/* ---- streaming ----------------------------------------------------------- */

/* Adds a batch: x [batch, in_features] float32 row-major, labels [batch]
 * (TIL/MTL: local to task_id; CIL: global; DIL/STL: in [0, C)). batch may be
 * 0 and 1 (one sample). task_id: TIL/MTL a set-up task; ignored otherwise
 * (CLH_NO_TASK recommended). Errors, with nothing added: CLH_E_LABEL (label
 * out of range, naming the sample), CLH_E_INVALID_ARG (a NaN or infinite
 * feature, naming sample and column; batch < 0), CLH_E_UNKNOWN_TASK,
 * CLH_E_PARADIGM, CLH_E_NOT_SETUP, CLH_E_NOMEM. */
CLH_API clh_status clh_analytic_update(clh_analytic *analytic, const float *x, int64_t batch,
                               int64_t task_id, const int64_t *labels);

/* ---- solving into heads --------------------------------------------------- */

/* Solves and writes weights and biases of `heads`, which must have the same
 * paradigm and in_features and hold the solved tasks with the same class
 * counts (CIL: at the same offsets), else CLH_E_MISMATCH naming the first
 * difference. task_id: TIL/MTL one task's head, or CLH_NO_TASK for all;
 * CIL, DIL, STL ignore it (all heads, one factorisation). Gradients, frozen
 * and masked flags are not touched (a solve is not an optimizer step: a
 * frozen head is written too; solve one task to keep the others).
 * Errors, with the heads unchanged: CLH_E_SINGULAR (G + λI or (1−ε)Σ + εI is
 * not positive definite: e.g. λ = 0 with fewer samples than features),
 * CLH_E_INVALID_ARG (NCM or LDA: a class with no samples yet; LDA: no samples
 * in the scope), CLH_E_NOMEM. */
CLH_API clh_status clh_analytic_solve(const clh_analytic *analytic, clh_heads *heads, int64_t task_id);

/* ---- queries and solve-time parameters ----------------------------------- */

CLH_API clh_status clh_analytic_get_config(const clh_analytic *analytic, clh_analytic_config *config);
/* λ and ε only enter the solve, so they may change at any time (λ >= 0, ε in [0, 1]). */
CLH_API clh_status clh_analytic_set_lambda(clh_analytic *analytic, double lambda);
CLH_API clh_status clh_analytic_set_shrinkage(clh_analytic *analytic, double shrinkage);
CLH_API clh_paradigm clh_analytic_paradigm(const clh_analytic *analytic);
CLH_API int64_t clh_analytic_in_features(const clh_analytic *analytic);
CLH_API size_t clh_analytic_num_tasks(const clh_analytic *analytic);
/* Task ids in set-up order (NULL when none); valid until the next set-up. */
CLH_API const int64_t *clh_analytic_task_ids(const clh_analytic *analytic);
/* Samples added so far: of one task's classes (TIL/MTL/CIL by task id; DIL
 * and STL: CLH_NO_TASK or 0 for all). */
CLH_API clh_status clh_analytic_task_samples(const clh_analytic *analytic, int64_t task_id,
                                     int64_t *samples);

/* ---- saving and loading the statistics ----------------------------------- */

/* The statistics as safetensors tensors, all named "analytic.*", so they can
 * go into a heads checkpoint (clh_heads_save_ex) and be read back from it:
 *   analytic.sums            F64 [rows, d]  class sums (normalised features for ncm+normalize)
 *   analytic.counts          I64 [rows]     samples per class
 *   analytic.params          F64 [2]        λ, ε (binary: no locale involved)
 *   ridge, lda: analytic.gram (shared) or analytic.tasks.<id>.gram (per task)
 *                            F32|F64 [m, m] m = d + fit_bias; the full
 *                            symmetric matrix (ridge: G; lda: the scatter)
 *               analytic.gram_samples I64 [matrices]  samples in each
 *   with an expansion:       analytic.expansion U64 [3] = seed, in, width
 * rows in set-up order (the heads' bank order), and "__metadata__":
 *   analytic.format "1", analytic.method, analytic.paradigm,
 *   analytic.in_features, analytic.task_ids, analytic.num_classes,
 *   analytic.fit_bias, analytic.normalize, analytic.precision ("F32"/"F64"),
 *   analytic.scope ("shared"/"per_task"/"none").
 * expansion may be NULL (the tool passes the expansion its features come
 * from, so predict can rebuild it). The export owns copies of the matrices
 * (valid until clh_analytic_export_free). */
typedef struct clh_analytic_export clh_analytic_export;
typedef struct clh_random_features clh_random_features;

CLH_API clh_status clh_analytic_export_create(const clh_analytic *analytic,
                                      const clh_random_features *expansion,
                                      clh_analytic_export **out);
CLH_API const clh_st_tensor *clh_analytic_export_tensors(const clh_analytic_export *exported,
                                                 size_t *count);
CLH_API const clh_st_meta *clh_analytic_export_meta(const clh_analytic_export *exported, size_t *count);
CLH_API void clh_analytic_export_free(clh_analytic_export *exported);

/* Saves atomically to path (statistics alone; see above for a checkpoint). */
CLH_API clh_status clh_analytic_save(const clh_analytic *analytic, const clh_random_features *expansion,
                             const char *path);

/* Builds a new handle from a parsed file's "analytic." tensors and metadata
 * (other tensors are ignored). Every tensor is checked: dtype exactly as
 * written, shape against the metadata, values finite, counts >= 0 and a zero
 * sum for a class without samples, each matrix symmetric with a
 * non-negative diagonal, gram_samples equal to its classes' counts; any
 * unknown "analytic." tensor is CLH_E_MISMATCH. CLH_E_FORMAT for bad
 * metadata. On error *out is unchanged. */
CLH_API clh_status clh_analytic_load_file(clh_analytic **out, const clh_st_file *file);
CLH_API clh_status clh_analytic_load(clh_analytic **out, const char *path);

/* ---- random feature expansion --------------------------------------------- */

/* A fixed projection P [width, in] followed by ReLU: out = max(x·Pᵀ, 0)
 * (NaN stays NaN, so a bad feature is caught by the update), the multiply
 * through the library's dispatch, or, for a batch whose inputs are at most
 * one third nonzero (images on a blank background: MNIST's are 19%
 * nonzero), as sums of the rows of Pᵀ at each input's nonzeros, a fifth of
 * the arithmetic there; the two agree to float rounding. The handle keeps P
 * and a packed copy of Pᵀ for the latter (2 · width · in floats). P's
 * entries are N(0, 1/in), drawn from
 * (seed, in, width) alone, so a checkpoint that records the three rebuilds P
 * bit for bit:
 *   splitmix64 (src/rng.h) from state = seed ^ 0x6A09E667F3BCC909;
 *   Box–Muller on pairs of outputs: u1 = ((next >> 11) + 1) · 2⁻⁵³ in (0, 1],
 *   u2 = (next >> 11) · 2⁻⁵³, r = sqrt(−2 ln u1), z0 = r cos(2π u2),
 *   z1 = r sin(2π u2), in double; P row-major takes z0, z1, z0, z1, ...
 *   (an odd count drops the last z1); entry = (float)(z · (1 / sqrt(in))).
 * scripts/gen_analytic_reference.py reproduces it in numpy. */
CLH_API clh_status clh_random_features_create(clh_random_features **out, uint64_t seed,
                                      int64_t in_features, int64_t width);
CLH_API void clh_random_features_free(clh_random_features *expansion);
/* out [batch, width] = ReLU(x [batch, in] · Pᵀ). batch may be 0. */
CLH_API clh_status clh_random_features_apply(const clh_random_features *expansion, const float *x,
                                     int64_t batch, float *out);
/* P [width, in] row-major. */
CLH_API const float *clh_random_features_weight(const clh_random_features *expansion);
CLH_API int64_t clh_random_features_in(const clh_random_features *expansion);
CLH_API int64_t clh_random_features_width(const clh_random_features *expansion);
CLH_API uint64_t clh_random_features_seed(const clh_random_features *expansion);
/* The expansion recorded in a file by clh_analytic_export_create: *out is a
 * new expansion, or NULL (and CLH_OK) when the file records none. A
 * malformed record is CLH_E_MISMATCH / CLH_E_FORMAT. */
CLH_API clh_status clh_random_features_load_file(clh_random_features **out, const clh_st_file *file);

#ifdef __cplusplus
}
#endif
#endif
