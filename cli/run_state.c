/* Checkpoints of `clheads run` and --resume (see run.h).
 *
 * One safetensors file, DIR/checkpoint.safetensors, rewritten atomically after
 * every task by the library's clh_heads_save_ex:
 *   heads.<t>.weight/bias or head.weight/bias  the heads (checkpoint.h names
 *                                          and metadata: loads in PyTorch)
 *   backbone.0.weight [400, in], backbone.0.bias, backbone.2.weight [400, 400],
 *   backbone.2.bias                        the MLP, named as nn.Sequential's
 *                                          state dict (Linear, ReLU, Linear, ReLU)
 *   optimizer.heads.*, optimizer.backbone.*
 *                                          the two optimizers' state in the
 *                                          library's format (optim.h, with the
 *                                          prefixes in place of "optim.": e.g.
 *                                          optimizer.heads.heads.0.weight.exp_avg)
 *   run.shuffle_state U64 [1]              the shuffle stream
 *   run.accuracy F64 [rows, tasks]         the accuracy matrix so far (NaN: not yet)
 *   run.accuracy_task_aware F64            CIL only
 *   run.loss F64 [rows]                    mean training loss per phase
 *   method.*, memory.*                     the gradient methods' state
 *                                          (method_state.c)
 *   analytic statistics and expansion      the analytic methods' (analytic.h)
 * Which heads have had a gradient (the optimizer steps exactly those) is the
 * heads checkpoint's own grad_task_ids metadata (checkpoint.h).
 * and metadata run.* with the options of the run (run.pad32 and run.input_dim,
 * the inputs per image, among them) and run.phases_done.
 * A resume restores all of it, so the remaining tasks compute exactly what an
 * uninterrupted run computes. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "clheads/checkpoint.h"
#include "method_hooks.h"
#include "run.h"
#include "state_extras.h"

#define STATE_FORMAT "1"

static int fail_msg(char *err, size_t err_len, const char *msg) {
    snprintf(err, err_len, "%s", msg);
    return 1;
}

static void state_path(const char *dir, char *out, size_t len) {
    snprintf(out, len, "%s/checkpoint.safetensors", dir);
}

/* The prefixes of the two optimizers' state in the checkpoint. */
#define HEADS_OPTIM "optimizer.heads"
#define BACKBONE_OPTIM "optimizer.backbone"

/* Writes the heads with the extras and both optimizers' exports (the
 * library's format for optimizer state, under their own prefixes). */
static clh_status save_all(const cli_learner *learner, const char *path, const clh_st_tensor *base_t,
                           size_t n_base_t, const clh_st_meta *base_m, size_t n_base_m,
                           int with_heads_optim, int with_backbone_optim) {
    clh_optim_export *ex[2] = {NULL, NULL};
    clh_status st = CLH_OK;
    if (with_heads_optim)
        st = clh_optim_export_create_prefixed(learner->opt_heads, HEADS_OPTIM, &ex[0]);
    if (st == CLH_OK && with_backbone_optim)
        st = clh_optim_export_create_prefixed(learner->opt_backbone, BACKBONE_OPTIM, &ex[1]);
    size_t n_t[2] = {0, 0}, n_m[2] = {0, 0};
    const clh_st_tensor *tensors[2] = {NULL, NULL};
    const clh_st_meta *metas[2] = {NULL, NULL};
    for (int k = 0; st == CLH_OK && k < 2; k++) {
        if (!ex[k]) continue;
        tensors[k] = clh_optim_export_tensors(ex[k], &n_t[k]);
        metas[k] = clh_optim_export_meta(ex[k], &n_m[k]);
    }
    clh_st_tensor *all_t = NULL;
    clh_st_meta *all_m = NULL;
    size_t nt = n_base_t + n_t[0] + n_t[1], nm = n_base_m + n_m[0] + n_m[1];
    if (st == CLH_OK) {
        all_t = malloc(nt * sizeof *all_t);
        all_m = malloc(nm * sizeof *all_m);
        if (!all_t || !all_m) st = CLH_E_NOMEM;
    }
    if (st == CLH_OK) {
        memcpy(all_t, base_t, n_base_t * sizeof *all_t);
        memcpy(all_m, base_m, n_base_m * sizeof *all_m);
        size_t at = n_base_t, am = n_base_m;
        for (int k = 0; k < 2; k++) {
            if (n_t[k]) memcpy(all_t + at, tensors[k], n_t[k] * sizeof *all_t);
            if (n_m[k]) memcpy(all_m + am, metas[k], n_m[k] * sizeof *all_m);
            at += n_t[k], am += n_m[k];
        }
        st = clh_heads_save_ex(learner->heads, path, all_t, nt, all_m, nm);
    }
    free(all_t);
    free(all_m);
    clh_optim_export_free(ex[0]);
    clh_optim_export_free(ex[1]);
    return st;
}

int cli_state_save(const cli_learner *learner, const cli_results *results, const char *dir,
                   char *err, size_t err_len) {
    const cli_run_config *cfg = learner->config;
    const cli_mlp *mlp = &learner->mlp;
    cli_extras *e = calloc(1, sizeof *e);
    if (!e) return fail_msg(err, err_len, "out of memory writing the checkpoint");
    clh_st_tensor *t;
    int analytic = learner->analytic != NULL;
    /* The analytic methods have no backbone and no optimizer state: their
     * statistics and expansion are added below. Fine-tuning the user's own
     * features has no backbone either. */
    if (cli_learner_has_backbone(learner)) {
        t = cli_extras_tensor(e, "backbone.0.weight", CLH_DT_F32, mlp->w1,
                       (size_t)(mlp->hidden * mlp->in), 4);
        t->ndim = 2, t->shape[0] = mlp->hidden, t->shape[1] = mlp->in;
        cli_extras_tensor(e, "backbone.0.bias", CLH_DT_F32, mlp->b1, (size_t)mlp->hidden, 4);
        t = cli_extras_tensor(e, "backbone.2.weight", CLH_DT_F32, mlp->w2,
                       (size_t)(mlp->hidden * mlp->hidden), 4);
        t->ndim = 2, t->shape[0] = mlp->hidden, t->shape[1] = mlp->hidden;
        cli_extras_tensor(e, "backbone.2.bias", CLH_DT_F32, mlp->b2, (size_t)mlp->hidden, 4);
    }
    cli_extras_tensor(e, "run.shuffle_state", CLH_DT_U64, &learner->shuffle.state, 1, 8);
    t = cli_extras_tensor(e, "run.accuracy", CLH_DT_F64, results->acc,
                   (size_t)(results->rows * results->tasks), 8);
    t->ndim = 2, t->shape[0] = results->rows, t->shape[1] = results->tasks;
    if (results->acc_aware) {
        t = cli_extras_tensor(e, "run.accuracy_task_aware", CLH_DT_F64, results->acc_aware,
                       (size_t)(results->rows * results->tasks), 8);
        t->ndim = 2, t->shape[0] = results->rows, t->shape[1] = results->tasks;
    }
    cli_extras_tensor(e, "run.loss", CLH_DT_F64, results->loss, (size_t)results->rows, 8);

    cli_extras_meta(e, "run.format", STATE_FORMAT);
    cli_extras_meta(e, "run.paradigm", clh_paradigm_name(cfg->paradigm));
    cli_extras_meta(e, "run.dataset", cli_dataset_name(cfg->dataset));
    cli_extras_meta_i64(e, "run.num_tasks", (long long)cfg->num_tasks);
    cli_extras_meta_i64(e, "run.phases_done", (long long)results->rows_done);
    cli_extras_meta(e, "run.optimizer", clh_optim_kind_name(cfg->optim.kind));
    cli_extras_meta_f64(e, "run.lr", cfg->optim.lr);
    cli_extras_meta_f64(e, "run.momentum", cfg->optim.momentum);
    cli_extras_meta_f64(e, "run.weight_decay", cfg->optim.weight_decay);
    cli_extras_meta_i64(e, "run.batch_size", (long long)cfg->batch_size);
    cli_extras_meta_i64(e, "run.epochs", (long long)cfg->epochs);
    char seed[32];
    snprintf(seed, sizeof seed, "%llu", (unsigned long long)cfg->seed);
    cli_extras_meta(e, "run.seed", seed);
    cli_extras_meta_i64(e, "run.freeze_backbone", cfg->freeze_backbone);
    cli_extras_meta_i64(e, "run.pad32", cfg->pad32);
    cli_extras_meta_i64(e, "run.input_dim", (long long)learner->images->dim);
    if (analytic) {
        cli_extras_meta(e, "run.method", cli_method_name(cfg->method));
        cli_extras_meta_i64(e, "run.expansion", (long long)cfg->expansion);
        cli_extras_meta_f64(e, "run.ridge_lambda", cfg->ridge_lambda);
        cli_extras_meta_f64(e, "run.lda_shrinkage", cfg->lda_shrinkage);
        cli_extras_meta_i64(e, "run.ncm_normalize", cfg->ncm_normalize);
        cli_extras_meta(e, "run.stats_precision", cfg->stats_precision == CLH_DT_F32 ? "f32" : "f64");
    }

    /* The gradient methods' state: run.method, their options, anchors,
     * importances, memory, the old model (method_state.c). */
    if (!analytic && cli_method_state_save(learner, e, err, err_len)) {
        clh_memory_export_free(e->memory);
        free(e);
        return 1;
    }
    if (e->full) {
        clh_memory_export_free(e->memory);
        free(e);
        return fail_msg(err, err_len, "too many tensors or metadata for the checkpoint");
    }
    /* The statistics' tensors and metadata follow the run's. */
    clh_analytic_export *exported = NULL;
    const clh_st_tensor *at = NULL;
    const clh_st_meta *am = NULL;
    size_t n_at = 0, n_am = 0;
    if (analytic) {
        if (cli_analytic_export(learner, &exported, err, err_len)) {
            clh_memory_export_free(e->memory);
            free(e);
            return 1;
        }
        at = clh_analytic_export_tensors(exported, &n_at);
        am = clh_analytic_export_meta(exported, &n_am);
    }
    clh_st_tensor *tensors = malloc((e->n + n_at) * sizeof *tensors);
    clh_st_meta *metas = malloc((e->n_meta + n_am) * sizeof *metas);
    if (!tensors || !metas) {
        free(tensors);
        free(metas);
        clh_analytic_export_free(exported);
        clh_memory_export_free(e->memory);
        free(e);
        return fail_msg(err, err_len, "out of memory writing the checkpoint");
    }
    memcpy(tensors, e->t, e->n * sizeof *tensors);
    if (n_at) memcpy(tensors + e->n, at, n_at * sizeof *tensors);
    memcpy(metas, e->meta, e->n_meta * sizeof *metas);
    if (n_am) memcpy(metas + e->n_meta, am, n_am * sizeof *metas);
    char path[4096];
    state_path(dir, path, sizeof path);
    /* The optimizers' state (none for the analytic methods; no backbone
     * optimizer without a backbone) in the library's format. */
    clh_status st = save_all(learner, path, tensors, e->n + n_at, metas, e->n_meta + n_am,
                             !analytic, cli_learner_has_backbone(learner));
    free(tensors);
    free(metas);
    clh_analytic_export_free(exported);
    clh_memory_export_free(e->memory);
    free(e);
    if (st != CLH_OK) {
        snprintf(err, err_len, "writing checkpoint %s: %s (%s)", path, clh_status_message(st),
                 clh_last_error());
        return 1;
    }
    return 0;
}

/* ---- resume ---------------------------------------------------------------- */

static int open_state(const char *dir, clh_st_file **file, char *err, size_t err_len) {
    char path[4096];
    state_path(dir, path, sizeof path);
    clh_status st = clh_st_open(file, path);
    if (st != CLH_OK) {
        snprintf(err, err_len, "cannot resume from %s: %s (%s)", path, clh_status_message(st),
                 clh_last_error());
        return 1;
    }
    const char *format = clh_st_meta_get(*file, "run.format");
    if (!format || strcmp(format, STATE_FORMAT) != 0) {
        snprintf(err, err_len, "cannot resume from %s: not a `clheads run` checkpoint (no "
                 "run.format \"%s\" metadata)", path, STATE_FORMAT);
        clh_st_free(*file);
        *file = NULL;
        return 1;
    }
    return 0;
}

static const char *meta(const clh_st_file *file, const char *key, char *err, size_t err_len) {
    const char *v = clh_st_meta_get(file, key);
    if (!v) snprintf(err, err_len, "checkpoint metadata lacks %s", key);
    return v;
}

/* Numbers in the metadata are outside input like the options: the same
 * strict parsing and the same bounds. */
static int meta_i64(const clh_st_file *file, const char *key, int64_t min, int64_t max,
                    int64_t *out, char *err, size_t err_len) {
    const char *v = meta(file, key, err, err_len);
    if (!v) return 1;
    if (cli_to_i64(v, min, max, out) != 0) {
        snprintf(err, err_len, "checkpoint metadata %s is \"%s\", expected an integer in "
                 "[%lld, %lld]", key, v, (long long)min, (long long)max);
        return 1;
    }
    return 0;
}

static int meta_f64(const clh_st_file *file, const char *key, double max, double *out,
                    char *err, size_t err_len) {
    const char *v = meta(file, key, err, err_len);
    if (!v) return 1;
    if (cli_to_f64(v, 0.0, max, out) != 0) {
        snprintf(err, err_len, "checkpoint metadata %s is \"%s\", expected a number in [0, %g]",
                 key, v, max);
        return 1;
    }
    return 0;
}

int cli_state_read_config(const char *dir, cli_run_config *cfg, char *err, size_t err_len) {
    clh_st_file *file = NULL;
    if (open_state(dir, &file, err, err_len)) return 1;
    int rc = cli_state_config_from(file, dir, cfg, err, err_len);
    clh_st_free(file);
    return rc;
}

int cli_state_config_from(const clh_st_file *file, const char *dir, cli_run_config *cfg,
                          char *err, size_t err_len) {
    int rc = 1;
    const char *format = clh_st_meta_get(file, "run.format");
    if (!format || strcmp(format, STATE_FORMAT) != 0) {
        snprintf(err, err_len, "cannot resume from %s: not a `clheads run` checkpoint (no "
                 "run.format \"%s\" metadata)", dir, STATE_FORMAT);
        return 1;
    }
    const char *v;
    clh_paradigm paradigm;
    cli_dataset_kind kind;
    clh_optim_kind okind;
    int64_t num_tasks, batch_size, epochs, freeze, pad32;
    double lr, momentum, wd;
    uint64_t seed;
    if (!(v = meta(file, "run.paradigm", err, err_len))) goto done;
    if (clh_paradigm_parse(v, &paradigm) != CLH_OK) {
        snprintf(err, err_len, "checkpoint has unknown paradigm \"%s\"", v);
        goto done;
    }
    if (!(v = meta(file, "run.dataset", err, err_len))) goto done;
    if (cli_dataset_parse(v, &kind)) {
        snprintf(err, err_len, "checkpoint has unknown dataset \"%s\"", v);
        goto done;
    }
    if (!(v = meta(file, "run.optimizer", err, err_len))) goto done;
    if (clh_optim_kind_parse(v, &okind) != CLH_OK) {
        snprintf(err, err_len, "checkpoint has unknown optimizer \"%s\"", v);
        goto done;
    }
    if (meta_i64(file, "run.num_tasks", 1, CLI_MAX_TASKS, &num_tasks, err, err_len) ||
        meta_f64(file, "run.lr", CLI_MAX_LR, &lr, err, err_len) ||
        meta_f64(file, "run.momentum", 1.0, &momentum, err, err_len) ||
        meta_f64(file, "run.weight_decay", CLI_MAX_WEIGHT_DECAY, &wd, err, err_len) ||
        meta_i64(file, "run.batch_size", 1, CLI_MAX_BATCH, &batch_size, err, err_len) ||
        meta_i64(file, "run.epochs", 0, CLI_MAX_EPOCHS, &epochs, err, err_len) ||
        meta_i64(file, "run.freeze_backbone", 0, 1, &freeze, err, err_len) ||
        meta_i64(file, "run.pad32", 0, 1, &pad32, err, err_len))
        goto done;
    /* The rules the option parser applies between options. */
    if (num_tasks > cli_dataset_max_tasks(kind)) {
        snprintf(err, err_len, "checkpoint metadata run.num_tasks is %lld, but %s has 1..%lld "
                 "tasks", (long long)num_tasks, cli_dataset_name(kind),
                 (long long)cli_dataset_max_tasks(kind));
        goto done;
    }
    if (okind != CLH_OPTIM_SGD && momentum != 0) {
        snprintf(err, err_len, "checkpoint metadata run.momentum is %g, but momentum applies "
                 "to sgd only (run.optimizer is %s)", momentum, clh_optim_kind_name(okind));
        goto done;
    }
    /* run.method: absent in checkpoints older than --method (fine-tuning). */
    cli_method method = CLI_METHOD_FINETUNE;
    int64_t expansion = CLI_DEFAULT_EXPANSION, normalize = 0;
    double lambda = 1.0, shrinkage = 1e-4;
    clh_dtype precision = CLH_DT_F64;
    if ((v = clh_st_meta_get(file, "run.method")) && cli_method_parse(v, &method)) {
        snprintf(err, err_len, "checkpoint has unknown method \"%s\"", v);
        goto done;
    }
    if (cli_method_is_analytic(method)) {
        if (meta_i64(file, "run.expansion", 0, CLI_MAX_EXPANSION, &expansion, err, err_len) ||
            meta_f64(file, "run.ridge_lambda", CLI_MAX_RIDGE_LAMBDA, &lambda, err, err_len) ||
            meta_f64(file, "run.lda_shrinkage", 1.0, &shrinkage, err, err_len) ||
            meta_i64(file, "run.ncm_normalize", 0, 1, &normalize, err, err_len))
            goto done;
        if (!(v = meta(file, "run.stats_precision", err, err_len))) goto done;
        if (strcmp(v, "f32") == 0) precision = CLH_DT_F32;
        else if (strcmp(v, "f64") != 0) {
            snprintf(err, err_len, "checkpoint metadata run.stats_precision is \"%s\", expected "
                     "f32 or f64", v);
            goto done;
        }
    }
    if (!(v = meta(file, "run.seed", err, err_len))) goto done;
    if (cli_to_u64(v, &seed) != 0 || seed > CLI_MAX_SEED) {
        snprintf(err, err_len, "checkpoint metadata run.seed is \"%s\", expected an integer in "
                 "[0, %llu]", v, (unsigned long long)CLI_MAX_SEED);
        goto done;
    }

    /* The options the user gave must agree with the checkpoint; the first
     * that does not is reported. */
    const char *option = NULL, *key = NULL;
#define DIFFERS(flag, opt, meta_key, same)                                                      \
    if (!option && (cfg->set & (flag)) && !(same)) option = (opt), key = (meta_key)
    DIFFERS(CLI_SET_PARADIGM, "--paradigm", "run.paradigm", paradigm == cfg->paradigm);
    DIFFERS(CLI_SET_DATASET, "--dataset", "run.dataset", kind == cfg->dataset);
    DIFFERS(CLI_SET_TASKS, "--tasks", "run.num_tasks", num_tasks == cfg->num_tasks);
    DIFFERS(CLI_SET_OPTIMIZER, "--optimizer", "run.optimizer", okind == cfg->optim.kind);
    DIFFERS(CLI_SET_LR, "--lr", "run.lr", lr == cfg->optim.lr);
    DIFFERS(CLI_SET_MOMENTUM, "--momentum", "run.momentum", momentum == cfg->optim.momentum);
    DIFFERS(CLI_SET_WEIGHT_DECAY, "--weight-decay", "run.weight_decay",
            wd == cfg->optim.weight_decay);
    DIFFERS(CLI_SET_BATCH, "--batch-size", "run.batch_size", batch_size == cfg->batch_size);
    DIFFERS(CLI_SET_EPOCHS, "--epochs", "run.epochs", epochs == cfg->epochs);
    DIFFERS(CLI_SET_SEED, "--seed", "run.seed", seed == cfg->seed);
    DIFFERS(CLI_SET_FREEZE, "--freeze-backbone", "run.freeze_backbone",
            freeze == cfg->freeze_backbone);
    DIFFERS(CLI_SET_PAD32, "--pad32", "run.pad32", pad32 == cfg->pad32);
    DIFFERS(CLI_SET_METHOD, "--method", "run.method", method == cfg->method);
    DIFFERS(CLI_SET_EXPANSION, "--expansion", "run.expansion", expansion == cfg->expansion);
    DIFFERS(CLI_SET_RIDGE_LAMBDA, "--ridge-lambda", "run.ridge_lambda",
            lambda == cfg->ridge_lambda);
    DIFFERS(CLI_SET_LDA_SHRINKAGE, "--lda-shrinkage", "run.lda_shrinkage",
            shrinkage == cfg->lda_shrinkage);
    DIFFERS(CLI_SET_NCM_NORMALIZE, "--ncm-normalize", "run.ncm_normalize",
            normalize == cfg->ncm_normalize);
    DIFFERS(CLI_SET_STATS_PRECISION, "--stats-precision", "run.stats_precision",
            precision == cfg->stats_precision);
#undef DIFFERS
    if (option) {
        const char *shown = clh_st_meta_get(file, key);
        if (strcmp(key, "run.freeze_backbone") == 0) shown = freeze ? "on" : "off";
        if (strcmp(key, "run.pad32") == 0) shown = pad32 ? "on" : "off";
        if (strcmp(key, "run.ncm_normalize") == 0) shown = normalize ? "on" : "off";
        if (!shown) shown = cli_method_name(method); /* run.method absent: finetune */
        snprintf(err, err_len, "cannot resume from %s: %s in the checkpoint is %s, which differs "
                 "from the option given", dir, option, shown);
        goto done;
    }
    /* The gradient methods' options and their checks (method_state.c). */
    if (!cli_method_is_analytic(method) &&
        cli_method_config_from(file, dir, cfg, paradigm, (int)freeze, err, err_len))
        goto done;
    cfg->paradigm = paradigm;
    cfg->dataset = kind;
    cfg->num_tasks = num_tasks;
    clh_optim_config_init(&cfg->optim, okind, lr);
    cfg->optim.momentum = momentum;
    cfg->optim.weight_decay = wd;
    cfg->batch_size = batch_size;
    cfg->epochs = epochs;
    cfg->seed = seed;
    cfg->freeze_backbone = (int)freeze;
    cfg->pad32 = (int)pad32;
    cfg->method = method;
    cfg->expansion = expansion;
    cfg->ridge_lambda = lambda;
    cfg->lda_shrinkage = shrinkage;
    cfg->ncm_normalize = (int)normalize;
    cfg->stats_precision = precision;
    rc = 0;
done:
    return rc;
}

/* Tensor `name` of exactly this dtype and shape ([d0] or [d0, d1]), through
 * the library's one check of a tensor read from a file (dtype, shape, byte
 * size); NULL with the reason in err otherwise. */
static const clh_st_tensor *expect(const clh_st_file *file, const char *name, clh_dtype dtype,
                                   size_t ndim, int64_t d0, int64_t d1, char *err,
                                   size_t err_len) {
    const int64_t shape[2] = {d0, d1};
    const clh_st_tensor *t = NULL;
    if (clh_st_expect(file, "checkpoint", name, CLH_ST_DTYPE_BIT(dtype), ndim, shape, &t)) {
        snprintf(err, err_len, "%s", clh_last_error());
        return NULL;
    }
    return t;
}

/* One optimizer's state from the checkpoint: the library's load checks every
 * tensor (dtype, shape, byte size) against the saved layout; the next step
 * checks that layout against the heads or the backbone. */
static int restore_optim(clh_optim *optim, const clh_st_file *file, const char *prefix, char *err,
                         size_t err_len) {
    clh_status st = clh_optim_load_file_prefixed(optim, file, prefix);
    if (st != CLH_OK) {
        snprintf(err, err_len, "restoring optimizer state %s.*: %s (%s)", prefix,
                 clh_status_message(st), clh_last_error());
        return 1;
    }
    return 0;
}

/* The heads of a checkpoint must be this run's: fed by the backbone's
 * output, the tasks set up by `phases` phases in order, each with its task's
 * class count (the logits buffers are sized for exactly those). */
static int check_heads(const clh_heads *heads, const cli_learner *learner, int64_t phases,
                       char *err, size_t err_len) {
    const cli_tasks *tasks = learner->tasks;
    clh_paradigm p = clh_heads_paradigm(heads);
    int single = p == CLH_DIL || p == CLH_STL;
    if (clh_heads_in_features(heads) != learner->feature_dim) {
        snprintf(err, err_len, "checkpoint heads take %lld features, the run's features have %lld",
                 (long long)clh_heads_in_features(heads), (long long)learner->feature_dim);
        return 1;
    }
    size_t n = clh_heads_num_tasks(heads);
    int all = p == CLH_MTL || learner->config->method == CLI_METHOD_OFFLINE;
    size_t want = single ? 1 : all ? (size_t)tasks->count : (size_t)phases;
    if (n != want) {
        snprintf(err, err_len, "checkpoint has %zu heads, this run expects %zu after %lld "
                 "phases", n, want, (long long)phases);
        return 1;
    }
    const int64_t *ids = clh_heads_task_ids(heads);
    for (size_t i = 0; i < n; i++) {
        int64_t classes = -1;
        int64_t want_classes = p == CLH_STL   ? tasks->total_classes
                               : p == CLH_DIL ? tasks->tasks[0].num_classes
                                              : tasks->tasks[i].num_classes;
        if (!single && ids[i] != (int64_t)i) {
            snprintf(err, err_len, "checkpoint head %zu is for task %lld, expected task %zu", i,
                     (long long)ids[i], i);
            return 1;
        }
        int64_t id = CLH_NO_TASK;
        clh_heads_task_at(heads, i, &id);
        clh_heads_task_classes(heads, id, &classes, NULL);
        if (classes != want_classes) {
            snprintf(err, err_len, "checkpoint head %zu has %lld classes, the task has %lld", i,
                     (long long)classes, (long long)want_classes);
            return 1;
        }
    }
    return 0;
}

int cli_state_restore(cli_learner *learner, cli_results *results, const char *dir, char *err,
                      size_t err_len) {
    clh_st_file *file = NULL;
    if (open_state(dir, &file, err, err_len)) return 1;
    int rc = cli_state_restore_from(learner, results, file, dir, err, err_len);
    clh_st_free(file);
    return rc;
}

int cli_state_restore_from(cli_learner *learner, cli_results *results, const clh_st_file *file,
                           const char *dir, char *err, size_t err_len) {
    int rc = 1;
    const cli_run_config *cfg = learner->config;
    int64_t phases;
    if (meta_i64(file, "run.phases_done", 1, results->rows, &phases, err, err_len)) goto done;
    /* The backbone's input width follows the data (and --pad32). */
    int64_t input_dim;
    if (meta_i64(file, "run.input_dim", 1, INT32_MAX, &input_dim, err, err_len)) goto done;
    if (input_dim != learner->images->dim) {
        snprintf(err, err_len, "cannot resume from %s: its run takes %lld inputs per image, "
                 "the data gives %lld (a different data set, or --pad32 differs)", dir,
                 (long long)input_dim, (long long)learner->images->dim);
        goto done;
    }
    clh_load_options options;
    clh_load_options_init(&options);
    options.paradigm = (int)cfg->paradigm;
    options.seed = cfg->seed;
    options.ignore_unknown = 1;
    clh_heads *heads = NULL;
    clh_status st = clh_heads_load_file(&heads, file, &options);
    if (st != CLH_OK) {
        snprintf(err, err_len, "loading the heads from %s/checkpoint.safetensors: %s (%s)", dir,
                 clh_status_message(st), clh_last_error());
        goto done;
    }
    if (check_heads(heads, learner, phases, err, err_len)) {
        clh_heads_free(heads);
        goto done;
    }
    clh_heads_free(learner->heads);
    learner->heads = heads;

    cli_mlp *mlp = &learner->mlp;
    const clh_st_tensor *t;
    if (learner->analytic) {
        if (cli_analytic_restore(learner, file, phases, err, err_len)) goto done;
        goto run_state;
    }
    if (!cli_learner_has_backbone(learner)) goto optimizers;
    struct {
        const char *name;
        float *dst;
        size_t ndim;
        int64_t rows, cols;
        size_t count;
    } parts[] = {
        {"backbone.0.weight", mlp->w1, 2, mlp->hidden, mlp->in, (size_t)(mlp->hidden * mlp->in)},
        {"backbone.0.bias", mlp->b1, 1, mlp->hidden, 0, (size_t)mlp->hidden},
        {"backbone.2.weight", mlp->w2, 2, mlp->hidden, mlp->hidden,
         (size_t)(mlp->hidden * mlp->hidden)},
        {"backbone.2.bias", mlp->b2, 1, mlp->hidden, 0, (size_t)mlp->hidden},
    };
    for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++) {
        if (!(t = expect(file, parts[i].name, CLH_DT_F32, parts[i].ndim, parts[i].rows,
                         parts[i].cols, err, err_len)))
            goto done;
        memcpy(parts[i].dst, t->data, parts[i].count * sizeof(float));
        if (cli_state_check_finite(parts[i].name, parts[i].dst, parts[i].count, err, err_len))
            goto done;
    }

optimizers:
    if (restore_optim(learner->opt_heads, file, HEADS_OPTIM, err, err_len)) goto done;
    if (cli_learner_has_backbone(learner) &&
        restore_optim(learner->opt_backbone, file, BACKBONE_OPTIM, err, err_len))
        goto done;
run_state:
    if (!(t = expect(file, "run.shuffle_state", CLH_DT_U64, 1, 1, 0, err, err_len))) goto done;
    memcpy(&learner->shuffle.state, t->data, sizeof(uint64_t));
    size_t cells = (size_t)(results->rows * results->tasks);
    if (!(t = expect(file, "run.accuracy", CLH_DT_F64, 2, results->rows, results->tasks, err,
                     err_len)))
        goto done;
    memcpy(results->acc, t->data, cells * sizeof(double));
    if (results->acc_aware) {
        if (!(t = expect(file, "run.accuracy_task_aware", CLH_DT_F64, 2, results->rows,
                         results->tasks, err, err_len)))
            goto done;
        memcpy(results->acc_aware, t->data, cells * sizeof(double));
    }
    if (!(t = expect(file, "run.loss", CLH_DT_F64, 1, results->rows, 0, err, err_len))) goto done;
    memcpy(results->loss, t->data, (size_t)results->rows * sizeof(double));
    if (cli_state_check_results(results, phases, cli_run_joint(cfg),
                                cfg->epochs > 0 && !learner->analytic, err, err_len))
        goto done;
    if (!learner->analytic && cli_method_state_restore(learner, file, phases, err, err_len))
        goto done;
    results->rows_done = phases; /* the heads' gradient flags came with the heads */
    rc = 0;
done:
    return rc;
}
