/* `--dataset features`: the user's own features (dataset.h has the format).
 * Every tensor is checked before anything is used: dtype, rank and shape,
 * finite features, task ids 0..T-1 with none missing, labels within their
 * task's classes, and the test file consistent with the training file. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clheads/safetensors.h"
#include "cli.h"
#include "dataset.h"

/* One opened file's three tensors, checked for dtype and shape. */
typedef struct features_file {
    clh_st_file *file;
    const clh_st_tensor *feature, *label, *task;
    int64_t n, d;
} features_file;

static int open_checked(features_file *f, const char *path, const char *role, char *err,
                        size_t err_len) {
    memset(f, 0, sizeof *f);
    clh_status st = clh_st_open(&f->file, path);
    if (st != CLH_OK)
        return cli_err(err, err_len, "cannot read the %s features file %s: %s (%s)", role, path,
                       clh_status_message(st), clh_last_error());
    static const char *const names[3] = {"feature", "label", "task"};
    static const clh_dtype dtypes[3] = {CLH_DT_F32, CLH_DT_I64, CLH_DT_I64};
    const clh_st_tensor **slots[3] = {&f->feature, &f->label, &f->task};
    for (int k = 0; k < 3; k++) {
        const clh_st_tensor *t = clh_st_find(f->file, names[k]);
        if (!t) return cli_err(err, err_len, "%s: no tensor '%s' (a features file holds 'feature' "
                               "[N, d] F32, 'label' [N] I64 and 'task' [N] I64)", path, names[k]);
        if (t->dtype != dtypes[k])
            return cli_err(err, err_len, "%s: tensor '%s' is %s, expected %s", path, names[k],
                           clh_dtype_name(t->dtype), clh_dtype_name(dtypes[k]));
        size_t want_rank = k == 0 ? 2 : 1;
        if (t->ndim != want_rank)
            return cli_err(err, err_len, "%s: tensor '%s' has rank %zu, expected %zu", path,
                           names[k], t->ndim, want_rank);
        *slots[k] = t;
    }
    f->n = f->feature->shape[0];
    f->d = f->feature->shape[1];
    if (f->n < 1 || f->d < 1 || f->d > CLI_FEATURES_MAX_DIM)
        return cli_err(err, err_len, "%s: 'feature' has shape [%lld, %lld], expected N >= 1 "
                       "samples of 1..%d features", path, (long long)f->n, (long long)f->d,
                       CLI_FEATURES_MAX_DIM);
    if (f->label->shape[0] != f->n || f->task->shape[0] != f->n)
        return cli_err(err, err_len, "%s: 'label' [%lld] and 'task' [%lld] must have one entry per "
                       "row of 'feature' [%lld, %lld]", path, (long long)f->label->shape[0],
                       (long long)f->task->shape[0], (long long)f->n, (long long)f->d);
    return 0;
}

/* A tensor's element i (the data need not be 8-byte aligned). */
static int64_t i64_at(const clh_st_tensor *t, int64_t i) {
    int64_t v;
    memcpy(&v, (const unsigned char *)t->data + (size_t)i * sizeof v, sizeof v);
    return v;
}

int cli_features_load(cli_images *images, const char *train_path, const char *test_path,
                      char *err, size_t err_len) {
    memset(images, 0, sizeof *images);
    features_file tr, te;
    int rc = 1;
    int64_t *classes = NULL, *seen = NULL;
    memset(&te, 0, sizeof te);
    if (open_checked(&tr, train_path, "training", err, err_len) ||
        open_checked(&te, test_path, "test", err, err_len))
        goto done;
    if (te.d != tr.d) {
        cli_err(err, err_len, "%s has %lld features per sample, the training file %s has %lld",
                test_path, (long long)te.d, train_path, (long long)tr.d);
        goto done;
    }
    int64_t total;
    size_t cells, bytes;
    if (__builtin_add_overflow(tr.n, te.n, &total) ||
        __builtin_mul_overflow((size_t)total, (size_t)tr.d, &cells) ||
        __builtin_mul_overflow(cells, sizeof(float), &bytes)) {
        cli_err(err, err_len, "%lld + %lld samples of %lld features overflow the size arithmetic",
                (long long)tr.n, (long long)te.n, (long long)tr.d);
        goto done;
    }
    /* Tasks: ids 0..T-1, each with training samples; class count of task t
     * = 1 + its largest training label, every class with a training sample. */
    int64_t tasks = 0;
    for (int64_t i = 0; i < tr.n; i++) {
        int64_t t = i64_at(tr.task, i);
        if (t < 0 || t >= CLI_FEATURES_MAX_TASKS) {
            cli_err(err, err_len, "%s: task[%lld] is %lld, expected a task id in 0..%d", train_path,
                    (long long)i, (long long)t, CLI_FEATURES_MAX_TASKS - 1);
            goto done;
        }
        if (t + 1 > tasks) tasks = t + 1;
    }
    classes = calloc((size_t)tasks, sizeof *classes);
    if (!classes) {
        cli_err(err, err_len, "out of memory for %lld tasks", (long long)tasks);
        goto done;
    }
    for (int64_t i = 0; i < tr.n; i++) {
        int64_t t = i64_at(tr.task, i), y = i64_at(tr.label, i);
        if (y < 0 || y >= CLI_FEATURES_MAX_CLASSES) {
            cli_err(err, err_len, "%s: label[%lld] is %lld, expected a class within its task "
                    "(0..%d)", train_path, (long long)i, (long long)y,
                    CLI_FEATURES_MAX_CLASSES - 1);
            goto done;
        }
        if (y + 1 > classes[t]) classes[t] = y + 1;
    }
    int64_t total_classes = 0;
    for (int64_t t = 0; t < tasks; t++) {
        if (classes[t] == 0) {
            cli_err(err, err_len, "%s: task ids must be 0..T-1 without gaps, but task %lld has no "
                    "samples (the largest id is %lld)", train_path, (long long)t,
                    (long long)tasks - 1);
            goto done;
        }
        total_classes += classes[t];
    }
    if (total_classes > CLI_FEATURES_MAX_CLASSES) {
        cli_err(err, err_len, "%s: %lld classes over all tasks, at most %d", train_path,
                (long long)total_classes, CLI_FEATURES_MAX_CLASSES);
        goto done;
    }
    /* Every class of a task has a training sample (else it has no mean and
     * no data to learn from). */
    int64_t *offset = malloc(((size_t)tasks + 1) * sizeof *offset);
    if (!offset) {
        cli_err(err, err_len, "out of memory for %lld tasks", (long long)tasks);
        goto done;
    }
    offset[0] = 0;
    for (int64_t t = 0; t < tasks; t++) offset[t + 1] = offset[t] + classes[t];
    seen = calloc((size_t)total_classes, sizeof *seen);
    if (!seen) {
        free(offset);
        cli_err(err, err_len, "out of memory for %lld classes", (long long)total_classes);
        goto done;
    }
    for (int64_t i = 0; i < tr.n; i++) seen[offset[i64_at(tr.task, i)] + i64_at(tr.label, i)]++;
    for (int64_t t = 0; t < tasks; t++) {
        for (int64_t c = 0; c < classes[t]; c++) {
            if (seen[offset[t] + c] == 0) {
                cli_err(err, err_len, "%s: task %lld has labels up to %lld but no training sample "
                        "of class %lld", train_path, (long long)t, (long long)classes[t] - 1,
                        (long long)c);
                free(offset);
                goto done;
            }
        }
    }
    free(offset);
    /* The test file: the training file's tasks, each label within its
     * task's classes (a task id whose test labels imply another class count
     * is an error), and a test sample for every task. */
    memset(seen, 0, (size_t)total_classes * sizeof *seen);
    for (int64_t i = 0; i < te.n; i++) {
        int64_t t = i64_at(te.task, i), y = i64_at(te.label, i);
        if (t < 0 || t >= tasks) {
            cli_err(err, err_len, "%s: task[%lld] is %lld, but the training file %s has tasks "
                    "0..%lld", test_path, (long long)i, (long long)t, train_path,
                    (long long)tasks - 1);
            goto done;
        }
        if (y < 0 || y >= classes[t]) {
            cli_err(err, err_len, "%s: label[%lld] is %lld, out of range for task %lld, which has "
                    "%lld classes in the training file %s", test_path, (long long)i, (long long)y,
                    (long long)t, (long long)classes[t], train_path);
            goto done;
        }
        seen[t]++;
    }
    for (int64_t t = 0; t < tasks; t++) {
        if (seen[t] == 0) {
            cli_err(err, err_len, "%s: task %lld has no test sample", test_path, (long long)t);
            goto done;
        }
    }
    images->values = malloc(bytes);
    images->feature_task = malloc((size_t)total * sizeof(int64_t));
    images->feature_label = malloc((size_t)total * sizeof(int64_t));
    if (!images->values || !images->feature_task || !images->feature_label) {
        cli_err(err, err_len, "out of memory for %lld samples of %lld features", (long long)total,
                (long long)tr.d);
        goto done;
    }
    images->count = total;
    images->dim = tr.d;
    images->train_count = tr.n;
    images->feature_tasks = tasks;
    const features_file *parts[2] = {&tr, &te};
    const char *paths[2] = {train_path, test_path};
    int64_t row = 0;
    for (int k = 0; k < 2; k++) {
        const features_file *f = parts[k];
        float *dst = images->values + (size_t)row * (size_t)tr.d;
        memcpy(dst, f->feature->data, (size_t)f->n * (size_t)tr.d * sizeof(float));
        for (int64_t i = 0; i < f->n; i++) {
            for (int64_t j = 0; j < tr.d; j++) {
                if (!isfinite(dst[i * tr.d + j])) {
                    cli_err(err, err_len, "%s: feature[%lld, %lld] is not finite (%g)", paths[k],
                            (long long)i, (long long)j, (double)dst[i * tr.d + j]);
                    goto done;
                }
            }
            images->feature_task[row + i] = i64_at(f->task, i);
            images->feature_label[row + i] = i64_at(f->label, i);
        }
        row += f->n;
    }
    images->feature_classes = classes;
    classes = NULL;
    rc = 0;
done:
    if (rc) cli_images_free(images);
    free(classes);
    free(seen);
    clh_st_free(tr.file);
    clh_st_free(te.file);
    return rc;
}

int cli_features_tasks(cli_tasks *tasks, const cli_images *images, int64_t num_tasks, char *err,
                       size_t err_len) {
    memset(tasks, 0, sizeof *tasks);
    if (num_tasks < 1 || num_tasks > images->feature_tasks)
        return cli_err(err, err_len, "--tasks %lld is out of range: the features files have %lld "
                       "tasks", (long long)num_tasks, (long long)images->feature_tasks);
    if (cli_tasks_alloc(tasks, num_tasks, err, err_len)) return 1;
    for (int64_t t = 0; t < num_tasks; t++) {
        cli_task *task = &tasks->tasks[t];
        task->num_classes = images->feature_classes[t];
        task->class_offset = tasks->total_classes;
        tasks->total_classes += task->num_classes;
        for (int64_t i = 0; i < images->count; i++) {
            if (images->feature_task[i] != t) continue;
            if (i < images->train_count) task->num_train++;
            else task->num_test++;
        }
        task->train = malloc((size_t)task->num_train * sizeof(int64_t));
        task->test = malloc((size_t)task->num_test * sizeof(int64_t));
        if (!task->train || !task->test) {
            cli_tasks_free(tasks);
            return cli_err(err, err_len, "out of memory for the task lists");
        }
        int64_t a = 0, b = 0;
        for (int64_t i = 0; i < images->count; i++) {
            if (images->feature_task[i] != t) continue;
            if (i < images->train_count) task->train[a++] = i;
            else task->test[b++] = i;
        }
    }
    return 0;
}
