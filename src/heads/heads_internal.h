/* Internal: the clh_heads handle, its parameter bank and its task records,
 * shared by the heads_*.c files (life cycle, set-up, forward, backward, mixed
 * MTL batches) and bank.c. */
#ifndef CLH_INTERNAL_HEADS_H
#define CLH_INTERNAL_HEADS_H

#include <stddef.h>
#include <stdint.h>

#include "clheads/heads.h"
#include "common/error.h"

/* The growing parameter storage. Rows in use: weights [rows, in] at
 * params[0 .. rows*in), immediately followed by biases [rows]; grads has the
 * same layout. Both buffers hold cap_rows*(in+1) floats, so appending rows
 * within capacity moves only the bias block. */
typedef struct clh_bank {
    float *params;
    float *grads;
    int64_t in;       /* in_features, > 0 */
    int64_t rows;     /* rows in use (total classes) */
    int64_t cap_rows; /* rows both buffers can hold */
} clh_bank;

/* One set-up task, in processed order. */
typedef struct clh_task {
    int64_t id;
    int64_t classes;
    int64_t offset; /* first row in the bank = first CIL logit */
    unsigned char frozen;
    unsigned char masked;   /* CIL only */
    unsigned char has_grad; /* backward wrote into its rows */
} clh_task;

struct clh_heads {
    clh_paradigm paradigm;
    int64_t in;
    uint64_t seed;
    clh_bank bank;
    clh_task *tasks; /* [num_tasks], processed order */
    int64_t *ids;    /* [num_tasks], tasks[i].id (clh_heads_task_ids returns it) */
    size_t *by_id;   /* [num_tasks], task indices sorted by id (binary search) */
    size_t num_tasks;
    size_t task_cap;
    int64_t widest; /* largest class count of any task (0 before set-up) */
};

/* Every failure of a heads function is tied to its handle, so that
 * clh_heads_last_error(handle) finds it. */
#define clh_heads_fail(heads, status, ...) clh_fail_owner((heads), (status), __VA_ARGS__)

/* ---- bank.c ---- */
void clh_bank_release(clh_bank *bank);
static inline float *clh_bank_weights(const clh_bank *bank) { return bank->params; }
static inline float *clh_bank_biases(const clh_bank *bank) {
    return bank->params + bank->rows * bank->in;
}
static inline float *clh_bank_grad_weights(const clh_bank *bank) { return bank->grads; }
static inline float *clh_bank_grad_biases(const clh_bank *bank) {
    return bank->grads + bank->rows * bank->in;
}
/* Makes room for new_rows rows in total (grows x2 at least). Changes nothing
 * visible on failure: the rows in use keep their values and place. Returns
 * CLH_OK, CLH_E_OVERFLOW or CLH_E_NOMEM (detail recorded, owner = heads). */
clh_status clh_bank_reserve(const clh_heads *heads, clh_bank *bank, int64_t new_rows);
/* Appends `added` rows after the rows in use (capacity must be reserved):
 * moves the bias blocks, zeroes the new rows' parameters and gradients.
 * Cannot fail. */
void clh_bank_append_rows(clh_bank *bank, int64_t added);

/* ---- heads.c: task lookup ---- */
/* Index of task_id in processed order, or -1 (O(log n) over by_id). */
ptrdiff_t clh_heads_find(const clh_heads *heads, int64_t task_id);
/* The same over the first `indexed` entries of by_id (a set-up in progress). */
ptrdiff_t clh_heads_find_among(const clh_heads *heads, size_t indexed, int64_t task_id);
/* Sets up n tasks at once in list order, as n clh_heads_setup_task calls
 * would (TIL, CIL) or clh_heads_setup_tasks does (MTL), but all validated
 * first and appended in one move of the bank (O(n log n) in the tasks). The
 * caller has checked the paradigm. */
clh_status clh_heads_setup_list(clh_heads *heads, const int64_t *task_ids,
                                const int64_t *num_classes, size_t n, const char *what);
/* The one task-id rule (heads.h, "Task ids"), used by every call that takes
 * a task id: resolves it to a task index. TIL, CIL, MTL need a set-up id
 * (CLH_NO_TASK -> CLH_E_PARADIGM, unknown -> CLH_E_UNKNOWN_TASK); DIL and STL
 * accept CLH_NO_TASK or 0 (their one head is task 0), anything else is
 * CLH_E_UNKNOWN_TASK. `what` names the calling function in the detail. The
 * batch calls add only what spans several heads: CIL's forward/backward/loss
 * cover all heads (task id CLH_NO_TASK or a set-up id) and MTL's mixed calls
 * take per-sample ids. */
clh_status clh_heads_resolve(const clh_heads *heads, int64_t task_id, const char *what,
                             size_t *index);
/* CLH_E_NOT_SETUP with a detail naming the set-up call the paradigm needs. */
clh_status clh_heads_fail_not_setup(const clh_heads *heads, const char *what);

/* ---- heads_forward.c: shared validation of forward/backward ---- */
/* The rows a single-task forward/backward uses: for TIL/MTL the selected
 * task, for DIL/STL the one head; for CIL all rows (index = SIZE_MAX). */
typedef struct clh_heads_plan {
    size_t task_index; /* SIZE_MAX for CIL (all tasks) */
    int64_t first_row;
    int64_t width; /* logits columns */
} clh_heads_plan;
/* batch >= 0 (CLH_E_INVALID_ARG) and a head set up (CLH_E_NOT_SETUP): what
 * every batch call checks first, single-task and mixed alike. */
clh_status clh_heads_check_batch(const clh_heads *heads, int64_t batch, const char *what);
/* clh_heads_check_batch, then the task id against the paradigm (TIL/MTL need
 * a set-up id, STL takes none), then the rows and width it selects. */
clh_status clh_heads_plan_call(const clh_heads *heads, int64_t batch, int64_t task_id,
                               const char *what, clh_heads_plan *plan);
/* Everything forward and backward check before touching anything: the plan
 * and, for a non-empty batch, x [batch, in] and `matrix` [batch, width]
 * (logits or dlogits, named matrix_name in the detail) non-NULL and of a
 * size_t byte size. On CLH_OK with batch 0 there is nothing to do. */
clh_status clh_heads_check_call(const clh_heads *heads, const float *x, int64_t batch,
                                int64_t task_id, const float *matrix, const char *matrix_name,
                                const char *what, clh_heads_plan *plan);

/* ---- heads_backward.c: the row-block kernels (also used by mixed batches) ---- */
/* grad W[r0..r1) += dyᵀ · x and grad b[r0..r1) += Σ dy, where dy points at the
 * column that belongs to row r0 of a [batch, ld] matrix. */
void clh_heads_accumulate_rows(clh_bank *bank, const float *x, int64_t batch, const float *dy,
                               int64_t ld, int64_t r0, int64_t r1);
/* dx[batch, in] = dy · W[r0..r1) + beta · dx (dy as above). */
void clh_heads_rows_dx(const clh_bank *bank, const float *dy, int64_t batch, int64_t ld, int64_t r0,
                       int64_t r1, float beta, float *dx);

/* ---- heads_mixed.c ---- */
/* The mixed-batch workspace layout for `batch` samples. */
typedef struct clh_mixed_layout {
    size_t order_off;  /* size_t[batch]: sample indices grouped by task */
    size_t task_off;   /* size_t[batch]: each sample's task index */
    size_t start_off;  /* size_t[num_tasks + 1]: group starts in order[] */
    size_t x_off;      /* float[batch * in]: gathered features */
    size_t y_off;      /* float[batch * widest]: gathered logits / dlogits */
    size_t dx_off;     /* float[batch * in]: gathered d(feature) */
    size_t bytes;      /* total, including alignment slack for the base */
} clh_mixed_layout;

#endif
