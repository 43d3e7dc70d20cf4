/* Optimizer life cycle, configuration checks, binding to a parameter set,
 * growth with the heads' bank, and the step loops over segments. The update
 * rules themselves are in optim_sgd.c, optim_adam.c and optim_adagrad.c. */
#include <math.h>
#include <string.h>

#include "common/alloc.h"
#include "common/ascii.h"
#include "common/checked.h"
#include "common/error.h"
#include "train/optim_internal.h"

/* ---- names and configuration ------------------------------------------------ */

static const char *const kind_names[] = {"sgd", "adam", "adamw", "adagrad"};

const char *clh_optim_kind_name(clh_optim_kind kind) {
    /* Unsigned: also where enums are unsigned bytes (arm-none-eabi's short
     * enums), a negative value wraps to a large one. */
    if ((unsigned)kind > (unsigned)CLH_OPTIM_ADAGRAD) return NULL;
    return kind_names[kind];
}

clh_status clh_optim_kind_parse(const char *name, clh_optim_kind *out) {
    if (!name || !out) return clh_fail(CLH_E_NULL, "clh_optim_kind_parse: %s is NULL",
                                       name ? "out" : "name");
    for (int k = 0; k <= (int)CLH_OPTIM_ADAGRAD; k++) {
        if (clh_equal_ignoring_case(name, kind_names[k])) {
            *out = (clh_optim_kind)k;
            return CLH_OK;
        }
    }
    return clh_fail(CLH_E_INVALID_ARG,
                    "clh_optim_kind_parse: unknown optimizer \"%s\" "
                    "(expected sgd, adam, adamw or adagrad)",
                    name);
}

void clh_optim_config_init(clh_optim_config *config, clh_optim_kind kind, double lr) {
    if (!config) return;
    memset(config, 0, sizeof *config);
    config->struct_size = sizeof *config;
    config->kind = kind;
    config->lr = lr;
    config->beta1 = 0.9;
    config->beta2 = 0.999;
    config->eps = 1e-8;
    config->weight_decay = kind == CLH_OPTIM_ADAMW ? 1e-2 : 0.0;
    if (kind == CLH_OPTIM_ADAGRAD) config->eps = 1e-10;
}

/* x >= 0 and finite (rejects NaN, which torch's "x < 0" checks let through). */
static int non_negative(double x) { return x >= 0.0 && isfinite(x); }

/* The caller's config as this library's full struct (defaults for members
 * the caller's header does not have). */
static clh_status read_config(const clh_optim_config *given, clh_optim_config *full) {
    if (!given) return clh_fail(CLH_E_NULL, "clh_optim_config: config is NULL");
    clh_optim_config_init(full, CLH_OPTIM_SGD, 0.0);
    return clh_versioned_read(full, sizeof *full, CLH_OPTIM_CONFIG_FIRST_SIZE, given,
                              "clh_optim_config");
}

static clh_status check_config(const clh_optim_config *config) {
    static const char what[] = "clh_optim_config";
    if (!clh_optim_kind_name(config->kind))
        return clh_fail(CLH_E_INVALID_ARG, "%s: unknown optimizer kind %d", what,
                        (int)config->kind);
    if (!non_negative(config->lr))
        return clh_fail(CLH_E_INVALID_ARG, "%s: invalid learning rate %g (must be >= 0)", what,
                        config->lr);
    if (!non_negative(config->weight_decay))
        return clh_fail(CLH_E_INVALID_ARG, "%s: invalid weight_decay %g (must be >= 0)", what,
                        config->weight_decay);
    if (config->kind == CLH_OPTIM_SGD) {
        if (!non_negative(config->momentum))
            return clh_fail(CLH_E_INVALID_ARG, "%s: invalid momentum %g (must be >= 0)", what,
                            config->momentum);
        if (!isfinite(config->dampening))
            return clh_fail(CLH_E_INVALID_ARG, "%s: invalid dampening %g", what,
                            config->dampening);
        if (config->nesterov && (config->momentum <= 0.0 || config->dampening != 0.0))
            return clh_fail(CLH_E_INVALID_ARG,
                            "%s: nesterov momentum requires a momentum > 0 and zero dampening "
                            "(momentum %g, dampening %g)",
                            what, config->momentum, config->dampening);
        return CLH_OK;
    }
    if (config->kind == CLH_OPTIM_ADAGRAD) return clh_optim_adagrad_check(config);
    if (!non_negative(config->eps))
        return clh_fail(CLH_E_INVALID_ARG, "%s: invalid eps %g (must be >= 0)", what, config->eps);
    if (!(config->beta1 >= 0.0 && config->beta1 < 1.0))
        return clh_fail(CLH_E_INVALID_ARG, "%s: invalid beta1 %g (must be in [0, 1))", what,
                        config->beta1);
    if (!(config->beta2 >= 0.0 && config->beta2 < 1.0))
        return clh_fail(CLH_E_INVALID_ARG, "%s: invalid beta2 %g (must be in [0, 1))", what,
                        config->beta2);
    return CLH_OK;
}

clh_status clh_optim_config_check(const clh_optim_config *config) {
    clh_optim_config full;
    clh_status st = read_config(config, &full);
    return st ? st : check_config(&full);
}

size_t clh_optim_buffer_names(const clh_optim_config *config, const char *names[3]) {
    if (config->kind == CLH_OPTIM_SGD) {
        if (config->momentum == 0.0) return 0; /* torch keeps no buffer then */
        names[0] = "momentum_buffer";
        return 1;
    }
    if (config->kind == CLH_OPTIM_ADAGRAD) {
        names[0] = "sum";
        return 1;
    }
    names[0] = "exp_avg";
    names[1] = "exp_avg_sq";
    if (!config->amsgrad) return 2;
    names[2] = "max_exp_avg_sq";
    return 3;
}

/* ---- life cycle --------------------------------------------------------------- */

clh_status clh_optim_create(clh_optim **out, const clh_optim_config *config) {
    if (!out) return clh_fail(CLH_E_NULL, "clh_optim_create: out is NULL");
    clh_optim_config full;
    clh_status st = read_config(config, &full);
    if (st == CLH_OK) st = check_config(&full);
    if (st) return st;
    clh_optim *optim = clh_calloc(1, sizeof *optim);
    if (!optim) return clh_fail(CLH_E_NOMEM, "clh_optim_create: out of memory");
    optim->config = full;
    const char *names[3];
    optim->num_buffers = clh_optim_buffer_names(&full, names);
    *out = optim;
    return CLH_OK;
}

void clh_optim_state_release(clh_optim_state *state) {
    clh_free(state->ids);
    clh_free(state->classes);
    clh_free(state->steps);
    for (int b = 0; b < CLH_OPT_MAX_BUFFERS; b++) clh_free(state->buf[b]);
    memset(state, 0, sizeof *state);
}

void clh_optim_free(clh_optim *optim) {
    if (!optim) return;
    clh_optim_state_release(&optim->state);
    clh_free(optim);
}

clh_status clh_optim_get_config(const clh_optim *optim, clh_optim_config *config) {
    if (!optim || !config)
        return clh_fail(CLH_E_NULL, "clh_optim_get_config: %s is NULL", optim ? "config" : "optim");
    return clh_optim_config_write(config, &optim->config);
}

clh_status clh_optim_set_lr(clh_optim *optim, double lr) {
    if (!optim) return clh_fail(CLH_E_NULL, "clh_optim_set_lr: optim is NULL");
    if (!non_negative(lr))
        return clh_fail_owner(optim, CLH_E_INVALID_ARG,
                              "clh_optim_set_lr: invalid learning rate %g (must be >= 0)", lr);
    optim->config.lr = lr;
    return CLH_OK;
}

/* ---- state allocation ---------------------------------------------------------- */

clh_status clh_optim_state_alloc(const clh_optim *optim, clh_optim_state *state,
                                 clh_optim_binding binding, size_t count, size_t segments) {
    clh_optim_state s;
    memset(&s, 0, sizeof s);
    s.binding = binding;
    s.count = count;
    s.num_segments = segments;
    size_t float_bytes, id_bytes;
    if (!clh_mul_size(count, sizeof(float), &float_bytes) ||
        !clh_mul_size(segments, sizeof(int64_t), &id_bytes))
        return clh_fail_owner(optim, CLH_E_OVERFLOW,
                              "optimizer state of %zu parameters and %zu segments overflows",
                              count, segments);
    int ok = (s.steps = clh_calloc(segments ? segments : 1, sizeof(int64_t))) != NULL;
    if (ok && binding == CLH_OPTIM_HEADS) {
        ok = (s.ids = clh_calloc(segments ? segments : 1, sizeof(int64_t))) != NULL &&
             (s.classes = clh_calloc(segments ? segments : 1, sizeof(int64_t))) != NULL;
    }
    for (size_t b = 0; ok && b < optim->num_buffers; b++)
        ok = (s.buf[b] = clh_calloc(count ? count : 1, sizeof(float))) != NULL;
    if (ok && optim->config.kind == CLH_OPTIM_ADAGRAD) { /* torch: full_like(p, initial value) */
        const float initial = (float)optim->config.initial_accumulator_value;
        for (size_t i = 0; i < count; i++) s.buf[0][i] = initial;
    }
    if (!ok) {
        clh_optim_state_release(&s);
        return clh_fail_owner(optim, CLH_E_NOMEM,
                              "optimizer state of %zu parameters: out of memory", count);
    }
    *state = s;
    return CLH_OK;
}

/* ---- binding to a heads handle --------------------------------------------------- */

/* The handle's tasks must extend the bound ones: same in_features, the bound
 * tasks first, in order, with the same class counts. */
static clh_status check_heads_prefix(const clh_optim *optim, const clh_heads *heads) {
    static const char what[] = "clh_optim_step_heads";
    const clh_optim_state *s = &optim->state;
    if (s->binding == CLH_OPTIM_FLAT)
        return clh_fail_owner(optim, CLH_E_MISMATCH,
                              "%s: this optimizer is bound to a plain vector of %zu parameters",
                              what, s->count);
    if (s->binding == CLH_OPTIM_UNBOUND) return CLH_OK;
    /* The same rows mean different things under another paradigm (CIL's
     * shared logits, TIL's separate heads), so the state is not theirs. */
    if (clh_heads_paradigm(heads) != s->paradigm)
        return clh_fail_owner(optim, CLH_E_MISMATCH,
                              "%s: heads are %s, the optimizer's state is bound to %s heads", what,
                              clh_paradigm_name(clh_heads_paradigm(heads)),
                              clh_paradigm_name(s->paradigm));
    if (clh_heads_in_features(heads) != s->in)
        return clh_fail_owner(optim, CLH_E_MISMATCH,
                              "%s: heads have in_features %lld, the optimizer's state %lld", what,
                              (long long)clh_heads_in_features(heads), (long long)s->in);
    size_t n = clh_heads_num_tasks(heads);
    const int64_t *ids = clh_heads_task_ids(heads);
    for (size_t t = 0; t < s->num_segments && t < n; t++) {
        int64_t classes = 0;
        clh_heads_task_classes(heads, ids[t], &classes, NULL);
        if (ids[t] != s->ids[t] || classes != s->classes[t])
            return clh_fail_owner(optim, CLH_E_MISMATCH,
                                  "%s: task %zu in set-up order is id %lld with %lld classes, the "
                                  "optimizer's state has id %lld with %lld classes",
                                  what, t, (long long)ids[t], (long long)classes,
                                  (long long)s->ids[t], (long long)s->classes[t]);
    }
    if (n < s->num_segments)
        return clh_fail_owner(optim, CLH_E_MISMATCH,
                              "%s: heads have %zu tasks, the optimizer's state %zu", what, n,
                              s->num_segments);
    return CLH_OK;
}

/* Builds state for the handle's current layout, keeping what the old state
 * had: the weight rows stay in place, the bias block moves behind the new
 * weight rows (the bank's own layout move), new rows start at zero. */
static clh_status grown_state(const clh_optim *optim, const clh_heads *heads,
                              clh_optim_state *next) {
    const clh_optim_state *old = &optim->state;
    int64_t in = clh_heads_in_features(heads);
    int64_t rows = clh_heads_total_classes(heads);
    size_t n = clh_heads_num_tasks(heads), count;
    if (!clh_mul_size((size_t)rows, (size_t)in + 1, &count))
        return clh_fail_owner(optim, CLH_E_OVERFLOW, "clh_optim_step_heads: %lld rows overflow",
                              (long long)rows);
    clh_status st = clh_optim_state_alloc(optim, next, CLH_OPTIM_HEADS, count, n);
    if (st) return st;
    next->in = in;
    next->rows = rows;
    next->paradigm = clh_heads_paradigm(heads);
    const int64_t *ids = clh_heads_task_ids(heads);
    for (size_t t = 0; t < n; t++) {
        next->ids[t] = ids[t];
        clh_heads_task_classes(heads, ids[t], &next->classes[t], NULL);
        next->steps[t] = t < old->num_segments ? old->steps[t] : 0;
    }
    if (old->binding == CLH_OPTIM_HEADS) {
        size_t old_weights = (size_t)old->rows * (size_t)in;
        for (size_t b = 0; b < optim->num_buffers; b++) {
            memcpy(next->buf[b], old->buf[b], old_weights * sizeof(float));
            memcpy(next->buf[b] + (size_t)rows * (size_t)in, old->buf[b] + old_weights,
                   (size_t)old->rows * sizeof(float));
        }
    }
    return CLH_OK;
}

/* ---- steps ------------------------------------------------------------------------ */

/* Applies the configured update to one range of one segment. */
static void update_range(clh_optim *optim, float *params, const float *grads,
                         clh_optim_range range, int64_t step) {
    float *p = params + range.begin;
    const float *g = grads + range.begin;
    float **buf = optim->state.buf;
    float *b0 = buf[0] ? buf[0] + range.begin : NULL;
    if (optim->config.kind == CLH_OPTIM_SGD) {
        clh_optim_sgd_update(&optim->config, p, g, b0, range.length, step);
        return;
    }
    if (optim->config.kind == CLH_OPTIM_ADAGRAD) {
        clh_optim_adagrad_update(&optim->config, p, g, b0, range.length, step);
        return;
    }
    clh_optim_adam_update(&optim->config, p, g, b0, buf[1] + range.begin,
                          buf[2] ? buf[2] + range.begin : NULL, range.length, step);
}

clh_status clh_optim_step_heads(clh_optim *optim, clh_heads *heads) {
    static const char what[] = "clh_optim_step_heads";
    if (!optim || !heads)
        return clh_fail(CLH_E_NULL, "%s: %s is NULL", what, optim ? "heads" : "optim");
    clh_status st = check_heads_prefix(optim, heads);
    if (st) return st;
    clh_optim_state *s = &optim->state;
    if (s->binding == CLH_OPTIM_UNBOUND || clh_heads_num_tasks(heads) > s->num_segments) {
        clh_optim_state next;
        st = grown_state(optim, heads, &next);
        if (st) return st;
        clh_optim_state_release(s);
        *s = next;
    }

    float *params, *grads;
    size_t count;
    clh_heads_flat(heads, &params, &grads, &count);
    size_t weights_end = (size_t)s->rows * (size_t)s->in;
    size_t offset = 0; /* first row of the task */
    for (size_t t = 0; t < s->num_segments; t++) {
        size_t classes = (size_t)s->classes[t];
        int frozen = 0, has_grad = 0;
        clh_heads_is_frozen(heads, s->ids[t], &frozen);
        clh_heads_task_has_grad(heads, s->ids[t], &has_grad);
        /* Frozen: no move at all. No gradient yet: torch's .grad is None. */
        if (!frozen && has_grad) {
            int64_t step = ++s->steps[t];
            clh_optim_range weight = {offset * (size_t)s->in, classes * (size_t)s->in};
            clh_optim_range bias = {weights_end + offset, classes};
            update_range(optim, params, grads, weight, step);
            update_range(optim, params, grads, bias, step);
        }
        offset += classes;
    }
    return CLH_OK;
}

clh_status clh_optim_step(clh_optim *optim, float *params, const float *grads, size_t count) {
    static const char what[] = "clh_optim_step";
    if (!optim) return clh_fail(CLH_E_NULL, "%s: optim is NULL", what);
    if (count > 0 && (!params || !grads))
        return clh_fail_owner(optim, CLH_E_NULL, "%s: %s is NULL", what,
                              params ? "grads" : "params");
    clh_optim_state *s = &optim->state;
    if (s->binding == CLH_OPTIM_HEADS)
        return clh_fail_owner(optim, CLH_E_MISMATCH,
                              "%s: this optimizer is bound to heads (use clh_optim_step_heads)",
                              what);
    if (s->binding == CLH_OPTIM_FLAT && s->count != count)
        return clh_fail_owner(optim, CLH_E_MISMATCH,
                              "%s: %zu parameters given, the optimizer's state has %zu", what,
                              count, s->count);
    if (s->binding == CLH_OPTIM_UNBOUND) {
        clh_status st = clh_optim_state_alloc(optim, s, CLH_OPTIM_FLAT, count, 1);
        if (st) return st;
    }
    int64_t step = ++s->steps[0];
    clh_optim_range all = {0, count};
    update_range(optim, params, grads, all, step);
    return CLH_OK;
}
