/* Solving the statistics into heads (analytic.h has the formulas). All
 * results are computed into buffers of our own first; the heads are
 * written only once every solve has succeeded.
 *
 * Each matrix is solved once for all the classes that use it: a right-hand
 * side per class (a row of the class sums, so no transposition: see
 * cholesky.h). Ridge: (G + λI) w_c = q_c with q_c = Σ_{y=c} h (and, with
 * fit_bias, the class count as the constant feature's entry; λ is not added
 * to that diagonal entry). LDA: ((1−ε)M/N + εI) w_c = μ_c. */
#include <math.h>
#include <string.h>

#include "common/alloc.h"
#include "analytic/analytic_internal.h"
#include "common/checked.h"
#include "analytic/cholesky.h"

static const char what[] = "clh_analytic_solve";

/* The heads must hold task t of the statistics with the same classes (and
 * in CIL at the same offset, so both agree on the global labels). */
static clh_status check_head(const clh_analytic *a, const clh_heads *heads, size_t t) {
    const clh_analytic_task *task = &a->tasks[t]; /* DIL/STL: task 0, which the heads accept */
    int64_t classes = 0, offset = 0;
    if (clh_heads_task_classes(heads, task->id, &classes, &offset) != CLH_OK)
        return clh_analytic_fail(a, CLH_E_MISMATCH, "%s: the heads have no task %lld (set it up "
                                 "with %lld classes first)", what, (long long)task->id,
                                 (long long)task->classes);
    if (classes != task->classes)
        return clh_analytic_fail(a, CLH_E_MISMATCH, "%s: task %lld has %lld classes in the heads "
                                 "and %lld in the statistics", what, (long long)task->id,
                                 (long long)classes, (long long)task->classes);
    if (a->paradigm == CLH_CIL && offset != task->offset)
        return clh_analytic_fail(a, CLH_E_MISMATCH, "%s: CIL task %lld starts at class %lld in the "
                                 "heads and at %lld in the statistics (set-up order differs)",
                                 what, (long long)task->id, (long long)offset,
                                 (long long)task->offset);
    return CLH_OK;
}

/* A class without samples has no mean (ncm, lda). */
static clh_status check_counts(const clh_analytic *a, size_t t) {
    const clh_analytic_task *task = &a->tasks[t];
    for (int64_t c = 0; c < task->classes; c++)
        if (a->counts[task->offset + c] == 0)
            return clh_analytic_fail(a, CLH_E_INVALID_ARG, "%s: class %lld of task %lld has no "
                                     "samples yet, so it has no mean", what, (long long)c,
                                     (long long)task->id);
    return CLH_OK;
}

/* Head rows of the selected tasks, packed in selection order. */
typedef struct solution {
    float *weight; /* [rows, in] */
    float *bias;   /* [rows] */
    int64_t *first; /* [num_selected]: each task's first packed row */
} solution;

static void ncm_task(const clh_analytic *a, size_t t, int64_t first, solution *s) {
    const clh_analytic_task *task = &a->tasks[t];
    for (int64_t c = 0; c < task->classes; c++) {
        int64_t r = task->offset + c;
        const double *sum = a->sums + (size_t)r * (size_t)a->in;
        double norm2 = 0, scale = 1.0 / (double)a->counts[r];
        for (int64_t j = 0; j < a->in; j++) norm2 += sum[j] * sum[j];
        if (a->config.normalize) { /* F.normalize of the mean = of the sum */
            double norm = sqrt(norm2);
            scale = 1.0 / (norm > 1e-12 ? norm : 1e-12);
        }
        float *w = s->weight + (size_t)(first + c) * (size_t)a->in;
        double mu2 = 0;
        for (int64_t j = 0; j < a->in; j++) {
            double mu = sum[j] * scale;
            w[j] = (float)mu;
            mu2 += mu * mu;
        }
        s->bias[first + c] = a->config.normalize ? 0.0f : (float)(-0.5 * mu2);
    }
}

/* The system of matrix m, described for cholesky.h (nothing is copied):
 * ridge G + λI (λ not on the constant feature's entry), LDA (1−ε)M/N + εI. */
static clh_status describe_system(const clh_analytic *a, size_t m, clh_spd_system *sys) {
    double scale = 1.0, diag = a->config.lambda;
    if (a->config.method == CLH_ANALYTIC_LDA) {
        if (a->mat_samples[m] == 0)
            return clh_analytic_fail(a, CLH_E_INVALID_ARG, "%s: no samples yet for the covariance",
                                     what);
        scale = (1.0 - a->config.shrinkage) / (double)a->mat_samples[m];
        diag = a->config.shrinkage;
    }
    clh_spd_system s = {a->mats[m], a->config.precision, a->dim, scale, diag, a->in};
    *sys = s;
    return CLH_OK;
}

/* Solves matrix m for every selected task that uses it. */
static clh_status solve_matrix(const clh_analytic *a, size_t m, const size_t *sel, size_t n_sel,
                               solution *s, double *rhs) {
    int64_t n = a->dim, d = a->in, k = 0;
    for (size_t i = 0; i < n_sel; i++) {
        const clh_analytic_task *task = &a->tasks[sel[i]];
        if (clh_analytic_mat_of(a, sel[i]) != m) continue;
        for (int64_t c = 0; c < task->classes; c++, k++) {
            int64_t r = task->offset + c;
            const double *sum = a->sums + (size_t)r * (size_t)d;
            double *b = rhs + k * n;
            double scale = a->config.method == CLH_ANALYTIC_LDA ? 1.0 / (double)a->counts[r] : 1.0;
            for (int64_t j = 0; j < d; j++) b[j] = sum[j] * scale;
            if (n > d) b[d] = (double)a->counts[r]; /* Σ 1 · onehot: the class count */
        }
    }
    if (k == 0) return CLH_OK;
    /* Rank bounds: with λ = 0, G = Σ h hᵀ has rank at most the sample count;
     * with ε = 0 the scatter has rank at most samples − classes. Rounding
     * could hide the singularity, so it is decided here exactly. */
    int64_t samples = a->mat_samples[m], rank_bound = samples;
    if (a->config.method == CLH_ANALYTIC_LDA) {
        int64_t classes = 0;
        for (size_t t = 0; t < a->num_tasks; t++)
            if (clh_analytic_mat_of(a, t) == m)
                for (int64_t c = 0; c < a->tasks[t].classes; c++)
                    classes += a->counts[a->tasks[t].offset + c] > 0;
        rank_bound = samples - classes;
    }
    int regularised = a->config.method == CLH_ANALYTIC_RIDGE ? a->config.lambda > 0
                                                             : a->config.shrinkage > 0;
    if (!regularised && rank_bound < a->dim)
        return clh_analytic_fail(a, CLH_E_SINGULAR, "%s: the %s of %lld samples has rank at most "
                                 "%lld < %lld features, so it is singular with %s = 0", what,
                                 a->config.method == CLH_ANALYTIC_RIDGE ? "Gram matrix" : "scatter",
                                 (long long)samples, (long long)rank_bound, (long long)a->dim,
                                 a->config.method == CLH_ANALYTIC_RIDGE ? "lambda" : "shrinkage");
    clh_spd_system sys;
    clh_status st = describe_system(a, m, &sys);
    if (st) return st;
    int64_t info = clh_spd_solve(&sys, rhs, k);
    if (info == CLH_CHOLESKY_NOMEM)
        return clh_analytic_fail(a, CLH_E_NOMEM, "%s: out of memory for a %lld x %lld system",
                                 what, (long long)n, (long long)n);
    if (info) {
        if (a->config.method == CLH_ANALYTIC_RIDGE)
            return clh_analytic_fail(a, CLH_E_SINGULAR, "%s: G + lambda*I is not positive definite "
                                     "(pivot %lld of %lld, lambda = %g): use lambda > 0 or more "
                                     "samples than features", what, (long long)info,
                                     (long long)n, a->config.lambda);
        return clh_analytic_fail(a, CLH_E_SINGULAR, "%s: (1-eps)*Sigma + eps*I is not positive "
                                 "definite (pivot %lld of %lld, eps = %g): use a shrinkage > 0",
                                 what, (long long)info, (long long)n, a->config.shrinkage);
    }
    k = 0;
    for (size_t i = 0; i < n_sel; i++) {
        const clh_analytic_task *task = &a->tasks[sel[i]];
        if (clh_analytic_mat_of(a, sel[i]) != m) continue;
        for (int64_t c = 0; c < task->classes; c++, k++) {
            const double *x = rhs + k * n;
            int64_t row = s->first[i] + c;
            float *w = s->weight + (size_t)row * (size_t)d;
            for (int64_t j = 0; j < d; j++) w[j] = (float)x[j];
            if (a->config.method == CLH_ANALYTIC_RIDGE) {
                s->bias[row] = n > d ? (float)x[d] : 0.0f;
            } else { /* b_c = −½ μ_cᵀ Λ μ_c = −½ μ_c · w_c */
                int64_t r = task->offset + c;
                const double *sum = a->sums + (size_t)r * (size_t)d;
                double dotp = 0;
                for (int64_t j = 0; j < d; j++) dotp += sum[j] * x[j];
                s->bias[row] = (float)(-0.5 * dotp / (double)a->counts[r]);
            }
        }
    }
    return CLH_OK;
}

/* The selected tasks: all, or one (TIL, MTL). */
static clh_status select_tasks(const clh_analytic *a, int64_t task_id, size_t *sel, size_t *n) {
    if ((a->paradigm == CLH_TIL || a->paradigm == CLH_MTL) && task_id != CLH_NO_TASK) {
        ptrdiff_t t = clh_analytic_find(a, task_id);
        if (t < 0)
            return clh_analytic_fail(a, CLH_E_UNKNOWN_TASK, "%s: task %lld is not set up in the "
                                     "statistics", what, (long long)task_id);
        sel[0] = (size_t)t;
        *n = 1;
        return CLH_OK;
    }
    for (size_t t = 0; t < a->num_tasks; t++) sel[t] = t;
    *n = a->num_tasks;
    return CLH_OK;
}

static void write_heads(const clh_analytic *a, clh_heads *heads, const size_t *sel, size_t n_sel,
                        const solution *s) {
    for (size_t i = 0; i < n_sel; i++) {
        const clh_analytic_task *task = &a->tasks[sel[i]];
        clh_head_view view;
        clh_heads_get_head(heads, task->id, &view); /* checked before */
        memcpy(view.weight, s->weight + (size_t)s->first[i] * (size_t)a->in,
               (size_t)task->classes * (size_t)a->in * sizeof(float));
        memcpy(view.bias, s->bias + s->first[i], (size_t)task->classes * sizeof(float));
    }
}

clh_status clh_analytic_solve(const clh_analytic *a, clh_heads *heads, int64_t task_id) {
    if (!a || !heads) return clh_fail(CLH_E_NULL, "%s: %s is NULL", what, a ? "heads" : "analytic");
    if (a->num_tasks == 0)
        return clh_analytic_fail(a, CLH_E_NOT_SETUP, "%s: no task is set up in the statistics",
                                 what);
    if (clh_heads_paradigm(heads) != a->paradigm || clh_heads_in_features(heads) != a->in)
        return clh_analytic_fail(a, CLH_E_MISMATCH, "%s: the heads are %s with in_features %lld, "
                                 "the statistics %s with %lld", what,
                                 clh_paradigm_name(clh_heads_paradigm(heads)),
                                 (long long)clh_heads_in_features(heads),
                                 clh_paradigm_name(a->paradigm), (long long)a->in);
    size_t *sel = clh_malloc(a->num_tasks * sizeof *sel);
    solution s = {NULL, NULL, clh_malloc(a->num_tasks * sizeof(int64_t))};
    double *rhs = NULL;
    clh_status st = CLH_OK;
    size_t n_sel = 0;
    if (!sel || !s.first) st = clh_analytic_fail(a, CLH_E_NOMEM, "%s: out of memory", what);
    if (!st) st = select_tasks(a, task_id, sel, &n_sel);
    int64_t rows = 0;
    for (size_t i = 0; !st && i < n_sel; i++) {
        st = check_head(a, heads, sel[i]);
        if (!st && a->config.method != CLH_ANALYTIC_RIDGE) st = check_counts(a, sel[i]);
        s.first[i] = rows;
        rows += a->tasks[sel[i]].classes;
    }
    if (!st) {
        /* rows * in fits: the heads hold them. */
        s.weight = clh_malloc((size_t)rows * (size_t)a->in * sizeof(float));
        s.bias = clh_malloc((size_t)rows * sizeof(float));
        if (!s.weight || !s.bias) st = clh_analytic_fail(a, CLH_E_NOMEM, "%s: out of memory", what);
    }
    if (!st && clh_analytic_has_mats(a)) {
        size_t rhs_bytes = 0;
        if (!clh_mul_size((size_t)rows * sizeof(double), (size_t)a->dim, &rhs_bytes))
            st = clh_analytic_fail(a, CLH_E_OVERFLOW, "%s: %lld classes overflow", what,
                                   (long long)rows);
        if (!st) {
            rhs = clh_malloc(rhs_bytes ? rhs_bytes : 1);
            if (!rhs)
                st = clh_analytic_fail(a, CLH_E_NOMEM, "%s: out of memory for %lld right-hand "
                                       "sides", what, (long long)rows);
        }
    }
    if (!st) {
        if (a->config.method == CLH_ANALYTIC_NCM)
            for (size_t i = 0; i < n_sel; i++) ncm_task(a, sel[i], s.first[i], &s);
        else
            for (size_t m = 0; !st && m < a->num_mats; m++)
                st = solve_matrix(a, m, sel, n_sel, &s, rhs);
    }
    if (!st) write_heads(a, heads, sel, n_sel, &s);
    clh_free(rhs);
    clh_free(s.weight);
    clh_free(s.bias);
    clh_free(s.first);
    clh_free(sel);
    return st;
}
