/* Summing the analytic statistics over the participants of a data-parallel
 * run (include/clheads/reduce.h).
 *
 * Everything goes through one buffer of doubles: the participant's counts,
 * matrix sample counts and class sums, then the lower triangles of its
 * matrices. ridge and ncm sum the whole buffer in one transport call. LDA
 * keeps a within-class scatter, which is not additive: its first call sums
 * counts and class sums, giving the global class means μ_c; each participant
 * then adds n_pc (μ_pc − μ_c)(μ_pc − μ_c)ᵀ of its own class means μ_pc to its
 * scatter (the parallel-axis term), and the second call sums the
 * scatters. The handle is written only after every call succeeded. */
#include <math.h>
#include <string.h>

#include "common/alloc.h"
#include "analytic/analytic_internal.h"
#include "common/checked.h"
#include "train/reduce_internal.h"

/* Counts above this are not exact in a double. */
#define EXACT_COUNT 9007199254740992.0 /* 2^53 */

/* A digest of everything that must agree before sums can be added. */
static uint64_t layout_digest(const clh_analytic *a) {
    int64_t head[9] = {(int64_t)a->config.method, (int64_t)a->config.fit_bias,
                       (int64_t)a->config.normalize, (int64_t)a->config.precision,
                       (int64_t)a->config.scope, (int64_t)a->paradigm, a->in, a->dim, a->rows};
    uint64_t h = clh_fnv1a64(CLH_FNV_START, head, sizeof head);
    for (size_t t = 0; t < a->num_tasks; t++) {
        int64_t task[3] = {a->tasks[t].id, a->tasks[t].classes, a->tasks[t].offset};
        h = clh_fnv1a64(h, task, sizeof task);
    }
    uint64_t mats = (uint64_t)a->num_mats;
    return clh_fnv1a64(h, &mats, sizeof mats);
}

/* The matrix a class row accumulates into. */
static size_t mat_of_row(const clh_analytic *a, int64_t row) {
    for (size_t t = 0; t < a->num_tasks; t++)
        if (row >= a->tasks[t].offset && row < a->tasks[t].offset + a->tasks[t].classes)
            return clh_analytic_mat_of(a, t);
    return 0;
}

/* The sizes of the buffer's parts, in doubles. */
typedef struct layout {
    size_t counts, mat_samples, sums, tri, mats, first, total;
} layout;

static int plan_layout(const clh_analytic *a, layout *l) {
    l->counts = (size_t)a->rows;
    l->mat_samples = clh_analytic_has_mats(a) ? a->num_mats : 0;
    size_t side = (size_t)a->dim, tri2;
    if (!clh_mul_size((size_t)a->rows, (size_t)a->in, &l->sums)) return 0;
    if (!clh_mul_size(side, side + 1, &tri2)) return 0;
    l->tri = clh_analytic_has_mats(a) ? tri2 / 2 : 0;
    if (!clh_mul_size(l->tri, l->mat_samples, &l->mats)) return 0;
    if (!clh_add_size(l->counts, l->mat_samples, &l->first) ||
        !clh_add_size(l->first, l->sums, &l->first))
        return 0;
    if (!clh_add_size(l->first, l->mats, &l->total)) return 0;
    return l->total <= SIZE_MAX / sizeof(double);
}

/* Lower triangle of matrix m, row by row, into out[tri]. */
static void pack_triangle(const clh_analytic *a, size_t m, double *out) {
    size_t k = 0;
    for (int64_t i = 0; i < a->dim; i++)
        for (int64_t j = 0; j <= i; j++) out[k++] = clh_analytic_mat_at(a, m, i, j);
}

static void unpack_triangle(clh_analytic *a, size_t m, const double *in) {
    size_t k = 0, side = (size_t)a->dim;
    for (size_t i = 0; i < side; i++)
        for (size_t j = 0; j <= i; j++, k++) {
            if (a->config.precision == CLH_DT_F64)
                ((double *)a->mats[m])[i * side + j] = in[k];
            else
                ((float *)a->mats[m])[i * side + j] = (float)in[k];
        }
}

/* out[tri] += w δδᵀ (lower triangle, packed). */
static void add_rank_one(double *tri, int64_t d, double w, const double *delta) {
    size_t k = 0;
    for (int64_t i = 0; i < d; i++)
        for (int64_t j = 0; j <= i; j++) tri[k++] += w * delta[i] * delta[j];
}

/* The parallel-axis terms of this participant's classes, around the global
 * means in `global_sums` / `global_counts`. */
static clh_status add_lda_terms(const clh_analytic *a, const double *global_counts,
                                const double *global_sums, double *mats, size_t tri) {
    int64_t d = a->in;
    double *delta = clh_malloc((size_t)d * sizeof(double));
    if (!delta) return clh_analytic_fail(a, CLH_E_NOMEM, "clh_analytic_reduce: out of memory");
    for (int64_t c = 0; c < a->rows; c++) {
        double n = (double)a->counts[c];
        if (a->counts[c] == 0 || global_counts[c] == n) continue; /* δ = 0 */
        const double *local = a->sums + (size_t)c * (size_t)d;
        const double *global = global_sums + (size_t)c * (size_t)d;
        for (int64_t j = 0; j < d; j++) delta[j] = local[j] / n - global[j] / global_counts[c];
        add_rank_one(mats + mat_of_row(a, c) * tri, d, n, delta);
    }
    clh_free(delta);
    return CLH_OK;
}

static clh_status transport(const clh_analytic *a, const clh_reducer *r, double *values,
                            size_t count) {
    if (count == 0) return CLH_OK;
    clh_status st = r->sum_f64(r->context, values, count);
    if (st != CLH_OK)
        return clh_analytic_fail(a, st, "clh_analytic_reduce: the transport's sum of %zu values "
                                 "failed (%s)", count, clh_status_name(st));
    return CLH_OK;
}

/* What the transport returned must be sums of valid statistics. */
static clh_status check_sums(const clh_analytic *a, const layout *l, const double *buf) {
    for (size_t i = 0; i < l->counts + l->mat_samples; i++) {
        double v = buf[i];
        if (!(v >= 0 && v <= EXACT_COUNT) || v != floor(v))
            return clh_analytic_fail(a, v > EXACT_COUNT ? CLH_E_OVERFLOW : CLH_E_INVALID_ARG,
                                     "clh_analytic_reduce: the summed %s %zu is %g (not a count "
                                     "below 2^53)", i < l->counts ? "count of class" : "samples "
                                     "of matrix", i < l->counts ? i : i - l->counts, v);
    }
    for (size_t i = l->counts + l->mat_samples; i < l->total; i++)
        if (!isfinite(buf[i]))
            return clh_analytic_fail(a, CLH_E_INVALID_ARG, "clh_analytic_reduce: summed value %zu "
                                     "of the statistics is not finite", i);
    return CLH_OK;
}

clh_status clh_analytic_reduce(clh_analytic *a, const clh_reducer *reducer) {
    static const char what[] = "clh_analytic_reduce";
    clh_reducer r;
    clh_reducer_init(&r);
    clh_status st = clh_reducer_read(reducer, &r, what);
    if (st != CLH_OK) return st;
    if (!a) return clh_fail(CLH_E_NULL, "%s: analytic is NULL", what);
    int differs = -1;
    st = clh_reduce_agree(&r, layout_digest(a), &differs);
    if (st != CLH_OK) return st;
    if (differs >= 0)
        return clh_analytic_fail(a, CLH_E_MISMATCH, "%s: participant %d's statistics have another "
                                 "configuration or set-up (tasks, class counts, width) than rank "
                                 "0's", what, differs);
    layout l;
    if (!plan_layout(a, &l))
        return clh_analytic_fail(a, CLH_E_OVERFLOW, "%s: the statistics' size overflows", what);
    double *buf = clh_malloc((l.total ? l.total : 1) * sizeof(double));
    if (!buf) return clh_analytic_fail(a, CLH_E_NOMEM, "%s: out of memory for %zu values", what,
                                       l.total);
    double *counts = buf, *mat_samples = buf + l.counts, *sums = mat_samples + l.mat_samples;
    double *mats = buf + l.first;
    for (size_t c = 0; c < l.counts; c++) counts[c] = (double)a->counts[c];
    for (size_t m = 0; m < l.mat_samples; m++) mat_samples[m] = (double)a->mat_samples[m];
    if (l.sums) memcpy(sums, a->sums, l.sums * sizeof(double));
    for (size_t m = 0; m < l.mat_samples; m++) pack_triangle(a, m, mats + m * l.tri);
    if (a->config.method == CLH_ANALYTIC_LDA) {
        st = transport(a, &r, buf, l.first);
        if (st == CLH_OK) st = check_sums(a, &(layout){.counts = l.counts,
                                                        .mat_samples = l.mat_samples,
                                                        .total = l.first}, buf);
        if (st == CLH_OK) st = add_lda_terms(a, counts, sums, mats, l.tri);
        if (st == CLH_OK) st = transport(a, &r, mats, l.mats);
    } else {
        st = transport(a, &r, buf, l.total);
    }
    if (st == CLH_OK) st = check_sums(a, &l, buf);
    if (st != CLH_OK) {
        clh_free(buf);
        return st;
    }
    for (size_t c = 0; c < l.counts; c++) a->counts[c] = (int64_t)counts[c];
    for (size_t m = 0; m < l.mat_samples; m++) a->mat_samples[m] = (int64_t)mat_samples[m];
    if (l.sums) memcpy(a->sums, sums, l.sums * sizeof(double));
    for (size_t m = 0; m < l.mat_samples; m++) unpack_triangle(a, m, mats + m * l.tri);
    clh_free(buf);
    return CLH_OK;
}

void clh_analytic_reset(clh_analytic *a) {
    if (!a) return;
    if (a->rows > 0) {
        memset(a->sums, 0, (size_t)a->rows * (size_t)a->in * sizeof(double));
        memset(a->counts, 0, (size_t)a->rows * sizeof(int64_t));
    }
    size_t bytes = clh_analytic_mat_bytes(a);
    for (size_t m = 0; m < a->num_mats; m++) {
        memset(a->mats[m], 0, bytes);
        a->mat_samples[m] = 0;
    }
}
