/* results.json (see report.h), written with jansson. */
#include <jansson.h>
#include <math.h>
#include <stdio.h>

#include "atomic_file.h"
#include "metrics.h"
#include "report.h"

/* JSON has no NaN or infinity (and jansson's json_real refuses them):
 * a number that is not finite is written as null. */
static json_t *number_or_null(double v) {
    return isfinite(v) ? json_real(v) : json_null();
}

static json_t *matrix(const cli_results *results, const double *acc) {
    json_t *rows = json_array();
    for (int64_t r = 0; r < results->rows_done; r++) {
        json_t *row = json_array();
        for (int64_t tau = 0; tau < results->tasks; tau++)
            json_array_append_new(row, number_or_null(acc[r * results->tasks + tau]));
        json_array_append_new(rows, row);
    }
    return rows;
}

static json_t *summary(const cli_results *results, const double *acc) {
    int64_t T = results->tasks;
    json_t *obj = json_object();
    json_object_set_new(obj, "accuracy", matrix(results, acc));
    json_t *avg = json_array();
    for (int64_t r = 0; r < results->rows_done; r++)
        json_array_append_new(avg, number_or_null(cli_row_average(results, acc, r)));
    json_object_set_new(obj, "average_accuracy", avg);
    int complete = results->rows_done == results->rows;
    json_object_set_new(obj, "final_average_accuracy",
                        complete ? number_or_null(cli_row_average(results, acc, results->rows - 1)) : json_null());
    int sequential = results->rows == T && complete;
    json_object_set_new(obj, "backward_transfer",
                        sequential ? number_or_null(cli_backward_transfer(acc, T)) : json_null());
    json_object_set_new(obj, "forgetting",
                        sequential ? number_or_null(cli_forgetting(acc, T)) : json_null());
    return obj;
}

int cli_report_json(const char *path, const cli_run_config *cfg, const cli_tasks *tasks,
                    const cli_results *results, char *err, size_t err_len) {
    json_t *root = json_object();
    json_object_set_new(root, "clheads_version", json_string(CLH_VERSION_STRING));
    json_object_set_new(root, "paradigm", json_string(clh_paradigm_name(cfg->paradigm)));
    json_object_set_new(root, "method", json_string(cli_method_name(cfg->method)));
    json_object_set_new(root, "joint", json_boolean(cli_run_joint(cfg)));
    json_object_set_new(root, "dataset", json_string(cli_dataset_name(cfg->dataset)));
    json_object_set_new(root, "method", json_string(cli_method_name(cfg->method)));
    json_t *opts = json_object();
    json_object_set_new(opts, "optimizer", json_string(clh_optim_kind_name(cfg->optim.kind)));
    json_object_set_new(opts, "lr", number_or_null(cfg->optim.lr));
    json_object_set_new(opts, "momentum", number_or_null(cfg->optim.momentum));
    json_object_set_new(opts, "weight_decay", number_or_null(cfg->optim.weight_decay));
    json_object_set_new(opts, "batch_size", json_integer(cfg->batch_size));
    json_object_set_new(opts, "epochs", json_integer(cfg->epochs));
    json_object_set_new(opts, "seed", json_integer((json_int_t)cfg->seed));
    json_object_set_new(opts, "freeze_backbone", json_boolean(cfg->freeze_backbone));
    char backbone[96];
    if (!cli_method_is_analytic(cfg->method) && cfg->dataset == CLI_DATA_FEATURES)
        snprintf(backbone, sizeof backbone, "none: the features of the files");
    else if (!cli_method_is_analytic(cfg->method))
        snprintf(backbone, sizeof backbone, "MLP %lld-%d-%d ReLU", (long long)cfg->input_dim,
                 CLI_HIDDEN, CLI_HIDDEN);
    else if (cfg->expansion > 0)
        snprintf(backbone, sizeof backbone, "none: random ReLU features %lld-%lld",
                 (long long)cfg->input_dim, (long long)cfg->expansion);
    else
        snprintf(backbone, sizeof backbone, "none: the raw inputs");
    json_object_set_new(opts, "backbone", json_string(backbone));
    if (cli_method_is_analytic(cfg->method)) {
        json_object_set_new(opts, "expansion", json_integer(cfg->expansion));
        if (cfg->method == CLI_METHOD_RIDGE)
            json_object_set_new(opts, "ridge_lambda", number_or_null(cfg->ridge_lambda));
        if (cfg->method == CLI_METHOD_SLDA)
            json_object_set_new(opts, "lda_shrinkage", number_or_null(cfg->lda_shrinkage));
        if (cfg->method == CLI_METHOD_NCM)
            json_object_set_new(opts, "ncm_normalize", json_boolean(cfg->ncm_normalize));
        else
            json_object_set_new(opts, "stats_precision",
                                json_string(cfg->stats_precision == CLH_DT_F32 ? "f32" : "f64"));
    }
    json_object_set_new(opts, "input_dim", json_integer(cfg->input_dim));
    json_object_set_new(opts, "pad32", json_boolean(cfg->pad32));
    /* The method's own options (the others do not apply to it). */
    const cli_method_options *mo = &cfg->mopt;
    cli_method m = cfg->method;
    if (cli_method_is_regularizer(m)) json_object_set_new(opts, "reg_coef", number_or_null(mo->reg_coef));
    if (m == CLI_METHOD_ONLINE_EWC)
        json_object_set_new(opts, "online_decay", number_or_null(mo->online_decay));
    if (m == CLI_METHOD_SI) json_object_set_new(opts, "si_damping", number_or_null(mo->si_damping));
    if (cli_method_has_memory(m)) json_object_set_new(opts, "memory", json_integer(mo->memory));
    if (m == CLI_METHOD_GEM) json_object_set_new(opts, "gem_margin", number_or_null(mo->gem_margin));
    if (m == CLI_METHOD_LWF)
        json_object_set_new(opts, "temperature", number_or_null(mo->temperature));
    json_object_set_new(root, "options", opts);
    json_t *list = json_array();
    for (int64_t t = 0; t < tasks->count; t++) {
        const cli_task *task = &tasks->tasks[t];
        json_t *obj = json_object();
        json_object_set_new(obj, "task", json_integer(t + 1));
        json_t *digits = json_array();
        for (int d = 0; d < 10; d++)
            if (task->local_of_digit[d] >= 0) json_array_append_new(digits, json_integer(d));
        json_object_set_new(obj, "digits", digits);
        json_object_set_new(obj, "num_classes", json_integer(task->num_classes));
        json_object_set_new(obj, "class_offset", json_integer(task->class_offset));
        json_object_set_new(obj, "num_train", json_integer(task->num_train));
        json_object_set_new(obj, "num_test", json_integer(task->num_test));
        json_object_set_new(obj, "permuted", json_boolean(task->perm != NULL));
        json_array_append_new(list, obj);
    }
    json_object_set_new(root, "tasks", list);
    json_object_set_new(root, "completed", json_integer(results->rows_done));
    json_object_set_new(root, "rows", json_integer(results->rows));
    json_t *losses = json_array();
    for (int64_t r = 0; r < results->rows_done; r++)
        json_array_append_new(losses, number_or_null(results->loss[r]));
    json_object_set_new(root, "train_loss", losses);
    if (results->acc_aware) {
        json_object_set_new(root, "task_agnostic", summary(results, results->acc));
        json_object_set_new(root, "task_aware", summary(results, results->acc_aware));
        /* The headline numbers of a CIL run are the task-agnostic ones. */
    }
    json_t *headline = summary(results, results->acc);
    const char *key;
    json_t *value;
    json_object_foreach(headline, key, value) json_object_set(root, key, value);
    json_decref(headline);
    cli_out_file out;
    if (cli_out_open(&out, path, err, err_len)) {
        json_decref(root);
        return 1;
    }
    int rc = json_dumpf(root, out.stream, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(17));
    json_decref(root);
    if (rc != 0) {
        cli_out_abort(&out);
        snprintf(err, err_len, "cannot write %s: the JSON could not be serialised", path);
        return 1;
    }
    return cli_out_commit(&out, err, err_len);
}
