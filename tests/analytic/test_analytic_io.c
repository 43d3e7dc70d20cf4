/* Statistics save and load: a run stopped after task 2 and resumed from the
 * file continues exactly (bit-identical heads after the last task) for
 * ridge (float32 and float64, fitted bias), per-task LDA and normalised NCM;
 * the expansion is rebuilt bit for bit from its record; statistics and heads
 * in one checkpoint file; tensor names, dtypes and shapes; and files that do
 * not fit are rejected (wrong dtype, shape, NaN, asymmetric matrix, negative
 * or inconsistent counts, a sum for an empty class, unknown tensors,
 * malformed metadata) with *out unchanged. */
#define _POSIX_C_SOURCE 200809L
#include <string.h>
#include <unistd.h>

#include "test_analytic_util.h"

static analytic_ref R;
static char dir[64];

static const char *tmp_path(const char *name) {
    static char path[128];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    return path;
}

static int64_t label_for(clh_paradigm p, int64_t i) {
    if (p == CLH_TIL) return R.labels[i] - R.task[i] * R.per_task_classes;
    return R.labels[i];
}

static void stream_task(clh_analytic *a, int64_t t) {
    clh_paradigm p = clh_analytic_paradigm(a);
    int64_t labels[64], first = t * R.per_task;
    for (int64_t i = 0; i < R.per_task; i++) labels[i] = label_for(p, first + i);
    CHECK_OK(clh_analytic_setup_task(a, t, R.per_task_classes));
    CHECK_OK(clh_analytic_update(a, R.features + first * R.width, R.per_task,
                                 p == CLH_TIL ? t : CLH_NO_TASK, labels));
}

static clh_heads *solved_heads(const clh_analytic *a) {
    clh_heads *h = NULL;
    CHECK_OK(clh_heads_create(&h, clh_analytic_paradigm(a), R.width, 1));
    for (int64_t t = 0; t < R.tasks; t++) CHECK_OK(clh_heads_setup_task(h, t, R.per_task_classes));
    CHECK_OK(clh_analytic_solve(a, h, CLH_NO_TASK));
    return h;
}

/* Stop after task 2, save, load, go on: the same heads as without stopping. */
static void resume(clh_paradigm p, clh_analytic_method m, clh_dtype precision, int fit_bias,
                   int normalize, clh_analytic_scope scope) {
    clh_analytic_config c;
    clh_analytic_config_init(&c, m);
    c.precision = precision;
    c.fit_bias = fit_bias;
    c.normalize = normalize;
    c.scope = scope;
    c.lambda = 0.7;
    c.shrinkage = 0.03;
    clh_analytic *a = NULL, *b = NULL;
    CHECK_OK(clh_analytic_create(&a, &c, p, R.width));
    if (!a) return;
    for (int64_t t = 0; t < 3; t++) stream_task(a, t);
    CHECK_OK(clh_analytic_save(a, NULL, tmp_path("stats.safetensors")));
    CHECK_OK(clh_analytic_load(&b, tmp_path("stats.safetensors")));
    if (!b) {
        clh_analytic_free(a);
        return;
    }
    clh_analytic_config cb;
    clh_analytic_config_init(&cb, CLH_ANALYTIC_RIDGE);
    CHECK_OK(clh_analytic_get_config(b, &cb));
    CHECK(cb.lambda == 0.7 && cb.shrinkage == 0.03 && cb.precision == precision &&
          cb.fit_bias == fit_bias && cb.normalize == normalize && cb.method == m);
    CHECK(clh_analytic_num_tasks(b) == 3 && clh_analytic_paradigm(b) == p);
    /* The loaded statistics are the saved ones, byte for byte. */
    size_t la, lb;
    unsigned char *sa = analytic_snapshot(a, &la), *sb = analytic_snapshot(b, &lb);
    CHECK(snapshot_equal(sa, la, sb, lb));
    clh_st_bytes_free(sa);
    clh_st_bytes_free(sb);
    for (int64_t t = 3; t < R.tasks; t++) {
        stream_task(a, t);
        stream_task(b, t);
    }
    clh_heads *ha = solved_heads(a), *hb = solved_heads(b);
    float *pa, *pb;
    size_t na, nb;
    clh_heads_flat(ha, &pa, NULL, &na);
    clh_heads_flat(hb, &pb, NULL, &nb);
    CHECK(na == nb && na > 0 && memcmp(pa, pb, na * sizeof(float)) == 0);
    CHECK(check_max_abs(pa, na) > 1e-3);
    clh_heads_free(ha);
    clh_heads_free(hb);
    clh_analytic_free(a);
    clh_analytic_free(b);
}

/* Heads, statistics and expansion in one checkpoint; names and shapes. */
static void checkpoint_file(void) {
    clh_analytic_config c;
    clh_analytic_config_init(&c, CLH_ANALYTIC_RIDGE);
    c.scope = CLH_SCOPE_PER_TASK;
    clh_analytic *a = NULL;
    clh_random_features *rf = NULL;
    CHECK_OK(clh_analytic_create(&a, &c, CLH_TIL, R.width));
    CHECK_OK(clh_random_features_create(&rf, 0xFEEDFACECAFEBEEFu, R.raw, R.width));
    if (!a || !rf) return;
    for (int64_t t = 0; t < 2; t++) stream_task(a, t);
    clh_heads *h = NULL;
    CHECK_OK(clh_heads_create(&h, CLH_TIL, R.width, 1));
    for (int64_t t = 0; t < 2; t++) CHECK_OK(clh_heads_setup_task(h, t, R.per_task_classes));
    CHECK_OK(clh_analytic_solve(a, h, CLH_NO_TASK));
    clh_analytic_export *e = NULL;
    CHECK_OK(clh_analytic_export_create(a, rf, &e));
    size_t nt = 0, nm = 0;
    const clh_st_tensor *t = clh_analytic_export_tensors(e, &nt);
    const clh_st_meta *m = clh_analytic_export_meta(e, &nm);
    CHECK(nt == 7); /* sums, counts, params, 2 task grams, gram_samples, expansion */
    CHECK_OK(clh_heads_save_ex(h, tmp_path("model.safetensors"), t, nt, m, nm));
    clh_analytic_export_free(e);

    clh_st_file *file = NULL;
    CHECK_OK(clh_st_open(&file, tmp_path("model.safetensors")));
    if (file) {
        const clh_st_tensor *g = clh_st_find(file, "analytic.tasks.1.gram");
        CHECK(g && g->dtype == CLH_DT_F64 && g->ndim == 2 && g->shape[0] == R.width &&
              g->shape[1] == R.width);
        const clh_st_tensor *s = clh_st_find(file, "analytic.sums");
        CHECK(s && s->dtype == CLH_DT_F64 && s->shape[0] == 4 && s->shape[1] == R.width);
        const char *ids = clh_st_meta_get(file, "analytic.task_ids");
        CHECK(ids && strcmp(ids, "0,1") == 0);
        const char *scope = clh_st_meta_get(file, "analytic.scope");
        CHECK(scope && strcmp(scope, "per_task") == 0);
        CHECK(clh_st_find(file, "heads.0.weight") != NULL);
        clh_load_options o;
        clh_load_options_init(&o);
        o.ignore_unknown = 1;
        clh_heads *loaded = NULL;
        CHECK_OK(clh_heads_load_file(&loaded, file, &o));
        clh_analytic *b = NULL;
        clh_random_features *rf2 = NULL;
        CHECK_OK(clh_analytic_load_file(&b, file));
        CHECK_OK(clh_random_features_load_file(&rf2, file));
        CHECK(rf2 && clh_random_features_seed(rf2) == 0xFEEDFACECAFEBEEFu);
        if (rf2)
            CHECK(memcmp(clh_random_features_weight(rf2), clh_random_features_weight(rf),
                         (size_t)(R.raw * R.width) * sizeof(float)) == 0);
        if (loaded && b) { /* solving the loaded statistics into the loaded heads changes nothing */
            float *p0, *p1;
            size_t n0, n1;
            clh_heads_flat(h, &p0, NULL, &n0);
            CHECK_OK(clh_analytic_solve(b, loaded, CLH_NO_TASK));
            clh_heads_flat(loaded, &p1, NULL, &n1);
            CHECK(n0 == n1 && memcmp(p0, p1, n0 * sizeof(float)) == 0);
        }
        clh_heads_free(loaded);
        clh_analytic_free(b);
        clh_random_features_free(rf2);
        clh_st_free(file);
    }
    /* A file without an expansion record gives none. */
    CHECK_OK(clh_analytic_save(a, NULL, tmp_path("plain.safetensors")));
    CHECK_OK(clh_st_open(&file, tmp_path("plain.safetensors")));
    clh_random_features *none = (clh_random_features *)&none;
    if (file) CHECK_OK(clh_random_features_load_file(&none, file));
    CHECK(none == NULL);
    clh_st_free(file);
    clh_heads_free(h);
    clh_random_features_free(rf);
    clh_analytic_free(a);
}

/* ---- rejected files -------------------------------------------------------- */

static clh_analytic *victim; /* the statistics whose export is corrupted */

/* Encodes the export with one change applied by `edit` and loads it. */
typedef void (*edit_fn)(clh_st_tensor *t, size_t *nt, clh_st_meta *m, size_t *nm, void *scratch);

static void expect_rejected(edit_fn edit, clh_status expected, const char *label) {
    clh_analytic_export *e = NULL;
    CHECK_OK(clh_analytic_export_create(victim, NULL, &e));
    if (!e) return;
    size_t nt, nm;
    const clh_st_tensor *t0 = clh_analytic_export_tensors(e, &nt);
    const clh_st_meta *m0 = clh_analytic_export_meta(e, &nm);
    clh_st_tensor t[16];
    clh_st_meta m[16];
    memcpy(t, t0, nt * sizeof *t);
    memcpy(m, m0, nm * sizeof *m);
    static unsigned char scratch[1 << 16];
    edit(t, &nt, m, &nm, scratch);
    unsigned char *bytes = NULL;
    size_t len = 0;
    CHECK_OK(clh_st_encode(t, nt, m, nm, &bytes, &len));
    clh_st_file *file = NULL;
    CHECK_OK(clh_st_parse(&file, bytes, len));
    clh_analytic *out = (clh_analytic *)&out; /* must stay as it is */
    clh_status st = file ? clh_analytic_load_file(&out, file) : CLH_E_FORMAT;
    if (st != expected)
        fprintf(stderr, "%s: %s, expected %s (%s)\n", label, clh_status_name(st),
                clh_status_name(expected), clh_last_error());
    CHECK(st == expected);
    CHECK(out == (clh_analytic *)&out);
    clh_st_free(file);
    clh_st_bytes_free(bytes);
    clh_analytic_export_free(e);
}

static clh_st_tensor *named(clh_st_tensor *t, size_t nt, const char *name) {
    for (size_t i = 0; i < nt; i++)
        if (strcmp(t[i].name, name) == 0) return &t[i];
    return NULL;
}

static void set_meta(clh_st_meta *m, size_t nm, const char *key, const char *value) {
    for (size_t i = 0; i < nm; i++)
        if (strcmp(m[i].key, key) == 0) m[i].value = value;
}

/* Copies a tensor's data into scratch so it can be changed. */
static unsigned char *writable(clh_st_tensor *t, void *scratch) {
    memcpy(scratch, t->data, t->nbytes);
    t->data = scratch;
    return scratch;
}

static void sums_as_f32(clh_st_tensor *t, size_t *nt, clh_st_meta *m, size_t *nm, void *s) {
    (void)m; (void)nm; (void)s;
    clh_st_tensor *x = named(t, *nt, "analytic.sums");
    x->dtype = CLH_DT_F32;
    x->nbytes /= 2;
}
static void sums_wrong_shape(clh_st_tensor *t, size_t *nt, clh_st_meta *m, size_t *nm, void *s) {
    (void)m; (void)nm; (void)s;
    clh_st_tensor *x = named(t, *nt, "analytic.sums");
    x->shape[0] -= 1;
    x->nbytes = (size_t)(x->shape[0] * x->shape[1]) * 8;
}
static void gram_nan(clh_st_tensor *t, size_t *nt, clh_st_meta *m, size_t *nm, void *s) {
    (void)m; (void)nm;
    double *g = (double *)writable(named(t, *nt, "analytic.gram"), s);
    g[5] = NAN;
}
static void gram_asymmetric(clh_st_tensor *t, size_t *nt, clh_st_meta *m, size_t *nm, void *s) {
    (void)m; (void)nm;
    double *g = (double *)writable(named(t, *nt, "analytic.gram"), s);
    g[1] += 1e-9; /* (0, 1) no longer equals (1, 0) */
}
static void negative_count(clh_st_tensor *t, size_t *nt, clh_st_meta *m, size_t *nm, void *s) {
    (void)m; (void)nm;
    int64_t *c = (int64_t *)writable(named(t, *nt, "analytic.counts"), s);
    c[2] = -1;
}
static void count_off(clh_st_tensor *t, size_t *nt, clh_st_meta *m, size_t *nm, void *s) {
    (void)m; (void)nm;
    int64_t *c = (int64_t *)writable(named(t, *nt, "analytic.counts"), s);
    c[2] += 1; /* the gram's sample count no longer adds up */
}
static void empty_class_sum(clh_st_tensor *t, size_t *nt, clh_st_meta *m, size_t *nm, void *s) {
    (void)m; (void)nm;
    int64_t *c = (int64_t *)writable(named(t, *nt, "analytic.counts"), s);
    int64_t moved = c[0];
    c[0] = 0;
    c[1] += moved; /* totals still add up, but class 0 has a sum and no samples */
}
static void extra_tensor(clh_st_tensor *t, size_t *nt, clh_st_meta *m, size_t *nm, void *s) {
    (void)m; (void)nm; (void)s;
    t[*nt] = *named(t, *nt, "analytic.params");
    t[*nt].name = "analytic.extra";
    (*nt)++;
}
static void missing_gram(clh_st_tensor *t, size_t *nt, clh_st_meta *m, size_t *nm, void *s) {
    (void)m; (void)nm; (void)s;
    clh_st_tensor *g = named(t, *nt, "analytic.gram");
    *g = t[*nt - 1];
    (*nt)--;
}
static void bad_lambda(clh_st_tensor *t, size_t *nt, clh_st_meta *m, size_t *nm, void *s) {
    (void)m; (void)nm;
    double *p = (double *)writable(named(t, *nt, "analytic.params"), s);
    p[0] = -1;
}
static void bad_precision(clh_st_tensor *t, size_t *nt, clh_st_meta *m, size_t *nm, void *s) {
    (void)t; (void)nt; (void)s;
    set_meta(m, *nm, "analytic.precision", "F16");
}
static void precision_swapped(clh_st_tensor *t, size_t *nt, clh_st_meta *m, size_t *nm, void *s) {
    (void)t; (void)nt; (void)s;
    set_meta(m, *nm, "analytic.precision", "F32"); /* the gram tensor is F64 */
}
static void bad_scope(clh_st_tensor *t, size_t *nt, clh_st_meta *m, size_t *nm, void *s) {
    (void)t; (void)nt; (void)s;
    set_meta(m, *nm, "analytic.scope", "per_task"); /* CIL has one matrix */
}
static void bad_ids(clh_st_tensor *t, size_t *nt, clh_st_meta *m, size_t *nm, void *s) {
    (void)t; (void)nt; (void)s;
    set_meta(m, *nm, "analytic.task_ids", "0,0");
}
static void bad_width(clh_st_tensor *t, size_t *nt, clh_st_meta *m, size_t *nm, void *s) {
    (void)t; (void)nt; (void)s;
    set_meta(m, *nm, "analytic.in_features", "-3");
}
static void bad_format(clh_st_tensor *t, size_t *nt, clh_st_meta *m, size_t *nm, void *s) {
    (void)t; (void)nt; (void)s;
    set_meta(m, *nm, "analytic.format", "2");
}
static void no_method(clh_st_tensor *t, size_t *nt, clh_st_meta *m, size_t *nm, void *s) {
    (void)t; (void)nt; (void)s;
    for (size_t i = 0; i < *nm; i++)
        if (strcmp(m[i].key, "analytic.method") == 0) m[i] = m[--(*nm)];
}
static void unchanged(clh_st_tensor *t, size_t *nt, clh_st_meta *m, size_t *nm, void *s) {
    (void)t; (void)nt; (void)m; (void)nm; (void)s;
}

static void rejected_files(void) {
    clh_analytic_config c;
    clh_analytic_config_init(&c, CLH_ANALYTIC_RIDGE);
    CHECK_OK(clh_analytic_create(&victim, &c, CLH_CIL, R.width));
    if (!victim) return;
    for (int64_t t = 0; t < 2; t++) stream_task(victim, t);
    struct { edit_fn edit; clh_status status; const char *label; } cases[] = {
        {unchanged, CLH_OK, "unchanged"},
        {sums_as_f32, CLH_E_MISMATCH, "sums as F32"},
        {sums_wrong_shape, CLH_E_MISMATCH, "sums shape"},
        {gram_nan, CLH_E_MISMATCH, "NaN in gram"},
        {gram_asymmetric, CLH_E_MISMATCH, "asymmetric gram"},
        {negative_count, CLH_E_MISMATCH, "negative count"},
        {count_off, CLH_E_MISMATCH, "counts and gram_samples disagree"},
        {empty_class_sum, CLH_E_MISMATCH, "a sum for a class without samples"},
        {extra_tensor, CLH_E_MISMATCH, "unknown analytic tensor"},
        {missing_gram, CLH_E_MISMATCH, "missing gram"},
        {bad_lambda, CLH_E_FORMAT, "negative lambda"},
        {bad_precision, CLH_E_FORMAT, "precision F16"},
        {precision_swapped, CLH_E_MISMATCH, "precision F32 with an F64 gram"},
        {bad_scope, CLH_E_FORMAT, "per-task scope in CIL"},
        {bad_ids, CLH_E_FORMAT, "duplicate task id"},
        {bad_width, CLH_E_FORMAT, "negative in_features"},
        {bad_format, CLH_E_FORMAT, "format 2"},
        {no_method, CLH_E_FORMAT, "no method"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        if (cases[i].status == CLH_OK) { /* the unchanged export loads (and is freed) */
            clh_analytic_export *e = NULL;
            CHECK_OK(clh_analytic_export_create(victim, NULL, &e));
            clh_analytic_export_free(e);
            CHECK_OK(clh_analytic_save(victim, NULL, tmp_path("ok.safetensors")));
            clh_analytic *ok = NULL;
            CHECK_OK(clh_analytic_load(&ok, tmp_path("ok.safetensors")));
            clh_analytic_free(ok);
            continue;
        }
        expect_rejected(cases[i].edit, cases[i].status, cases[i].label);
    }
    clh_analytic *out = NULL;
    CHECK_STATUS(clh_analytic_load(&out, tmp_path("missing.safetensors")), CLH_E_IO);
    CHECK_STATUS(clh_analytic_load_file(&out, NULL), CLH_E_NULL);
    CHECK(out == NULL);
    clh_analytic_free(victim);
}

int main(void) {
    snprintf(dir, sizeof dir, "/tmp/clh_analytic_io_XXXXXX");
    if (!mkdtemp(dir) || !analytic_ref_load(&R)) {
        CHECK(!"set-up");
        return check_done("test_analytic_io");
    }
    resume(CLH_CIL, CLH_ANALYTIC_RIDGE, CLH_DT_F32, 1, 0, CLH_SCOPE_DEFAULT);
    resume(CLH_CIL, CLH_ANALYTIC_RIDGE, CLH_DT_F64, 0, 0, CLH_SCOPE_DEFAULT);
    resume(CLH_TIL, CLH_ANALYTIC_RIDGE, CLH_DT_F64, 1, 0, CLH_SCOPE_PER_TASK);
    resume(CLH_TIL, CLH_ANALYTIC_LDA, CLH_DT_F64, 0, 0, CLH_SCOPE_PER_TASK);
    resume(CLH_CIL, CLH_ANALYTIC_LDA, CLH_DT_F32, 0, 0, CLH_SCOPE_DEFAULT);
    resume(CLH_CIL, CLH_ANALYTIC_NCM, CLH_DT_F64, 0, 1, CLH_SCOPE_DEFAULT);
    checkpoint_file();
    rejected_files();
    const char *names[] = {"stats.safetensors", "model.safetensors", "plain.safetensors",
                           "ok.safetensors"};
    for (size_t i = 0; i < 4; i++) unlink(tmp_path(names[i]));
    rmdir(dir);
    refdata_free(R.rd);
    return check_done("test_analytic_io");
}
