/* Loading heads from a safetensors checkpoint: recognise the head tensors
 * (after an optional prefix), check each against the paradigm, order the
 * tasks (the metadata's order, else ascending id), then build a new handle
 * with exactly those heads and copy the weights in, converted to float32.
 * Everything is checked before the handle is created; a failure after that
 * frees it, so the caller never sees a half-loaded model. */
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "common/checked.h"
#include "io/checkpoint_options.h"
#include "common/error.h"
#include "heads/heads_internal.h"
#include "common/id_list.h"

#define NAME_FMT "'%.120s'"

void clh_load_options_init(clh_load_options *options) {
    if (!options) return;
    options->struct_size = sizeof *options;
    options->paradigm = CLH_PARADIGM_FROM_FILE;
    options->prefix = NULL;
    options->seed = 0;
    options->ignore_unknown = 0;
    options->structure_only = 0;
}

/* ---- collecting the head tensors ---------------------------------------- */

/* One head found in the file. */
typedef struct found_head {
    int64_t id; /* 0 for DIL/STL */
    const clh_st_tensor *weight;
    const clh_st_tensor *bias;
} found_head;

typedef struct load_plan {
    clh_paradigm paradigm;
    int has_metadata;
    int64_t in;
    found_head *heads; /* in set-up order once ordered */
    size_t n;
    int64_t *frozen;
    size_t n_frozen;
    int64_t *masked;
    size_t n_masked;
    int64_t *with_grad;
    size_t n_with_grad;
} load_plan;

static void plan_release(load_plan *plan) {
    clh_free(plan->heads);
    clh_free(plan->frozen);
    clh_free(plan->masked);
    clh_free(plan->with_grad);
}

static int is_multi_head(clh_paradigm paradigm) {
    return paradigm == CLH_TIL || paradigm == CLH_CIL || paradigm == CLH_MTL;
}

/* Classifies `key` (the name with the prefix stripped). Returns 1 for a head
 * tensor (*id, *is_weight), 2 for a key to skip (TIL's head_t alias), 0 for
 * an unknown key. */
static int classify(clh_paradigm paradigm, const char *key, int64_t *id, int *is_weight) {
    const char *dot = strrchr(key, '.');
    if (!dot) return 0;
    if (strcmp(dot, ".weight") == 0) *is_weight = 1;
    else if (strcmp(dot, ".bias") == 0) *is_weight = 0;
    else return 0;
    size_t stem = (size_t)(dot - key);
    if (!is_multi_head(paradigm)) {
        *id = 0;
        return stem == 4 && strncmp(key, "head", 4) == 0;
    }
    if (paradigm == CLH_TIL && stem == 6 && strncmp(key, "head_t", 6) == 0) return 2;
    if (stem <= 6 || strncmp(key, "heads.", 6) != 0) return 0;
    return clh_parse_int64(key + 6, dot, id);
}

static int by_id(const void *a, const void *b) {
    const found_head *x = a, *y = b;
    return x->id < y->id ? -1 : x->id > y->id;
}

static int by_int64(const void *a, const void *b) {
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

static found_head *find_head(load_plan *plan, int64_t id) {
    found_head key = {id, NULL, NULL};
    return bsearch(&key, plan->heads, plan->n, sizeof key, by_id);
}

/* One head tensor found under the prefix, before pairing. */
typedef struct found_tensor {
    int64_t id;
    int is_weight;
    const clh_st_tensor *tensor;
} found_tensor;

static int by_found_id(const void *a, const void *b) {
    const found_tensor *x = a, *y = b;
    return x->id < y->id ? -1 : x->id > y->id;
}

/* Classifies every tensor, then pairs weights and biases by id after a sort
 * (O(n log n) in the number of tensors). */
static clh_status collect(load_plan *plan, const clh_st_file *file, const char *source,
                          const clh_load_options *options) {
    const char *prefix = options->prefix ? options->prefix : "";
    size_t prefix_len = strlen(prefix), total = clh_st_count(file), n_found = 0;
    plan->heads = clh_calloc(total ? total : 1, sizeof *plan->heads);
    found_tensor *found = clh_calloc(total ? total : 1, sizeof *found);
    if (!plan->heads || !found) {
        clh_free(found);
        return clh_fail(CLH_E_NOMEM, "%s: no memory for %zu tensors", source, total);
    }
    for (size_t i = 0; i < total; i++) {
        const clh_st_tensor *t = clh_st_at(file, i);
        if (strncmp(t->name, prefix, prefix_len) != 0) continue;
        int64_t id;
        int is_weight;
        int kind = classify(plan->paradigm, t->name + prefix_len, &id, &is_weight);
        if (kind == 2) continue;
        if (kind == 0) {
            if (options->ignore_unknown) continue;
            clh_free(found);
            return clh_fail(CLH_E_MISMATCH,
                            "%s: tensor " NAME_FMT " is not a %s head tensor (expected %s%s)",
                            source, t->name, clh_paradigm_name(plan->paradigm), prefix,
                            is_multi_head(plan->paradigm) ? "heads.<task_id>.weight / .bias"
                                                          : "head.weight / head.bias");
        }
        found[n_found++] = (found_tensor){id, is_weight, t};
    }
    if (n_found > 0) qsort(found, n_found, sizeof *found, by_found_id);
    for (size_t i = 0; i < n_found; i++) {
        if (plan->n == 0 || plan->heads[plan->n - 1].id != found[i].id)
            plan->heads[plan->n++].id = found[i].id;
        found_head *head = &plan->heads[plan->n - 1];
        /* Names are unique in a valid file, so a slot is never filled twice
         * ("heads.01" is not an id: clh_parse_int64 is canonical). */
        if (found[i].is_weight) head->weight = found[i].tensor;
        else head->bias = found[i].tensor;
    }
    clh_free(found);
    return CLH_OK;
}

/* One head tensor through the reader's single check (clh_st_expect_tensor),
 * its detail followed by what a head tensor is. */
static clh_status expect_part(const clh_st_tensor *tensor, const char *source, size_t ndim,
                              const int64_t *shape, const char *role) {
    clh_status status = clh_st_expect_tensor(tensor, source, CLH_ST_FLOATING, ndim, shape);
    return status ? clh_fail(status, "%s (%s)", clh_last_error(), role) : CLH_OK;
}

/* Checks one head's tensors: weight [C, in] with C, in > 0 and in shared by
 * all heads, bias [C], both floating and holding exactly their shape's bytes. */
static clh_status check_head(load_plan *plan, const found_head *head, const char *source) {
    const clh_st_tensor *w = head->weight, *b = head->bias;
    if (!w)
        return clh_fail(CLH_E_MISMATCH, "%s: tensor " NAME_FMT " has no matching weight", source,
                        b->name);
    if (!b)
        return clh_fail(CLH_E_MISMATCH,
                        "%s: tensor " NAME_FMT
                        " has no matching bias (heads without bias are not supported)",
                        source, w->name);
    const int64_t weight_shape[2] = {CLH_ST_ANY_EXTENT, plan->in ? plan->in : CLH_ST_ANY_EXTENT};
    clh_status status = expect_part(w, source, 2, weight_shape,
                                    plan->in ? "a head weight is [classes, in_features] with the "
                                               "in_features of the other heads"
                                             : "a head weight is [classes, in_features]");
    if (status) return status;
    if (w->shape[0] == 0 || w->shape[1] == 0)
        return clh_fail(CLH_E_MISMATCH, "%s: tensor " NAME_FMT " has an empty shape [%lld, %lld]",
                        source, w->name, (long long)w->shape[0], (long long)w->shape[1]);
    status = expect_part(b, source, 1, w->shape, "a head bias is [classes] of its weight");
    if (status) return status;
    plan->in = w->shape[1];
    return CLH_OK;
}

/* ---- metadata ------------------------------------------------------------ */

/* Reads the paradigm from the metadata or the options. */
static clh_status choose_paradigm(load_plan *plan, const clh_st_file *file, const char *source,
                                  const clh_load_options *options) {
    const char *format = clh_st_meta_get(file, "clheads_format");
    plan->has_metadata = format != NULL;
    if (!format) {
        if (options->paradigm < CLH_TIL || options->paradigm > CLH_STL)
            return clh_fail(CLH_E_INVALID_ARG,
                            "%s: the file has no clheads metadata (written by PyTorch?): name its "
                            "paradigm in the load options",
                            source);
        plan->paradigm = (clh_paradigm)options->paradigm;
        return CLH_OK;
    }
    if (strcmp(format, CLH_CHECKPOINT_FORMAT) != 0)
        return clh_fail(CLH_E_FORMAT, "%s: clheads_format \"%.40s\" is not supported (this is %s)",
                        source, format, CLH_CHECKPOINT_FORMAT);
    const char *name = clh_st_meta_get(file, "paradigm");
    if (!name || clh_paradigm_parse(name, &plan->paradigm) != CLH_OK)
        return clh_fail(CLH_E_FORMAT, "%s: metadata paradigm \"%.40s\" is not a paradigm", source,
                        name ? name : "(missing)");
    if (options->paradigm != CLH_PARADIGM_FROM_FILE && options->paradigm != (int)plan->paradigm)
        return clh_fail(CLH_E_MISMATCH, "%s: the file holds %s heads, the options ask for %s",
                        source, clh_paradigm_name(plan->paradigm),
                        clh_paradigm_name((clh_paradigm)options->paradigm)
                            ? clh_paradigm_name((clh_paradigm)options->paradigm)
                            : "an invalid paradigm");
    return CLH_OK;
}

/* The id list in metadata `key` (absent or "": empty). */
static clh_status meta_list(const clh_st_file *file, const char *source, const char *key,
                            int64_t **values, size_t *count) {
    return clh_parse_int64_list(source, key, clh_st_meta_get(file, key), values, count);
}

/* With metadata: in_features, and the task order and class counts, which
 * must name exactly the heads found. Reorders plan->heads to set-up order. */
static clh_status apply_metadata(load_plan *plan, const clh_st_file *file, const char *source) {
    const char *in_text = clh_st_meta_get(file, "in_features");
    int64_t in;
    if (!in_text || !clh_parse_int64(in_text, NULL, &in) || in <= 0)
        return clh_fail(CLH_E_FORMAT, "%s: metadata in_features \"%.40s\" is not a positive integer",
                        source, in_text ? in_text : "(missing)");
    if (plan->n > 0 && plan->in != in)
        return clh_fail(CLH_E_MISMATCH,
                        "%s: metadata in_features is %lld but the head tensors have %lld", source,
                        (long long)in, (long long)plan->in);
    plan->in = in;

    int64_t *ids = NULL, *classes = NULL;
    size_t n_ids = 0, n_classes = 0;
    found_head *ordered = NULL;
    clh_status status = meta_list(file, source, "task_ids", &ids, &n_ids);
    if (status == CLH_OK) status = meta_list(file, source, "num_classes", &classes, &n_classes);
    if (status != CLH_OK) goto done;
    if (!is_multi_head(plan->paradigm)) {
        /* DIL/STL list no task ids; the one head is task 0. */
        if (n_ids != 0) {
            status = clh_fail(CLH_E_FORMAT, "%s: metadata task_ids must be empty for %s", source,
                              clh_paradigm_name(plan->paradigm));
            goto done;
        }
        if (plan->n == 1) {
            clh_free(ids);
            ids = clh_calloc(1, sizeof *ids);
            if (!ids) goto nomem;
            n_ids = 1;
        }
    }
    if (n_ids != plan->n || n_classes != plan->n) {
        status = clh_fail(CLH_E_MISMATCH,
                          "%s: metadata lists %zu task ids and %zu class counts, the file has %zu "
                          "heads",
                          source, n_ids, n_classes, plan->n);
        goto done;
    }
    ordered = clh_malloc((plan->n ? plan->n : 1) * sizeof *ordered);
    if (!ordered) goto nomem;
    for (size_t i = 0; i < n_ids; i++) {
        found_head *head = find_head(plan, ids[i]);
        if (!head) {
            status = clh_fail(CLH_E_MISMATCH, "%s: metadata task_ids names task %lld, which has no "
                                              "head tensors",
                              source, (long long)ids[i]);
            goto done;
        }
        if (head->weight->shape[0] != classes[i]) {
            status = clh_fail(CLH_E_MISMATCH,
                              "%s: tensor " NAME_FMT " has %lld classes, metadata num_classes says "
                              "%lld",
                              source, head->weight->name, (long long)head->weight->shape[0],
                              (long long)classes[i]);
            goto done;
        }
        ordered[i] = *head;
    }
    /* Each id found a head and there are as many ids as heads, so a repeated
     * id shows as two equal neighbours once sorted. */
    if (n_ids > 1) qsort(ids, n_ids, sizeof *ids, by_int64);
    for (size_t i = 1; i < n_ids; i++)
        if (ids[i - 1] == ids[i]) {
            status = clh_fail(CLH_E_FORMAT, "%s: metadata task_ids lists task %lld twice", source,
                              (long long)ids[i]);
            goto done;
        }
    if (plan->n) memcpy(plan->heads, ordered, plan->n * sizeof *ordered);
    status = meta_list(file, source, "frozen_task_ids", &plan->frozen, &plan->n_frozen);
    if (status == CLH_OK)
        status = meta_list(file, source, "masked_task_ids", &plan->masked, &plan->n_masked);
    if (status == CLH_OK)
        status = meta_list(file, source, "grad_task_ids", &plan->with_grad, &plan->n_with_grad);
    if (status == CLH_OK && plan->n_masked && plan->paradigm != CLH_CIL)
        status = clh_fail(CLH_E_FORMAT, "%s: masked_task_ids is for CIL only, the file is %s",
                          source, clh_paradigm_name(plan->paradigm));
    goto done;
nomem:
    status = clh_fail(CLH_E_NOMEM, "%s: no memory for the task order", source);
done:
    clh_free(ids);
    clh_free(classes);
    clh_free(ordered);
    return status;
}

/* ---- building the handle ---------------------------------------------------- */

static clh_status set_up(clh_heads *heads, const load_plan *plan) {
    if (!is_multi_head(plan->paradigm))
        return plan->n ? clh_heads_setup_single(heads, plan->heads[0].weight->shape[0]) : CLH_OK;
    if (!plan->n) return CLH_OK;
    /* All tasks in one set-up: one at a time would move the bank's bias block
     * once per task (quadratic in the number of heads). */
    int64_t *ids = clh_malloc(2 * plan->n * sizeof *ids);
    if (!ids) return clh_fail(CLH_E_NOMEM, "checkpoint: no memory for the set-up");
    for (size_t i = 0; i < plan->n; i++) {
        ids[i] = plan->heads[i].id;
        ids[plan->n + i] = plan->heads[i].weight->shape[0];
    }
    clh_status status = clh_heads_setup_list(heads, ids, ids + plan->n, plan->n, "checkpoint");
    clh_free(ids);
    return status;
}

static clh_status fill(clh_heads *heads, const load_plan *plan, const char *source,
                       int structure_only) {
    for (size_t i = 0; !structure_only && i < plan->n; i++) {
        const found_head *found = &plan->heads[i];
        int64_t id = is_multi_head(plan->paradigm) ? found->id : CLH_NO_TASK;
        clh_head_view view;
        clh_status status = clh_heads_get_head(heads, id, &view);
        if (status == CLH_OK)
            status = clh_st_to_f32(found->weight, view.weight,
                                   (size_t)view.out_features * (size_t)view.in_features);
        if (status == CLH_OK)
            status = clh_st_to_f32(found->bias, view.bias, (size_t)view.out_features);
        if (status != CLH_OK) return status;
    }
    for (size_t i = 0; i < plan->n_frozen; i++) {
        clh_status status = clh_heads_set_frozen(heads, plan->frozen[i], 1);
        if (status != CLH_OK)
            return clh_fail(CLH_E_FORMAT, "%s: metadata frozen_task_ids names task %lld: %s",
                            source, (long long)plan->frozen[i], clh_last_error());
    }
    for (size_t i = 0; i < plan->n_masked; i++) {
        clh_status status = clh_heads_set_masked(heads, plan->masked[i], 1);
        if (status != CLH_OK)
            return clh_fail(CLH_E_FORMAT, "%s: metadata masked_task_ids names task %lld: %s",
                            source, (long long)plan->masked[i], clh_last_error());
    }
    for (size_t i = 0; i < plan->n_with_grad; i++) {
        int64_t id = plan->with_grad[i];
        int known = is_multi_head(plan->paradigm) ? clh_heads_find(heads, id) >= 0
                                                  : id == 0 && clh_heads_num_tasks(heads) == 1;
        if (!known)
            return clh_fail(CLH_E_FORMAT, "%s: metadata grad_task_ids names task %lld, which has "
                            "no head", source, (long long)id);
        clh_heads_set_task_has_grad(heads, id, 1);
    }
    return CLH_OK;
}

/* Everything between a parsed file and a new handle. */
static clh_status load_parsed(clh_heads **out, const clh_st_file *file, const char *source,
                              const clh_load_options *options) {
    clh_load_options opts;
    clh_status status = clh_load_options_read(options, &opts);
    if (status) return status;
    options = &opts;
    load_plan plan = {0};
    clh_heads *heads = NULL;
    status = choose_paradigm(&plan, file, source, options);
    if (status == CLH_OK) status = collect(&plan, file, source, options);
    for (size_t i = 0; status == CLH_OK && i < plan.n; i++)
        status = check_head(&plan, &plan.heads[i], source);
    if (status == CLH_OK && !is_multi_head(plan.paradigm) && plan.n > 1)
        status = clh_fail(CLH_E_MISMATCH, "%s: %s has one head, the file has %zu", source,
                          clh_paradigm_name(plan.paradigm), plan.n);
    if (status == CLH_OK && plan.has_metadata) status = apply_metadata(&plan, file, source);
    if (status == CLH_OK && plan.n == 0 && !plan.has_metadata)
        status = clh_fail(CLH_E_MISMATCH, "%s: no head tensors found%s%s%s", source,
                          options->prefix && options->prefix[0] ? " under the prefix '" : "",
                          options->prefix && options->prefix[0] ? options->prefix : "",
                          options->prefix && options->prefix[0] ? "'" : "");
    if (status == CLH_OK) status = clh_heads_create(&heads, plan.paradigm, plan.in, options->seed);
    if (status == CLH_OK) status = set_up(heads, &plan);
    if (status == CLH_OK) status = fill(heads, &plan, source, options->structure_only);
    plan_release(&plan);
    if (status != CLH_OK) {
        clh_heads_free(heads);
        return status;
    }
    *out = heads;
    return CLH_OK;
}

clh_status clh_heads_load_file(clh_heads **out, const clh_st_file *file,
                               const clh_load_options *options) {
    if (!out || !file) return clh_fail(CLH_E_NULL, "clh_heads_load_file: out and file are required");
    return load_parsed(out, file, "checkpoint", options);
}

clh_status clh_heads_load(clh_heads **out, const char *path, const clh_load_options *options) {
    if (!out || !path) return clh_fail(CLH_E_NULL, "clh_heads_load: out and path are required");
    clh_st_file *file = NULL;
    clh_status status = clh_st_open(&file, path);
    if (status == CLH_OK) status = load_parsed(out, file, path, options);
    clh_st_free(file);
    return status;
}

/* ---- loading into an existing handle ---------------------------------------- */

static clh_status same_structure(const clh_heads *heads, const clh_heads *loaded,
                                 const char *path) {
    if (clh_heads_paradigm(heads) != clh_heads_paradigm(loaded))
        return clh_fail(CLH_E_MISMATCH, "%s holds %s heads, the handle is %s", path,
                        clh_paradigm_name(clh_heads_paradigm(loaded)),
                        clh_paradigm_name(clh_heads_paradigm(heads)));
    if (clh_heads_in_features(heads) != clh_heads_in_features(loaded))
        return clh_fail(CLH_E_MISMATCH, "%s has in_features %lld, the handle %lld", path,
                        (long long)clh_heads_in_features(loaded),
                        (long long)clh_heads_in_features(heads));
    size_t n = clh_heads_num_tasks(heads);
    if (clh_heads_num_tasks(loaded) != n)
        return clh_fail(CLH_E_MISMATCH, "%s has %zu heads, the handle %zu", path,
                        clh_heads_num_tasks(loaded), n);
    const int64_t *ids = clh_heads_task_ids(heads), *loaded_ids = clh_heads_task_ids(loaded);
    int single = !is_multi_head(clh_heads_paradigm(heads));
    for (size_t i = 0; i < n; i++) {
        int64_t id = CLH_NO_TASK, classes = 0, loaded_classes = 0;
        clh_heads_task_at(heads, i, &id);
        if (!single && loaded_ids[i] != ids[i])
            return clh_fail(CLH_E_MISMATCH, "%s: head %zu is task %lld, the handle's is task %lld",
                            path, i, (long long)loaded_ids[i], (long long)ids[i]);
        clh_heads_task_classes(heads, id, &classes, NULL);
        clh_heads_task_classes(loaded, id, &loaded_classes, NULL);
        if (classes != loaded_classes)
            return clh_fail(CLH_E_MISMATCH, "%s: task %lld has %lld classes, the handle's %lld",
                            path, (long long)(single ? 0 : id), (long long)loaded_classes,
                            (long long)classes);
    }
    return CLH_OK;
}

clh_status clh_heads_load_into(clh_heads *heads, const char *path,
                               const clh_load_options *options) {
    if (!heads || !path) return clh_fail(CLH_E_NULL, "clh_heads_load_into: heads and path are required");
    clh_load_options opts;
    clh_status status = clh_load_options_read(options, &opts);
    if (status) return status;
    clh_st_file *file = NULL;
    clh_heads *loaded = NULL;
    int has_metadata = 0;
    status = clh_st_open(&file, path);
    if (status == CLH_OK) {
        has_metadata = clh_st_meta_get(file, "clheads_format") != NULL;
        /* A file without metadata takes the handle's paradigm by default. */
        if (opts.paradigm == CLH_PARADIGM_FROM_FILE && !has_metadata)
            opts.paradigm = (int)clh_heads_paradigm(heads);
        status = load_parsed(&loaded, file, path, &opts);
    }
    clh_st_free(file);
    if (status == CLH_OK) status = same_structure(heads, loaded, path);
    if (status == CLH_OK) {
        /* Nothing can fail from here on. */
        float *params;
        const float *source;
        size_t count;
        clh_heads_flat(heads, &params, NULL, &count);
        clh_heads_flat_const(loaded, &source, NULL, NULL);
        if (count) memcpy(params, source, count * sizeof *params);
        size_t n = clh_heads_num_tasks(heads);
        for (size_t i = 0; has_metadata && i < n; i++) {
            int64_t id = CLH_NO_TASK;
            int flag = 0;
            clh_heads_task_at(heads, i, &id);
            clh_heads_is_frozen(loaded, id, &flag);
            clh_heads_set_frozen(heads, id, flag);
            if (clh_heads_paradigm(heads) == CLH_CIL) {
                clh_heads_is_masked(loaded, id, &flag);
                clh_heads_set_masked(heads, id, flag);
            }
            clh_heads_task_has_grad(loaded, id, &flag);
            clh_heads_set_task_has_grad(heads, id, flag);
        }
    }
    clh_heads_free(loaded);
    return clh_fail_adopt(heads, status); /* clh_heads_last_error(heads) finds it */
}
