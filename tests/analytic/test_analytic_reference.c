/* Ridge, NCM and streaming LDA against numpy float64 (scripts/
 * gen_analytic_reference.py) in CIL (after every task), TIL and MTL (per-task
 * and shared matrices), DIL, with float32 and float64 statistics, with and
 * without a fitted bias; and the heads' forward reproduces the solve (NCM's
 * argmax is the nearest mean). Argument "portable": every kernel forced to
 * the portable code (syrk, multiply, Cholesky). Tolerance: 1e-4 relative. */
#include <string.h>

#include "test_analytic_util.h"
#include "common/testing.h"

#define TOL 1e-4

static analytic_ref R;

/* The label a paradigm's update takes for sample i. */
static int64_t label_for(clh_paradigm p, int64_t i) {
    if (p == CLH_DIL || p == CLH_STL) return R.labels[i] % R.per_task_classes;
    if (p == CLH_TIL || p == CLH_MTL) return R.labels[i] - R.task[i] * R.per_task_classes;
    return R.labels[i];
}

/* Streams task t's samples in batches of `batch`. */
static void stream_task(clh_analytic *a, int64_t t, int64_t batch) {
    clh_paradigm p = clh_analytic_paradigm(a);
    int64_t first = t * R.per_task, labels[64];
    for (int64_t i0 = 0; i0 < R.per_task; i0 += batch) {
        int64_t n = R.per_task - i0 < batch ? R.per_task - i0 : batch;
        for (int64_t i = 0; i < n; i++) labels[i] = label_for(p, first + i0 + i);
        CHECK_OK(clh_analytic_update(a, R.features + (first + i0) * R.width, n,
                                     p == CLH_TIL || p == CLH_MTL ? t : CLH_NO_TASK, labels));
    }
}

static clh_analytic *make(clh_paradigm p, clh_analytic_method m, clh_dtype precision,
                          int fit_bias, int normalize, clh_analytic_scope scope) {
    clh_analytic_config c;
    clh_analytic_config_init(&c, m);
    c.lambda = R.lambda;
    c.shrinkage = R.shrinkage;
    c.precision = precision;
    c.fit_bias = fit_bias;
    c.normalize = normalize;
    c.scope = scope;
    clh_analytic *a = NULL;
    CHECK_OK(clh_analytic_create(&a, &c, p, R.width));
    return a;
}

static clh_heads *make_heads(clh_paradigm p) {
    clh_heads *h = NULL;
    CHECK_OK(clh_heads_create(&h, p, R.width, 5));
    return h;
}

/* CIL ridge: solved after every task, equal to numpy's one-shot solve on the
 * tasks seen so far. */
static void cil_ridge(clh_dtype precision, int fit_bias) {
    clh_analytic *a = make(CLH_CIL, CLH_ANALYTIC_RIDGE, precision, fit_bias, 0, CLH_SCOPE_DEFAULT);
    clh_heads *h = make_heads(CLH_CIL);
    char wname[64], bname[64], label[64];
    snprintf(label, sizeof label, "cil ridge %s bias %d", precision_name(precision), fit_bias);
    for (int64_t t = 0; a && h && t < R.tasks; t++) {
        CHECK_OK(clh_analytic_setup_task(a, t, R.per_task_classes));
        CHECK_OK(clh_heads_setup_task(h, t, R.per_task_classes));
        stream_task(a, t, 8);
        CHECK_OK(clh_analytic_solve(a, h, CLH_NO_TASK));
        snprintf(wname, sizeof wname, "cil_ridge_bias%d_w_%lld", fit_bias, (long long)t);
        snprintf(bname, sizeof bname, "cil_ridge_bias%d_b_%lld", fit_bias, (long long)t);
        for (int64_t s = 0; s <= t; s++)
            check_head_ref(h, s, &R, wname, fit_bias ? bname : NULL, s * R.per_task_classes, TOL,
                           label);
    }
    clh_analytic_free(a);
    clh_heads_free(h);
}

/* TIL and MTL ridge with a per-task G: each head is its own task's ridge;
 * with a shared G: the CIL solution's rows. */
static void til_ridge(clh_paradigm p, clh_analytic_scope scope, int fit_bias) {
    clh_analytic *a = make(p, CLH_ANALYTIC_RIDGE, CLH_DT_F32, fit_bias, 0, scope);
    clh_heads *h = make_heads(p);
    char wname[64], bname[64];
    const char *label = scope == CLH_SCOPE_SHARED ? "til ridge shared" : "til ridge per task";
    if (p == CLH_MTL) {
        int64_t ids[5] = {0, 1, 2, 3, 4}, classes[5];
        for (int i = 0; i < 5; i++) classes[i] = R.per_task_classes;
        CHECK_OK(clh_heads_setup_tasks(h, ids, classes, 5));
    }
    for (int64_t t = 0; a && h && t < R.tasks; t++) {
        CHECK_OK(clh_analytic_setup_task(a, t, R.per_task_classes));
        if (p == CLH_TIL) CHECK_OK(clh_heads_setup_task(h, t, R.per_task_classes));
        stream_task(a, t, 7);
        if (scope != CLH_SCOPE_SHARED) { /* a task's head is final once its data is in */
            CHECK_OK(clh_analytic_solve(a, h, t));
            snprintf(wname, sizeof wname, fit_bias ? "til_ridge_bias1_w_%lld" : "til_ridge_w_%lld",
                     (long long)t);
            snprintf(bname, sizeof bname, "til_ridge_bias1_b_%lld", (long long)t);
            check_head_ref(h, t, &R, wname, fit_bias ? bname : NULL, 0, TOL, label);
        }
    }
    if (scope == CLH_SCOPE_SHARED) {
        CHECK_OK(clh_analytic_solve(a, h, CLH_NO_TASK));
        for (int64_t t = 0; t < R.tasks; t++)
            check_head_ref(h, t, &R, "cil_ridge_bias0_w_4", NULL, t * R.per_task_classes, TOL,
                           label);
    } else { /* solving all again changes nothing */
        CHECK_OK(clh_analytic_solve(a, h, CLH_NO_TASK));
        check_head_ref(h, 0, &R, fit_bias ? "til_ridge_bias1_w_0" : "til_ridge_w_0",
                       fit_bias ? "til_ridge_bias1_b_0" : NULL, 0, TOL, label);
    }
    clh_analytic_free(a);
    clh_heads_free(h);
}

/* NCM and LDA over all five tasks, CIL and TIL. */
static void means_methods(clh_paradigm p, clh_analytic_method m, int normalize,
                          clh_analytic_scope scope, clh_dtype precision) {
    clh_analytic *a = make(p, m, precision, 0, normalize, scope);
    clh_heads *h = make_heads(p);
    for (int64_t t = 0; a && h && t < R.tasks; t++) {
        CHECK_OK(clh_analytic_setup_task(a, t, R.per_task_classes));
        CHECK_OK(clh_heads_setup_task(h, t, R.per_task_classes));
        stream_task(a, t, t + 1); /* batch sizes 1..5 */
    }
    CHECK_OK(clh_analytic_solve(a, h, CLH_NO_TASK));
    char wname[64], bname[64], label[80];
    snprintf(label, sizeof label, "%s %s norm %d scope %d %s", clh_paradigm_name(p),
             clh_analytic_method_name(m), normalize, (int)scope, precision_name(precision));
    for (int64_t t = 0; t < R.tasks; t++) {
        if (m == CLH_ANALYTIC_NCM) {
            snprintf(wname, sizeof wname, "ncm_norm%d_w", normalize);
            snprintf(bname, sizeof bname, "ncm_norm%d_b", normalize);
            check_head_ref(h, t, &R, wname, normalize ? NULL : bname, t * R.per_task_classes, TOL,
                           label);
        } else if (scope == CLH_SCOPE_PER_TASK) {
            snprintf(wname, sizeof wname, "til_lda_task_w_%lld", (long long)t);
            snprintf(bname, sizeof bname, "til_lda_task_b_%lld", (long long)t);
            check_head_ref(h, t, &R, wname, bname, 0, TOL, label);
        } else {
            check_head_ref(h, t, &R, "lda_w", "lda_b", t * R.per_task_classes, TOL, label);
        }
    }
    clh_analytic_free(a);
    clh_heads_free(h);
}

/* DIL: one two-way head (label = digit mod 2) over all tasks. */
static void dil(clh_analytic_method m) {
    clh_analytic *a = make(CLH_DIL, m, CLH_DT_F64, m == CLH_ANALYTIC_RIDGE, 0, CLH_SCOPE_DEFAULT);
    clh_heads *h = make_heads(CLH_DIL);
    CHECK_OK(clh_analytic_setup_single(a, R.per_task_classes));
    CHECK_OK(clh_heads_setup_single(h, R.per_task_classes));
    for (int64_t t = 0; a && h && t < R.tasks; t++) stream_task(a, t, 30);
    CHECK_OK(clh_analytic_solve(a, h, CLH_NO_TASK));
    const char *w = m == CLH_ANALYTIC_RIDGE ? "dil_ridge_bias1_w" : m == CLH_ANALYTIC_NCM
                                                                        ? "dil_ncm_w" : "dil_lda_w";
    const char *b = m == CLH_ANALYTIC_RIDGE ? "dil_ridge_bias1_b" : m == CLH_ANALYTIC_NCM
                                                                        ? "dil_ncm_b" : "dil_lda_b";
    check_head_ref(h, CLH_NO_TASK, &R, w, b, 0, TOL, "dil");
    clh_analytic_free(a);
    clh_heads_free(h);
}

/* The solved NCM head's forward: argmax = the nearest class mean in double. */
static void ncm_forward_is_nearest_mean(void) {
    clh_analytic *a = make(CLH_CIL, CLH_ANALYTIC_NCM, CLH_DT_F32, 0, 0, CLH_SCOPE_DEFAULT);
    clh_heads *h = make_heads(CLH_CIL);
    for (int64_t t = 0; a && h && t < R.tasks; t++) {
        CHECK_OK(clh_analytic_setup_task(a, t, R.per_task_classes));
        CHECK_OK(clh_heads_setup_task(h, t, R.per_task_classes));
        stream_task(a, t, 30);
    }
    CHECK_OK(clh_analytic_solve(a, h, CLH_NO_TASK));
    int64_t classes = R.tasks * R.per_task_classes, agree = 0;
    float *logits = malloc((size_t)(R.n * classes) * sizeof *logits);
    const float *mu = refdata_f32(R.rd, NULL, "ncm_norm0_w");
    CHECK_OK(clh_heads_forward(h, R.features, R.n, CLH_NO_TASK, logits));
    for (int64_t i = 0; mu && i < R.n; i++) {
        int64_t best = 0, nearest = 0;
        double best_d = INFINITY;
        for (int64_t c = 0; c < classes; c++) {
            if (logits[i * classes + c] > logits[i * classes + best]) best = c;
            double d = 0;
            for (int64_t j = 0; j < R.width; j++) {
                double e = (double)R.features[i * R.width + j] - (double)mu[c * R.width + j];
                d += e * e;
            }
            if (d < best_d) {
                best_d = d;
                nearest = c;
            }
        }
        agree += best == nearest;
    }
    CHECK(agree == R.n);
    free(logits);
    clh_analytic_free(a);
    clh_heads_free(h);
}

int main(int argc, char **argv) {
    if (argc > 1 && strcmp(argv[1], "portable") == 0) CHECK_OK(clh_set_gemm_policy(CLH_GEMM_PORTABLE));
    if (!analytic_ref_load(&R)) {
        CHECK(!"reference data");
        return check_done("test_analytic_reference");
    }
    for (int fb = 0; fb < 2; fb++) {
        cil_ridge(CLH_DT_F32, fb);
        cil_ridge(CLH_DT_F64, fb);
        til_ridge(CLH_TIL, CLH_SCOPE_DEFAULT, fb);
    }
    til_ridge(CLH_MTL, CLH_SCOPE_PER_TASK, 0);
    til_ridge(CLH_TIL, CLH_SCOPE_SHARED, 0);
    for (int norm = 0; norm < 2; norm++) {
        means_methods(CLH_CIL, CLH_ANALYTIC_NCM, norm, CLH_SCOPE_DEFAULT, CLH_DT_F32);
        means_methods(CLH_TIL, CLH_ANALYTIC_NCM, norm, CLH_SCOPE_DEFAULT, CLH_DT_F32);
    }
    means_methods(CLH_CIL, CLH_ANALYTIC_LDA, 0, CLH_SCOPE_DEFAULT, CLH_DT_F32);
    means_methods(CLH_CIL, CLH_ANALYTIC_LDA, 0, CLH_SCOPE_DEFAULT, CLH_DT_F64);
    means_methods(CLH_TIL, CLH_ANALYTIC_LDA, 0, CLH_SCOPE_SHARED, CLH_DT_F32);
    means_methods(CLH_TIL, CLH_ANALYTIC_LDA, 0, CLH_SCOPE_PER_TASK, CLH_DT_F64);
    dil(CLH_ANALYTIC_RIDGE);
    dil(CLH_ANALYTIC_NCM);
    dil(CLH_ANALYTIC_LDA);
    ncm_forward_is_nearest_mean();
    refdata_free(R.rd);
    return check_done("test_analytic_reference");
}
