/* Set-up: TIL/CIL add one task at a time, DIL/STL their one head, MTL a list
 * of tasks at once. Every call validates first, allocates second and only
 * then changes the handle, so a failure leaves it exactly as it was. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "common/checked.h"
#include "common/thread_local.h"
#include "clheads/rng.h"
#include "heads/heads_internal.h"

/* Grows the three task arrays to hold `needed` tasks (x2). Contents are kept
 * on failure; task_cap changes only once all three succeeded. */
static clh_status reserve_tasks(clh_heads *heads, size_t needed) {
    if (needed <= heads->task_cap) return CLH_OK;
    size_t cap = heads->task_cap ? heads->task_cap : 4, bytes;
    while (cap < needed) {
        if (!clh_mul_size(cap, 2, &cap)) cap = needed;
    }
    if (!clh_mul_size(cap, sizeof(clh_task), &bytes))
        return clh_heads_fail(heads, CLH_E_OVERFLOW, "task table of %zu tasks overflows", needed);
    clh_task *tasks = clh_realloc(heads->tasks, bytes);
    if (!tasks) goto nomem;
    heads->tasks = tasks;
    int64_t *ids = clh_realloc(heads->ids, cap * sizeof(int64_t));
    if (!ids) goto nomem;
    heads->ids = ids;
    size_t *by_id = clh_realloc(heads->by_id, cap * sizeof(size_t));
    if (!by_id) goto nomem;
    heads->by_id = by_id;
    heads->task_cap = cap;
    return CLH_OK;
nomem:
    return clh_heads_fail(heads, CLH_E_NOMEM, "cannot grow the task table to %zu tasks", cap);
}

/* Appends one task whose rows were already appended to the bank at `offset`:
 * draws its initial weights and bias, records it in processed order and in
 * the sorted id index. Cannot fail (capacity was reserved). */
static void commit_task(clh_heads *heads, int64_t task_id, int64_t classes, int64_t offset,
                        int index_now) {
    const clh_bank *bank = &heads->bank;
    double bound = 1.0 / sqrt((double)heads->in);
    clh_rng rng = clh_rng_for_head(heads->seed, task_id);
    clh_rng_fill_uniform(&rng, clh_bank_weights(bank) + offset * bank->in,
                         (uint64_t)(classes * bank->in), bound);
    clh_rng_fill_uniform(&rng, clh_bank_biases(bank) + offset, (uint64_t)classes, bound);

    size_t index = heads->num_tasks;
    clh_task task = {.id = task_id, .classes = classes, .offset = offset};
    heads->tasks[index] = task;
    heads->ids[index] = task_id;

    heads->num_tasks = index + 1;
    if (classes > heads->widest) heads->widest = classes;
    if (!index_now) {
        heads->by_id[index] = index; /* sorted by the caller once all are in */
        return;
    }
    size_t lo = 0, hi = index; /* insertion point in by_id */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (heads->tasks[heads->by_id[mid]].id < task_id)
            lo = mid + 1;
        else
            hi = mid;
    }
    memmove(heads->by_id + lo + 1, heads->by_id + lo, (index - lo) * sizeof(size_t));
    heads->by_id[lo] = index;
}

/* Sorting by_id: qsort's comparator gets no context, so the task table
 * travels in a thread-local. */
static CLH_THREAD_LOCAL const clh_task *sorting_tasks;

static int by_task_id(const void *a, const void *b) {
    int64_t x = sorting_tasks[*(const size_t *)a].id, y = sorting_tasks[*(const size_t *)b].id;
    return x < y ? -1 : x > y;
}

/* Adds those of the n tasks (ids[i], classes[i]) not set up yet: new_count
 * of them, with added_rows their class sum; all validated (distinct ids,
 * positive counts, no conflict with a task set up before). */
static clh_status add_tasks(clh_heads *heads, const int64_t *ids, const int64_t *classes,
                            size_t n, size_t new_count, int64_t added_rows, const char *what) {
    int64_t new_rows;
    if (!clh_add_i64(heads->bank.rows, added_rows, &new_rows))
        return clh_heads_fail(heads, CLH_E_OVERFLOW, "%s: %lld + %lld rows overflows", what,
                              (long long)heads->bank.rows, (long long)added_rows);
    size_t needed_tasks;
    if (!clh_add_size(heads->num_tasks, new_count, &needed_tasks))
        return clh_heads_fail(heads, CLH_E_OVERFLOW, "%s: task count overflows", what);
    clh_status st = reserve_tasks(heads, needed_tasks);
    if (st) return st;
    st = clh_bank_reserve(heads, &heads->bank, new_rows);
    if (st) return st;

    /* Commit: nothing below can fail. */
    int64_t offset = heads->bank.rows;
    clh_bank_append_rows(&heads->bank, added_rows);
    /* One task is inserted into the id index; many are appended and the
     * index sorted once (O(n log n), not a shift per task). Until then the
     * index holds only the tasks set up before this call, so those are the
     * only ones clh_heads_find sees (ids in the list are distinct). */
    size_t first_new = heads->num_tasks;
    int index_now = new_count == 1;
    for (size_t i = 0; i < n; i++) {
        if (first_new > 0 && clh_heads_find_among(heads, first_new, ids[i]) >= 0) continue;
        commit_task(heads, ids[i], classes[i], offset, index_now);
        offset += classes[i];
    }
    if (!index_now) {
        sorting_tasks = heads->tasks;
        qsort(heads->by_id, heads->num_tasks, sizeof *heads->by_id, by_task_id);
        sorting_tasks = NULL;
    }
    return CLH_OK;
}

static CLH_THREAD_LOCAL const int64_t *sorting_ids;

static int by_listed_id(const void *a, const void *b) {
    int64_t x = sorting_ids[*(const size_t *)a], y = sorting_ids[*(const size_t *)b];
    return x < y ? -1 : x > y;
}

/* Checks one (task id, class count) pair. *exists tells whether the task is
 * already set up with that count (a no-op). */
static clh_status check_task(clh_heads *heads, int64_t task_id, int64_t classes, const char *what,
                             int *exists) {
    if (task_id < 0)
        return clh_heads_fail(heads, CLH_E_INVALID_ARG, "%s: task id %lld is negative (ids are >= 0)",
                              what, (long long)task_id);
    if (classes <= 0)
        return clh_heads_fail(heads, CLH_E_INVALID_ARG, "%s: task id %lld: num_classes is %lld, must be > 0",
                              what, (long long)task_id, (long long)classes);
    ptrdiff_t found = clh_heads_find(heads, task_id);
    *exists = found >= 0;
    if (found >= 0 && heads->tasks[found].classes != classes)
        return clh_heads_fail(heads, CLH_E_TASK_CONFLICT,
                              "%s: task id %lld is already set up with %lld classes, not %lld", what,
                              (long long)task_id, (long long)heads->tasks[found].classes,
                              (long long)classes);
    return CLH_OK;
}

clh_status clh_heads_reserve(clh_heads *heads, int64_t rows, size_t tasks) {
    static const char what[] = "clh_heads_reserve";
    if (!heads) return clh_fail(CLH_E_NULL, "%s: heads is NULL", what);
    if (rows < 0)
        return clh_heads_fail(heads, CLH_E_INVALID_ARG, "%s: rows is %lld, must be >= 0", what,
                              (long long)rows);
    clh_status st = reserve_tasks(heads, tasks);
    if (st) return st;
    return clh_bank_reserve(heads, &heads->bank, rows);
}

clh_status clh_heads_setup_task(clh_heads *heads, int64_t task_id, int64_t num_classes) {
    static const char what[] = "clh_heads_setup_task";
    if (!heads) return clh_fail(CLH_E_NULL, "%s: heads is NULL", what);
    if (heads->paradigm != CLH_TIL && heads->paradigm != CLH_CIL)
        return clh_heads_fail(heads, CLH_E_PARADIGM, "%s is for TIL and CIL; a %s handle uses %s", what,
                              clh_paradigm_name(heads->paradigm),
                              heads->paradigm == CLH_MTL ? "clh_heads_setup_tasks" : "clh_heads_setup_single");
    int exists;
    clh_status st = check_task(heads, task_id, num_classes, what, &exists);
    if (st || exists) return st;
    return add_tasks(heads, &task_id, &num_classes, 1, 1, num_classes, what);
}

clh_status clh_heads_setup_single(clh_heads *heads, int64_t num_classes) {
    static const char what[] = "clh_heads_setup_single";
    if (!heads) return clh_fail(CLH_E_NULL, "%s: heads is NULL", what);
    if (heads->paradigm != CLH_DIL && heads->paradigm != CLH_STL)
        return clh_heads_fail(heads, CLH_E_PARADIGM, "%s is for DIL and STL; a %s handle uses %s", what,
                              clh_paradigm_name(heads->paradigm),
                              heads->paradigm == CLH_MTL ? "clh_heads_setup_tasks" : "clh_heads_setup_task");
    int64_t task_id = 0; /* the one head's stream and record use task id 0 */
    int exists;
    clh_status st = check_task(heads, task_id, num_classes, what, &exists);
    if (st || exists) return st;
    return add_tasks(heads, &task_id, &num_classes, 1, 1, num_classes, what);
}

/* 1 when ids[0..n) holds a value twice (*first, *second: its positions). */
static clh_status find_repeat(const clh_heads *heads, const int64_t *ids, size_t n,
                              const char *what, int *repeated, size_t *first, size_t *second) {
    *repeated = 0;
    /* The unused tail of the id index is scratch when reserved (clh_heads_reserve:
     * set-up within the reservation never allocates); otherwise borrow memory. */
    int borrowed = heads->task_cap - heads->num_tasks < n;
    size_t *order = borrowed ? clh_malloc(n * sizeof *order) : heads->by_id + heads->num_tasks;
    if (!order) return clh_heads_fail(heads, CLH_E_NOMEM, "%s: no memory to check %zu task ids",
                                      what, n);
    for (size_t i = 0; i < n; i++) order[i] = i;
    sorting_ids = ids;
    qsort(order, n, sizeof *order, by_listed_id);
    sorting_ids = NULL;
    for (size_t i = 1; i < n && !*repeated; i++)
        if (ids[order[i - 1]] == ids[order[i]]) {
            *repeated = 1;
            *first = order[i - 1] < order[i] ? order[i - 1] : order[i];
            *second = order[i - 1] < order[i] ? order[i] : order[i - 1];
        }
    if (borrowed) clh_free(order);
    return CLH_OK;
}

clh_status clh_heads_setup_list(clh_heads *heads, const int64_t *task_ids,
                                const int64_t *num_classes, size_t n, const char *what) {
    if (n == 0) return CLH_OK;
    if (!task_ids) return clh_heads_fail(heads, CLH_E_NULL, "%s: task_ids is NULL (n = %zu)", what, n);
    if (!num_classes)
        return clh_heads_fail(heads, CLH_E_NULL, "%s: num_classes is NULL (n = %zu)", what, n);

    /* Validate the whole list before changing anything (all or nothing). */
    int64_t added_rows = 0;
    size_t new_count = 0;
    for (size_t i = 0; i < n; i++) {
        int exists;
        clh_status st = check_task(heads, task_ids[i], num_classes[i], what, &exists);
        if (st) return st;
        if (exists) continue;
        if (!clh_add_i64(added_rows, num_classes[i], &added_rows))
            return clh_heads_fail(heads, CLH_E_OVERFLOW, "%s: the class counts' sum overflows at task id %lld",
                                  what, (long long)task_ids[i]);
        new_count++;
    }
    int repeated;
    size_t first = 0, second = 0;
    clh_status st = find_repeat(heads, task_ids, n, what, &repeated, &first, &second);
    if (st) return st;
    if (repeated)
        return clh_heads_fail(heads, CLH_E_INVALID_ARG,
                              "%s: task id %lld appears twice (positions %zu and %zu)", what,
                              (long long)task_ids[first], first, second);
    if (new_count == 0) return CLH_OK;
    return add_tasks(heads, task_ids, num_classes, n, new_count, added_rows, what);
}

clh_status clh_heads_setup_tasks(clh_heads *heads, const int64_t *task_ids,
                                 const int64_t *num_classes, size_t n) {
    static const char what[] = "clh_heads_setup_tasks";
    if (!heads) return clh_fail(CLH_E_NULL, "%s: heads is NULL", what);
    if (heads->paradigm != CLH_MTL)
        return clh_heads_fail(heads, CLH_E_PARADIGM, "%s is for MTL; a %s handle uses %s", what,
                              clh_paradigm_name(heads->paradigm),
                              heads->paradigm == CLH_TIL || heads->paradigm == CLH_CIL
                                  ? "clh_heads_setup_task"
                                  : "clh_heads_setup_single");
    return clh_heads_setup_list(heads, task_ids, num_classes, n, what);
}
