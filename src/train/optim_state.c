/* Optimizer state as named buffers: enumeration (for saving) and restore. */
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "common/checked.h"
#include "common/error.h"
#include "train/optim_internal.h"

clh_status clh_optim_get_layout(const clh_optim *optim, clh_optim_layout *layout) {
    if (!optim || !layout)
        return clh_fail(CLH_E_NULL, "clh_optim_get_layout: %s is NULL", optim ? "layout" : "optim");
    const clh_optim_state *s = &optim->state;
    clh_optim_layout l = {s->binding, s->paradigm, s->count, s->in,
                          s->num_segments, s->ids, s->classes};
    *layout = l;
    return CLH_OK;
}

size_t clh_optim_buffer_count(const clh_optim *optim) {
    if (!optim || optim->state.binding == CLH_OPTIM_UNBOUND) return 0;
    return optim->num_buffers + 1; /* the float buffers, then "step" */
}

clh_status clh_optim_buffer_at(clh_optim *optim, size_t i, clh_optim_buffer *out) {
    if (!optim || !out)
        return clh_fail(CLH_E_NULL, "clh_optim_buffer_at: %s is NULL", optim ? "out" : "optim");
    size_t n = clh_optim_buffer_count(optim);
    if (i >= n)
        return clh_fail_owner(optim, CLH_E_INVALID_ARG,
                              "clh_optim_buffer_at: index %zu, the optimizer has %zu buffers", i, n);
    const char *names[3];
    clh_optim_buffer_names(&optim->config, names);
    clh_optim_buffer b;
    if (i < optim->num_buffers) {
        b.name = names[i];
        b.is_int64 = 0;
        b.data = optim->state.buf[i];
        b.count = optim->state.count;
    } else {
        b.name = "step";
        b.is_int64 = 1;
        b.data = optim->state.steps;
        b.count = optim->state.num_segments;
    }
    *out = b;
    return CLH_OK;
}

/* The buffer named `name` among buffers[0..n), or NULL. */
static const clh_optim_buffer *find_buffer(const clh_optim_buffer *buffers, size_t n,
                                           const char *name) {
    for (size_t i = 0; i < n; i++)
        if (buffers[i].name && strcmp(buffers[i].name, name) == 0) return &buffers[i];
    return NULL;
}

static int by_int64(const void *a, const void *b) {
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

/* Checks a layout to restore: binding, counts consistent with the tasks. */
static clh_status check_layout(const clh_optim *optim, const clh_optim_layout *layout) {
    static const char what[] = "clh_optim_restore";
    if (layout->binding == CLH_OPTIM_FLAT) {
        if (layout->num_segments != 1)
            return clh_fail_owner(optim, CLH_E_MISMATCH, "%s: a flat layout has 1 segment, not %zu",
                                  what, layout->num_segments);
        return CLH_OK;
    }
    if (layout->binding != CLH_OPTIM_HEADS)
        return clh_fail_owner(optim, CLH_E_INVALID_ARG, "%s: layout binding %d is not HEADS or FLAT",
                              what, (int)layout->binding);
    if (!clh_paradigm_name(layout->paradigm))
        return clh_fail_owner(optim, CLH_E_INVALID_ARG, "%s: unknown paradigm %d", what,
                              (int)layout->paradigm);
    if ((layout->paradigm == CLH_DIL || layout->paradigm == CLH_STL) && layout->num_segments > 1)
        return clh_fail_owner(optim, CLH_E_MISMATCH, "%s: %s has one head, not %zu", what,
                              clh_paradigm_name(layout->paradigm), layout->num_segments);
    if (layout->in_features <= 0)
        return clh_fail_owner(optim, CLH_E_MISMATCH, "%s: in_features %lld must be positive", what,
                              (long long)layout->in_features);
    if (layout->num_segments > 0 && (!layout->task_ids || !layout->num_classes))
        return clh_fail_owner(optim, CLH_E_NULL, "%s: layout task_ids or num_classes is NULL", what);
    int64_t rows = 0;
    for (size_t t = 0; t < layout->num_segments; t++)
        if (layout->num_classes[t] <= 0 || !clh_add_i64(rows, layout->num_classes[t], &rows))
            return clh_fail_owner(optim, CLH_E_MISMATCH, "%s: task %lld has invalid class count %lld",
                                  what, (long long)layout->task_ids[t],
                                  (long long)layout->num_classes[t]);
    /* Distinct ids, checked on a sorted copy (O(n log n) in the tasks). */
    if (layout->num_segments > 1) {
        int64_t *sorted = clh_malloc(layout->num_segments * sizeof *sorted);
        if (!sorted) return clh_fail_owner(optim, CLH_E_NOMEM, "%s: out of memory", what);
        memcpy(sorted, layout->task_ids, layout->num_segments * sizeof *sorted);
        qsort(sorted, layout->num_segments, sizeof *sorted, by_int64);
        int64_t repeated = 0;
        int found = 0;
        for (size_t t = 1; t < layout->num_segments && !found; t++)
            if (sorted[t - 1] == sorted[t]) found = 1, repeated = sorted[t];
        clh_free(sorted);
        if (found)
            return clh_fail_owner(optim, CLH_E_MISMATCH, "%s: task id %lld appears twice", what,
                                  (long long)repeated);
    }
    /* Through clh_i64_to_size: with a 32-bit size_t a plain cast would keep
     * the low bits, and rows = 2^32 + 1 would pass for 1. */
    size_t rows_size, in_size, row_floats, count;
    if (!clh_i64_to_size(rows, &rows_size) || !clh_i64_to_size(layout->in_features, &in_size) ||
        !clh_add_size(in_size, 1, &row_floats) || !clh_mul_size(rows_size, row_floats, &count) ||
        count != layout->count)
        return clh_fail_owner(optim, CLH_E_MISMATCH,
                              "%s: %zu parameters do not match %lld rows of %lld inputs + bias",
                              what, layout->count, (long long)rows,
                              (long long)layout->in_features);
    return CLH_OK;
}

clh_status clh_optim_restore(clh_optim *optim, const clh_optim_layout *layout,
                             const clh_optim_buffer *buffers, size_t n_buffers) {
    static const char what[] = "clh_optim_restore";
    if (!optim || !layout)
        return clh_fail(CLH_E_NULL, "%s: %s is NULL", what, optim ? "layout" : "optim");
    if (n_buffers > 0 && !buffers) return clh_fail_owner(optim, CLH_E_NULL, "%s: buffers is NULL", what);
    clh_status st = check_layout(optim, layout);
    if (st) return st;

    /* Every buffer given must be one this configuration keeps, with its size. */
    const char *names[3];
    size_t nb = clh_optim_buffer_names(&optim->config, names);
    for (size_t i = 0; i < n_buffers; i++) {
        const clh_optim_buffer *b = &buffers[i];
        int is_step = b->name && strcmp(b->name, "step") == 0;
        int known = is_step;
        for (size_t k = 0; k < nb && !known; k++) known = b->name && strcmp(b->name, names[k]) == 0;
        if (!known)
            return clh_fail_owner(optim, CLH_E_MISMATCH,
                                  "%s: state buffer \"%s\" is not kept by %s with this configuration",
                                  what, b->name ? b->name : "(null)",
                                  clh_optim_kind_name(optim->config.kind));
        if (find_buffer(buffers, i, b->name))
            return clh_fail_owner(optim, CLH_E_MISMATCH, "%s: state buffer \"%s\" given twice", what,
                                  b->name);
        size_t want = is_step ? layout->num_segments : layout->count;
        if (b->is_int64 != is_step || b->count != want || (want > 0 && !b->data))
            return clh_fail_owner(optim, CLH_E_MISMATCH,
                                  "%s: state buffer \"%s\" has %zu %s elements, expected %zu %s",
                                  what, b->name, b->count, b->is_int64 ? "int64" : "float32", want,
                                  is_step ? "int64" : "float32");
        /* Steps may come straight from a file, so they need not be aligned. */
        for (size_t s = 0; is_step && s < want; s++) {
            int64_t step;
            memcpy(&step, (const unsigned char *)b->data + s * sizeof step, sizeof step);
            if (step < 0)
                return clh_fail_owner(optim, CLH_E_MISMATCH, "%s: step of segment %zu is negative",
                                      what, s);
        }
    }
    for (size_t k = 0; k < nb; k++)
        if (!find_buffer(buffers, n_buffers, names[k]))
            return clh_fail_owner(optim, CLH_E_MISMATCH, "%s: state buffer \"%s\" is missing", what,
                                  names[k]);
    const clh_optim_buffer *steps = find_buffer(buffers, n_buffers, "step");
    if (!steps)
        return clh_fail_owner(optim, CLH_E_MISMATCH, "%s: state buffer \"step\" is missing", what);

    clh_optim_state next;
    st = clh_optim_state_alloc(optim, &next, layout->binding, layout->count, layout->num_segments);
    if (st) return st;
    if (layout->binding == CLH_OPTIM_HEADS) {
        next.in = layout->in_features;
        next.paradigm = layout->paradigm;
        next.rows = 0;
        for (size_t t = 0; t < layout->num_segments; t++) {
            next.ids[t] = layout->task_ids[t];
            next.classes[t] = layout->num_classes[t];
            next.rows += layout->num_classes[t];
        }
    }
    if (layout->num_segments > 0)
        memcpy(next.steps, steps->data, layout->num_segments * sizeof(int64_t));
    for (size_t k = 0; k < nb; k++) {
        const clh_optim_buffer *b = find_buffer(buffers, n_buffers, names[k]);
        if (layout->count > 0) memcpy(next.buf[k], b->data, layout->count * sizeof(float));
    }
    clh_optim_state_release(&optim->state);
    optim->state = next;
    return CLH_OK;
}
