/* Optimizer state in safetensors files: per-parameter tensors named after
 * the seed's heads module (see include/clheads/optim.h), the configuration
 * and layout as "__metadata__", atomic save through the safetensors writer,
 * and a load that rebuilds the flat buffers and restores them in one go. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "common/checked.h"
#include "common/little_endian.h"
#include "common/error.h"
#include "common/id_list.h"
#include "common/number.h"
#include "train/optim_internal.h"
#include "io/safetensors_internal.h"

#define OPTIM_FORMAT "1"
#define MAX_META 20
/* The names' first part: "optim" unless the caller gives one (a program with
 * two optimizers, like the tool's backbone and heads, gives each its own). */
#define DEFAULT_PREFIX "optim"
enum { PREFIX_MAX = 40, KEY_CAP = PREFIX_MAX + 40 };

static clh_status check_prefix(const char *what, const char *prefix) {
    if (!prefix) return clh_fail(CLH_E_NULL, "%s: prefix is NULL", what);
    size_t len = strlen(prefix);
    if (len == 0 || len > PREFIX_MAX || prefix[len - 1] == '.')
        return clh_fail(CLH_E_INVALID_ARG,
                        "%s: prefix \"%.60s\" must be 1 to %d characters, not ending in '.'", what,
                        prefix, PREFIX_MAX);
    return CLH_OK;
}

/* "<prefix>.<name>" in buf (KEY_CAP bytes). */
static const char *key_of(char *buf, const char *prefix, const char *name) {
    snprintf(buf, KEY_CAP, "%s.%s", prefix, name);
    return buf;
}

struct clh_optim_export {
    clh_st_tensor *tensors;
    size_t n_tensors;
    clh_st_meta meta[MAX_META];
    size_t n_meta;
    char **strings; /* every name and value this export owns */
    size_t n_strings;
    size_t cap_strings;
    const char *prefix; /* the caller's, while the export is built */
};

/* ---- export --------------------------------------------------------------- */

/* A formatted string owned by the export; NULL when out of memory. */
static char *export_printf(clh_optim_export *e, const char *fmt, ...) CLH_PRINTF(2, 3);
static char *export_printf(clh_optim_export *e, const char *fmt, ...) {
    if (e->n_strings == e->cap_strings) return NULL; /* sized in advance */
    va_list args;
    va_start(args, fmt);
    int len = vsnprintf(NULL, 0, fmt, args);
    va_end(args);
    if (len < 0) return NULL;
    char *text = clh_malloc((size_t)len + 1);
    if (!text) return NULL;
    va_start(args, fmt);
    vsnprintf(text, (size_t)len + 1, fmt, args);
    va_end(args);
    e->strings[e->n_strings++] = text;
    return text;
}

/* prefix + suffix + (more or "") in a new string owned by the export; NULL
 * when out of memory. The tensor names, hundreds of thousands for many
 * heads, are joined here: export_printf's two vsnprintf calls per name were
 * most of an export. */
static char *export_join(clh_optim_export *e, const char *prefix, size_t prefix_len,
                         const char *suffix, const char *more) {
    if (e->n_strings == e->cap_strings) return NULL;
    size_t suffix_len = strlen(suffix), more_len = more ? strlen(more) : 0;
    char *text = clh_malloc(prefix_len + suffix_len + more_len + 1);
    if (!text) return NULL;
    memcpy(text, prefix, prefix_len);
    memcpy(text + prefix_len, suffix, suffix_len);
    if (more_len) memcpy(text + prefix_len + suffix_len, more, more_len);
    text[prefix_len + suffix_len + more_len] = '\0';
    e->strings[e->n_strings++] = text;
    return text;
}

/* "3,1,2" from n int64 values; NULL when out of memory. */
static char *export_list(clh_optim_export *e, const int64_t *values, size_t n) {
    if (e->n_strings == e->cap_strings) return NULL;
    size_t bytes = n * CLH_INT64_LIST_ITEM_MAX + 1;
    char *text = clh_malloc(bytes);
    if (!text) return NULL;
    size_t used = 0;
    text[0] = '\0';
    for (size_t i = 0; i < n; i++) used = clh_append_int64(text, bytes, used, values[i]);
    e->strings[e->n_strings++] = text;
    return text;
}

static int add_meta(clh_optim_export *e, const char *name, const char *value) {
    if (!value || e->n_meta == MAX_META) return 0;
    const char *key = export_printf(e, "%s.%s", e->prefix, name);
    if (!key) return 0;
    e->meta[e->n_meta].key = key;
    e->meta[e->n_meta].value = value;
    e->n_meta++;
    return 1;
}

/* A double in the locale-independent form clh_double_parse reads. */
static char *export_double(clh_optim_export *e, double value) {
    char text[CLH_DOUBLE_TEXT_CAP];
    return clh_format_double(value, text) ? export_printf(e, "%s", text) : NULL;
}

/* The configuration and layout as metadata. */
static int export_metadata(clh_optim_export *e, const clh_optim *optim) {
    const clh_optim_config *c = &optim->config;
    const clh_optim_state *s = &optim->state;
    int ok = add_meta(e, "format", OPTIM_FORMAT) &&
             add_meta(e, "kind", clh_optim_kind_name(c->kind)) &&
             add_meta(e, "lr", export_double(e, c->lr)) &&
             add_meta(e, "weight_decay", export_double(e, c->weight_decay)) &&
             add_meta(e, "momentum", export_double(e, c->momentum)) &&
             add_meta(e, "dampening", export_double(e, c->dampening)) &&
             add_meta(e, "nesterov", c->nesterov ? "1" : "0") &&
             add_meta(e, "beta1", export_double(e, c->beta1)) &&
             add_meta(e, "beta2", export_double(e, c->beta2)) &&
             add_meta(e, "eps", export_double(e, c->eps)) &&
             add_meta(e, "amsgrad", c->amsgrad ? "1" : "0") &&
             add_meta(e, "lr_decay", export_double(e, c->lr_decay)) &&
             add_meta(e, "initial_accumulator_value",
                      export_double(e, c->initial_accumulator_value));
    if (!ok) return 0;
    if (s->binding == CLH_OPTIM_UNBOUND) return add_meta(e, "binding", "none");
    if (s->binding == CLH_OPTIM_FLAT)
        return add_meta(e, "binding", "flat") &&
               add_meta(e, "count", export_printf(e, "%zu", s->count));
    return add_meta(e, "binding", "heads") &&
           add_meta(e, "paradigm", clh_paradigm_name(s->paradigm)) &&
           add_meta(e, "in_features", export_printf(e, "%lld", (long long)s->in)) &&
           add_meta(e, "task_ids", export_list(e, s->ids, s->num_segments)) &&
           add_meta(e, "num_classes", export_list(e, s->classes, s->num_segments));
}

/* The names of a segment's tensors start with "<prefix>.params" (flat),
 * "<prefix>.head" (DIL, STL) or "<prefix>.heads.<id>"; the export and the
 * load both name them here. */
enum { PREFIX_CAP = PREFIX_MAX + 48 }; /* the prefix, ".heads." and an int64 */
static void segment_prefix(char prefix[PREFIX_CAP], const char *names, clh_optim_binding binding,
                           clh_paradigm paradigm, int64_t id) {
    if (binding == CLH_OPTIM_FLAT)
        snprintf(prefix, PREFIX_CAP, "%s.params", names);
    else if (paradigm == CLH_DIL || paradigm == CLH_STL)
        snprintf(prefix, PREFIX_CAP, "%s.head", names);
    else
        snprintf(prefix, PREFIX_CAP, "%s.heads.%lld", names, (long long)id);
}

/* Adds the tensors of segment t: for each buffer its weight and bias parts
 * (heads) or the whole vector (flat), then the step. */
static int export_segment(clh_optim_export *e, const clh_optim *optim, size_t t, size_t offset) {
    const clh_optim_state *s = &optim->state;
    const char *names[3];
    size_t nb = clh_optim_buffer_names(&optim->config, names);
    char prefix[PREFIX_CAP];
    segment_prefix(prefix, e->prefix, s->binding, s->paradigm,
                   s->binding == CLH_OPTIM_HEADS ? s->ids[t] : 0);
    size_t prefix_len = strlen(prefix);
    for (size_t b = 0; b < nb; b++) {
        if (s->binding == CLH_OPTIM_FLAT) {
            const char *name = export_join(e, prefix, prefix_len, ".", names[b]);
            if (!name) return 0;
            e->tensors[e->n_tensors++] = clh_st_view(name, CLH_DT_F32, 1, (int64_t)s->count, 0, s->buf[b]);
            continue;
        }
        const char *weight = export_join(e, prefix, prefix_len, ".weight.", names[b]);
        const char *bias = export_join(e, prefix, prefix_len, ".bias.", names[b]);
        if (!weight || !bias) return 0;
        size_t weights_end = (size_t)s->rows * (size_t)s->in;
        e->tensors[e->n_tensors++] =
            clh_st_view(weight, CLH_DT_F32, 2, s->classes[t], s->in, s->buf[b] + offset * (size_t)s->in);
        e->tensors[e->n_tensors++] =
            clh_st_view(bias, CLH_DT_F32, 1, s->classes[t], 0, s->buf[b] + weights_end + offset);
    }
    const char *step = export_join(e, prefix, prefix_len, ".step", NULL);
    if (!step) return 0;
    clh_st_tensor st;
    memset(&st, 0, sizeof st);
    st.name = step;
    st.dtype = CLH_DT_I64;
    st.ndim = 0; /* a scalar, like torch's state['step'] */
    st.data = &s->steps[t];
    st.nbytes = sizeof(int64_t);
    e->tensors[e->n_tensors++] = st;
    return 1;
}

void clh_optim_export_free(clh_optim_export *exported) {
    if (!exported) return;
    for (size_t i = 0; i < exported->n_strings; i++) clh_free(exported->strings[i]);
    clh_free(exported->strings);
    clh_free(exported->tensors);
    clh_free(exported);
}

clh_status clh_optim_export_create(const clh_optim *optim, clh_optim_export **out) {
    return clh_optim_export_create_prefixed(optim, DEFAULT_PREFIX, out);
}

clh_status clh_optim_export_create_prefixed(const clh_optim *optim, const char *prefix,
                                            clh_optim_export **out) {
    if (!optim || !out)
        return clh_fail(CLH_E_NULL, "clh_optim_export_create: %s is NULL", optim ? "out" : "optim");
    clh_status prefix_status = check_prefix("clh_optim_export_create_prefixed", prefix);
    if (prefix_status) return prefix_status;
    const clh_optim_state *s = &optim->state;
    size_t per_segment = 2 * optim->num_buffers + 1, n_tensors, n_strings;
    /* strings: per segment the names of its tensors (two per buffer and the
     * step), plus the metadata keys and values. */
    if (!clh_mul_size(s->num_segments, per_segment, &n_tensors) ||
        !clh_mul_size(s->num_segments, per_segment, &n_strings) ||
        !clh_add_size(n_strings, 2 * MAX_META, &n_strings))
        return clh_fail_owner(optim, CLH_E_OVERFLOW, "clh_optim_export_create: too many segments");
    clh_optim_export *e = clh_calloc(1, sizeof *e);
    int ok = e != NULL;
    if (ok) {
        e->tensors = clh_calloc(n_tensors ? n_tensors : 1, sizeof *e->tensors);
        e->strings = clh_calloc(n_strings, sizeof *e->strings);
        e->cap_strings = n_strings;
        e->prefix = prefix;
        ok = e->tensors && e->strings && export_metadata(e, optim);
    }
    size_t offset = 0;
    for (size_t t = 0; ok && t < s->num_segments; t++) {
        ok = export_segment(e, optim, t, offset);
        if (s->binding == CLH_OPTIM_HEADS) offset += (size_t)s->classes[t];
    }
    if (e) e->prefix = NULL;
    if (!ok) {
        clh_optim_export_free(e);
        return clh_fail_owner(optim, CLH_E_NOMEM, "clh_optim_export_create: out of memory");
    }
    *out = e;
    return CLH_OK;
}

const clh_st_tensor *clh_optim_export_tensors(const clh_optim_export *exported, size_t *count) {
    if (count) *count = exported ? exported->n_tensors : 0;
    return exported ? exported->tensors : NULL;
}

const clh_st_meta *clh_optim_export_meta(const clh_optim_export *exported, size_t *count) {
    if (count) *count = exported ? exported->n_meta : 0;
    return exported ? exported->meta : NULL;
}

clh_status clh_optim_save(const clh_optim *optim, const char *path) {
    if (!optim || !path)
        return clh_fail(CLH_E_NULL, "clh_optim_save: %s is NULL", optim ? "path" : "optim");
    clh_optim_export *e = NULL;
    clh_status st = clh_optim_export_create(optim, &e);
    if (st) return st;
    st = clh_st_save(path, e->tensors, e->n_tensors, e->meta, e->n_meta);
    clh_optim_export_free(e);
    return st;
}

/* ---- reading -------------------------------------------------------------- */

static const char *require_meta(const clh_st_file *file, const char *prefix, const char *name,
                                clh_status *st) {
    char key[KEY_CAP];
    const char *value = clh_st_meta_get(file, key_of(key, prefix, name));
    if (!value && *st == CLH_OK)
        *st = clh_fail(CLH_E_FORMAT, "optimizer state: metadata \"%s\" is missing", key);
    return value;
}

/* A whole-string double (locale-independent) / int64. */
static clh_status parse_double(const char *key, const char *text, double *out) {
    if (clh_double_parse(text, out) != CLH_OK)
        return clh_fail(CLH_E_FORMAT, "optimizer state: metadata %s = \"%.40s\" is not a number",
                        key, text);
    return CLH_OK;
}

static clh_status parse_i64(const char *key, const char *text, int64_t *out) {
    if (!clh_parse_int64(text, NULL, out))
        return clh_fail(CLH_E_FORMAT, "optimizer state: metadata %s = \"%.40s\" is not an integer",
                        key, text);
    return CLH_OK;
}

static clh_status read_config(const clh_st_file *file, const char *prefix,
                              clh_optim_config *config) {
    if (!file || !config)
        return clh_fail(CLH_E_NULL, "clh_optim_read_config: %s is NULL", file ? "config" : "file");
    clh_status st = CLH_OK;
    char kb[KEY_CAP];
    const char *format = require_meta(file, prefix, "format", &st);
    const char *kind = require_meta(file, prefix, "kind", &st);
    static const char *const keys[] = {"lr", "weight_decay", "momentum", "dampening",
                                       "beta1", "beta2", "eps"};
    const char *values[7];
    for (int i = 0; i < 7; i++) values[i] = require_meta(file, prefix, keys[i], &st);
    const char *nesterov = require_meta(file, prefix, "nesterov", &st);
    const char *amsgrad = require_meta(file, prefix, "amsgrad", &st);
    if (st) return st;
    if (strcmp(format, OPTIM_FORMAT) != 0)
        return clh_fail(CLH_E_FORMAT, "optimizer state: format \"%.20s\", this version reads \"%s\"",
                        format, OPTIM_FORMAT);
    clh_optim_config c;
    clh_optim_config_init(&c, CLH_OPTIM_SGD, 0.0);
    st = clh_optim_kind_parse(kind, &c.kind);
    if (st) return clh_fail(CLH_E_FORMAT, "optimizer state: unknown kind \"%.20s\"", kind);
    double *fields[7] = {&c.lr, &c.weight_decay, &c.momentum, &c.dampening,
                         &c.beta1, &c.beta2, &c.eps};
    for (int i = 0; i < 7; i++) {
        st = parse_double(key_of(kb, prefix, keys[i]), values[i], fields[i]);
        if (st) return st;
    }
    const char *flags[2] = {nesterov, amsgrad};
    for (int i = 0; i < 2; i++)
        if (strcmp(flags[i], "0") != 0 && strcmp(flags[i], "1") != 0)
            return clh_fail(CLH_E_FORMAT, "optimizer state: metadata %s = \"%.20s\" is not 0 or 1",
                            key_of(kb, prefix, i ? "amsgrad" : "nesterov"), flags[i]);
    c.nesterov = strcmp(nesterov, "1") == 0;
    c.amsgrad = strcmp(amsgrad, "1") == 0;
    /* Adagrad's fields: absent in files written before Adagrad existed. */
    static const char *const adagrad_keys[] = {"lr_decay", "initial_accumulator_value"};
    double *adagrad_fields[2] = {&c.lr_decay, &c.initial_accumulator_value};
    for (int i = 0; i < 2; i++) {
        const char *text = clh_st_meta_get(file, key_of(kb, prefix, adagrad_keys[i]));
        st = text ? parse_double(kb, text, adagrad_fields[i]) : CLH_OK;
        if (st) return st;
    }
    st = clh_optim_config_check(&c);
    if (st) return st;
    return clh_optim_config_write(config, &c);
}

clh_status clh_optim_read_config(const clh_st_file *file, clh_optim_config *config) {
    return read_config(file, DEFAULT_PREFIX, config);
}

/* Everything a load builds before it touches the optimizer. */
typedef struct loaded_state {
    clh_optim_layout layout;
    int64_t *ids;
    int64_t *classes;
    int64_t *steps;
    float *buf[3];
} loaded_state;

static void loaded_release(loaded_state *l) {
    clh_free(l->ids);
    clh_free(l->classes);
    clh_free(l->steps);
    for (int b = 0; b < 3; b++) clh_free(l->buf[b]);
}

/* The layout from the metadata. */
static clh_status read_layout(const clh_st_file *file, const char *prefix, const char *binding,
                              loaded_state *l) {
    clh_status st = CLH_OK;
    char kb[KEY_CAP];
    l->layout.num_segments = 1;
    if (strcmp(binding, "flat") == 0) {
        int64_t count = 0;
        const char *text = require_meta(file, prefix, "count", &st);
        if (st) return st;
        st = parse_i64(key_of(kb, prefix, "count"), text, &count);
        if (st) return st;
        if (count < 0) return clh_fail(CLH_E_FORMAT, "optimizer state: %s.count is negative", prefix);
        /* Past SIZE_MAX (a 32-bit size_t) a cast would keep the low bits. */
        if (!clh_i64_to_size(count, &l->layout.count))
            return clh_fail(CLH_E_OVERFLOW, "optimizer state: %s.count %lld does not fit in "
                            "size_t", prefix, (long long)count);
        l->layout.binding = CLH_OPTIM_FLAT;
        return CLH_OK;
    }
    if (strcmp(binding, "heads") != 0)
        return clh_fail(CLH_E_FORMAT, "optimizer state: binding \"%.20s\" is not none, heads or flat",
                        binding);
    const char *paradigm = require_meta(file, prefix, "paradigm", &st);
    const char *in = require_meta(file, prefix, "in_features", &st);
    const char *ids = require_meta(file, prefix, "task_ids", &st);
    const char *classes = require_meta(file, prefix, "num_classes", &st);
    if (st) return st;
    l->layout.binding = CLH_OPTIM_HEADS;
    if (clh_paradigm_parse(paradigm, &l->layout.paradigm) != CLH_OK)
        return clh_fail(CLH_E_FORMAT, "optimizer state: unknown paradigm \"%.20s\"", paradigm);
    st = parse_i64(key_of(kb, prefix, "in_features"), in, &l->layout.in_features);
    if (st) return st;
    if (l->layout.in_features <= 0)
        return clh_fail(CLH_E_FORMAT, "optimizer state: %s.in_features must be positive", prefix);
    size_t n_ids = 0, n_classes = 0;
    st = clh_parse_int64_list("optimizer state", key_of(kb, prefix, "task_ids"), ids, &l->ids, &n_ids);
    if (st) return st;
    st = clh_parse_int64_list("optimizer state", key_of(kb, prefix, "num_classes"), classes, &l->classes,
                              &n_classes);
    if (st) return st;
    if (n_ids != n_classes)
        return clh_fail(CLH_E_FORMAT, "optimizer state: %zu task ids but %zu class counts", n_ids,
                        n_classes);
    int64_t rows = 0;
    for (size_t t = 0; t < n_ids; t++)
        if (l->classes[t] <= 0 || !clh_add_i64(rows, l->classes[t], &rows))
            return clh_fail(CLH_E_FORMAT, "optimizer state: task %lld has class count %lld",
                            (long long)l->ids[t], (long long)l->classes[t]);
    size_t count, rows_size, width;
    if (!clh_i64_to_size(rows, &rows_size) ||
        !clh_i64_to_size(l->layout.in_features, &width) || !clh_add_size(width, 1, &width) ||
        !clh_mul_size(rows_size, width, &count))
        return clh_fail(CLH_E_OVERFLOW, "optimizer state: %lld rows overflow", (long long)rows);
    l->layout.count = count;
    l->layout.num_segments = n_ids;
    l->layout.task_ids = l->ids;
    l->layout.num_classes = l->classes;
    return CLH_OK;
}

/* One state tensor of segment t: buffer b's weight part, bias part or flat
 * vector, or (b == nb) the segment's step. */
typedef enum part_kind { PART_FLAT, PART_WEIGHT, PART_BIAS, PART_STEP } part_kind;

static const char source[] = "optimizer state";

/* A part's name: the segment's prefix (already in name[0..prefix_len)) and
 * the part's suffix, appended here rather than formatted by snprintf, which
 * was most of a load of many heads. Text past the buffer is cut, as
 * snprintf cut it. */
enum { PART_NAME_CAP = PREFIX_CAP + 48 };
static size_t append_text(char name[PART_NAME_CAP], size_t at, const char *text) {
    size_t len = strlen(text);
    if (len > PART_NAME_CAP - 1 - at) len = PART_NAME_CAP - 1 - at;
    memcpy(name + at, text, len);
    name[at + len] = '\0';
    return at + len;
}

static void part_name(char name[PART_NAME_CAP], size_t prefix_len, part_kind kind,
                      const char *buffer) {
    const char *kind_text = kind == PART_STEP     ? ".step"
                            : kind == PART_WEIGHT ? ".weight."
                            : kind == PART_BIAS   ? ".bias."
                                                  : ".";
    size_t at = append_text(name, prefix_len, kind_text);
    if (kind != PART_STEP) append_text(name, at, buffer);
}

/* Finds and checks (clh_st_expect) one tensor of segment t, whose prefix is
 * in name[0..prefix_len). */
static clh_status expect_part(const clh_st_file *file, const char *names, const clh_optim_layout *y,
                              size_t t, part_kind kind, const char *buffer, char *name,
                              size_t prefix_len, const clh_st_tensor **out) {
    int64_t c = y->binding == CLH_OPTIM_HEADS ? y->num_classes[t] : 0;
    part_name(name, prefix_len, kind, buffer);
    if (kind == PART_STEP) {
        /* A scalar, as torch saves state['step']; [1] is read as well. */
        const clh_st_tensor *step = clh_st_find(file, name);
        static const int64_t one[1] = {1};
        if (!step) /* clh_st_expect names it as missing */
            return clh_st_expect(file, source, name, CLH_ST_DTYPE_BIT(CLH_DT_I64), 0, one, out);
        clh_status st = clh_st_expect_tensor(step, source, CLH_ST_DTYPE_BIT(CLH_DT_I64),
                                             step->ndim == 1 ? 1 : 0, one);
        if (st == CLH_OK) *out = step;
        return st;
    }
    if (kind == PART_FLAT) {
        int64_t shape[1] = {(int64_t)y->count};
        if (y->count > (size_t)INT64_MAX)
            return clh_fail(CLH_E_FORMAT, "%s: %s.count %zu is too large", source, names, y->count);
        return clh_st_expect(file, source, name, CLH_ST_FLOATING, 1, shape, out);
    }
    int64_t shape[2] = {c, y->in_features};
    return clh_st_expect(file, source, name, CLH_ST_FLOATING, kind == PART_WEIGHT ? 2 : 1, shape,
                         out);
}

/* Where a walk over the saved layout is: segment t, whose prefix is in
 * name[0..prefix_len), and the k-th tensor of the walk. */
typedef struct walk {
    const clh_st_file *file;
    const char *prefix;
    const clh_optim_layout *layout;
    size_t t, k;
    char name[PART_NAME_CAP];
    size_t prefix_len;
    int copy;
    const clh_st_tensor **found; /* NULL, or every tensor of the walk in order */
} walk;

/* The next tensor: found and checked (recorded in `found` when there is
 * one), or in the copy pass taken from `found`. */
static clh_status next_part(walk *w, part_kind kind, const char *buffer,
                            const clh_st_tensor **tensor) {
    if (w->copy && w->found) {
        *tensor = w->found[w->k++];
        return CLH_OK;
    }
    clh_status st = expect_part(w->file, w->prefix, w->layout, w->t, kind, buffer, w->name,
                                w->prefix_len, tensor);
    if (st == CLH_OK && w->found) w->found[w->k++] = *tensor;
    return st;
}

/* Walks every tensor of the saved layout: checks each one (dtype, shape,
 * byte size) when `copy` is 0, or converts each into the buffers of `l`.
 * The check pass runs first, so nothing is allocated from the metadata's
 * sizes before the file is known to hold that many bytes. With `found`, the
 * check pass records each tensor there and the copy pass takes them from it
 * instead of finding them again. */
static clh_status walk_parts(const clh_st_file *file, const char *prefix, loaded_state *l,
                             const char *const *names, size_t nb, int copy,
                             const clh_st_tensor **found, size_t *consumed) {
    const clh_optim_layout *y = &l->layout;
    size_t offset = 0, weights_end = y->binding == CLH_OPTIM_HEADS
                                         ? (y->count / (size_t)(y->in_features + 1)) *
                                               (size_t)y->in_features
                                         : 0;
    walk w;
    memset(&w, 0, sizeof w);
    w.file = file;
    w.prefix = prefix;
    w.layout = y;
    w.copy = copy;
    w.found = found;
    *consumed = 0;
    for (size_t t = 0; t < y->num_segments; t++) {
        const clh_st_tensor *tensor;
        clh_status st;
        w.t = t;
        segment_prefix(w.name, prefix, y->binding, y->paradigm,
                       y->binding == CLH_OPTIM_HEADS ? y->task_ids[t] : 0);
        w.prefix_len = strlen(w.name);
        for (size_t b = 0; b < nb; b++) {
            if (y->binding == CLH_OPTIM_FLAT) {
                if ((st = next_part(&w, PART_FLAT, names[b], &tensor))) return st;
                if (copy && (st = clh_st_to_f32(tensor, l->buf[b], y->count))) return st;
                *consumed += 1;
                continue;
            }
            size_t c = (size_t)y->num_classes[t];
            if ((st = next_part(&w, PART_WEIGHT, names[b], &tensor))) return st;
            if (copy && (st = clh_st_to_f32(tensor, l->buf[b] + offset * (size_t)y->in_features,
                                            c * (size_t)y->in_features)))
                return st;
            if ((st = next_part(&w, PART_BIAS, names[b], &tensor))) return st;
            if (copy && (st = clh_st_to_f32(tensor, l->buf[b] + weights_end + offset, c)))
                return st;
            *consumed += 2;
        }
        if ((st = next_part(&w, PART_STEP, NULL, &tensor))) return st;
        if (copy) l->steps[t] = (int64_t)clh_load_le64(tensor->data);
        *consumed += 1;
        if (y->binding == CLH_OPTIM_HEADS) offset += (size_t)y->num_classes[t];
    }
    return CLH_OK;
}

/* Checks every tensor, then fills the flat buffers and steps from them. */
static clh_status read_buffers(const clh_st_file *file, const char *prefix, loaded_state *l,
                               const char *const *names, size_t nb, size_t *consumed) {
    const clh_optim_layout *y = &l->layout;
    /* The tensors the walk visits: when the file has at least that many, a
     * list of them saves the copy pass finding them again (with fewer, one is
     * missing or the metadata repeats a task id: the walks fail as before). */
    size_t per_segment = y->binding == CLH_OPTIM_FLAT ? nb + 1 : 2 * nb + 1, parts;
    const clh_st_tensor **found = NULL;
    if (clh_mul_size(y->num_segments, per_segment, &parts) && parts <= clh_st_count(file)) {
        found = clh_malloc(parts ? parts * sizeof *found : 1);
        if (!found) return clh_fail(CLH_E_NOMEM, "optimizer state: out of memory");
    }
    clh_status st = walk_parts(file, prefix, l, names, nb, 0, found, consumed);
    size_t float_bytes = 0;
    if (!st && !clh_mul_size(y->count, sizeof(float), &float_bytes))
        st = clh_fail(CLH_E_OVERFLOW, "optimizer state: %zu parameters overflow", y->count);
    if (!st) {
        l->steps = clh_calloc(y->num_segments ? y->num_segments : 1, sizeof(int64_t));
        if (!l->steps) st = clh_fail(CLH_E_NOMEM, "optimizer state: out of memory");
    }
    for (size_t b = 0; !st && b < nb; b++)
        if (!(l->buf[b] = clh_malloc(float_bytes ? float_bytes : 1)))
            st = clh_fail(CLH_E_NOMEM, "optimizer state: out of memory");
    if (!st) st = walk_parts(file, prefix, l, names, nb, 1, found, consumed);
    clh_free(found);
    return st;
}

/* 1 when the last dot-separated part of name is one of names[0..nb) or "step". */
static int known_buffer(const char *name, const char *const *names, size_t nb) {
    const char *last = strrchr(name, '.');
    last = last ? last + 1 : name;
    if (strcmp(last, "step") == 0) return 1;
    for (size_t b = 0; b < nb; b++)
        if (strcmp(last, names[b]) == 0) return 1;
    return 0;
}

/* Every "<prefix>." tensor must have been consumed (names are unique in a file,
 * and every expected one was found, so equal counts mean no extras). */
static clh_status check_no_extra(const clh_st_file *file, const char *prefix, size_t consumed,
                                 const char *const *names, size_t nb) {
    size_t total = 0, len = strlen(prefix);
    const char *extra = NULL;
    for (size_t i = 0; i < clh_st_count(file); i++) {
        const clh_st_tensor *t = clh_st_at(file, i);
        if (strncmp(t->name, prefix, len) != 0 || t->name[len] != '.') continue;
        total++;
        if (!extra && !known_buffer(t->name, names, nb)) extra = t->name;
    }
    if (total == consumed) return CLH_OK;
    if (extra)
        return clh_fail(CLH_E_MISMATCH, "optimizer state: tensor \"%s\" is not kept by this "
                        "optimizer's configuration", extra);
    return clh_fail(CLH_E_MISMATCH, "optimizer state: %zu tensors under \"%s.\" where the "
                    "saved layout has %zu", total, prefix, consumed);
}

clh_status clh_optim_load_file(clh_optim *optim, const clh_st_file *file) {
    return clh_optim_load_file_prefixed(optim, file, DEFAULT_PREFIX);
}

clh_status clh_optim_load_file_prefixed(clh_optim *optim, const clh_st_file *file,
                                        const char *prefix) {
    static const char what[] = "clh_optim_load_file";
    if (!optim || !file) return clh_fail(CLH_E_NULL, "%s: %s is NULL", what, optim ? "file" : "optim");
    clh_status st = check_prefix("clh_optim_load_file_prefixed", prefix);
    if (st) return st;
    clh_optim_config saved;
    clh_optim_config_init(&saved, optim->config.kind, 0.0);
    st = read_config(file, prefix, &saved);
    if (st) return st;
    if (saved.kind != optim->config.kind)
        return clh_fail_owner(optim, CLH_E_MISMATCH, "%s: the file holds %s state, the optimizer "
                              "is %s", what, clh_optim_kind_name(saved.kind),
                              clh_optim_kind_name(optim->config.kind));
    char kb[KEY_CAP];
    const char *binding = clh_st_meta_get(file, key_of(kb, prefix, "binding"));
    if (!binding) return clh_fail(CLH_E_FORMAT, "%s: metadata \"%s\" is missing", what, kb);
    if (strcmp(binding, "none") == 0) { /* saved before its first step */
        st = check_no_extra(file, prefix, 0, NULL, 0);
        if (st) return st;
        clh_optim_state_release(&optim->state);
        return CLH_OK;
    }
    loaded_state l;
    memset(&l, 0, sizeof l);
    const char *names[3];
    size_t nb = clh_optim_buffer_names(&optim->config, names), consumed = 0;
    st = read_layout(file, prefix, binding, &l);
    if (!st) st = read_buffers(file, prefix, &l, names, nb, &consumed);
    if (!st) st = check_no_extra(file, prefix, consumed, names, nb);
    if (!st) {
        clh_optim_buffer buffers[4];
        for (size_t b = 0; b < nb; b++) {
            buffers[b].name = names[b];
            buffers[b].is_int64 = 0;
            buffers[b].data = l.buf[b];
            buffers[b].count = l.layout.count;
        }
        buffers[nb].name = "step";
        buffers[nb].is_int64 = 1;
        buffers[nb].data = l.steps;
        buffers[nb].count = l.layout.num_segments;
        st = clh_optim_restore(optim, &l.layout, buffers, nb + 1);
    }
    loaded_release(&l);
    return st;
}

clh_status clh_optim_load(clh_optim *optim, const char *path) {
    if (!optim || !path)
        return clh_fail(CLH_E_NULL, "clh_optim_load: %s is NULL", optim ? "path" : "optim");
    clh_st_file *file = NULL;
    clh_status st = clh_st_open(&file, path);
    if (st) return st;
    st = clh_optim_load_file(optim, file);
    clh_st_free(file);
    return st;
}
