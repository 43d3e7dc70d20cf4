/* Internal: the clh_analytic handle, shared by its set-up and streaming
 * (stats.c), solves (solve.c) and file io (analytic_io.c). */
#ifndef CLH_INTERNAL_ANALYTIC_H
#define CLH_INTERNAL_ANALYTIC_H

#include <stddef.h>
#include <stdint.h>

#include "clheads/analytic.h"
#include "common/error.h"

/* One set-up task, in processed order (its rows are the heads' bank rows). */
typedef struct clh_analytic_task {
    int64_t id;
    int64_t classes;
    int64_t offset; /* first row of its classes */
} clh_analytic_task;

struct clh_analytic {
    clh_analytic_config config; /* scope resolved: never CLH_SCOPE_DEFAULT */
    clh_paradigm paradigm;
    int64_t in;  /* feature width d */
    int64_t dim; /* side of each matrix: d + fit_bias (0 for ncm) */

    clh_analytic_task *tasks; /* [num_tasks] */
    int64_t *ids;             /* [num_tasks] (clh_analytic_task_ids) */
    size_t num_tasks, task_cap;

    int64_t rows, row_cap; /* classes in use / room in sums and counts */
    double *sums;          /* [row_cap, in]: per class Σ h (ncm+normalize: Σ h/‖h‖) */
    int64_t *counts;       /* [row_cap] */

    /* ridge: G = Σ h hᵀ (with fit_bias the constant feature's row and column
     * last); lda: the within-class scatter Σ (h − μ_y)(h − μ_y)ᵀ. Lower
     * triangle only (the upper one is unspecified), float or double as
     * config.precision. shared scope: one; per task: one per task, in task
     * order. */
    void **mats;
    int64_t *mat_samples; /* [num_mats] samples accumulated in each */
    size_t num_mats;
};

#define clh_analytic_fail(a, status, ...) clh_fail_owner((a), (status), __VA_ARGS__)

/* Index of task_id in set-up order, or -1. */
ptrdiff_t clh_analytic_find(const clh_analytic *a, int64_t task_id);
/* The matrix (index into mats) that task index t accumulates into. */
static inline size_t clh_analytic_mat_of(const clh_analytic *a, size_t t) {
    return a->config.scope == CLH_SCOPE_PER_TASK ? t : 0;
}
/* Bytes of one matrix (dim² elements of the precision); 0 on overflow. */
size_t clh_analytic_mat_bytes(const clh_analytic *a);
/* 1 when the method keeps a matrix. */
static inline int clh_analytic_has_mats(const clh_analytic *a) {
    return a->config.method != CLH_ANALYTIC_NCM;
}
/* Element (i, j), j <= i, of matrix m as double. */
static inline double clh_analytic_mat_at(const clh_analytic *a, size_t m, int64_t i, int64_t j) {
    size_t k = (size_t)i * (size_t)a->dim + (size_t)j;
    return a->config.precision == CLH_DT_F64 ? ((const double *)a->mats[m])[k]
                                             : (double)((const float *)a->mats[m])[k];
}

/* Where the first release's clh_analytic_config ends (its last member,
 * scope): the versioned layout of src/versioned.h. */
#define CLH_ANALYTIC_CONFIG_FIRST_SIZE \
    (offsetof(clh_analytic_config, scope) + sizeof(clh_analytic_scope))

/* The caller's config over the defaults, struct_size checked. */
clh_status clh_analytic_config_read(const clh_analytic_config *given, clh_analytic_config *full);

/* A handle with the configuration and an empty task list (the shared
 * matrix allocated), for create and load. */
clh_status clh_analytic_new(clh_analytic **out, const clh_analytic_config *config,
                            clh_paradigm paradigm, int64_t in_features);

#endif
