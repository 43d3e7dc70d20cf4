/* The rehearsal memory in safetensors files: export (views into the memory),
 * atomic save, and a load that checks every tensor before it builds a new
 * memory. Tensor names and metadata keys are listed in
 * include/clheads/methods.h. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/safetensors_internal.h"
#include "common/alloc.h"
#include "common/checked.h"
#include "common/little_endian.h"
#include "common/error.h"
#include "methods/memory_internal.h"

#define MEMORY_FORMAT "1"
enum { N_TENSORS = 6, N_META = 4, NAME_CAP = 160 };

static const char *const tensor_suffix[N_TENSORS] = {"inputs", "tasks", "task_counts",
                                                     "labels", "task_ids", "rng"};
static const char *const meta_suffix[N_META] = {"format", "capacity", "width", "seed"};

struct clh_memory_export {
    clh_st_tensor tensors[N_TENSORS];
    clh_st_meta meta[N_META];
    char names[N_TENSORS + N_META][NAME_CAP];
    char values[N_META][32];
};

/* A prefix must leave room for its suffixes and contain no '.' at its end. */
static clh_status check_prefix(const char *what, const char *prefix) {
    if (!prefix) return clh_fail(CLH_E_NULL, "%s: prefix is NULL", what);
    size_t len = strlen(prefix);
    if (len == 0 || len > NAME_CAP - 16 || prefix[len - 1] == '.')
        return clh_fail(CLH_E_INVALID_ARG,
                        "%s: prefix \"%.40s\" must be 1 to %d characters, not ending in '.'", what,
                        prefix, NAME_CAP - 16);
    return CLH_OK;
}

clh_status clh_memory_export_create(const clh_memory *memory, const char *prefix,
                                    clh_memory_export **out) {
    static const char what[] = "clh_memory_export_create";
    if (!memory || !out)
        return clh_fail(CLH_E_NULL, "%s: %s is NULL", what, memory ? "out" : "memory");
    clh_status st = check_prefix(what, prefix);
    if (st) return st;
    clh_memory_export *e = clh_calloc(1, sizeof *e);
    if (!e) return clh_fail_owner(memory, CLH_E_NOMEM, "%s: out of memory", what);
    for (int i = 0; i < N_TENSORS; i++)
        snprintf(e->names[i], NAME_CAP, "%s.%s", prefix, tensor_suffix[i]);
    for (int i = 0; i < N_META; i++)
        snprintf(e->names[N_TENSORS + i], NAME_CAP, "%s.%s", prefix, meta_suffix[i]);
    const clh_memory *m = memory;
    int64_t size = (int64_t)m->size, tasks = (int64_t)m->num_tasks;
    e->tensors[0] = clh_st_view(e->names[0], CLH_DT_F32, 2, size, (int64_t)m->width, m->inputs);
    e->tensors[1] = clh_st_view(e->names[1], CLH_DT_I64, 1, tasks, 0, m->tasks);
    e->tensors[2] = clh_st_view(e->names[2], CLH_DT_I64, 1, tasks, 0, m->task_counts);
    e->tensors[3] = clh_st_view(e->names[3], CLH_DT_I64, 1, size, 0, m->labels);
    e->tensors[4] = clh_st_view(e->names[4], CLH_DT_I64, 1, size, 0, m->item_task);
    e->tensors[5] = clh_st_view(e->names[5], CLH_DT_U64, 1, 2, 0, m->rng);
    snprintf(e->values[0], sizeof e->values[0], "%s", MEMORY_FORMAT);
    snprintf(e->values[1], sizeof e->values[1], "%zu", m->capacity);
    snprintf(e->values[2], sizeof e->values[2], "%zu", m->width);
    snprintf(e->values[3], sizeof e->values[3], "%llu", (unsigned long long)m->seed);
    for (int i = 0; i < N_META; i++) {
        e->meta[i].key = e->names[N_TENSORS + i];
        e->meta[i].value = e->values[i];
    }
    *out = e;
    return CLH_OK;
}

const clh_st_tensor *clh_memory_export_tensors(const clh_memory_export *exported, size_t *count) {
    if (count) *count = exported ? N_TENSORS : 0;
    return exported ? exported->tensors : NULL;
}

const clh_st_meta *clh_memory_export_meta(const clh_memory_export *exported, size_t *count) {
    if (count) *count = exported ? N_META : 0;
    return exported ? exported->meta : NULL;
}

void clh_memory_export_free(clh_memory_export *exported) { clh_free(exported); }

clh_status clh_memory_save(const clh_memory *memory, const char *prefix, const char *path) {
    if (!memory || !path)
        return clh_fail(CLH_E_NULL, "clh_memory_save: %s is NULL", memory ? "path" : "memory");
    clh_memory_export *e = NULL;
    clh_status st = clh_memory_export_create(memory, prefix, &e);
    if (st) return st;
    st = clh_st_save(path, e->tensors, N_TENSORS, e->meta, N_META);
    clh_memory_export_free(e);
    return st;
}

/* ---- load ------------------------------------------------------------------ */

/* A canonical non-negative decimal integer from metadata "<prefix>.<suffix>". */
static clh_status meta_u64(const clh_st_file *file, const char *prefix, const char *suffix,
                           uint64_t *out) {
    char key[NAME_CAP];
    snprintf(key, sizeof key, "%s.%s", prefix, suffix);
    const char *text = clh_st_meta_get(file, key);
    if (!text) return clh_fail(CLH_E_FORMAT, "memory: metadata \"%s\" is missing", key);
    uint64_t v = 0;
    size_t len = strlen(text);
    int ok = len > 0 && len <= 20 && (text[0] != '0' || len == 1);
    for (size_t i = 0; ok && i < len; i++) {
        unsigned d = (unsigned)(text[i] - '0');
        ok = d <= 9 && v <= (UINT64_MAX - d) / 10;
        v = v * 10 + d;
    }
    if (!ok)
        return clh_fail(CLH_E_FORMAT, "memory: metadata %s = \"%.40s\" is not an unsigned integer",
                        key, text);
    *out = v;
    return CLH_OK;
}

/* Tensor "<prefix>.<suffix>" with this dtype (F32: any floating dtype, which
 * clh_st_to_f32 converts) and shape ([d0] or [d0, d1]; d0 < 0: any), through
 * the readers' single check. */
static clh_status find_tensor(const clh_st_file *file, const char *prefix, const char *suffix,
                              clh_dtype dtype, size_t ndim, int64_t d0, int64_t d1,
                              const clh_st_tensor **out) {
    char name[NAME_CAP];
    snprintf(name, sizeof name, "%s.%s", prefix, suffix);
    const int64_t shape[2] = {d0 < 0 ? CLH_ST_ANY_EXTENT : d0, d1};
    unsigned dtypes = dtype == CLH_DT_F32 ? CLH_ST_FLOATING : CLH_ST_DTYPE_BIT(dtype);
    return clh_st_expect(file, "memory", name, dtypes, ndim, shape, out);
}

/* The i-th little-endian 64-bit element of a tensor (data need not be aligned). */
static uint64_t read_u64(const clh_st_tensor *t, size_t i) {
    return clh_load_le64((const unsigned char *)t->data + i * 8);
}

/* Every tensor under "<prefix>." must be one of ours. */
static clh_status check_no_extra(const clh_st_file *file, const char *prefix) {
    size_t len = strlen(prefix);
    for (size_t i = 0; i < clh_st_count(file); i++) {
        const clh_st_tensor *t = clh_st_at(file, i);
        if (strncmp(t->name, prefix, len) != 0 || t->name[len] != '.') continue;
        int known = 0;
        for (int k = 0; k < N_TENSORS && !known; k++)
            known = strcmp(t->name + len + 1, tensor_suffix[k]) == 0;
        if (!known)
            return clh_fail(CLH_E_MISMATCH, "memory: tensor \"%.100s\" is not part of a memory",
                            t->name);
    }
    return CLH_OK;
}

static int compare_i64(const void *a, const void *b) {
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* Distinct task ids (sorted copy: a file may name many tasks). */
static clh_status check_distinct(const clh_memory *m, const char *prefix) {
    if (m->num_tasks < 2) return CLH_OK;
    int64_t *sorted = clh_malloc(m->num_tasks * sizeof(int64_t));
    if (!sorted) return clh_fail(CLH_E_NOMEM, "memory: out of memory");
    memcpy(sorted, m->tasks, m->num_tasks * sizeof(int64_t));
    qsort(sorted, m->num_tasks, sizeof(int64_t), compare_i64);
    for (size_t t = 1; t < m->num_tasks; t++)
        if (sorted[t] == sorted[t - 1]) {
            int64_t id = sorted[t];
            clh_free(sorted);
            return clh_fail(CLH_E_FORMAT, "memory: %s.tasks holds task %lld twice", prefix,
                            (long long)id);
        }
    clh_free(sorted);
    return CLH_OK;
}

/* Checks the task table and the items' task ids against each other. */
static clh_status check_tasks(const clh_memory *m, const char *prefix) {
    size_t quota = m->num_tasks ? m->capacity / m->num_tasks : 0, total = 0;
    clh_status st = check_distinct(m, prefix);
    if (st) return st;
    for (size_t t = 0; t < m->num_tasks; t++) {
        int64_t count = m->task_counts[t];
        if (count < 0 || (uint64_t)count > quota)
            return clh_fail(CLH_E_FORMAT, "memory: %s.task_counts[%zu] = %lld is outside [0, %zu] "
                            "(capacity %zu over %zu tasks)", prefix, t, (long long)count, quota,
                            m->capacity, m->num_tasks);
        for (size_t i = total; i < total + (size_t)count; i++)
            if (m->item_task[i] != m->tasks[t])
                return clh_fail(CLH_E_FORMAT, "memory: %s.task_ids[%zu] = %lld, the task order "
                                "puts task %lld there", prefix, i, (long long)m->item_task[i],
                                (long long)m->tasks[t]);
        total += (size_t)count;
    }
    if (total != m->size)
        return clh_fail(CLH_E_FORMAT, "memory: %s.task_counts add up to %zu, the memory holds %zu "
                        "items", prefix, total, m->size);
    for (size_t i = 0; i < m->size * m->width; i++)
        if (!isfinite(m->inputs[i]))
            return clh_fail(CLH_E_FORMAT, "memory: %s.inputs item %zu, input %zu is not finite",
                            prefix, i / m->width, i % m->width);
    return CLH_OK;
}

clh_status clh_memory_load_file(clh_memory **out, const clh_st_file *file, const char *prefix) {
    static const char what[] = "clh_memory_load_file";
    if (!out || !file) return clh_fail(CLH_E_NULL, "%s: %s is NULL", what, out ? "file" : "out");
    clh_status st = check_prefix(what, prefix);
    if (st) return st;
    char key[NAME_CAP];
    snprintf(key, sizeof key, "%s.format", prefix);
    const char *format = clh_st_meta_get(file, key);
    if (!format) return clh_fail(CLH_E_FORMAT, "memory: metadata \"%s\" is missing", key);
    if (strcmp(format, MEMORY_FORMAT) != 0)
        return clh_fail(CLH_E_FORMAT, "memory: format \"%.20s\", this version reads \"%s\"",
                        format, MEMORY_FORMAT);
    uint64_t capacity, width, seed;
    if ((st = meta_u64(file, prefix, "capacity", &capacity)) ||
        (st = meta_u64(file, prefix, "width", &width)) ||
        (st = meta_u64(file, prefix, "seed", &seed)))
        return st;
    if (capacity == 0 || width == 0 || capacity > SIZE_MAX || width > SIZE_MAX ||
        capacity > INT64_MAX)
        return clh_fail(CLH_E_FORMAT, "memory: capacity %llu and width %llu must be positive",
                        (unsigned long long)capacity, (unsigned long long)width);
    st = check_no_extra(file, prefix);
    if (st) return st;
    const clh_st_tensor *inputs, *tasks, *counts, *labels, *item_task, *rng;
    if ((st = find_tensor(file, prefix, "inputs", CLH_DT_F32, 2, -1, (int64_t)width, &inputs)))
        return st;
    int64_t size = inputs->shape[0];
    if ((uint64_t)size > capacity)
        return clh_fail(CLH_E_FORMAT, "memory: %s.inputs holds %lld items, the capacity is %llu",
                        prefix, (long long)size, (unsigned long long)capacity);
    if ((st = find_tensor(file, prefix, "tasks", CLH_DT_I64, 1, -1, 0, &tasks)) ||
        (st = find_tensor(file, prefix, "task_counts", CLH_DT_I64, 1, tasks->shape[0], 0,
                          &counts)) ||
        (st = find_tensor(file, prefix, "labels", CLH_DT_I64, 1, size, 0, &labels)) ||
        (st = find_tensor(file, prefix, "task_ids", CLH_DT_I64, 1, size, 0, &item_task)) ||
        (st = find_tensor(file, prefix, "rng", CLH_DT_U64, 1, 2, 0, &rng)))
        return st;
    size_t num_tasks = (size_t)tasks->shape[0];
    clh_memory *m = NULL;
    st = clh_memory_alloc(&m, (size_t)capacity, (size_t)width, seed, num_tasks);
    if (st) return st;
    m->size = (size_t)size;
    m->num_tasks = num_tasks;
    m->rng[0] = read_u64(rng, 0);
    m->rng[1] = read_u64(rng, 1);
    for (size_t t = 0; t < num_tasks; t++) {
        m->tasks[t] = (int64_t)read_u64(tasks, t);
        m->task_counts[t] = (int64_t)read_u64(counts, t);
    }
    for (size_t i = 0; i < m->size; i++) {
        m->labels[i] = (int64_t)read_u64(labels, i);
        m->item_task[i] = (int64_t)read_u64(item_task, i);
    }
    st = m->size ? clh_st_to_f32(inputs, m->inputs, m->size * m->width) : CLH_OK;
    if (!st) st = check_tasks(m, prefix);
    if (st) {
        clh_memory_free(m);
        return st;
    }
    *out = m;
    return CLH_OK;
}

clh_status clh_memory_load(clh_memory **out, const char *path, const char *prefix) {
    if (!out || !path)
        return clh_fail(CLH_E_NULL, "clh_memory_load: %s is NULL", out ? "path" : "out");
    clh_st_file *file = NULL;
    clh_status st = clh_st_open(&file, path);
    if (st) return st;
    st = clh_memory_load_file(out, file, prefix);
    clh_st_free(file);
    return st;
}
