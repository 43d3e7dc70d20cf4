/* The statistics in safetensors files (names and checks in analytic.h):
 * an export of tensors and metadata under "analytic." for a heads
 * checkpoint, an atomic save, and a load that checks every tensor before it
 * builds a new handle. Doubles (λ, ε) travel as an F64 tensor, so no text
 * conversion and no locale is involved; integers as canonical decimal text. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "io/safetensors_internal.h"
#include "common/alloc.h"
#include "analytic/analytic_internal.h"
#include "common/checked.h"
#include "common/little_endian.h"
#include "common/id_list.h"

#define ANALYTIC_FORMAT "1"
#define PREFIX "analytic."
enum { MAX_META = 12, NAME_CAP = 64 };

struct clh_analytic_export {
    clh_st_tensor *tensors;
    size_t n_tensors;
    clh_st_meta meta[MAX_META];
    size_t n_meta;
    char (*names)[NAME_CAP]; /* per-task matrix names */
    void **mats;             /* mirrored copies of the matrices */
    size_t n_mats;
    char *text[4];           /* in_features, task_ids, num_classes: owned strings */
    double params[2];
    uint64_t expansion[3];
};

/* ---- export -------------------------------------------------------------------- */

/* "3,1,2" of n values (each at most 20 characters and a comma). */
static char *list_text(const int64_t *values, size_t n) {
    size_t bytes = n * 21 + 1;
    char *text = clh_malloc(bytes);
    if (!text) return NULL;
    size_t used = 0;
    text[0] = '\0';
    for (size_t i = 0; i < n; i++)
        used += (size_t)snprintf(text + used, bytes - used, "%s%lld", i ? "," : "",
                                 (long long)values[i]);
    return text;
}

void clh_analytic_export_free(clh_analytic_export *e) {
    if (!e) return;
    for (size_t m = 0; m < e->n_mats; m++) clh_free(e->mats[m]);
    clh_free(e->mats);
    clh_free(e->names);
    for (int i = 0; i < 4; i++) clh_free(e->text[i]);
    clh_free(e->tensors);
    clh_free(e);
}

/* The upper triangle of c [n, n] from its lower one, tile by tile through a
 * small buffer: element (i, j > i) comes from (j, i), a column read, which
 * element by element would touch a new cache line per value, and at a
 * power-of-two width all of a column's lines fall into the same cache set.
 * A tile's rows are read whole into the buffer, then written out
 * transposed, row by row. */
enum { MIRROR_TILE = 16 };

#define DEFINE_MIRROR(name, type)                                                         \
    static void name(type *c, int64_t n) {                                               \
        type tile[MIRROR_TILE][MIRROR_TILE];                                              \
        for (int64_t j0 = 0; j0 < n; j0 += MIRROR_TILE) {     /* source rows */           \
            int64_t j1 = j0 + MIRROR_TILE < n ? j0 + MIRROR_TILE : n;                     \
            for (int64_t i0 = 0; i0 <= j0; i0 += MIRROR_TILE) { /* source columns */      \
                int64_t i1 = i0 + MIRROR_TILE < n ? i0 + MIRROR_TILE : n;                 \
                for (int64_t j = j0; j < j1; j++)                                         \
                    for (int64_t i = i0; i < i1; i++) tile[j - j0][i - i0] = c[j * n + i]; \
                for (int64_t i = i0; i < i1; i++)                                         \
                    for (int64_t j = j0 > i + 1 ? j0 : i + 1; j < j1; j++)                \
                        c[i * n + j] = tile[j - j0][i - i0];                              \
            }                                                                             \
        }                                                                                 \
    }
DEFINE_MIRROR(mirror_f32, float)
DEFINE_MIRROR(mirror_f64, double)

/* A full symmetric copy of matrix m (the handle keeps the lower triangle). */
static void *mirrored(const clh_analytic *a, size_t m) {
    size_t bytes = clh_analytic_mat_bytes(a);
    void *copy = clh_malloc(bytes);
    if (!copy) return NULL;
    memcpy(copy, a->mats[m], bytes);
    if (a->config.precision == CLH_DT_F64)
        mirror_f64(copy, a->dim);
    else
        mirror_f32(copy, a->dim);
    return copy;
}

static const char *scope_name(const clh_analytic *a) {
    if (!clh_analytic_has_mats(a)) return "none";
    return a->config.scope == CLH_SCOPE_PER_TASK ? "per_task" : "shared";
}

clh_status clh_analytic_export_create(const clh_analytic *a, const clh_random_features *expansion,
                                      clh_analytic_export **out) {
    static const char what[] = "clh_analytic_export_create";
    if (!a || !out) return clh_fail(CLH_E_NULL, "%s: %s is NULL", what, a ? "out" : "analytic");
    clh_analytic_export *e = clh_calloc(1, sizeof *e);
    int ok = e != NULL;
    if (ok) {
        e->tensors = clh_calloc(a->num_mats + 6, sizeof *e->tensors);
        e->names = clh_calloc(a->num_mats ? a->num_mats : 1, sizeof *e->names);
        e->mats = clh_calloc(a->num_mats ? a->num_mats : 1, sizeof *e->mats);
        int64_t *classes = clh_malloc((a->num_tasks ? a->num_tasks : 1) * sizeof *classes);
        for (size_t t = 0; classes && t < a->num_tasks; t++) classes[t] = a->tasks[t].classes;
        e->text[0] = list_text(&a->in, 1);
        e->text[1] = list_text(a->ids, a->num_tasks);
        e->text[2] = classes ? list_text(classes, a->num_tasks) : NULL;
        clh_free(classes);
        ok = e->tensors && e->names && e->mats && e->text[0] && e->text[1] && e->text[2];
    }
    for (size_t m = 0; ok && m < a->num_mats; m++) {
        e->mats[m] = mirrored(a, m);
        ok = e->mats[m] != NULL;
        if (ok) e->n_mats++;
    }
    if (!ok) {
        clh_analytic_export_free(e);
        return clh_analytic_fail(a, CLH_E_NOMEM, "%s: out of memory", what);
    }
    e->params[0] = a->config.lambda;
    e->params[1] = a->config.shrinkage;
    clh_st_tensor *t = e->tensors;
    t[e->n_tensors++] = clh_st_view(PREFIX "sums", CLH_DT_F64, 2, a->rows, a->in, a->sums);
    t[e->n_tensors++] = clh_st_view(PREFIX "counts", CLH_DT_I64, 1, a->rows, 0, a->counts);
    t[e->n_tensors++] = clh_st_view(PREFIX "params", CLH_DT_F64, 1, 2, 0, e->params);
    for (size_t m = 0; m < a->num_mats; m++) {
        if (a->config.scope == CLH_SCOPE_PER_TASK)
            snprintf(e->names[m], NAME_CAP, PREFIX "tasks.%lld.gram", (long long)a->tasks[m].id);
        else
            snprintf(e->names[m], NAME_CAP, PREFIX "gram");
        t[e->n_tensors++] = clh_st_view(e->names[m], a->config.precision, 2, a->dim, a->dim,
                                      e->mats[m]);
    }
    if (a->num_mats)
        t[e->n_tensors++] = clh_st_view(PREFIX "gram_samples", CLH_DT_I64, 1, (int64_t)a->num_mats,
                                      0, a->mat_samples);
    if (expansion) {
        e->expansion[0] = clh_random_features_seed(expansion);
        e->expansion[1] = (uint64_t)clh_random_features_in(expansion);
        e->expansion[2] = (uint64_t)clh_random_features_width(expansion);
        t[e->n_tensors++] = clh_st_view(PREFIX "expansion", CLH_DT_U64, 1, 3, 0, e->expansion);
    }
    const char *keys[] = {PREFIX "format", PREFIX "method", PREFIX "paradigm",
                          PREFIX "in_features", PREFIX "task_ids", PREFIX "num_classes",
                          PREFIX "fit_bias", PREFIX "normalize", PREFIX "precision",
                          PREFIX "scope"};
    const char *values[] = {ANALYTIC_FORMAT, clh_analytic_method_name(a->config.method),
                            clh_paradigm_name(a->paradigm), e->text[0], e->text[1], e->text[2],
                            a->config.fit_bias ? "1" : "0", a->config.normalize ? "1" : "0",
                            clh_dtype_name(a->config.precision), scope_name(a)};
    for (size_t i = 0; i < sizeof keys / sizeof *keys; i++) {
        e->meta[e->n_meta].key = keys[i];
        e->meta[e->n_meta].value = values[i];
        e->n_meta++;
    }
    *out = e;
    return CLH_OK;
}

const clh_st_tensor *clh_analytic_export_tensors(const clh_analytic_export *e, size_t *count) {
    if (count) *count = e ? e->n_tensors : 0;
    return e ? e->tensors : NULL;
}

const clh_st_meta *clh_analytic_export_meta(const clh_analytic_export *e, size_t *count) {
    if (count) *count = e ? e->n_meta : 0;
    return e ? e->meta : NULL;
}

clh_status clh_analytic_save(const clh_analytic *a, const clh_random_features *expansion,
                             const char *path) {
    if (!a || !path)
        return clh_fail(CLH_E_NULL, "clh_analytic_save: %s is NULL", a ? "path" : "analytic");
    clh_analytic_export *e = NULL;
    clh_status st = clh_analytic_export_create(a, expansion, &e);
    if (st) return st;
    st = clh_st_save(path, e->tensors, e->n_tensors, e->meta, e->n_meta);
    clh_analytic_export_free(e);
    return st;
}

/* ---- load ---------------------------------------------------------------------- */

static const char source[] = "analytic statistics";

static double load_f64(const unsigned char *p) {
    uint64_t bits = clh_load_le64(p);
    double v;
    memcpy(&v, &bits, sizeof v);
    return v;
}
static float load_f32(const unsigned char *p) {
    uint32_t bits = clh_load_le32(p);
    float v;
    memcpy(&v, &bits, sizeof v);
    return v;
}

static const char *require_meta(const clh_st_file *file, const char *key, clh_status *st) {
    const char *value = clh_st_meta_get(file, key);
    if (!value && *st == CLH_OK)
        *st = clh_fail(CLH_E_FORMAT, "%s: metadata \"%s\" is missing", source, key);
    return value;
}

/* The tensor `name` with exactly this dtype and shape [d0] or [d0, d1]. */
static clh_status find_tensor(const clh_st_file *file, const char *name, clh_dtype dtype,
                              size_t ndim, int64_t d0, int64_t d1, const clh_st_tensor **out) {
    const clh_st_tensor *t = clh_st_find(file, name);
    if (!t) return clh_fail(CLH_E_MISMATCH, "%s: tensor \"%s\" is missing", source, name);
    if (t->dtype != dtype)
        return clh_fail(CLH_E_MISMATCH, "%s: tensor \"%s\" is %s, expected %s", source, name,
                        clh_dtype_name(t->dtype), clh_dtype_name(dtype));
    if (t->ndim != ndim || t->shape[0] != d0 || (ndim == 2 && t->shape[1] != d1))
        return clh_fail(CLH_E_MISMATCH, "%s: tensor \"%s\" has the wrong shape (expected [%lld%s%lld])",
                        source, name, (long long)d0, ndim == 2 ? ", " : "",
                        ndim == 2 ? (long long)d1 : 0LL);
    *out = t;
    return CLH_OK;
}

static clh_status parse_flag(const char *key, const char *text, int *out) {
    if (strcmp(text, "0") != 0 && strcmp(text, "1") != 0)
        return clh_fail(CLH_E_FORMAT, "%s: metadata %s = \"%.20s\" is not 0 or 1", source, key, text);
    *out = text[0] == '1';
    return CLH_OK;
}

/* The configuration, paradigm and width from the metadata and params. */
static clh_status read_config(const clh_st_file *file, clh_analytic_config *c,
                              clh_paradigm *paradigm, int64_t *in, const char **scope) {
    clh_status st = CLH_OK;
    const char *format = require_meta(file, PREFIX "format", &st);
    const char *method = require_meta(file, PREFIX "method", &st);
    const char *par = require_meta(file, PREFIX "paradigm", &st);
    const char *width = require_meta(file, PREFIX "in_features", &st);
    const char *fit_bias = require_meta(file, PREFIX "fit_bias", &st);
    const char *normalize = require_meta(file, PREFIX "normalize", &st);
    const char *precision = require_meta(file, PREFIX "precision", &st);
    *scope = require_meta(file, PREFIX "scope", &st);
    if (st) return st;
    if (strcmp(format, ANALYTIC_FORMAT) != 0)
        return clh_fail(CLH_E_FORMAT, "%s: format \"%.20s\", this version reads \"%s\"", source,
                        format, ANALYTIC_FORMAT);
    clh_analytic_method m;
    if (clh_analytic_method_parse(method, &m) != CLH_OK)
        return clh_fail(CLH_E_FORMAT, "%s: unknown method \"%.20s\"", source, method);
    clh_analytic_config_init(c, m);
    if (clh_paradigm_parse(par, paradigm) != CLH_OK)
        return clh_fail(CLH_E_FORMAT, "%s: unknown paradigm \"%.20s\"", source, par);
    if (!clh_parse_int64(width, NULL, in) || *in <= 0)
        return clh_fail(CLH_E_FORMAT, "%s: in_features = \"%.24s\" is not a positive integer",
                        source, width);
    if ((st = parse_flag(PREFIX "fit_bias", fit_bias, &c->fit_bias)) ||
        (st = parse_flag(PREFIX "normalize", normalize, &c->normalize)))
        return st;
    if (strcmp(precision, "F32") == 0) c->precision = CLH_DT_F32;
    else if (strcmp(precision, "F64") == 0) c->precision = CLH_DT_F64;
    else return clh_fail(CLH_E_FORMAT, "%s: precision \"%.20s\" is not F32 or F64", source, precision);
    if (strcmp(*scope, "per_task") == 0) c->scope = CLH_SCOPE_PER_TASK;
    else if (strcmp(*scope, "shared") == 0 || strcmp(*scope, "none") == 0) c->scope = CLH_SCOPE_SHARED;
    else return clh_fail(CLH_E_FORMAT, "%s: scope \"%.20s\" is not shared, per_task or none",
                         source, *scope);
    const clh_st_tensor *params;
    st = find_tensor(file, PREFIX "params", CLH_DT_F64, 1, 2, 0, &params);
    if (st) return st;
    c->lambda = load_f64(params->data);
    c->shrinkage = load_f64((const unsigned char *)params->data + 8);
    st = clh_analytic_config_check(c);
    if (st) return clh_fail(CLH_E_FORMAT, "%s: %s", source, clh_last_error());
    return CLH_OK;
}

/* Re-creates the set-up from task_ids and num_classes. */
static clh_status read_tasks(const clh_st_file *file, clh_analytic *a) {
    clh_status st = CLH_OK;
    const char *ids_text = require_meta(file, PREFIX "task_ids", &st);
    const char *classes_text = require_meta(file, PREFIX "num_classes", &st);
    if (st) return st;
    int64_t *ids = NULL, *classes = NULL;
    size_t n_ids = 0, n_classes = 0;
    st = clh_parse_int64_list(source, PREFIX "task_ids", ids_text, &ids, &n_ids);
    if (!st) st = clh_parse_int64_list(source, PREFIX "num_classes", classes_text, &classes,
                                       &n_classes);
    if (!st && n_ids != n_classes)
        st = clh_fail(CLH_E_FORMAT, "%s: %zu task ids but %zu class counts", source, n_ids,
                      n_classes);
    int single = a->paradigm == CLH_DIL || a->paradigm == CLH_STL;
    if (!st && single && (n_ids > 1 || (n_ids == 1 && ids[0] != 0)))
        st = clh_fail(CLH_E_FORMAT, "%s: %s has one head with task id 0", source,
                      clh_paradigm_name(a->paradigm));
    for (size_t i = 0; !st && i < n_ids; i++) {
        if (clh_analytic_find(a, ids[i]) >= 0)
            st = clh_fail(CLH_E_FORMAT, "%s: task id %lld appears twice", source, (long long)ids[i]);
        else if (single)
            st = clh_analytic_setup_single(a, classes[i]);
        else
            st = clh_analytic_setup_task(a, ids[i], classes[i]);
        if (st == CLH_E_INVALID_ARG) st = clh_fail(CLH_E_FORMAT, "%s: %s", source, clh_last_error());
    }
    clh_free(ids);
    clh_free(classes);
    return st;
}

/* Sums and counts: finite, counts >= 0, a class without samples sums to 0. */
static clh_status read_class_stats(const clh_st_file *file, clh_analytic *a) {
    const clh_st_tensor *sums, *counts;
    clh_status st = find_tensor(file, PREFIX "sums", CLH_DT_F64, 2, a->rows, a->in, &sums);
    if (!st) st = find_tensor(file, PREFIX "counts", CLH_DT_I64, 1, a->rows, 0, &counts);
    if (st) return st;
    const unsigned char *sb = sums->data, *cb = counts->data;
    for (int64_t r = 0; r < a->rows; r++) {
        int64_t n = (int64_t)clh_load_le64(cb + 8 * r);
        if (n < 0)
            return clh_fail(CLH_E_MISMATCH, "%s: tensor \"%s\": class row %lld has count %lld",
                            source, counts->name, (long long)r, (long long)n);
        a->counts[r] = n;
        for (int64_t j = 0; j < a->in; j++) {
            double v = load_f64(sb + 8 * ((size_t)r * (size_t)a->in + (size_t)j));
            if (!isfinite(v) || (n == 0 && v != 0.0))
                return clh_fail(CLH_E_MISMATCH, "%s: tensor \"%s\" [%lld, %lld] = %g %s", source,
                                sums->name, (long long)r, (long long)j, v,
                                isfinite(v) ? "for a class without samples" : "is not finite");
            a->sums[(size_t)r * (size_t)a->in + (size_t)j] = v;
        }
    }
    return CLH_OK;
}

/* One matrix: finite, exactly symmetric, diagonal >= 0. */
static clh_status read_matrix(const clh_st_file *file, clh_analytic *a, size_t m, const char *name) {
    const clh_st_tensor *t;
    clh_status st = find_tensor(file, name, a->config.precision, 2, a->dim, a->dim, &t);
    if (st) return st;
    const unsigned char *b = t->data;
    int f64 = a->config.precision == CLH_DT_F64;
    size_t n = (size_t)a->dim, elem = f64 ? 8 : 4;
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j <= i; j++) {
            const unsigned char *lo = b + elem * (i * n + j), *up = b + elem * (j * n + i);
            double v = f64 ? load_f64(lo) : (double)load_f32(lo);
            double w = f64 ? load_f64(up) : (double)load_f32(up);
            if (!isfinite(v) || v != w || (i == j && v < 0))
                return clh_fail(CLH_E_MISMATCH, "%s: tensor \"%s\" [%zu, %zu] = %g %s", source,
                                name, i, j, v,
                                !isfinite(v) ? "is not finite"
                                : v != w     ? "differs from its mirror (not symmetric)"
                                             : "is a negative diagonal entry");
            if (f64) ((double *)a->mats[m])[i * n + j] = v;
            else ((float *)a->mats[m])[i * n + j] = (float)v;
        }
    return CLH_OK;
}

/* The matrices and their sample counts (each the sum of its classes' counts). */
static clh_status read_matrices(const clh_st_file *file, clh_analytic *a, size_t *consumed) {
    if (!clh_analytic_has_mats(a)) return CLH_OK;
    char name[NAME_CAP];
    for (size_t m = 0; m < a->num_mats; m++) {
        if (a->config.scope == CLH_SCOPE_PER_TASK)
            snprintf(name, sizeof name, PREFIX "tasks.%lld.gram", (long long)a->tasks[m].id);
        else
            snprintf(name, sizeof name, PREFIX "gram");
        clh_status st = read_matrix(file, a, m, name);
        if (st) return st;
        (*consumed)++;
    }
    const clh_st_tensor *samples;
    clh_status st = find_tensor(file, PREFIX "gram_samples", CLH_DT_I64, 1, (int64_t)a->num_mats,
                                0, &samples);
    if (st) return st;
    (*consumed)++;
    for (size_t m = 0; m < a->num_mats; m++) {
        int64_t expected = 0;
        for (size_t t = 0; t < a->num_tasks; t++) {
            if (clh_analytic_mat_of(a, t) != m) continue;
            for (int64_t c = 0; c < a->tasks[t].classes; c++)
                if (!clh_add_i64(expected, a->counts[a->tasks[t].offset + c], &expected))
                    return clh_fail(CLH_E_MISMATCH, "%s: the class counts overflow", source);
        }
        int64_t got = (int64_t)clh_load_le64((const unsigned char *)samples->data + 8 * m);
        if (got != expected)
            return clh_fail(CLH_E_MISMATCH, "%s: tensor \"%s\"[%zu] = %lld, but its classes hold "
                            "%lld samples", source, samples->name, m, (long long)got,
                            (long long)expected);
        a->mat_samples[m] = got;
    }
    return CLH_OK;
}

/* Every "analytic." tensor must be one the layout names. */
static clh_status check_no_extra(const clh_st_file *file, size_t consumed) {
    size_t total = 0;
    for (size_t i = 0; i < clh_st_count(file); i++)
        if (strncmp(clh_st_at(file, i)->name, PREFIX, strlen(PREFIX)) == 0) total++;
    if (clh_st_find(file, PREFIX "expansion")) consumed++;
    if (total == consumed) return CLH_OK;
    for (size_t i = 0; i < clh_st_count(file); i++) {
        const char *name = clh_st_at(file, i)->name;
        if (strncmp(name, PREFIX, strlen(PREFIX)) != 0) continue;
        if (strcmp(name, PREFIX "sums") && strcmp(name, PREFIX "counts") &&
            strcmp(name, PREFIX "params") && strcmp(name, PREFIX "gram") &&
            strcmp(name, PREFIX "gram_samples") && strcmp(name, PREFIX "expansion") &&
            strncmp(name, PREFIX "tasks.", strlen(PREFIX "tasks.")) != 0)
            return clh_fail(CLH_E_MISMATCH, "%s: tensor \"%.80s\" is not part of the statistics",
                            source, name);
    }
    return clh_fail(CLH_E_MISMATCH, "%s: %zu tensors under \"analytic.\" where the saved layout "
                    "has %zu", source, total, consumed);
}

clh_status clh_analytic_load_file(clh_analytic **out, const clh_st_file *file) {
    if (!out || !file)
        return clh_fail(CLH_E_NULL, "clh_analytic_load_file: %s is NULL", out ? "file" : "out");
    clh_analytic_config c;
    clh_paradigm paradigm;
    int64_t in;
    const char *scope;
    clh_status st = read_config(file, &c, &paradigm, &in, &scope);
    if (st) return st;
    clh_analytic *a = NULL;
    st = clh_analytic_new(&a, &c, paradigm, in);
    if (st) return clh_fail(CLH_E_FORMAT, "%s: %s", source, clh_last_error());
    if (strcmp(scope_name(a), scope) != 0)
        st = clh_fail(CLH_E_FORMAT, "%s: scope \"%.20s\" does not fit %s in %s (expected \"%s\")",
                      source, scope, clh_analytic_method_name(c.method),
                      clh_paradigm_name(paradigm), scope_name(a));
    size_t consumed = 3; /* sums, counts, params */
    if (!st) st = read_tasks(file, a);
    if (!st) st = read_class_stats(file, a);
    if (!st) st = read_matrices(file, a, &consumed);
    if (!st) st = check_no_extra(file, consumed);
    if (st) {
        clh_analytic_free(a);
        return st;
    }
    *out = a;
    return CLH_OK;
}

clh_status clh_analytic_load(clh_analytic **out, const char *path) {
    if (!out || !path)
        return clh_fail(CLH_E_NULL, "clh_analytic_load: %s is NULL", out ? "path" : "out");
    clh_st_file *file = NULL;
    clh_status st = clh_st_open(&file, path);
    if (st) return st;
    st = clh_analytic_load_file(out, file);
    clh_st_free(file);
    return st;
}

clh_status clh_random_features_load_file(clh_random_features **out, const clh_st_file *file) {
    if (!out || !file)
        return clh_fail(CLH_E_NULL, "clh_random_features_load_file: %s is NULL",
                        out ? "file" : "out");
    if (!clh_st_find(file, PREFIX "expansion")) {
        *out = NULL;
        return CLH_OK;
    }
    const clh_st_tensor *t;
    clh_status st = find_tensor(file, PREFIX "expansion", CLH_DT_U64, 1, 3, 0, &t);
    if (st) return st;
    const unsigned char *b = t->data;
    uint64_t seed = clh_load_le64(b), in = clh_load_le64(b + 8), width = clh_load_le64(b + 16);
    if (in == 0 || width == 0 || in > INT64_MAX || width > INT64_MAX)
        return clh_fail(CLH_E_MISMATCH, "%s: tensor \"%s\": in %llu and width %llu must be "
                        "positive int64 values", source, t->name, (unsigned long long)in,
                        (unsigned long long)width);
    return clh_random_features_create(out, seed, (int64_t)in, (int64_t)width);
}
