/* The analytic handle: configuration, life cycle, task set-up and queries.
 * The streaming update is in update.c, the solves in solve.c. */
#include <math.h>
#include <string.h>

#include "common/alloc.h"
#include "analytic/analytic_internal.h"
#include "common/ascii.h"
#include "common/checked.h"
#include "common/versioned.h"

const char *clh_analytic_method_name(clh_analytic_method method) {
    switch (method) {
    case CLH_ANALYTIC_RIDGE: return "ridge";
    case CLH_ANALYTIC_NCM: return "ncm";
    case CLH_ANALYTIC_LDA: return "slda";
    }
    return NULL;
}

clh_status clh_analytic_method_parse(const char *name, clh_analytic_method *out) {
    if (!name || !out) return clh_fail(CLH_E_NULL, "clh_analytic_method_parse: %s is NULL",
                                       name ? "out" : "name");
    static const struct { const char *name; clh_analytic_method method; } table[] = {
        {"ridge", CLH_ANALYTIC_RIDGE}, {"ncm", CLH_ANALYTIC_NCM},
        {"slda", CLH_ANALYTIC_LDA}, {"lda", CLH_ANALYTIC_LDA}};
    for (size_t i = 0; i < sizeof table / sizeof *table; i++)
        if (clh_equal_ignoring_case(name, table[i].name)) {
            *out = table[i].method;
            return CLH_OK;
        }
    return clh_fail(CLH_E_INVALID_ARG, "\"%.40s\" is not an analytic method (ridge, ncm, slda)",
                    name);
}

void clh_analytic_config_init(clh_analytic_config *config, clh_analytic_method method) {
    if (!config) return;
    memset(config, 0, sizeof *config);
    config->struct_size = sizeof *config;
    config->method = method;
    config->lambda = 1.0;
    config->shrinkage = 1e-4;
    config->precision = CLH_DT_F64;
    config->scope = CLH_SCOPE_DEFAULT;
}

static clh_status check_config(const clh_analytic_config *c);

clh_status clh_analytic_config_read(const clh_analytic_config *given, clh_analytic_config *full) {
    if (!given) return clh_fail(CLH_E_NULL, "clh_analytic_config: config is NULL");
    clh_analytic_config_init(full, CLH_ANALYTIC_RIDGE);
    return clh_versioned_read(full, sizeof *full, CLH_ANALYTIC_CONFIG_FIRST_SIZE, given,
                              "clh_analytic_config");
}

clh_status clh_analytic_config_check(const clh_analytic_config *given) {
    clh_analytic_config full;
    clh_status st = clh_analytic_config_read(given, &full);
    return st ? st : check_config(&full);
}

static clh_status check_config(const clh_analytic_config *c) {
    static const char what[] = "analytic config";
    if (!clh_analytic_method_name(c->method))
        return clh_fail(CLH_E_INVALID_ARG, "%s: method %d is not a clh_analytic_method", what,
                        (int)c->method);
    if (!(c->lambda >= 0.0) || !isfinite(c->lambda))
        return clh_fail(CLH_E_INVALID_ARG, "%s: lambda = %g must be finite and >= 0", what,
                        c->lambda);
    if (!(c->shrinkage >= 0.0 && c->shrinkage <= 1.0))
        return clh_fail(CLH_E_INVALID_ARG, "%s: shrinkage = %g must be in [0, 1]", what,
                        c->shrinkage);
    if (c->fit_bias != 0 && c->fit_bias != 1)
        return clh_fail(CLH_E_INVALID_ARG, "%s: fit_bias = %d must be 0 or 1", what, c->fit_bias);
    if (c->normalize != 0 && c->normalize != 1)
        return clh_fail(CLH_E_INVALID_ARG, "%s: normalize = %d must be 0 or 1", what,
                        c->normalize);
    if (c->fit_bias && c->method != CLH_ANALYTIC_RIDGE)
        return clh_fail(CLH_E_INVALID_ARG, "%s: fit_bias applies to ridge only (%s has its bias "
                        "from the means)", what, clh_analytic_method_name(c->method));
    if (c->normalize && c->method != CLH_ANALYTIC_NCM)
        return clh_fail(CLH_E_INVALID_ARG, "%s: normalize applies to ncm only (the heads' forward "
                        "gets raw features, which a %s head cannot normalise)", what,
                        clh_analytic_method_name(c->method));
    if (c->precision != CLH_DT_F32 && c->precision != CLH_DT_F64)
        return clh_fail(CLH_E_INVALID_ARG, "%s: precision must be CLH_DT_F32 or CLH_DT_F64", what);
    if (c->scope != CLH_SCOPE_DEFAULT && c->scope != CLH_SCOPE_SHARED &&
        c->scope != CLH_SCOPE_PER_TASK)
        return clh_fail(CLH_E_INVALID_ARG, "%s: scope %d is not a clh_analytic_scope", what,
                        (int)c->scope);
    return CLH_OK;
}

size_t clh_analytic_mat_bytes(const clh_analytic *a) {
    size_t elems, bytes;
    size_t elem = a->config.precision == CLH_DT_F64 ? sizeof(double) : sizeof(float);
    if (!clh_mul_size((size_t)a->dim, (size_t)a->dim, &elems) ||
        !clh_mul_size(elems, elem, &bytes))
        return 0;
    return bytes;
}

void clh_analytic_free(clh_analytic *a) {
    if (!a) return;
    for (size_t m = 0; m < a->num_mats; m++) clh_free(a->mats[m]);
    clh_free(a->mats);
    clh_free(a->mat_samples);
    clh_free(a->tasks);
    clh_free(a->ids);
    clh_free(a->sums);
    clh_free(a->counts);
    clh_free(a);
}

const char *clh_analytic_last_error(const clh_analytic *a) {
    return a && clh_error_owner() == a ? clh_last_error() : "";
}

/* Appends one zeroed matrix (its samples 0); CLH_E_NOMEM changes nothing. */
static clh_status add_matrix(clh_analytic *a) {
    size_t bytes = clh_analytic_mat_bytes(a);
    if (!bytes)
        return clh_analytic_fail(a, CLH_E_OVERFLOW, "analytic: a %lld x %lld matrix overflows",
                                 (long long)a->dim, (long long)a->dim);
    void **mats = clh_realloc(a->mats, (a->num_mats + 1) * sizeof *mats);
    if (!mats) return clh_analytic_fail(a, CLH_E_NOMEM, "analytic: out of memory");
    a->mats = mats;
    int64_t *samples = clh_realloc(a->mat_samples, (a->num_mats + 1) * sizeof *samples);
    if (!samples) return clh_analytic_fail(a, CLH_E_NOMEM, "analytic: out of memory");
    a->mat_samples = samples;
    void *m = clh_calloc(1, bytes);
    if (!m)
        return clh_analytic_fail(a, CLH_E_NOMEM, "analytic: out of memory for a %lld x %lld "
                                 "matrix (%zu bytes)", (long long)a->dim, (long long)a->dim, bytes);
    a->mats[a->num_mats] = m;
    a->mat_samples[a->num_mats] = 0;
    a->num_mats++;
    return CLH_OK;
}

clh_status clh_analytic_new(clh_analytic **out, const clh_analytic_config *given,
                            clh_paradigm paradigm, int64_t in_features) {
    clh_analytic_config full;
    clh_status st = clh_analytic_config_read(given, &full);
    if (!st) st = check_config(&full);
    if (st) return st;
    const clh_analytic_config *config = &full;
    if (!clh_paradigm_name(paradigm))
        return clh_fail(CLH_E_INVALID_ARG, "clh_analytic_create: paradigm %d is not a "
                        "clh_paradigm", (int)paradigm);
    if (in_features <= 0 || in_features >= INT64_MAX / 2)
        return clh_fail(CLH_E_INVALID_ARG, "clh_analytic_create: in_features = %lld must be "
                        "positive", (long long)in_features);
    int per_task_paradigm = paradigm == CLH_TIL || paradigm == CLH_MTL;
    clh_analytic_config c = *config;
    if (c.scope == CLH_SCOPE_PER_TASK && !per_task_paradigm)
        return clh_fail(CLH_E_INVALID_ARG, "clh_analytic_create: a per-task matrix needs TIL or "
                        "MTL (%s has one head over all tasks)", clh_paradigm_name(paradigm));
    if (c.method == CLH_ANALYTIC_NCM)
        c.scope = CLH_SCOPE_SHARED; /* no matrix: the scope is moot */
    else if (c.scope == CLH_SCOPE_DEFAULT)
        c.scope = per_task_paradigm && c.method == CLH_ANALYTIC_RIDGE ? CLH_SCOPE_PER_TASK
                                                                      : CLH_SCOPE_SHARED;
    clh_analytic *a = clh_calloc(1, sizeof *a);
    if (!a) return clh_fail(CLH_E_NOMEM, "clh_analytic_create: out of memory");
    a->config = c;
    a->paradigm = paradigm;
    a->in = in_features;
    a->dim = c.method == CLH_ANALYTIC_NCM ? 0 : in_features + c.fit_bias;
    if (clh_analytic_has_mats(a) && c.scope == CLH_SCOPE_SHARED) {
        st = add_matrix(a);
        if (st) {
            clh_analytic_free(a);
            return st;
        }
    }
    *out = a;
    return CLH_OK;
}

clh_status clh_analytic_create(clh_analytic **out, const clh_analytic_config *config,
                               clh_paradigm paradigm, int64_t in_features) {
    if (!out || !config)
        return clh_fail(CLH_E_NULL, "clh_analytic_create: %s is NULL", out ? "config" : "out");
    return clh_analytic_new(out, config, paradigm, in_features);
}

ptrdiff_t clh_analytic_find(const clh_analytic *a, int64_t task_id) {
    for (size_t t = 0; t < a->num_tasks; t++)
        if (a->tasks[t].id == task_id) return (ptrdiff_t)t;
    return -1;
}

/* Adds a task: room for its rows (zeroed), its matrix when per task, then
 * the record. Any failure leaves the handle as it was (grown buffers are
 * only larger). */
static clh_status add_task(clh_analytic *a, int64_t task_id, int64_t classes, const char *what) {
    int64_t rows;
    size_t sum_bytes;
    if (!clh_add_i64(a->rows, classes, &rows) || !clh_mul_size((size_t)rows, (size_t)a->in,
                                                               &sum_bytes) ||
        !clh_mul_size(sum_bytes, sizeof(double), &sum_bytes))
        return clh_analytic_fail(a, CLH_E_OVERFLOW, "%s: %lld classes overflow", what,
                                 (long long)classes);
    if (rows > a->row_cap) {
        int64_t cap = a->row_cap * 2 > rows ? a->row_cap * 2 : rows;
        size_t bytes;
        if (!clh_mul_size((size_t)cap, (size_t)a->in, &bytes) ||
            !clh_mul_size(bytes, sizeof(double), &bytes)) {
            cap = rows;
            bytes = sum_bytes;
        }
        double *sums = clh_realloc(a->sums, bytes);
        if (!sums) return clh_analytic_fail(a, CLH_E_NOMEM, "%s: out of memory", what);
        a->sums = sums;
        int64_t *counts = clh_realloc(a->counts, (size_t)cap * sizeof *counts);
        if (!counts) return clh_analytic_fail(a, CLH_E_NOMEM, "%s: out of memory", what);
        a->counts = counts;
        a->row_cap = cap;
    }
    if (a->num_tasks == a->task_cap) {
        size_t cap = a->task_cap ? a->task_cap * 2 : 4;
        clh_analytic_task *tasks = clh_realloc(a->tasks, cap * sizeof *tasks);
        if (!tasks) return clh_analytic_fail(a, CLH_E_NOMEM, "%s: out of memory", what);
        a->tasks = tasks;
        int64_t *ids = clh_realloc(a->ids, cap * sizeof *ids);
        if (!ids) return clh_analytic_fail(a, CLH_E_NOMEM, "%s: out of memory", what);
        a->ids = ids;
        a->task_cap = cap;
    }
    if (clh_analytic_has_mats(a) && a->config.scope == CLH_SCOPE_PER_TASK) {
        clh_status st = add_matrix(a);
        if (st) return st;
    }
    memset(a->sums + (size_t)a->rows * (size_t)a->in, 0,
           (size_t)classes * (size_t)a->in * sizeof(double));
    memset(a->counts + a->rows, 0, (size_t)classes * sizeof(int64_t));
    clh_analytic_task task = {task_id, classes, a->rows};
    a->tasks[a->num_tasks] = task;
    a->ids[a->num_tasks] = task_id;
    a->num_tasks++;
    a->rows = rows;
    return CLH_OK;
}

/* Set-up of one task: idempotent for the same count, a conflict otherwise. */
static clh_status setup_one(clh_analytic *a, int64_t task_id, int64_t classes, const char *what) {
    if (classes <= 0)
        return clh_analytic_fail(a, CLH_E_INVALID_ARG, "%s: num_classes = %lld must be positive",
                                 what, (long long)classes);
    ptrdiff_t t = clh_analytic_find(a, task_id);
    if (t >= 0) {
        if (a->tasks[t].classes == classes) return CLH_OK;
        return clh_analytic_fail(a, CLH_E_TASK_CONFLICT, "%s: task %lld is set up with %lld "
                                 "classes, not %lld", what, (long long)task_id,
                                 (long long)a->tasks[t].classes, (long long)classes);
    }
    return add_task(a, task_id, classes, what);
}

clh_status clh_analytic_setup_task(clh_analytic *a, int64_t task_id, int64_t num_classes) {
    static const char what[] = "clh_analytic_setup_task";
    if (!a) return clh_fail(CLH_E_NULL, "%s: analytic is NULL", what);
    if (a->paradigm != CLH_TIL && a->paradigm != CLH_CIL && a->paradigm != CLH_MTL)
        return clh_analytic_fail(a, CLH_E_PARADIGM, "%s: %s has one head; use "
                                 "clh_analytic_setup_single", what, clh_paradigm_name(a->paradigm));
    if (task_id < 0)
        return clh_analytic_fail(a, CLH_E_INVALID_ARG, "%s: task id %lld is negative", what,
                                 (long long)task_id);
    return setup_one(a, task_id, num_classes, what);
}

clh_status clh_analytic_setup_single(clh_analytic *a, int64_t num_classes) {
    static const char what[] = "clh_analytic_setup_single";
    if (!a) return clh_fail(CLH_E_NULL, "%s: analytic is NULL", what);
    if (a->paradigm != CLH_DIL && a->paradigm != CLH_STL)
        return clh_analytic_fail(a, CLH_E_PARADIGM, "%s: %s has a head per task; use "
                                 "clh_analytic_setup_task", what, clh_paradigm_name(a->paradigm));
    return setup_one(a, 0, num_classes, what);
}

clh_status clh_analytic_setup_like(clh_analytic *a, const clh_heads *heads) {
    static const char what[] = "clh_analytic_setup_like";
    if (!a || !heads) return clh_fail(CLH_E_NULL, "%s: %s is NULL", what, a ? "heads" : "analytic");
    if (clh_heads_paradigm(heads) != a->paradigm || clh_heads_in_features(heads) != a->in)
        return clh_analytic_fail(a, CLH_E_MISMATCH, "%s: the heads are %s with in_features %lld, "
                                 "the statistics %s with %lld", what,
                                 clh_paradigm_name(clh_heads_paradigm(heads)),
                                 (long long)clh_heads_in_features(heads),
                                 clh_paradigm_name(a->paradigm), (long long)a->in);
    size_t n = clh_heads_num_tasks(heads);
    const int64_t *ids = clh_heads_task_ids(heads);
    int single = a->paradigm == CLH_DIL || a->paradigm == CLH_STL;
    /* First every check, so that a conflict adds nothing. */
    for (size_t i = 0; i < n; i++) {
        int64_t classes = 0, id = single ? 0 : ids[i];
        clh_status st = clh_heads_task_classes(heads, id, &classes, NULL); /* DIL/STL: 0 */
        if (st) return st;
        ptrdiff_t t = clh_analytic_find(a, id);
        if (t >= 0 && a->tasks[t].classes != classes)
            return clh_analytic_fail(a, CLH_E_TASK_CONFLICT, "%s: task %lld has %lld classes in "
                                     "the heads and %lld in the statistics", what, (long long)id,
                                     (long long)classes, (long long)a->tasks[t].classes);
    }
    for (size_t i = 0; i < n; i++) {
        int64_t classes = 0, id = single ? 0 : ids[i];
        clh_heads_task_classes(heads, id, &classes, NULL);
        clh_status st = setup_one(a, id, classes, what);
        if (st) return st; /* only NOMEM/OVERFLOW; earlier tasks stay set up */
    }
    return CLH_OK;
}

/* ---- queries ---------------------------------------------------------------- */

clh_status clh_analytic_get_config(const clh_analytic *a, clh_analytic_config *config) {
    if (!a || !config)
        return clh_fail(CLH_E_NULL, "clh_analytic_get_config: %s is NULL", a ? "config" : "analytic");
    return clh_versioned_write(config, &a->config, sizeof a->config,
                               CLH_ANALYTIC_CONFIG_FIRST_SIZE, "clh_analytic_config");
}

clh_status clh_analytic_set_lambda(clh_analytic *a, double lambda) {
    if (!a) return clh_fail(CLH_E_NULL, "clh_analytic_set_lambda: analytic is NULL");
    if (!(lambda >= 0.0) || !isfinite(lambda))
        return clh_analytic_fail(a, CLH_E_INVALID_ARG, "clh_analytic_set_lambda: lambda = %g must "
                                 "be finite and >= 0", lambda);
    a->config.lambda = lambda;
    return CLH_OK;
}

clh_status clh_analytic_set_shrinkage(clh_analytic *a, double shrinkage) {
    if (!a) return clh_fail(CLH_E_NULL, "clh_analytic_set_shrinkage: analytic is NULL");
    if (!(shrinkage >= 0.0 && shrinkage <= 1.0))
        return clh_analytic_fail(a, CLH_E_INVALID_ARG, "clh_analytic_set_shrinkage: shrinkage = "
                                 "%g must be in [0, 1]", shrinkage);
    a->config.shrinkage = shrinkage;
    return CLH_OK;
}

clh_paradigm clh_analytic_paradigm(const clh_analytic *a) { return a ? a->paradigm : CLH_TIL; }
int64_t clh_analytic_in_features(const clh_analytic *a) { return a ? a->in : 0; }
size_t clh_analytic_num_tasks(const clh_analytic *a) { return a ? a->num_tasks : 0; }
const int64_t *clh_analytic_task_ids(const clh_analytic *a) {
    return a && a->num_tasks ? a->ids : NULL;
}

clh_status clh_analytic_task_samples(const clh_analytic *a, int64_t task_id, int64_t *samples) {
    static const char what[] = "clh_analytic_task_samples";
    if (!a || !samples)
        return clh_fail(CLH_E_NULL, "%s: %s is NULL", what, a ? "samples" : "analytic");
    int single = a->paradigm == CLH_DIL || a->paradigm == CLH_STL;
    ptrdiff_t t = clh_analytic_find(a, single && task_id == CLH_NO_TASK ? 0 : task_id);
    if (t < 0)
        return clh_analytic_fail(a, CLH_E_UNKNOWN_TASK, "%s: task %lld is not set up", what,
                                 (long long)task_id);
    int64_t n = 0;
    for (int64_t r = 0; r < a->tasks[t].classes; r++) n += a->counts[a->tasks[t].offset + r];
    *samples = n;
    return CLH_OK;
}
