/* `clheads run` end to end on the built-in synthetic data (seconds): the
 * accuracy matrix's shape and values, results.json, acc.csv, the SVGs and the
 * checkpoint; the same seed gives the same bytes. */
#include <jansson.h>
#include <string.h>

#include "check.h"
#include "test_cli_util.h"

static json_t *load_json(const char *dir) {
    char path[1024];
    snprintf(path, sizeof path, "%s/results.json", dir);
    json_error_t error;
    json_t *root = json_load_file(path, 0, &error);
    if (!root) fprintf(stderr, "%s: %s\n", path, error.text);
    return root;
}

/* The accuracy matrix of a sequential run: row t has t+1 numbers in [0, 1],
 * then nulls. */
static void check_matrix_shape(json_t *matrix, int tasks) {
    CHECK(json_is_array(matrix) && (int)json_array_size(matrix) == tasks);
    for (int t = 0; t < tasks && t < (int)json_array_size(matrix); t++) {
        json_t *row = json_array_get(matrix, (size_t)t);
        CHECK(json_is_array(row) && (int)json_array_size(row) == tasks);
        for (int tau = 0; tau < tasks; tau++) {
            json_t *v = json_array_get(row, (size_t)tau);
            if (tau <= t)
                CHECK(json_is_real(v) && json_real_value(v) >= 0 && json_real_value(v) <= 1);
            else
                CHECK(json_is_null(v));
        }
    }
}

static double cell(json_t *matrix, int t, int tau) {
    return json_real_value(json_array_get(json_array_get(matrix, (size_t)t), (size_t)tau));
}

static void check_outputs(const char *dir, int csv_rows) {
    char *csv = slurp(dir, "acc.csv", NULL);
    CHECK(csv != NULL);
    if (csv) {
        CHECK(strncmp(csv, "after_training_task,average_accuracy,test_on_task_1,", 52) == 0);
        int lines = 0;
        for (char *p = csv; *p; p++) lines += *p == '\n';
        CHECK(lines == csv_rows + 1);
        free(csv);
    }
    const char *svgs[] = {"acc_heatmap.svg", "average_accuracy.svg"};
    for (int i = 0; i < 2; i++) {
        char *svg = slurp(dir, svgs[i], NULL);
        CHECK(svg && strncmp(svg, "<?xml", 5) == 0 && strstr(svg, "<svg xmlns=") &&
              strstr(svg, "</svg>\n"));
        free(svg);
    }
    size_t len = 0;
    char *ckpt = slurp(dir, "checkpoint.safetensors", &len);
    CHECK(ckpt && len > 8);
    free(ckpt);
}

int main(void) {
    char til[512], til2[512], cil[512], mtl[512];
    work_dir("til", til, sizeof til);
    work_dir("til2", til2, sizeof til2);
    work_dir("cil", cil, sizeof cil);
    work_dir("mtl", mtl, sizeof mtl);

    /* TIL: every task is a two-way choice given its id; well above chance (0.5). */
    CHECK(run_cli("run", "--paradigm", "til", "--dataset", "synthetic", "--seed", "3", "--epochs", "2", "--out",
                  til, "--quiet", NULL) == 0);
    json_t *root = load_json(til);
    CHECK(root != NULL);
    if (root) {
        CHECK(strcmp(json_string_value(json_object_get(root, "paradigm")), "TIL") == 0);
        CHECK(json_integer_value(json_object_get(root, "completed")) == 5);
        json_t *m = json_object_get(root, "accuracy");
        check_matrix_shape(m, 5);
        for (int t = 0; t < 5; t++) CHECK(cell(m, t, t) >= 0.9);
        CHECK(json_real_value(json_object_get(root, "final_average_accuracy")) >= 0.9);
        CHECK(json_array_size(json_object_get(root, "average_accuracy")) == 5);
        CHECK(json_is_real(json_object_get(root, "backward_transfer")));
        CHECK(json_is_real(json_object_get(root, "forgetting")));
        json_t *tasks = json_object_get(root, "tasks");
        CHECK(json_array_size(tasks) == 5);
        /* The documented split: 300 images per class, the first 240 train. */
        CHECK(json_integer_value(json_object_get(json_array_get(tasks, 0), "num_train")) == 480);
        CHECK(json_integer_value(json_object_get(json_array_get(tasks, 0), "num_test")) == 120);
        json_decref(root);
    }
    check_outputs(til, 5);

    /* Same seed, same bytes (deterministic shuffling and initialisation). */
    CHECK(run_cli("run", "--paradigm", "til", "--dataset", "synthetic", "--seed", "3", "--epochs", "2", "--out",
                  til2, "--quiet", NULL) == 0);
    CHECK(same_file(til, til2, "results.json"));
    CHECK(same_file(til, til2, "acc.csv"));
    CHECK(same_file(til, til2, "checkpoint.safetensors"));

    /* CIL fine-tuning: task-aware and task-agnostic accuracy; without replay
     * the task-agnostic predictions collapse onto the newest task's classes. */
    CHECK(run_cli("run", "--paradigm", "cil", "--dataset", "synthetic", "--seed", "3", "--epochs", "4", "--out",
                  cil, "--quiet", NULL) == 0);
    root = load_json(cil);
    CHECK(root != NULL);
    if (root) {
        json_t *agn = json_object_get(json_object_get(root, "task_agnostic"), "accuracy");
        json_t *aware = json_object_get(json_object_get(root, "task_aware"), "accuracy");
        check_matrix_shape(agn, 5);
        check_matrix_shape(aware, 5);
        CHECK(cell(agn, 4, 4) >= 0.9);
        double agn_avg = json_real_value(
            json_object_get(json_object_get(root, "task_agnostic"), "final_average_accuracy"));
        double aware_avg = json_real_value(
            json_object_get(json_object_get(root, "task_aware"), "final_average_accuracy"));
        CHECK(agn_avg < 0.5);
        CHECK(aware_avg > agn_avg);
        /* Task-aware is never below task-agnostic, cell by cell. */
        for (int t = 0; t < 5; t++)
            for (int tau = 0; tau <= t; tau++) CHECK(cell(aware, t, tau) >= cell(agn, t, tau));
        json_decref(root);
    }
    char *aware_csv = slurp(cil, "acc_task_aware.csv", NULL);
    CHECK(aware_csv != NULL);
    free(aware_csv);

    /* Joint MTL reference: one row, all tasks, mixed batches. */
    CHECK(run_cli("run", "--paradigm", "mtl", "--dataset", "synthetic", "--out", mtl, "--quiet",
                  NULL) == 0);
    root = load_json(mtl);
    CHECK(root != NULL);
    if (root) {
        json_t *m = json_object_get(root, "accuracy");
        CHECK(json_array_size(m) == 1 && json_array_size(json_array_get(m, 0)) == 5);
        for (int tau = 0; tau < 5; tau++) CHECK(cell(m, 0, tau) >= 0.9);
        CHECK(json_is_null(json_object_get(root, "backward_transfer")));
        json_decref(root);
    }
    check_outputs(mtl, 1);
    return check_done("test_cli_run");
}
