/* Shared helpers of the analytic tests (tests/test_analytic_*.c): the numpy
 * reference (scripts/gen_analytic_reference.py), streaming it into a handle,
 * comparing solved heads with the reference, a byte snapshot of the
 * statistics (their encoded export) to show that a failing call changed
 * nothing, and synthetic clustered features. Header-only so each test
 * stays one source file. */
#ifndef CLH_TEST_ANALYTIC_UTIL_H
#define CLH_TEST_ANALYTIC_UTIL_H

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "clheads.h"
#include "refdata.h"

/* The reference data set. */
typedef struct analytic_ref {
    refdata *rd;
    int64_t tasks, per_task_classes, per_task, raw, width, seed;
    double lambda, shrinkage;
    const float *features; /* [N, width] */
    const int64_t *labels; /* [N] global class */
    const int64_t *task;   /* [N] task of each sample */
    int64_t n;
} analytic_ref;

static inline int analytic_ref_load(analytic_ref *r) {
    memset(r, 0, sizeof *r);
    r->rd = refdata_load_test_file("analytic/reference.bin");
    if (!r->rd) return 0;
    size_t count = 0;
    const int64_t *cfg = refdata_i64(r->rd, &count, "config");
    const float *params = refdata_f32(r->rd, NULL, "params");
    r->features = refdata_f32(r->rd, NULL, "features");
    r->labels = refdata_i64(r->rd, &count, "labels");
    r->task = refdata_i64(r->rd, NULL, "tasks");
    if (!cfg || !params || !r->features || !r->labels || !r->task) return 0;
    r->n = (int64_t)count;
    r->tasks = cfg[0];
    r->per_task_classes = cfg[1];
    r->per_task = cfg[2];
    r->raw = cfg[3];
    r->width = cfg[4];
    r->seed = cfg[5];
    r->lambda = params[0];
    r->shrinkage = params[1];
    return 1;
}

/* The statistics' precision in a label (clh_dtype_name is file I/O, absent
 * from the device core). */
static inline const char *precision_name(clh_dtype precision) {
    return precision == CLH_DT_F64 ? "F64" : precision == CLH_DT_F32 ? "F32" : "?";
}

/* max |got - want| / max |want| over n values (0 when identical). */
static inline double rel_error(const float *got, const float *want, size_t n) {
    double diff = 0, scale = 0;
    for (size_t i = 0; i < n; i++) {
        double d = fabs((double)got[i] - (double)want[i]);
        if (!(d <= diff)) diff = d; /* NaN propagates */
        if (fabs((double)want[i]) > scale) scale = fabs((double)want[i]);
    }
    return scale > 0 ? diff / scale : diff;
}

/* Checks one head of `heads` (task_id, or CLH_NO_TASK) against reference
 * rows: weight [rows, in] from row `first` of array wname, bias likewise
 * (bname NULL: the bias must be 0). */
static inline void check_head_ref(clh_heads *heads, int64_t task_id, const analytic_ref *r,
                                  const char *wname, const char *bname, int64_t first,
                                  double tol, const char *label) {
    clh_head_view v;
    CHECK_OK(clh_heads_get_head(heads, task_id, &v));
    size_t count = 0;
    const float *w = refdata_f32(r->rd, &count, "%s", wname);
    CHECK(w != NULL);
    if (!w) return;
    size_t in = (size_t)v.in_features, rows = (size_t)v.out_features;
    CHECK(count >= (size_t)(first + (int64_t)rows) * in);
    double ew = rel_error(v.weight, w + (size_t)first * in, rows * in), eb = 0;
    if (bname) {
        const float *b = refdata_f32(r->rd, NULL, "%s", bname);
        CHECK(b != NULL);
        if (b) eb = rel_error(v.bias, b + first, rows);
    } else {
        for (size_t i = 0; i < rows; i++) eb += fabs(v.bias[i]);
    }
    if (!(ew <= tol && eb <= tol))
        fprintf(stderr, "%s: task %lld: weight error %.3g, bias error %.3g (tol %.1g)\n", label,
                (long long)task_id, ew, eb, tol);
    CHECK(ew <= tol);
    CHECK(eb <= tol);
}

/* The encoded export of the statistics: a byte snapshot (caller frees). */
static inline unsigned char *analytic_snapshot(const clh_analytic *a, size_t *len) {
    clh_analytic_export *e = NULL;
    unsigned char *bytes = NULL;
    *len = 0;
    if (clh_analytic_export_create(a, NULL, &e) != CLH_OK) return NULL;
    size_t nt, nm;
    const clh_st_tensor *t = clh_analytic_export_tensors(e, &nt);
    const clh_st_meta *m = clh_analytic_export_meta(e, &nm);
    if (clh_st_encode(t, nt, m, nm, &bytes, len) != CLH_OK) bytes = NULL;
    clh_analytic_export_free(e);
    return bytes;
}

static inline int snapshot_equal(const unsigned char *a, size_t alen, const unsigned char *b,
                                 size_t blen) {
    return a && b && alen == blen && memcmp(a, b, alen) == 0;
}

/* The test data's uniform numbers in [0, 1): xorshift64 on *state. */
static inline double xorshift_uniform(uint64_t *state) {
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    return (double)(*state >> 11) * 0x1.0p-53;
}

/* Positive, class-dependent features (like ReLU outputs), far from zero
 * mean, so a naive uncentred covariance would lose digits: `tasks` tasks of
 * `per_task` samples each, sample i of global class y[i] = (i / per_task) *
 * classes + i % classes, x[i * d + j] = max(0, centre[y[i]][j] + U(-1, 1))
 * with every centre's coordinates in [3, 5); all drawn from one stream
 * started at `seed`. */
static inline void make_class_data(float *x, int64_t *y, int tasks, int classes, int per_task,
                                   int d, uint64_t seed) {
    uint64_t state = seed;
    double *centre = malloc((size_t)tasks * (size_t)classes * (size_t)d * sizeof *centre);
    if (!centre) abort();
    for (int c = 0; c < tasks * classes; c++)
        for (int j = 0; j < d; j++) centre[c * d + j] = 3.0 + 2.0 * xorshift_uniform(&state);
    for (int i = 0; i < tasks * per_task; i++) {
        int t = i / per_task, c = t * classes + i % classes;
        y[i] = c;
        for (int j = 0; j < d; j++) {
            double v = centre[c * d + j] + (xorshift_uniform(&state) - 0.5) * 2.0;
            x[i * d + j] = (float)(v > 0 ? v : 0);
        }
    }
    free(centre);
}

#endif
