/* Streaming the statistics: one call adds a batch (of any size, 1 included).
 * Everything is checked and every buffer allocated before the first sum
 * changes, so a failing call leaves the statistics exactly as they were.
 *
 *   ncm:   class sums and counts.
 *   ridge: the same, and G += XᵀX through the multiply dispatch's symmetric
 *          rank-k update (float32: ssyrk straight on the caller's rows;
 *          float64: dsyrk on chunks converted to double). With fit_bias the
 *          constant feature's row of G gets the column sums and the corner
 *          the sample count.
 *   lda:   the within-class scatter, merged chunk by chunk (Chan, Golub &
 *          LeVeque's pairwise update, per class c with n_A old and n_B new
 *          samples and δ = μ_B − μ_A):
 *            M += Σ_{i in chunk} (x_i − μ_B,y_i)(x_i − μ_B,y_i)ᵀ
 *                 + Σ_c n_A n_B / (n_A + n_B) δ_c δ_cᵀ
 *          The first term is one syrk of the chunk centred on its own class
 *          means; the update is exact whatever the chunking or order.
 */
#include <math.h>
#include <string.h>

#include "common/alloc.h"
#include "analytic/analytic_internal.h"
#include "common/checked.h"
#include "kernels/gemm.h"

/* Rows converted or centred per syrk call: large enough for the BLAS to run
 * near its peak, small enough to keep the workspace a few MB. */
enum { CHUNK = 512 };

/* What one update call works on after its checks. */
typedef struct batch_plan {
    const float *x;
    const int64_t *labels;
    int64_t batch;
    int64_t first_row; /* labels are relative to this row */
    size_t mat;        /* matrix index (ridge, lda) */
} batch_plan;

/* The workspace of an lda update. */
typedef struct lda_work {
    void *centred;     /* [CHUNK, in] of the precision */
    double *chunk_sum; /* [slots, in]: sums of the chunk's classes */
    int64_t *chunk_n;  /* [slots] */
    int64_t *slot_row; /* [slots]: the row of each slot */
    int64_t *row_slot; /* [rows]: a row's slot in this chunk, or -1 */
    double *delta;     /* [in] */
} lda_work;

/* 1 when every x[i] is finite: no exponent field is all ones (infinity and
 * NaN). An OR over the whole batch, which vectorises even on baseline
 * x86-64 (a test per value with an early exit does not), so the check runs
 * at memory speed; the slow scan that names the bad value runs only when
 * this fails. */
static int all_finite(const float *x, size_t n) {
    uint32_t bad = 0;
    for (size_t i = 0; i < n; i++) {
        uint32_t bits;
        memcpy(&bits, &x[i], sizeof bits);
        bad |= (uint32_t)((bits & 0x7F800000u) == 0x7F800000u);
    }
    return bad == 0;
}

static clh_status check_batch(const clh_analytic *a, const float *x, int64_t batch,
                              int64_t task_id, const int64_t *labels, batch_plan *plan) {
    static const char what[] = "clh_analytic_update";
    if (batch < 0)
        return clh_analytic_fail(a, CLH_E_INVALID_ARG, "%s: batch = %lld is negative", what,
                                 (long long)batch);
    if (a->num_tasks == 0)
        return clh_analytic_fail(a, CLH_E_NOT_SETUP, "%s: no task is set up (call %s first)", what,
                                 a->paradigm == CLH_DIL || a->paradigm == CLH_STL
                                     ? "clh_analytic_setup_single" : "clh_analytic_setup_task");
    int64_t first = 0, classes = a->rows;
    size_t mat = 0;
    if (a->paradigm == CLH_TIL || a->paradigm == CLH_MTL) {
        if (task_id == CLH_NO_TASK)
            return clh_analytic_fail(a, CLH_E_PARADIGM, "%s: %s needs a task id", what,
                                     clh_paradigm_name(a->paradigm));
        ptrdiff_t t = clh_analytic_find(a, task_id);
        if (t < 0)
            return clh_analytic_fail(a, CLH_E_UNKNOWN_TASK, "%s: task %lld is not set up", what,
                                     (long long)task_id);
        first = a->tasks[t].offset;
        classes = a->tasks[t].classes;
        mat = clh_analytic_mat_of(a, (size_t)t);
    }
    if (batch > 0 && (!x || !labels))
        return clh_fail(CLH_E_NULL, "%s: %s is NULL", what, x ? "labels" : "x");
    size_t bytes;
    if (!clh_float_bytes(batch, a->in, &bytes))
        return clh_analytic_fail(a, CLH_E_OVERFLOW, "%s: batch %lld x %lld overflows", what,
                                 (long long)batch, (long long)a->in);
    for (int64_t i = 0; i < batch; i++)
        if (labels[i] < 0 || labels[i] >= classes)
            return clh_analytic_fail(a, CLH_E_LABEL, "%s: sample %lld has label %lld, outside "
                                     "[0, %lld)%s", what, (long long)i, (long long)labels[i],
                                     (long long)classes,
                                     a->paradigm == CLH_CIL ? " (CIL labels are global)" : "");
    int finite = all_finite(x, (size_t)batch * (size_t)a->in);
    for (int64_t i = 0; !finite && i < batch; i++) {
        const float *row = x + i * a->in;
        for (int64_t j = 0; j < a->in; j++)
            if (!isfinite(row[j]))
                return clh_analytic_fail(a, CLH_E_INVALID_ARG, "%s: feature %lld of sample %lld "
                                         "is %s", what, (long long)j, (long long)i,
                                         isnan(row[j]) ? "NaN" : "infinite");
    }
    plan->x = x;
    plan->labels = labels;
    plan->batch = batch;
    plan->first_row = first;
    plan->mat = mat;
    return CLH_OK;
}

/* ---- class sums -------------------------------------------------------------- */

static void add_class_sums(clh_analytic *a, const batch_plan *p) {
    for (int64_t i = 0; i < p->batch; i++) {
        const float *row = p->x + i * a->in;
        int64_t r = p->first_row + p->labels[i];
        double *sum = a->sums + (size_t)r * (size_t)a->in, scale = 1.0;
        if (a->config.normalize) { /* F.normalize: x / max(‖x‖, 1e-12) */
            double norm2 = 0;
            for (int64_t j = 0; j < a->in; j++) norm2 += (double)row[j] * (double)row[j];
            double norm = sqrt(norm2);
            scale = 1.0 / (norm > 1e-12 ? norm : 1e-12);
        }
        for (int64_t j = 0; j < a->in; j++) sum[j] += (double)row[j] * scale;
        a->counts[r]++;
    }
}

/* ---- ridge: G += XᵀX ------------------------------------------------------------ */

static void ridge_gram(clh_analytic *a, const batch_plan *p, double *work) {
    int64_t d = a->in, m = a->dim;
    if (a->config.precision == CLH_DT_F32) {
        clh_syrk_f32(d, p->batch, 1.0f, p->x, d, 1.0f, a->mats[p->mat], m);
    } else {
        for (int64_t i0 = 0; i0 < p->batch; i0 += CHUNK) {
            int64_t rows = p->batch - i0 < CHUNK ? p->batch - i0 : CHUNK;
            for (int64_t k = 0; k < rows * d; k++) work[k] = (double)p->x[i0 * d + k];
            clh_syrk_f64(d, rows, 1.0, work, d, 1.0, a->mats[p->mat], m);
        }
    }
    if (!a->config.fit_bias) return;
    /* The constant feature: row d holds Σ x (columns 0..d-1) and the count. */
    for (int64_t j = 0; j < d; j++) {
        double s = 0;
        for (int64_t i = 0; i < p->batch; i++) s += (double)p->x[i * d + j];
        if (a->config.precision == CLH_DT_F32)
            ((float *)a->mats[p->mat])[d * m + j] += (float)s;
        else
            ((double *)a->mats[p->mat])[d * m + j] += s;
    }
    if (a->config.precision == CLH_DT_F32)
        ((float *)a->mats[p->mat])[d * m + d] += (float)p->batch;
    else
        ((double *)a->mats[p->mat])[d * m + d] += (double)p->batch;
}

/* ---- lda: the scatter ------------------------------------------------------------ */

/* M += w δδᵀ on the lower triangle. */
static void rank_one(clh_analytic *a, size_t mat, double w, const double *delta) {
    int64_t d = a->in;
    for (int64_t i = 0; i < d; i++) {
        double wi = w * delta[i];
        if (a->config.precision == CLH_DT_F32) {
            float *row = (float *)a->mats[mat] + i * d;
            for (int64_t j = 0; j <= i; j++) row[j] += (float)(wi * delta[j]);
        } else {
            double *row = (double *)a->mats[mat] + i * d;
            for (int64_t j = 0; j <= i; j++) row[j] += wi * delta[j];
        }
    }
}

/* One chunk of rows [i0, i0 + rows): its class means, the centred syrk, the
 * merge terms, then its sums and counts. */
static void lda_chunk(clh_analytic *a, const batch_plan *p, int64_t i0, int64_t rows,
                      lda_work *w) {
    int64_t d = a->in, slots = 0;
    for (int64_t i = i0; i < i0 + rows; i++) {
        int64_t r = p->first_row + p->labels[i];
        if (w->row_slot[r] < 0) {
            w->row_slot[r] = slots;
            w->slot_row[slots] = r;
            w->chunk_n[slots] = 0;
            memset(w->chunk_sum + slots * d, 0, (size_t)d * sizeof(double));
            slots++;
        }
        int64_t s = w->row_slot[r];
        w->chunk_n[s]++;
        for (int64_t j = 0; j < d; j++) w->chunk_sum[s * d + j] += (double)p->x[i * d + j];
    }
    /* Centre each row on its class's chunk mean, then one syrk. */
    for (int64_t i = i0; i < i0 + rows; i++) {
        int64_t s = w->row_slot[p->first_row + p->labels[i]];
        const double *sum = w->chunk_sum + s * d;
        double inv = 1.0 / (double)w->chunk_n[s];
        for (int64_t j = 0; j < d; j++) {
            double v = (double)p->x[i * d + j] - sum[j] * inv;
            if (a->config.precision == CLH_DT_F32)
                ((float *)w->centred)[(i - i0) * d + j] = (float)v;
            else
                ((double *)w->centred)[(i - i0) * d + j] = v;
        }
    }
    if (a->config.precision == CLH_DT_F32)
        clh_syrk_f32(d, rows, 1.0f, w->centred, d, 1.0f, a->mats[p->mat], d);
    else
        clh_syrk_f64(d, rows, 1.0, w->centred, d, 1.0, a->mats[p->mat], d);
    /* Between the old and the new mean of each class already seen. */
    for (int64_t s = 0; s < slots; s++) {
        int64_t r = w->slot_row[s], n_old = a->counts[r], n_new = w->chunk_n[s];
        double *old_sum = a->sums + (size_t)r * (size_t)d;
        const double *new_sum = w->chunk_sum + s * d;
        if (n_old > 0) {
            for (int64_t j = 0; j < d; j++)
                w->delta[j] = new_sum[j] / (double)n_new - old_sum[j] / (double)n_old;
            rank_one(a, p->mat, (double)n_old * (double)n_new / (double)(n_old + n_new), w->delta);
        }
        for (int64_t j = 0; j < d; j++) old_sum[j] += new_sum[j];
        a->counts[r] += n_new;
        w->row_slot[r] = -1;
    }
}

static void lda_work_free(lda_work *w) {
    clh_free(w->centred);
    clh_free(w->chunk_sum);
    clh_free(w->chunk_n);
    clh_free(w->slot_row);
    clh_free(w->row_slot);
    clh_free(w->delta);
}

/* rows x in x 8 bytes, or 0 when it overflows. */
static size_t doubles_bytes(int64_t rows, int64_t in) {
    size_t n;
    if (!clh_mul_size((size_t)rows, (size_t)in, &n) || !clh_mul_size(n, sizeof(double), &n)) return 0;
    return n;
}

static clh_status lda_work_alloc(const clh_analytic *a, int64_t batch, lda_work *w) {
    int64_t chunk = batch < CHUNK ? batch : CHUNK;
    int64_t slots = chunk < a->rows ? chunk : a->rows;
    size_t centred_bytes = doubles_bytes(chunk, a->in), sum_bytes = doubles_bytes(slots, a->in);
    memset(w, 0, sizeof *w);
    if (!centred_bytes || !sum_bytes)
        return clh_analytic_fail(a, CLH_E_OVERFLOW, "clh_analytic_update: a %lld x %lld workspace "
                                 "overflows", (long long)chunk, (long long)a->in);
    w->centred = clh_malloc(centred_bytes); /* room for doubles, used as floats for F32 */
    w->chunk_sum = clh_malloc(sum_bytes);
    w->chunk_n = clh_malloc((size_t)slots * sizeof(int64_t));
    w->slot_row = clh_malloc((size_t)slots * sizeof(int64_t));
    w->row_slot = clh_malloc((size_t)a->rows * sizeof(int64_t));
    w->delta = clh_malloc((size_t)a->in * sizeof(double));
    if (!w->centred || !w->chunk_sum || !w->chunk_n || !w->slot_row || !w->row_slot || !w->delta) {
        lda_work_free(w);
        return clh_analytic_fail(a, CLH_E_NOMEM, "clh_analytic_update: out of memory");
    }
    for (int64_t r = 0; r < a->rows; r++) w->row_slot[r] = -1;
    return CLH_OK;
}

clh_status clh_analytic_update(clh_analytic *a, const float *x, int64_t batch, int64_t task_id,
                               const int64_t *labels) {
    if (!a) return clh_fail(CLH_E_NULL, "clh_analytic_update: analytic is NULL");
    batch_plan p;
    clh_status st = check_batch(a, x, batch, task_id, labels, &p);
    if (st || batch == 0) return st;
    switch (a->config.method) {
    case CLH_ANALYTIC_NCM:
        add_class_sums(a, &p);
        break;
    case CLH_ANALYTIC_RIDGE: {
        double *work = NULL;
        if (a->config.precision == CLH_DT_F64) {
            size_t bytes = doubles_bytes(batch < CHUNK ? batch : CHUNK, a->in);
            if (!bytes)
                return clh_analytic_fail(a, CLH_E_OVERFLOW, "clh_analytic_update: workspace "
                                         "overflows");
            work = clh_malloc(bytes);
            if (!work) return clh_analytic_fail(a, CLH_E_NOMEM, "clh_analytic_update: out of memory");
        }
        ridge_gram(a, &p, work);
        clh_free(work);
        add_class_sums(a, &p);
        break;
    }
    case CLH_ANALYTIC_LDA: {
        lda_work w;
        st = lda_work_alloc(a, batch, &w);
        if (st) return st;
        for (int64_t i0 = 0; i0 < batch; i0 += CHUNK)
            lda_chunk(a, &p, i0, batch - i0 < CHUNK ? batch - i0 : CHUNK, &w);
        lda_work_free(&w);
        break;
    }
    }
    if (clh_analytic_has_mats(a)) a->mat_samples[p.mat] += batch;
    return CLH_OK;
}
