/* The state of --method: lifecycle, the full layout (backbone | head
 * weights | head biases) and its re-layout when heads grow, the phase and
 * step hooks that dispatch to the methods, and the checkpoint (method.h).
 *
 * Checkpoint tensors (all F32 unless said):
 *   method.term<k>.anchor [count], method.term<k>.omega [count]  the penalty
 *                                  terms (omega absent for L2)
 *   method.si.w, method.si.prev [count]                           SI
 *   memory.*                       the rehearsal memory (clheads/methods.h)
 *   method.lwf.old_backbone [backbone], method.lwf.old_heads      LwF
 *   method.independent.backbones [done, backbone]                 Independent
 * and metadata run.method, run.method_rows (the layout's head rows),
 * run.method_terms, run.lwf_old_rows, run.backbones_done and the options
 * (run.reg_coef, run.memory, run.temperature, run.online_decay,
 * run.si_damping, run.gem_margin). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "method_hooks.h"
#include "state_extras.h"

int cli_method_lib_fail(char *err, size_t err_len, const char *what, clh_status status) {
    snprintf(err, err_len, "%s failed: %s (%s)", what, clh_status_message(status),
             clh_last_error());
    return 1;
}

static int oom(char *err, size_t err_len, const char *what) {
    snprintf(err, err_len, "out of memory for %s", what);
    return 1;
}

static int uses_full_vectors(cli_method m) {
    return cli_method_is_regularizer(m) || m == CLI_METHOD_GEM;
}

int cli_method_init(cli_learner *l, char *err, size_t err_len) {
    cli_method_state *ms = &l->ms;
    const cli_run_config *cfg = l->config;
    memset(ms, 0, sizeof *ms);
    ms->backbone = l->mlp.count;
    ms->hidden = l->feature_dim;
    ms->rows = clh_heads_total_classes(l->heads);
    ms->count = ms->backbone + (size_t)ms->rows * (size_t)(ms->hidden + 1);
    l->backbone_frozen = cfg->freeze_backbone || !cli_learner_has_backbone(l);
    cli_method m = cfg->method;
    if (m == CLI_METHOD_SI) {
        /* The first task's reference point: the parameters before training. */
        if (cli_method_grow(l, err, err_len)) return 1;
    }
    if (cli_method_has_memory(m)) {
        int64_t samples = 0;
        for (int64_t t = 0; t < l->tasks->count; t++) samples += l->tasks->tasks[t].num_train;
        if (cfg->mopt.memory > samples) {
            snprintf(err, err_len, "a memory of %lld samples is larger than the %lld training "
                     "samples", (long long)cfg->mopt.memory, (long long)samples);
            return 1;
        }
        clh_status st = clh_memory_create(&ms->memory, (size_t)cfg->mopt.memory,
                                          (size_t)l->images->dim, cfg->seed ^ 0x4D454D4F5259ull);
        if (st != CLH_OK) return cli_method_lib_fail(err, err_len, "creating the memory", st);
    }
    if (m == CLI_METHOD_GEM) {
        size_t tasks = (size_t)l->tasks->count;
        if (tasks > CLH_GEM_MAX_TASKS + 1) {
            snprintf(err, err_len, "--method gem takes at most %d tasks (GEM's dual has one "
                     "variable per old task)", CLH_GEM_MAX_TASKS + 1);
            return 1;
        }
    }
    if (m == CLI_METHOD_LWF) {
        size_t b = (size_t)l->mlp.max_batch, w = (size_t)l->max_width;
        ms->old_logits = malloc(b * w * sizeof(float));
        ms->lwf_dlogits = malloc(b * w * sizeof(float));
        ms->lwf_dfeature = malloc(b * (size_t)ms->hidden * sizeof(float));
        cli_mlp *old = calloc(1, sizeof *old);
        ms->old_mlp = old;
        if (!ms->old_logits || !ms->lwf_dlogits || !ms->lwf_dfeature || !old ||
            cli_mlp_init(old, l->mlp.in, l->mlp.hidden, l->mlp.max_batch, cfg->seed))
            return oom(err, err_len, "LwF's old model");
        ms->old_backbone = old->params; /* the old model's weights live in its MLP */
    }
    if (m == CLI_METHOD_INDEPENDENT) {
        ms->backbones = malloc((size_t)l->tasks->count * ms->backbone * sizeof(float));
        if (!ms->backbones) return oom(err, err_len, "the independent backbones");
    }
    return 0;
}

void cli_method_free(cli_learner *l) {
    cli_method_state *ms = &l->ms;
    for (int64_t k = 0; k < ms->terms; k++) {
        free(ms->anchor[k]);
        free(ms->omega[k]);
    }
    free(ms->si_w);
    free(ms->si_prev);
    free(ms->scratch_a);
    free(ms->scratch_b);
    clh_memory_free(ms->memory);
    free(ms->gem_grads);
    free(ms->gem_g);
    free(ms->old_heads);
    if (ms->old_mlp) {
        cli_mlp_free(ms->old_mlp);
        free(ms->old_mlp);
    }
    free(ms->old_logits);
    free(ms->lwf_dlogits);
    free(ms->lwf_dfeature);
    free(ms->backbones);
    memset(ms, 0, sizeof *ms);
}

void cli_method_full_params(cli_learner *l, float *out) {
    const float *hp;
    size_t hc;
    clh_heads_flat_const(l->heads, &hp, NULL, &hc);
    /* --dataset features has no backbone (its pointers are NULL). */
    if (l->ms.backbone) memcpy(out, l->mlp.params, l->ms.backbone * sizeof(float));
    if (hc) memcpy(out + l->ms.backbone, hp, hc * sizeof(float));
}

void cli_method_full_grads(cli_learner *l, float *out) {
    const float *hg;
    size_t hc;
    clh_heads_flat_const(l->heads, NULL, &hg, &hc);
    if (l->ms.backbone) memcpy(out, l->mlp.grads, l->ms.backbone * sizeof(float));
    if (hc) memcpy(out + l->ms.backbone, hg, hc * sizeof(float));
}

void cli_method_set_grads(cli_learner *l, const float *full) {
    float *hg;
    size_t hc;
    clh_heads_flat(l->heads, NULL, &hg, &hc);
    if (l->ms.backbone) memcpy(l->mlp.grads, full, l->ms.backbone * sizeof(float));
    if (hc) memcpy(hg, full + l->ms.backbone, hc * sizeof(float));
}

void cli_method_all_heads_have_grad(cli_learner *l) {
    size_t n = clh_heads_num_tasks(l->heads);
    for (size_t i = 0; i < n; i++) clh_heads_set_task_has_grad(l->heads, i, 1);
}

int64_t cli_method_head_row(const cli_learner *l, int64_t task) {
    if (l->config->paradigm == CLH_DIL) return 0;
    int64_t row = 0;
    for (int64_t t = 0; t < task; t++) row += l->tasks->tasks[t].num_classes;
    return row;
}

/* v laid out for `old_rows` head rows -> `rows`; the new entries from
 * `fill` (the current full parameters) or 0. */
static float *relayout(float *v, size_t backbone, int64_t hidden, int64_t old_rows, int64_t rows,
                       const float *fill) {
    size_t h = (size_t)hidden, o = (size_t)old_rows, r = (size_t)rows;
    size_t count = backbone + r * (h + 1);
    float *out = malloc(count * sizeof(float));
    if (!out) return NULL;
    if (fill) memcpy(out, fill, count * sizeof(float));
    else memset(out, 0, count * sizeof(float));
    if (v) {
        memcpy(out, v, (backbone + o * h) * sizeof(float));           /* backbone, old weights */
        memcpy(out + backbone + r * h, v + backbone + o * h, o * sizeof(float)); /* old biases */
    }
    free(v);
    return out;
}

int cli_method_grow(cli_learner *l, char *err, size_t err_len) {
    cli_method_state *ms = &l->ms;
    int64_t rows = clh_heads_total_classes(l->heads);
    int first = !ms->si_prev && l->config->method == CLI_METHOD_SI;
    if (rows == ms->rows && !first && ms->scratch_a) return 0;
    size_t count = ms->backbone + (size_t)rows * (size_t)(ms->hidden + 1);
    float *params = malloc(count * sizeof(float));
    if (!params) return oom(err, err_len, "the method's vectors");
    cli_method_full_params(l, params);
    int64_t old = ms->rows;
    int failed = 0;
#define GROW(v, fill)                                                                     \
    if (v || (fill) == params) {                                                          \
        float *nv = relayout(v, ms->backbone, ms->hidden, v ? old : 0, rows, fill);      \
        if (nv) (v) = nv;                                                                  \
        else failed = 1;                                                                   \
    }
    for (int64_t k = 0; k < ms->terms; k++) {
        GROW(ms->anchor[k], params);
        GROW(ms->omega[k], (float *)NULL);
    }
    GROW(ms->si_w, (float *)NULL);
    if (first) {
        ms->si_prev = relayout(NULL, ms->backbone, ms->hidden, 0, rows, params);
        ms->si_w = relayout(NULL, ms->backbone, ms->hidden, 0, rows, NULL);
        failed |= !ms->si_prev || !ms->si_w;
    } else {
        GROW(ms->si_prev, params);
    }
#undef GROW
    free(params);
    ms->rows = rows;
    ms->count = count;
    if (uses_full_vectors(l->config->method)) {
        free(ms->scratch_a);
        free(ms->scratch_b);
        ms->scratch_a = malloc(count * sizeof(float));
        ms->scratch_b = malloc(count * sizeof(float));
        failed |= !ms->scratch_a || !ms->scratch_b;
    }
    if (l->config->method == CLI_METHOD_GEM) {
        free(ms->gem_grads);
        free(ms->gem_g);
        ms->gem_grads = malloc((size_t)l->tasks->count * count * sizeof(float));
        ms->gem_g = malloc(count * sizeof(float));
        failed |= !ms->gem_grads || !ms->gem_g;
    }
    return failed ? oom(err, err_len, "the method's vectors") : 0;
}

/* ---- the hooks ------------------------------------------------------------- */

int cli_method_phase_begin(cli_learner *l, int64_t row, char *err, size_t err_len) {
    if (cli_backbone_phase_begin(l, row, err, err_len)) return 1;
    return cli_method_grow(l, err, err_len);
}

int cli_method_phase_end(cli_learner *l, int64_t row, char *err, size_t err_len) {
    cli_method m = l->config->method;
    if (cli_method_is_regularizer(m) && cli_reg_consolidate(l, row, err, err_len)) return 1;
    if (cli_method_has_memory(m) && cli_replay_store(l, row, err, err_len)) return 1;
    if (m == CLI_METHOD_LWF && cli_lwf_snapshot(l, err, err_len)) return 1;
    cli_backbone_phase_end(l, row);
    return 0;
}

int cli_method_before_step(cli_learner *l, int64_t row, float *loss, char *err, size_t err_len) {
    cli_method m = l->config->method;
    cli_method_state *ms = &l->ms;
    if (m == CLI_METHOD_SI) {
        cli_method_full_grads(l, ms->scratch_b); /* the unpenalised gradient */
        cli_method_full_params(l, ms->scratch_a);
    }
    if (cli_method_is_regularizer(m) && ms->terms > 0) {
        double value = 0.0;
        if (cli_reg_penalty(l, &value, err, err_len)) return 1;
        *loss += (float)value;
    }
    if (m == CLI_METHOD_GEM && cli_gem_project_step(l, row, err, err_len)) return 1;
    return 0;
}

int cli_method_after_step(cli_learner *l, char *err, size_t err_len) {
    cli_method_state *ms = &l->ms;
    if (l->config->method != CLI_METHOD_SI) return 0;
    float *after = malloc(ms->count * sizeof(float));
    if (!after) return oom(err, err_len, "SI's step");
    cli_method_full_params(l, after);
    clh_status st = clh_si_accumulate(ms->si_w, ms->scratch_b, ms->scratch_a, after, ms->count);
    free(after);
    return st != CLH_OK ? cli_method_lib_fail(err, err_len, "SI's path integral", st) : 0;
}

/* ---- checkpoint ---------------------------------------------------------- */

int cli_method_state_save(const cli_learner *l, cli_extras *e, char *err, size_t err_len) {
    const cli_run_config *cfg = l->config;
    const cli_method_state *ms = &l->ms;
    const cli_method_options *o = &cfg->mopt;
    cli_extras_meta(e, "run.method", cli_method_name(cfg->method));
    cli_extras_meta_f64(e, "run.reg_coef", o->reg_coef);
    cli_extras_meta_i64(e, "run.memory", (long long)o->memory);
    cli_extras_meta_f64(e, "run.temperature", o->temperature);
    cli_extras_meta_f64(e, "run.online_decay", o->online_decay);
    cli_extras_meta_f64(e, "run.si_damping", o->si_damping);
    cli_extras_meta_f64(e, "run.gem_margin", o->gem_margin);
    cli_extras_meta_i64(e, "run.method_rows", (long long)ms->rows);
    cli_extras_meta_i64(e, "run.method_terms", (long long)ms->terms);
    cli_extras_meta_i64(e, "run.lwf_old_rows", (long long)ms->old_rows);
    cli_extras_meta_i64(e, "run.backbones_done", (long long)ms->backbones_done);
    char name[80];
    for (int64_t k = 0; k < ms->terms; k++) {
        snprintf(name, sizeof name, "method.term%lld.anchor", (long long)k);
        cli_extras_tensor(e, name, CLH_DT_F32, ms->anchor[k], ms->count, 4);
        if (ms->omega[k]) {
            snprintf(name, sizeof name, "method.term%lld.omega", (long long)k);
            cli_extras_tensor(e, name, CLH_DT_F32, ms->omega[k], ms->count, 4);
        }
    }
    if (ms->si_w) {
        cli_extras_tensor(e, "method.si.w", CLH_DT_F32, ms->si_w, ms->count, 4);
        cli_extras_tensor(e, "method.si.prev", CLH_DT_F32, ms->si_prev, ms->count, 4);
    }
    if (ms->memory) {
        clh_status st = clh_memory_export_create(ms->memory, "memory", &e->memory);
        if (st != CLH_OK) return cli_method_lib_fail(err, err_len, "exporting the memory", st);
        size_t n = 0, nm = 0;
        const clh_st_tensor *t = clh_memory_export_tensors(e->memory, &n);
        for (size_t i = 0; i < n; i++) cli_extras_copy(e, &t[i]);
        const clh_st_meta *mt = clh_memory_export_meta(e->memory, &nm);
        for (size_t i = 0; i < nm; i++) cli_extras_meta(e, mt[i].key, mt[i].value);
    }
    if (ms->old_rows > 0) {
        cli_extras_tensor(e, "method.lwf.old_backbone", CLH_DT_F32, ms->old_backbone,
                          ms->backbone, 4);
        cli_extras_tensor(e, "method.lwf.old_heads", CLH_DT_F32, ms->old_heads,
                          (size_t)ms->old_rows * (size_t)(ms->hidden + 1), 4);
    }
    if (ms->backbones_done > 0) {
        clh_st_tensor *t = cli_extras_tensor(e, "method.independent.backbones", CLH_DT_F32,
                                             ms->backbones,
                                             (size_t)ms->backbones_done * ms->backbone, 4);
        t->ndim = 2, t->shape[0] = ms->backbones_done, t->shape[1] = (int64_t)ms->backbone;
    }
    return 0;
}

/* A tensor of `count` float32 values, all finite, copied into a new buffer. */
static float *take_f32(const clh_st_file *file, const char *name, size_t count, char *err,
                       size_t err_len) {
    const clh_st_tensor *t = clh_st_find(file, name);
    if (!t) {
        snprintf(err, err_len, "checkpoint lacks tensor %s", name);
        return NULL;
    }
    if (t->dtype != CLH_DT_F32 || clh_st_numel(t) != count) {
        snprintf(err, err_len, "checkpoint tensor %s is %s with %zu elements, expected F32 with "
                 "%zu", name, clh_dtype_name(t->dtype), clh_st_numel(t), count);
        return NULL;
    }
    float *v = malloc((count ? count : 1) * sizeof(float));
    if (!v) {
        oom(err, err_len, name);
        return NULL;
    }
    memcpy(v, t->data, count * sizeof(float));
    if (cli_state_check_finite(name, v, count, err, err_len)) {
        free(v);
        return NULL;
    }
    return v;
}

static int meta_int(const clh_st_file *file, const char *key, int64_t min, int64_t max,
                    int64_t *out, char *err, size_t err_len) {
    const char *v = clh_st_meta_get(file, key);
    if (!v || cli_to_i64(v, min, max, out) != 0) {
        snprintf(err, err_len, "checkpoint metadata %s is %s%s%s, expected an integer in "
                 "[%lld, %lld]", key, v ? "\"" : "missing", v ? v : "", v ? "\"" : "",
                 (long long)min, (long long)max);
        return 1;
    }
    return 0;
}

/* What the finished phases imply for each method's state: the checkpoint
 * must say exactly that (a state from another run is refused). */
int cli_method_state_restore(cli_learner *l, const clh_st_file *file, int64_t phases, char *err,
                             size_t err_len) {
    cli_method_state *ms = &l->ms;
    cli_method m = l->config->method;
    int64_t rows, terms, old_rows, done;
    if (!clh_st_meta_get(file, "run.method") && m == CLI_METHOD_FINETUNE)
        return 0; /* a checkpoint from before --method */
    if (meta_int(file, "run.method_rows", 0, INT32_MAX, &rows, err, err_len) ||
        meta_int(file, "run.method_terms", 0, CLI_METHOD_MAX_TERMS, &terms, err, err_len) ||
        meta_int(file, "run.lwf_old_rows", 0, INT32_MAX, &old_rows, err, err_len) ||
        meta_int(file, "run.backbones_done", 0, CLI_MAX_TASKS, &done, err, err_len))
        return 1;
    int sequential = !cli_run_joint(l->config);
    int64_t want_terms = !cli_method_is_regularizer(m) || !sequential ? 0
                         : m == CLI_METHOD_EWC                         ? phases
                                                                       : 1;
    int64_t heads_rows = clh_heads_total_classes(l->heads);
    int64_t want_old = m == CLI_METHOD_LWF ? heads_rows : 0;
    int64_t want_done = m == CLI_METHOD_INDEPENDENT ? phases : 0;
    const char *bad = terms != want_terms ? "run.method_terms"
                      : old_rows != want_old ? "run.lwf_old_rows"
                      : done != want_done    ? "run.backbones_done"
                      : (uses_full_vectors(m) || m == CLI_METHOD_SI) && rows != heads_rows
                          ? "run.method_rows"
                          : NULL;
    if (bad) {
        snprintf(err, err_len, "checkpoint metadata %s disagrees with --method %s after %lld "
                 "phases", bad, cli_method_name(m), (long long)phases);
        return 1;
    }
    /* Lay the vectors out for the heads as they are now. */
    if (cli_method_grow(l, err, err_len)) return 1;
    size_t count = ms->count;
    char name[80];
    for (int64_t k = 0; k < terms; k++) {
        snprintf(name, sizeof name, "method.term%lld.anchor", (long long)k);
        float *a = take_f32(file, name, count, err, err_len);
        if (!a) return 1;
        ms->anchor[k] = a;
        ms->terms = k + 1; /* freed with the state from here on */
        if (m != CLI_METHOD_L2) {
            snprintf(name, sizeof name, "method.term%lld.omega", (long long)k);
            if (!(ms->omega[k] = take_f32(file, name, count, err, err_len))) return 1;
        }
    }
    if (m == CLI_METHOD_SI) {
        float *w = take_f32(file, "method.si.w", count, err, err_len);
        float *prev = w ? take_f32(file, "method.si.prev", count, err, err_len) : NULL;
        if (!prev) {
            free(w);
            return 1;
        }
        free(ms->si_w);
        free(ms->si_prev);
        ms->si_w = w;
        ms->si_prev = prev;
    }
    if (ms->memory) {
        clh_memory *mem = NULL;
        clh_status st = clh_memory_load_file(&mem, file, "memory");
        if (st != CLH_OK) return cli_method_lib_fail(err, err_len, "loading the memory", st);
        int64_t want_tasks = sequential ? phases : 0;
        if (clh_memory_capacity(mem) != (size_t)l->config->mopt.memory ||
            clh_memory_width(mem) != (size_t)l->images->dim ||
            clh_memory_num_tasks(mem) != (size_t)want_tasks) {
            snprintf(err, err_len, "checkpoint memory has capacity %zu, width %zu and %zu tasks; "
                     "this run has --memory %lld, %lld inputs and %lld finished tasks",
                     clh_memory_capacity(mem), clh_memory_width(mem), clh_memory_num_tasks(mem),
                     (long long)l->config->mopt.memory, (long long)l->images->dim,
                     (long long)want_tasks);
            clh_memory_free(mem);
            return 1;
        }
        for (size_t i = 0; i < clh_memory_num_tasks(mem); i++) {
            int64_t id;
            size_t first, n;
            clh_memory_task_at(mem, i, &id, &first, &n);
            if (id != (int64_t)i) {
                clh_memory_free(mem);
                snprintf(err, err_len, "checkpoint memory task %zu is task %lld, expected %zu",
                         i, (long long)id, i);
                return 1;
            }
        }
        clh_memory_free(ms->memory);
        ms->memory = mem;
    }
    if (old_rows > 0) {
        float *b = take_f32(file, "method.lwf.old_backbone", ms->backbone, err, err_len);
        if (!b) return 1;
        memcpy(ms->old_backbone, b, ms->backbone * sizeof(float));
        free(b);
        ms->old_heads = take_f32(file, "method.lwf.old_heads",
                                 (size_t)old_rows * (size_t)(ms->hidden + 1), err, err_len);
        if (!ms->old_heads) return 1;
        ms->old_rows = old_rows;
    }
    if (done > 0) {
        float *b = take_f32(file, "method.independent.backbones", (size_t)done * ms->backbone,
                            err, err_len);
        if (!b) return 1;
        memcpy(ms->backbones, b, (size_t)done * ms->backbone * sizeof(float));
        free(b);
        ms->backbones_done = done;
    }
    return 0;
}

/* ---- the options recorded in the checkpoint -------------------------------- */

static int meta_real(const clh_st_file *file, const char *key, double min, double max,
                     double *out, char *err, size_t err_len) {
    const char *v = clh_st_meta_get(file, key);
    if (!v || cli_to_f64(v, min, max, out) != 0) {
        snprintf(err, err_len, "checkpoint metadata %s is %s%s%s, expected a number in [%g, %g]",
                 key, v ? "\"" : "missing", v ? v : "", v ? "\"" : "", min, max);
        return 1;
    }
    return 0;
}

int cli_method_config_from(const clh_st_file *file, const char *dir, cli_run_config *cfg,
                           clh_paradigm paradigm, int freeze, char *err, size_t err_len) {
    const char *v = clh_st_meta_get(file, "run.method");
    cli_method m = CLI_METHOD_FINETUNE;
    cli_method_options o;
    cli_method_options_init(&o);
    /* A checkpoint from before --method: fine-tuning, no method state. */
    if (v && cli_method_parse(v, &m)) {
        snprintf(err, err_len, "checkpoint has unknown method \"%s\"", v);
        return 1;
    }
    if (v && (meta_real(file, "run.reg_coef", 0.0, CLI_MAX_REG_COEF, &o.reg_coef, err, err_len) ||
        meta_int(file, "run.memory", 1, CLI_MAX_MEMORY, &o.memory, err, err_len) ||
        meta_real(file, "run.temperature", 0.0, CLI_MAX_TEMPERATURE, &o.temperature, err,
                  err_len) ||
        meta_real(file, "run.online_decay", 0.0, 1.0, &o.online_decay, err, err_len) ||
        meta_real(file, "run.si_damping", 0.0, 1e6, &o.si_damping, err, err_len) ||
        meta_real(file, "run.gem_margin", 0.0, 1e6, &o.gem_margin, err, err_len)))
        return 1;
    if (!(o.temperature > 0.0) || !(o.si_damping > 0.0)) {
        snprintf(err, err_len, "checkpoint metadata run.temperature and run.si_damping must be "
                 "> 0");
        return 1;
    }
    if (cli_is_joint(paradigm) && m != CLI_METHOD_FINETUNE) {
        snprintf(err, err_len, "checkpoint has --method %s with the joint paradigm %s",
                 cli_method_name(m), clh_paradigm_name(paradigm));
        return 1;
    }
    if ((m == CLI_METHOD_INDEPENDENT && paradigm != CLH_TIL) ||
        (freeze && m != CLI_METHOD_FINETUNE)) {
        snprintf(err, err_len, "checkpoint has --method %s with paradigm %s%s, which no run "
                 "makes", cli_method_name(m), clh_paradigm_name(paradigm),
                 freeze ? " and a frozen backbone" : "");
        return 1;
    }
    const cli_method_options *g = &cfg->mopt;
    const char *option = NULL;
#define DIFFERS(flag, name, same) \
    if (!option && (g->set & (flag)) && !(same)) option = (name)
    DIFFERS(CLI_MSET_METHOD, "--method", m == cfg->method);
    DIFFERS(CLI_MSET_REG_COEF, "--reg-coef", o.reg_coef == g->reg_coef);
    DIFFERS(CLI_MSET_MEMORY, "--memory", o.memory == g->memory);
    DIFFERS(CLI_MSET_TEMPERATURE, "--temperature", o.temperature == g->temperature);
    DIFFERS(CLI_MSET_ONLINE_DECAY, "--online-decay", o.online_decay == g->online_decay);
    DIFFERS(CLI_MSET_SI_DAMPING, "--si-damping", o.si_damping == g->si_damping);
    DIFFERS(CLI_MSET_GEM_MARGIN, "--gem-margin", o.gem_margin == g->gem_margin);
#undef DIFFERS
    if (option) {
        snprintf(err, err_len, "cannot resume from %s: %s in the checkpoint differs from the "
                 "option given", dir, option);
        return 1;
    }
    o.set = g->set;
    cfg->method = m;
    cfg->mopt = o;
    return 0;
}
