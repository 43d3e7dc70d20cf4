/* Saving heads as a safetensors checkpoint (format in
 * include/clheads/checkpoint.h): the seed's state_dict names, float32 with
 * PyTorch's shapes, and the metadata that lets a load rebuild the model. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "common/alloc.h"
#include "common/checked.h"
#include "clheads/checkpoint.h"
#include "common/error.h"
#include "common/id_list.h"

/* The longest tensor name we write: "heads." + an int64 + ".weight". */
#define NAME_CAP 48
/* An int64 and a comma. */
#define ID_TEXT_CAP 22

/* The tensor bytes are the floats' memory; the format is little-endian. */
static int host_is_little_endian(void) {
    const uint16_t probe = 1;
    unsigned char first;
    memcpy(&first, &probe, 1);
    return first == 1;
}

/* What a save owns while it runs: tensors, their names and the metadata. */
typedef struct save_plan {
    clh_st_tensor *tensors;
    size_t n;
    char *names; /* [n][NAME_CAP] */
    clh_st_meta *meta;
    size_t n_meta;
    char *lists; /* the task id / class count / flag lists, 5 x list_cap */
    size_t list_cap;
    size_t list_len[5]; /* their lengths, so appending stays O(1) */
    char in_text[24];
} save_plan;

static void plan_release(save_plan *plan) {
    clh_free(plan->tensors);
    clh_free(plan->names);
    clh_free(plan->meta);
    clh_free(plan->lists);
}

enum { LIST_TASKS, LIST_CLASSES, LIST_FROZEN, LIST_MASKED, LIST_GRAD };

/* Appends ",value" (or "value" first) to list k of the plan. */
static void append_id(save_plan *plan, int k, int64_t value) {
    plan->list_len[k] = clh_append_int64(plan->lists + (size_t)k * plan->list_cap, plan->list_cap,
                                         plan->list_len[k], value);
}

/* Adds "heads.<id>.weight/bias" (or "head.weight/bias" when single). The
 * names are put together here, not by snprintf, which took a good part of
 * saving many heads. */
static void add_head_tensors(save_plan *plan, int single, int64_t id, const float *weight,
                             const float *bias, int64_t classes, int64_t in) {
    static const char *const kinds[2] = {".weight", ".bias"};
    char stem[NAME_CAP] = "head";
    size_t stem_len = 4;
    if (!single) {
        memcpy(stem, "heads.", 6);
        stem_len = clh_append_int64(stem + 6, NAME_CAP - 6, 0, id) + 6;
    }
    for (int k = 0; k < 2; k++) {
        char *name = plan->names + plan->n * NAME_CAP;
        size_t kind_len = strlen(kinds[k]);
        memcpy(name, stem, stem_len);
        memcpy(name + stem_len, kinds[k], kind_len + 1);
        clh_st_tensor *t = &plan->tensors[plan->n++];
        memset(t, 0, sizeof *t);
        t->name = name;
        t->dtype = CLH_DT_F32;
        t->ndim = k == 0 ? 2 : 1;
        t->shape[0] = classes;
        t->shape[1] = k == 0 ? in : 0;
        t->data = k == 0 ? (const void *)weight : (const void *)bias;
        t->nbytes = (size_t)classes * (k == 0 ? (size_t)in : 1) * sizeof(float);
    }
}

/* Builds the heads' tensors and metadata, followed by the caller's extras. */
static clh_status plan_save(save_plan *plan, const clh_heads *heads, const clh_st_tensor *extra,
                            size_t n_extra, const clh_st_meta *extra_meta, size_t n_extra_meta) {
    clh_paradigm paradigm = clh_heads_paradigm(heads);
    int64_t in = clh_heads_in_features(heads);
    size_t num_tasks = clh_heads_num_tasks(heads);
    int single = paradigm == CLH_DIL || paradigm == CLH_STL;
    size_t n_tensors, n_meta, tensor_bytes, name_bytes, meta_bytes, list_bytes;
    if (!clh_mul_size(num_tasks, 2, &n_tensors) ||
        !clh_add_size(n_tensors, n_extra, &n_tensors) || !clh_add_size(8, n_extra_meta, &n_meta) ||
        !clh_mul_size(n_tensors, sizeof(clh_st_tensor), &tensor_bytes) ||
        !clh_mul_size(n_tensors, NAME_CAP, &name_bytes) ||
        !clh_mul_size(n_meta, sizeof(clh_st_meta), &meta_bytes) ||
        !clh_mul_size(num_tasks + 1, ID_TEXT_CAP, &plan->list_cap) ||
        !clh_mul_size(plan->list_cap, 5, &list_bytes))
        return clh_fail(CLH_E_OVERFLOW, "checkpoint: sizes overflow");
    plan->tensors = clh_malloc(tensor_bytes ? tensor_bytes : 1);
    plan->names = clh_malloc(name_bytes ? name_bytes : 1);
    plan->meta = clh_malloc(meta_bytes);
    plan->lists = clh_calloc(list_bytes, 1);
    if (!plan->tensors || !plan->names || !plan->meta || !plan->lists)
        return clh_fail(CLH_E_NOMEM, "checkpoint: no memory to plan the save");

    char *task_list = plan->lists, *class_list = task_list + plan->list_cap;
    char *frozen_list = class_list + plan->list_cap, *masked_list = frozen_list + plan->list_cap;
    char *grad_list = masked_list + plan->list_cap;
    const float *params = NULL;
    clh_heads_flat_const(heads, &params, NULL, NULL);
    int64_t rows = clh_heads_total_classes(heads);
    for (size_t i = 0; i < num_tasks; i++) {
        int64_t id = CLH_NO_TASK, classes = 0, offset = 0;
        int frozen = 0, masked = 0, has_grad = 0;
        clh_status status = clh_heads_task_at(heads, i, &id);
        if (status == CLH_OK) status = clh_heads_task_classes(heads, id, &classes, &offset);
        if (status == CLH_OK) status = clh_heads_task_has_grad(heads, id, &has_grad);
        if (status == CLH_OK) status = clh_heads_is_frozen(heads, id, &frozen);
        if (status == CLH_OK && paradigm == CLH_CIL)
            status = clh_heads_is_masked(heads, id, &masked);
        if (status != CLH_OK) return status;
        add_head_tensors(plan, single, id, params + offset * in, params + rows * in + offset, classes,
                         in);
        if (!single) append_id(plan, LIST_TASKS, id);
        append_id(plan, LIST_CLASSES, classes);
        if (frozen) append_id(plan, LIST_FROZEN, single ? 0 : id);
        if (masked) append_id(plan, LIST_MASKED, id);
        if (has_grad) append_id(plan, LIST_GRAD, single ? 0 : id);
    }
    for (size_t e = 0; e < n_extra; e++) plan->tensors[plan->n++] = extra[e];

    snprintf(plan->in_text, sizeof plan->in_text, "%" PRId64, in);
    clh_st_meta *m = plan->meta;
    m[plan->n_meta++] = (clh_st_meta){"clheads_format", CLH_CHECKPOINT_FORMAT};
    m[plan->n_meta++] = (clh_st_meta){"paradigm", clh_paradigm_name(paradigm)};
    m[plan->n_meta++] = (clh_st_meta){"in_features", plan->in_text};
    m[plan->n_meta++] = (clh_st_meta){"task_ids", task_list};
    m[plan->n_meta++] = (clh_st_meta){"num_classes", class_list};
    if (frozen_list[0]) m[plan->n_meta++] = (clh_st_meta){"frozen_task_ids", frozen_list};
    if (masked_list[0]) m[plan->n_meta++] = (clh_st_meta){"masked_task_ids", masked_list};
    if (grad_list[0]) m[plan->n_meta++] = (clh_st_meta){"grad_task_ids", grad_list};
    for (size_t e = 0; e < n_extra_meta; e++) m[plan->n_meta++] = extra_meta[e];
    return CLH_OK;
}

/* Where a save goes: a file (path) or memory (bytes, len). */
typedef struct save_target {
    const char *path;
    unsigned char **bytes;
    size_t *len;
} save_target;

static clh_status save_to(const clh_heads *heads, save_target target, const clh_st_tensor *extra,
                          size_t n_extra, const clh_st_meta *extra_meta, size_t n_extra_meta,
                          const char *what) {
    if (!heads || (!target.path && (!target.bytes || !target.len)))
        return clh_fail(CLH_E_NULL, "%s: heads and %s are required", what,
                        target.path || target.bytes ? "path" : "bytes and len");
    if ((n_extra && !extra) || (n_extra_meta && !extra_meta))
        return clh_fail(CLH_E_NULL, "%s: extra tensors or metadata missing", what);
    if (!host_is_little_endian())
        return clh_fail(CLH_E_INVALID_ARG, "%s: big-endian hosts are not supported", what);
    save_plan plan = {0};
    clh_status status = plan_save(&plan, heads, extra, n_extra, extra_meta, n_extra_meta);
    if (status == CLH_OK && target.path)
        status = clh_st_save(target.path, plan.tensors, plan.n, plan.meta, plan.n_meta);
    else if (status == CLH_OK)
        status = clh_st_encode(plan.tensors, plan.n, plan.meta, plan.n_meta, target.bytes, target.len);
    plan_release(&plan);
    return clh_fail_adopt(heads, status); /* clh_heads_last_error(heads) finds it */
}

clh_status clh_heads_save_ex(const clh_heads *heads, const char *path,
                             const clh_st_tensor *extra, size_t n_extra,
                             const clh_st_meta *extra_meta, size_t n_extra_meta) {
    save_target target = {path, NULL, NULL};
    return save_to(heads, target, extra, n_extra, extra_meta, n_extra_meta, "clh_heads_save");
}

clh_status clh_heads_save(const clh_heads *heads, const char *path) {
    return clh_heads_save_ex(heads, path, NULL, 0, NULL, 0);
}

clh_status clh_heads_save_mem_ex(const clh_heads *heads, unsigned char **bytes, size_t *len,
                                 const clh_st_tensor *extra, size_t n_extra,
                                 const clh_st_meta *extra_meta, size_t n_extra_meta) {
    save_target target = {NULL, bytes, len};
    return save_to(heads, target, extra, n_extra, extra_meta, n_extra_meta, "clh_heads_save_mem");
}

clh_status clh_heads_save_mem(const clh_heads *heads, unsigned char **bytes, size_t *len) {
    return clh_heads_save_mem_ex(heads, bytes, len, NULL, 0, NULL, 0);
}
