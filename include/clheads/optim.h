/* clheads — torch.optim's SGD, Adam, AdamW and Adagrad over flat parameter
 * vectors.
 *
 * The update rules, and the order of their floating-point operations, are
 * those of PyTorch 1.13's single-tensor (foreach=False) implementations, so a
 * run matches torch.optim to float rounding:
 *   SGD:   d = g + wd*p; momentum: buf = d on a segment's first step, then
 *          buf = momentum*buf + (1-dampening)*d; d = nesterov ? d + momentum*buf
 *          : buf; p -= lr*d.
 *   Adam:  t += 1; g += wd*p (L2); m = b1*m + (1-b1)*g; v = b2*v + (1-b2)*g*g;
 *          amsgrad: vmax = max(vmax, v), used instead of v;
 *          p -= lr/(1-b1^t) * m / (sqrt(v)/sqrt(1-b2^t) + eps).
 *   AdamW: as Adam without the L2 term, after p *= 1 - lr*wd (decoupled).
 *   Adagrad: t += 1; g += wd*p; clr = lr / (1 + (t-1)*lr_decay);
 *          sum += g*g (sum starts at initial_accumulator_value);
 *          p -= clr * g / (sqrt(sum) + eps).
 *
 * One optimizer serves one parameter set, fixed by its first step:
 *   heads:  clh_optim_step_heads() steps a clh_heads handle's flat parameters
 *           (weights [rows, in] in set-up order, then biases [rows]). Each task
 *           is a segment, like the weight and bias tensors of one nn.Linear in
 *           torch: its own step count (a head added later starts at step 0 while
 *           old heads continue, as with optimizer.add_param_group). When the
 *           bank has grown since the last step the state grows with it: old
 *           tasks keep their moments and momentum buffers, new rows start at
 *           zero. A task whose head never received a gradient
 *           (clh_heads_task_has_grad() == 0) is skipped, like a torch parameter
 *           whose .grad is None; after its first gradient it is stepped on
 *           every call, also when its gradient is zero (torch's
 *           zero_grad(set_to_none=False): weight decay and momentum keep moving
 *           it). A frozen task (clh_heads_set_frozen) is skipped entirely: its
 *           parameters stay bit-identical, its state is kept for when it is
 *           unfrozen.
 *   flat:   clh_optim_step() steps one plain vector (e.g. a backbone MLP) as a
 *           single segment; every call must pass the same count.
 *
 * Errors: CLH_E_INVALID_ARG for a bad configuration (negative lr, momentum,
 * eps or weight decay, betas outside [0, 1), nesterov without momentum or with
 * dampening, as torch rejects them), CLH_E_MISMATCH when a step's parameters do
 * not fit the set the optimizer was bound to, CLH_E_NOMEM. On error nothing
 * (parameters, state) is changed.
 *
 * Threads: a clh_optim is used by one thread at a time while it steps (a step
 * changes the optimizer and the parameters it steps, so the heads handle too);
 * calls taking a const clh_optim * (config, layout, export, save) may run
 * concurrently with each other. A clh_optim_export is read-only once made.
 */
#ifndef CLHEADS_OPTIM_H
#define CLHEADS_OPTIM_H

#include <stddef.h>
#include <stdint.h>

#include "export.h"
#include "heads.h"
#include "safetensors.h"
#include "status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum clh_optim_kind {
    CLH_OPTIM_SGD = 0,
    CLH_OPTIM_ADAM = 1,
    CLH_OPTIM_ADAMW = 2,
    CLH_OPTIM_ADAGRAD = 3
} clh_optim_kind;

/* "sgd", "adam", "adamw", "adagrad"; NULL outside the enum. */
CLH_API const char *clh_optim_kind_name(clh_optim_kind kind);
/* Parses "sgd", "adam", "adamw", "adagrad" (any case). CLH_E_INVALID_ARG otherwise. */
CLH_API clh_status clh_optim_kind_parse(const char *name, clh_optim_kind *out);

/* ABI: the struct grows by appending members. struct_size, set by
 * clh_optim_config_init, tells the library which members the caller knows;
 * every function that takes or fills a config checks it (CLH_E_INVALID_ARG
 * when it is 0 or larger than this library's sizeof). So call
 * clh_optim_config_init before anything else, also on a config that
 * clh_optim_get_config or clh_optim_read_config will fill. */
typedef struct clh_optim_config {
    size_t struct_size; /* sizeof(clh_optim_config) of the caller's header */
    clh_optim_kind kind;
    double lr;
    double weight_decay; /* SGD, Adam, Adagrad: L2 added to the gradient; AdamW: decoupled */
    double momentum;     /* SGD */
    double dampening;    /* SGD */
    int nesterov;        /* SGD */
    double beta1;        /* Adam, AdamW */
    double beta2;        /* Adam, AdamW */
    double eps;          /* Adam, AdamW, Adagrad */
    int amsgrad;         /* Adam, AdamW */
    double lr_decay;     /* Adagrad */
    double initial_accumulator_value; /* Adagrad */
} clh_optim_config;

/* Sets struct_size and torch.optim's defaults for each kind with the given lr:
 * SGD: momentum 0, dampening 0, nesterov off, weight decay 0;
 * Adam: betas (0.9, 0.999), eps 1e-8, weight decay 0, amsgrad off;
 * AdamW: the same with weight decay 1e-2;
 * Adagrad: lr_decay 0, weight decay 0, initial_accumulator_value 0, eps 1e-10. */
CLH_API void clh_optim_config_init(clh_optim_config *config, clh_optim_kind kind, double lr);

/* Checks a configuration as torch's constructors do (CLH_E_INVALID_ARG
 * naming the field). */
CLH_API clh_status clh_optim_config_check(const clh_optim_config *config);

typedef struct clh_optim clh_optim;

/* Creates an optimizer (no state yet; bound by its first step or restore). */
CLH_API clh_status clh_optim_create(clh_optim **out, const clh_optim_config *config);
/* Releases it. NULL is accepted and ignored. */
CLH_API void clh_optim_free(clh_optim *optim);

/* The configuration in use (config initialised by clh_optim_config_init). */
CLH_API clh_status clh_optim_get_config(const clh_optim *optim, clh_optim_config *config);
/* Changes the learning rate (for schedules); lr >= 0. State is kept. */
CLH_API clh_status clh_optim_set_lr(clh_optim *optim, double lr);

/* One step over the heads' parameters with their accumulated gradients (see
 * above). The first call binds the optimizer to this handle's layout; a
 * later call on heads of another paradigm or in_features, or whose tasks
 * differ from the bound ones in order, ids or class counts, is
 * CLH_E_MISMATCH (the handle may only have grown by new tasks). */
CLH_API clh_status clh_optim_step_heads(clh_optim *optim, clh_heads *heads);

/* One step over a plain vector params[count] with grads[count]. */
CLH_API clh_status clh_optim_step(clh_optim *optim, float *params, const float *grads,
                                  size_t count);

/* ---- state, for saving and restoring ------------------------------------- */

typedef enum clh_optim_binding {
    CLH_OPTIM_UNBOUND = 0, /* no step yet: no state */
    CLH_OPTIM_HEADS = 1,   /* bound to a heads layout: one segment per task */
    CLH_OPTIM_FLAT = 2     /* bound to a plain vector: one segment */
} clh_optim_binding;

/* The parameter set the state describes. Pointers are owned by the
 * optimizer (valid until its next step, restore or free).
 * ABI: frozen, never grows (get_layout and restore read and write it whole); a later
 * version that needs more members adds a new struct and new functions beside
 * these, which stay as they are. */
typedef struct clh_optim_layout {
    clh_optim_binding binding;
    clh_paradigm paradigm;     /* HEADS: the handle's paradigm (names saved tensors) */
    size_t count;              /* floats per state buffer (= parameters) */
    int64_t in_features;       /* HEADS: the handle's in_features; else 0 */
    size_t num_segments;       /* HEADS: tasks; FLAT: 1; UNBOUND: 0 */
    const int64_t *task_ids;   /* HEADS: [num_segments] in set-up order; else NULL */
    const int64_t *num_classes; /* HEADS: their class counts; else NULL */
} clh_optim_layout;

CLH_API clh_status clh_optim_get_layout(const clh_optim *optim, clh_optim_layout *layout);

/* One named state buffer:
 *   "momentum_buffer"  SGD with momentum != 0      float32 [count]
 *   "exp_avg"          Adam, AdamW                 float32 [count]
 *   "exp_avg_sq"       Adam, AdamW                 float32 [count]
 *   "max_exp_avg_sq"   Adam, AdamW with amsgrad    float32 [count]
 *   "sum"              Adagrad                     float32 [count]
 *   "step"             every kind                  int64 [num_segments]
 * Float buffers use the parameters' layout. "step" counts the steps each
 * segment has taken (torch's state['step']; for SGD, a segment with step 0
 * has no momentum buffer yet, so its next step initialises it).
 * ABI: frozen, never grows (callers pass arrays of it); a later
 * version that needs more members adds a new struct and new functions beside
 * these, which stay as they are. */
typedef struct clh_optim_buffer {
    const char *name;
    int is_int64;  /* 1: int64_t data ("step"); 0: float data */
    void *data;
    size_t count;  /* elements */
} clh_optim_buffer;

/* Number of state buffers for this configuration (0 while unbound). */
CLH_API size_t clh_optim_buffer_count(const clh_optim *optim);
/* The i-th buffer (a view into the optimizer's state; writable). */
CLH_API clh_status clh_optim_buffer_at(clh_optim *optim, size_t i, clh_optim_buffer *out);

/* Replaces the whole state: binds to `layout` (HEADS or FLAT; for FLAT
 * num_segments must be 1) and copies every buffer this configuration needs
 * from `buffers` (looked up by name; each exactly its count; extra names are
 * CLH_E_MISMATCH). Each buffer must say what it holds: is_int64 exactly 1 for
 * "step" and 0 for the float buffers, count exactly num_segments / count,
 * data non-NULL; data must hold count elements of that type (the call reads
 * exactly count x 8 or count x 4 bytes, so a tensor from a file must be
 * checked for dtype first: clh_optim_load_file does). Steps must be >= 0. On
 * error the old state is kept. */
CLH_API clh_status clh_optim_restore(clh_optim *optim, const clh_optim_layout *layout,
                             const clh_optim_buffer *buffers, size_t n_buffers);

/* ---- safetensors files ---------------------------------------------------- */

/* The optimizer's state as safetensors tensors, named after the parameters
 * of the seed's heads module so they map onto torch's per-parameter state:
 *   TIL, CIL, MTL:  optim.heads.<task_id>.weight.<buffer>  F32 [C_t, in]
 *                   optim.heads.<task_id>.bias.<buffer>    F32 [C_t]
 *                   optim.heads.<task_id>.step             I64 scalar
 *   DIL, STL:       optim.head.weight.<buffer>, optim.head.bias.<buffer>, optim.head.step
 *   plain vector:   optim.params.<buffer> F32 [count], optim.params.step I64 scalar
 * with <buffer> one of the names above, and "__metadata__" entries
 *   optim.format "1", optim.kind, optim.lr, optim.weight_decay, optim.momentum,
 *   optim.dampening, optim.nesterov, optim.beta1, optim.beta2, optim.eps,
 *   optim.amsgrad, optim.lr_decay, optim.initial_accumulator_value (the
 *   configuration: 17 significant digits with '.' as the decimal point whatever
 *   the locale, read back exactly; the last two may be absent in older files and
 *   then read as 0), optim.binding ("none", "heads",
 *   "flat"), and for heads optim.paradigm, optim.in_features, optim.task_ids
 *   ("3,1,2", set-up order), optim.num_classes; for flat optim.count.
 * All names start with "optim." so the tensors and metadata can go into a
 * heads checkpoint (clh_heads_save_ex) and be read back from the same file
 * (clh_heads_load with ignore_unknown, then clh_optim_load_file). */
typedef struct clh_optim_export clh_optim_export;

/* Builds the tensors and metadata; tensor data points into the optimizer's
 * state (valid until its next step, restore, load or free). */
CLH_API clh_status clh_optim_export_create(const clh_optim *optim, clh_optim_export **out);
/* The same with "<prefix>." in place of "optim." in every tensor and metadata
 * name, so that two optimizers (say a backbone's and the heads') go into one
 * file; read them back with clh_optim_load_file_prefixed and the same prefix.
 * prefix: 1 to 40 characters, not ending in '.' (CLH_E_INVALID_ARG). */
CLH_API clh_status clh_optim_export_create_prefixed(const clh_optim *optim, const char *prefix,
                                                    clh_optim_export **out);
CLH_API const clh_st_tensor *clh_optim_export_tensors(const clh_optim_export *exported,
                                                      size_t *count);
CLH_API const clh_st_meta *clh_optim_export_meta(const clh_optim_export *exported, size_t *count);
/* NULL is accepted and ignored. */
CLH_API void clh_optim_export_free(clh_optim_export *exported);

/* Saves the state atomically to path (the safetensors writer: temporary file,
 * fsync, rename; a failure leaves a previous file intact). */
CLH_API clh_status clh_optim_save(const clh_optim *optim, const char *path);

/* The same state in memory: *bytes (free with clh_st_bytes_free) and *len
 * hold exactly the bytes clh_optim_save writes. On error nothing is set. */
CLH_API clh_status clh_optim_save_mem(const clh_optim *optim, unsigned char **bytes, size_t *len);

/* Reads the configuration saved in a file (to create a matching optimizer);
 * config initialised by clh_optim_config_init. */
CLH_API clh_status clh_optim_read_config(const clh_st_file *file, clh_optim_config *config);

/* Replaces optim's state with the one saved in path / in a parsed file. The
 * optimizer keeps its own configuration (e.g. a new lr) but its kind must be
 * the file's and the file must hold exactly the buffers it keeps (momentum
 * != 0, amsgrad), else CLH_E_MISMATCH naming the tensor. Tensors outside
 * "optim." are ignored; F16, BF16 and F64 buffers are converted exactly (F64
 * rounded to nearest), any other dtype, or a shape other than the layout's,
 * is CLH_E_MISMATCH naming the tensor. Every tensor is checked (dtype, shape,
 * byte size) before anything sized by the metadata is allocated, so a small
 * file cannot make the load ask for more memory than its tensors hold. The
 * next clh_optim_step_heads checks the heads against the loaded layout. On
 * error the optimizer is unchanged. */
CLH_API clh_status clh_optim_load(clh_optim *optim, const char *path);
CLH_API clh_status clh_optim_load_file(clh_optim *optim, const clh_st_file *file);
/* The state saved under "<prefix>." (clh_optim_export_create_prefixed); the
 * rules above with "<prefix>." for "optim.". */
CLH_API clh_status clh_optim_load_file_prefixed(clh_optim *optim, const clh_st_file *file,
                                                const char *prefix);
/* The same from len bytes in memory (e.g. from clh_optim_save_mem). */
CLH_API clh_status clh_optim_load_mem(clh_optim *optim, const void *bytes, size_t len);

#ifdef __cplusplus
}
#endif
#endif
