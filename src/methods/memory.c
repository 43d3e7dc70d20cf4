/* The rehearsal memory: an even split of a fixed capacity over the tasks
 * seen, seeded selection of a new task's items, and replay batches drawn
 * without replacement. See include/clheads/methods.h. */
#include <math.h>
#include <string.h>

#include "common/alloc.h"
#include "common/checked.h"
#include "common/error.h"
#include "methods/memory_internal.h"
#include "clheads/rng.h"

/* Uniform in [0, m) from a splitmix64 stream, without modulo bias: draws
 * below 2^64 mod m are rejected. */
static uint64_t uniform_below(uint64_t *state, uint64_t m) {
    clh_rng rng = {*state};
    uint64_t threshold = (0 - m) % m, x;
    do {
        x = clh_rng_next(&rng);
    } while (x < threshold);
    *state = rng.state;
    return x % m;
}

clh_status clh_memory_alloc(clh_memory **out, size_t capacity, size_t width, uint64_t seed,
                            size_t task_cap) {
    static const char what[] = "clh_memory_create";
    size_t floats;
    if (!clh_mul_size(capacity, width, &floats) || floats > SIZE_MAX / sizeof(float))
        return clh_fail(CLH_E_OVERFLOW, "%s: capacity %zu x width %zu overflows", what, capacity,
                        width);
    clh_memory *m = clh_calloc(1, sizeof *m);
    if (!m) return clh_fail(CLH_E_NOMEM, "%s: out of memory", what);
    m->capacity = capacity;
    m->width = width;
    m->seed = seed;
    m->rng[0] = seed;
    m->rng[1] = seed ^ CLH_MEMORY_SAMPLE_STREAM;
    m->task_cap = task_cap ? task_cap : 4;
    m->inputs = clh_malloc(floats * sizeof(float));
    m->labels = clh_calloc(capacity, sizeof(int64_t));
    m->item_task = clh_calloc(capacity, sizeof(int64_t));
    m->scratch = clh_calloc(capacity, sizeof(size_t));
    m->tasks = clh_calloc(m->task_cap, sizeof(int64_t));
    m->task_counts = clh_calloc(m->task_cap, sizeof(int64_t));
    if (!m->inputs || !m->labels || !m->item_task || !m->scratch || !m->tasks ||
        !m->task_counts) {
        clh_memory_free(m);
        return clh_fail(CLH_E_NOMEM, "%s: %zu items of %zu floats: out of memory", what, capacity,
                        width);
    }
    *out = m;
    return CLH_OK;
}

clh_status clh_memory_create(clh_memory **out, size_t capacity, size_t width, uint64_t seed) {
    static const char what[] = "clh_memory_create";
    if (!out) return clh_fail(CLH_E_NULL, "%s: out is NULL", what);
    if (capacity == 0) return clh_fail(CLH_E_INVALID_ARG, "%s: capacity must be > 0", what);
    if (width == 0) return clh_fail(CLH_E_INVALID_ARG, "%s: width must be > 0", what);
    return clh_memory_alloc(out, capacity, width, seed, 0);
}

void clh_memory_free(clh_memory *memory) {
    if (!memory) return;
    clh_free(memory->inputs);
    clh_free(memory->labels);
    clh_free(memory->item_task);
    clh_free(memory->scratch);
    clh_free(memory->tasks);
    clh_free(memory->task_counts);
    clh_free(memory);
}

size_t clh_memory_capacity(const clh_memory *memory) { return memory ? memory->capacity : 0; }
size_t clh_memory_width(const clh_memory *memory) { return memory ? memory->width : 0; }
size_t clh_memory_size(const clh_memory *memory) { return memory ? memory->size : 0; }
size_t clh_memory_num_tasks(const clh_memory *memory) { return memory ? memory->num_tasks : 0; }
const float *clh_memory_inputs(const clh_memory *memory) { return memory ? memory->inputs : NULL; }
const int64_t *clh_memory_labels(const clh_memory *memory) {
    return memory ? memory->labels : NULL;
}
const int64_t *clh_memory_task_ids(const clh_memory *memory) {
    return memory ? memory->item_task : NULL;
}

clh_status clh_memory_task_at(const clh_memory *memory, size_t i, int64_t *task_id,
                              size_t *first, size_t *count) {
    if (!memory) return clh_fail(CLH_E_NULL, "clh_memory_task_at: memory is NULL");
    if (i >= memory->num_tasks)
        return clh_fail_owner(memory, CLH_E_INVALID_ARG,
                              "clh_memory_task_at: index %zu, the memory holds %zu tasks", i,
                              memory->num_tasks);
    size_t begin = 0;
    for (size_t t = 0; t < i; t++) begin += (size_t)memory->task_counts[t];
    if (task_id) *task_id = memory->tasks[i];
    if (first) *first = begin;
    if (count) *count = (size_t)memory->task_counts[i];
    return CLH_OK;
}

/* Room for one more task in the task arrays (growing them changes nothing
 * the caller can see). */
static clh_status reserve_task(clh_memory *m) {
    if (m->num_tasks < m->task_cap) return CLH_OK;
    size_t cap = m->task_cap * 2, bytes;
    if (!clh_mul_size(cap, sizeof(int64_t), &bytes))
        return clh_fail_owner(m, CLH_E_OVERFLOW, "clh_memory_add_task: too many tasks");
    int64_t *tasks = clh_realloc(m->tasks, bytes);
    if (!tasks) return clh_fail_owner(m, CLH_E_NOMEM, "clh_memory_add_task: out of memory");
    m->tasks = tasks;
    int64_t *counts = clh_realloc(m->task_counts, bytes);
    if (!counts) return clh_fail_owner(m, CLH_E_NOMEM, "clh_memory_add_task: out of memory");
    m->task_counts = counts;
    m->task_cap = cap;
    return CLH_OK;
}

clh_status clh_memory_add_task(clh_memory *memory, int64_t task_id, const float *inputs,
                               size_t n, size_t stride, const int64_t *labels) {
    static const char what[] = "clh_memory_add_task";
    if (!memory || !inputs || !labels)
        return clh_fail(CLH_E_NULL, "%s: %s is NULL", what,
                        !memory ? "memory" : !inputs ? "inputs" : "labels");
    clh_memory *m = memory;
    if (n == 0) return clh_fail_owner(m, CLH_E_INVALID_ARG, "%s: task %lld has no samples", what,
                                      (long long)task_id);
    if (stride < m->width)
        return clh_fail_owner(m, CLH_E_INVALID_ARG, "%s: stride %zu is below the width %zu", what,
                              stride, m->width);
    size_t span;
    if (!clh_mul_size(n - 1, stride, &span) || !clh_add_size(span, m->width, &span))
        return clh_fail_owner(m, CLH_E_OVERFLOW, "%s: %zu samples of stride %zu overflow", what,
                              n, stride);
    for (size_t t = 0; t < m->num_tasks; t++)
        if (m->tasks[t] == task_id)
            return clh_fail_owner(m, CLH_E_INVALID_ARG, "%s: task %lld is already in the memory",
                                  what, (long long)task_id);
    clh_status st = reserve_task(m);
    if (st) return st;

    size_t quota = m->capacity / (m->num_tasks + 1);
    size_t keep_new = n < quota ? n : quota;
    size_t *perm = clh_malloc((n ? n : 1) * sizeof(size_t));
    if (!perm) return clh_fail_owner(m, CLH_E_NOMEM, "%s: out of memory", what);
    for (size_t i = 0; i < n; i++) perm[i] = i;
    uint64_t state = m->rng[0];
    for (size_t i = 0; i < keep_new; i++) { /* partial Fisher–Yates: the first keep_new */
        size_t j = i + (size_t)uniform_below(&state, (uint64_t)(n - i));
        size_t tmp = perm[i];
        perm[i] = perm[j];
        perm[j] = tmp;
    }
    for (size_t i = 0; i < keep_new; i++) {
        const float *row = inputs + perm[i] * stride;
        for (size_t c = 0; c < m->width; c++)
            if (!isfinite(row[c])) {
                size_t sample = perm[i];
                clh_free(perm);
                return clh_fail_owner(m, CLH_E_INVALID_ARG,
                                      "%s: task %lld sample %zu, input %zu is not finite", what,
                                      (long long)task_id, sample, c);
            }
    }

    /* Shrink the old tasks to the quota, keeping each one's first items. */
    size_t src = 0, dst = 0;
    for (size_t t = 0; t < m->num_tasks; t++) {
        size_t count = (size_t)m->task_counts[t];
        size_t keep = count < quota ? count : quota;
        if (dst != src && keep > 0) {
            memmove(m->inputs + dst * m->width, m->inputs + src * m->width,
                    keep * m->width * sizeof(float));
            memmove(m->labels + dst, m->labels + src, keep * sizeof(int64_t));
            memmove(m->item_task + dst, m->item_task + src, keep * sizeof(int64_t));
        }
        m->task_counts[t] = (int64_t)keep;
        src += count;
        dst += keep;
    }
    for (size_t i = 0; i < keep_new; i++) {
        memcpy(m->inputs + (dst + i) * m->width, inputs + perm[i] * stride,
               m->width * sizeof(float));
        m->labels[dst + i] = labels[perm[i]];
        m->item_task[dst + i] = task_id;
    }
    clh_free(perm);
    m->tasks[m->num_tasks] = task_id;
    m->task_counts[m->num_tasks] = (int64_t)keep_new;
    m->num_tasks++;
    m->size = dst + keep_new;
    m->rng[0] = state;
    return CLH_OK;
}

clh_status clh_memory_sample(clh_memory *memory, size_t batch, size_t *indices, float *inputs,
                             int64_t *labels, int64_t *task_ids) {
    static const char what[] = "clh_memory_sample";
    if (!memory) return clh_fail(CLH_E_NULL, "%s: memory is NULL", what);
    clh_memory *m = memory;
    if (batch > m->size)
        return clh_fail_owner(m, CLH_E_INVALID_ARG, "%s: batch %zu exceeds the %zu items held",
                              what, batch, m->size);
    size_t *perm = m->scratch;
    for (size_t i = 0; i < m->size; i++) perm[i] = i;
    for (size_t i = 0; i < batch; i++) {
        size_t j = i + (size_t)uniform_below(&m->rng[1], (uint64_t)(m->size - i));
        size_t tmp = perm[i];
        perm[i] = perm[j];
        perm[j] = tmp;
        size_t k = perm[i];
        if (indices) indices[i] = k;
        if (inputs)
            memcpy(inputs + i * m->width, m->inputs + k * m->width, m->width * sizeof(float));
        if (labels) labels[i] = m->labels[k];
        if (task_ids) task_ids[i] = m->item_task[k];
    }
    return CLH_OK;
}
