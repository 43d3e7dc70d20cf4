#define _POSIX_C_SOURCE 200809L /* popen, fileno */
/* Issue 8, the files the tool writes and what it prints: F03 (one atomic
 * writer, the previous copy survives a failed write, every failure named,
 * non-finite numbers as JSON null), F06 (no silent takeover of another run's
 * directory, predict never writes over an input), F10 (everything printed
 * from a file or the command line escaped) and the CLI parts of F17. */
#include <jansson.h>
#include <math.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>

#include "atomic_file.h"
#include "check.h"
#include "clheads/checkpoint.h"
#include "report.h"
#include "test_cli_capture.h"
#include "test_cli_util.h"

/* A short synthetic run (2 tasks, 1 epoch): the reports of every test. */
#define SHORT_RUN(paradigm, out) \
    "run", "--paradigm", paradigm, "--dataset", "synthetic", "--tasks", "2", "--epochs", "1", \
        "--quiet", "--out", out

static int count_tmp_files(const char *dir) {
    char cmd[800];
    snprintf(cmd, sizeof cmd, "ls -a '%s' | grep -c '\\.tmp-'", dir);
    FILE *p = popen(cmd, "r");
    int n = -1;
    if (p) {
        if (fscanf(p, "%d", &n) != 1) n = -1;
        pclose(p);
    }
    return n;
}

/* F03: a failed write (as on a full disk) keeps the previous report intact,
 * leaves no temporary file, and the message names every file that failed. */
static void f03_atomic_reports(const char *base) {
    char dir[700];
    snprintf(dir, sizeof dir, "%s/f03", base);
    work_dir("f03", dir, sizeof dir);
    CHECK(run_cli(SHORT_RUN("til", dir), "--stop-after", "1", NULL) == 0);
    size_t len_before = 0, len_csv = 0;
    char *before = slurp(dir, "results.json", &len_before);
    char *csv_before = slurp(dir, "acc.csv", &len_csv);
    CHECK(before != NULL && strstr(before, "\"completed\": 1") != NULL);

    /* Every report commit fails at the write: all four named, none changed. */
    int rc;
    cli_test_fail_out_at(CLI_OUT_STEP_WRITE, 100);
    char *msg = NULL;
    RUN_CAPTURED(msg, rc, dir, "run", "--resume", dir, "--quiet");
    cli_test_fail_out_at(CLI_OUT_STEP_NONE, 0);
    CHECK(rc == 1);
    CHECK(msg && strstr(msg, "4 report files not written") != NULL);
    const char *names[] = {"results.json: writing", "acc.csv: writing", "acc_heatmap.svg: writing",
                           "average_accuracy.svg: writing"};
    for (int i = 0; i < 4; i++) CHECK(msg && strstr(msg, names[i]) != NULL);
    CHECK(msg && strstr(msg, "Input/output error") != NULL);
    free(msg);
    size_t len_after = 0;
    char *after = slurp(dir, "results.json", &len_after);
    CHECK(after && len_after == len_before && memcmp(after, before, len_before) == 0);
    free(after);
    after = slurp(dir, "acc.csv", &len_after);
    CHECK(after && len_after == len_csv && memcmp(after, csv_before, len_csv) == 0);
    free(after);
    CHECK(count_tmp_files(dir) == 0);

    /* One failure at each later step: only results.json keeps its old copy. */
    cli_out_step steps[] = {CLI_OUT_STEP_OPEN, CLI_OUT_STEP_FSYNC, CLI_OUT_STEP_RENAME};
    const char *step_names[] = {"creating the temporary file", "syncing", "renaming"};
    for (int s = 0; s < 3; s++) {
        cli_test_fail_out_at(steps[s], 1);
        RUN_CAPTURED(msg, rc, dir, "run", "--resume", dir, "--quiet");
        cli_test_fail_out_at(CLI_OUT_STEP_NONE, 0);
        CHECK(rc == 1);
        CHECK(msg && strstr(msg, "1 report file not written") != NULL);
        CHECK(msg && strstr(msg, step_names[s]) != NULL);
        free(msg);
        after = slurp(dir, "results.json", &len_after);
        CHECK(after && len_after == len_before && memcmp(after, before, len_before) == 0);
        free(after);
        CHECK(count_tmp_files(dir) == 0);
    }
    /* Without a failure the resume completes the files. */
    CHECK(run_cli("run", "--resume", dir, "--quiet", NULL) == 0);
    after = slurp(dir, "results.json", &len_after);
    CHECK(after && strstr(after, "\"completed\": 2") != NULL);
    free(after);
    free(before);
    free(csv_before);
}

/* F03: +inf and NaN are written as null (jansson's json_real refuses them:
 * on main the loss array silently lost its entry). The CSV leaves the cell
 * empty, the SVGs draw no point for it. */
static void f03_nonfinite_as_null(const char *base) {
    cli_results results;
    CHECK(cli_results_init(&results, 2, 2, 0) == 0);
    results.rows_done = 2;
    results.acc[0] = 0.5, results.acc[2] = INFINITY, results.acc[3] = 0.25;
    results.loss[0] = INFINITY, results.loss[1] = 0.75;
    cli_run_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.paradigm = CLH_TIL;
    cfg.dataset = CLI_DATA_SYNTHETIC;
    clh_optim_config_init(&cfg.optim, CLH_OPTIM_SGD, 0.1);
    cli_tasks tasks;
    memset(&tasks, 0, sizeof tasks);
    char path[700], err[CLI_ERR_LEN];
    snprintf(path, sizeof path, "%s/f03_null.json", base);
    CHECK(cli_report_json(path, &cfg, &tasks, &results, err, sizeof err) == 0);
    json_error_t jerr;
    json_t *root = json_load_file(path, 0, &jerr);
    CHECK(root != NULL);
    json_t *loss = json_object_get(root, "train_loss");
    CHECK(json_array_size(loss) == 2);
    CHECK(json_is_null(json_array_get(loss, 0)));
    CHECK_CLOSE(json_real_value(json_array_get(loss, 1)), 0.75, 0, 1);
    json_t *row1 = json_array_get(json_object_get(root, "accuracy"), 1);
    CHECK(json_array_size(row1) == 2 && json_is_null(json_array_get(row1, 0)));
    CHECK(json_is_null(json_array_get(json_object_get(root, "average_accuracy"), 1)));
    json_decref(root);
    snprintf(path, sizeof path, "%s/f03_null.csv", base);
    CHECK(cli_report_csv(path, &results, 0, err, sizeof err) == 0);
    size_t len = 0;
    char *csv = (char *)read_whole(path, &len);
    CHECK(csv && strstr(csv, "\n2,,,0.25\n") != NULL);
    free(csv);
    snprintf(path, sizeof path, "%s/f03_null.svg", base);
    CHECK(cli_report_svg_average(path, "t", &results, err, sizeof err) == 0);
    char *svg = (char *)read_whole(path, &len);
    CHECK(svg && strstr(svg, "inf") == NULL && strstr(svg, "nan") == NULL);
    free(svg);
    cli_results_free(&results);
}

/* F06: a new run refuses a directory holding another run (exit 2, nothing
 * touched); --force replaces it whole (no file of the old run left behind);
 * a resume writes into its own directory. predict never writes over its
 * model or features. */
static void f06_no_silent_takeover(const char *base) {
    char dir[700];
    work_dir("f06", dir, sizeof dir);
    CHECK(run_cli(SHORT_RUN("cil", dir), NULL) == 0);
    size_t len0 = 0, len1 = 0;
    char *ck0 = slurp(dir, "checkpoint.safetensors", &len0);
    int rc;
    char *msg = NULL;
    RUN_CAPTURED(msg, rc, dir, SHORT_RUN("til", dir));
    CHECK(rc == 2);
    CHECK(msg && strstr(msg, "holds another run (checkpoint.safetensors)") != NULL);
    free(msg);
    char *ck1 = slurp(dir, "checkpoint.safetensors", &len1);
    CHECK(ck0 && ck1 && len0 == len1 && memcmp(ck0, ck1, len0) == 0);
    free(ck1);
    char aware[800];
    snprintf(aware, sizeof aware, "%s/acc_task_aware.csv", dir);
    CHECK(access(aware, F_OK) == 0);
    /* A --force run that fails before it starts (its data cannot be read)
     * leaves the old run whole. */
    size_t len_before = 0, len_after = 0;
    char *before = slurp(dir, "checkpoint.safetensors", &len_before);
    CHECK(run_cli("run", "--paradigm", "til", "--dataset", "split-mnist", "--data",
                  "/nonexistent-clheads-data", "--out", dir, "--quiet", "--force", NULL) == 1);
    char *after = slurp(dir, "checkpoint.safetensors", &len_after);
    CHECK(before && after && len_before == len_after && memcmp(before, after, len_before) == 0);
    CHECK(access(aware, F_OK) == 0);
    free(before);
    free(after);
    CHECK(run_cli(SHORT_RUN("til", dir), "--force", NULL) == 0);
    CHECK(access(aware, F_OK) != 0); /* the CIL run's file is gone */
    char *json = slurp(dir, "results.json", &len1);
    CHECK(json && strstr(json, "\"paradigm\": \"TIL\"") != NULL);
    free(json);
    /* A resume into another run's directory is refused the same way. */
    char other[700];
    work_dir("f06-other", other, sizeof other);
    CHECK(run_cli(SHORT_RUN("til", other), "--stop-after", "1", NULL) == 0);
    CHECK(run_cli("run", "--resume", other, "--out", dir, "--quiet", NULL) == 2);
    CHECK(run_cli("run", "--resume", other, "--quiet", NULL) == 0);
    free(ck0);

    /* predict --out equal to --model (also by another name) or --features. */
    char model[800], features[800], alias[800];
    snprintf(model, sizeof model, "%s/checkpoint.safetensors", dir);
    snprintf(alias, sizeof alias, "%s/../f06/./checkpoint.safetensors", dir);
    snprintf(features, sizeof features, "%s/cli/predict_cil_features.safetensors",
             CLH_TEST_DATA_DIR);
    ck0 = slurp(dir, "checkpoint.safetensors", &len0);
    CHECK(run_cli("predict", "--model", model, "--features", features, "--out", model, NULL) == 2);
    CHECK(run_cli("predict", "--model", model, "--features", features, "--out", alias, NULL) == 2);
    CHECK(run_cli("predict", "--model", model, "--features", features, "--out", features, NULL) ==
          2);
    ck1 = slurp(dir, "checkpoint.safetensors", &len1);
    CHECK(ck0 && ck1 && len0 == len1 && memcmp(ck0, ck1, len0) == 0);
    free(ck0);
    free(ck1);
    (void)base;
}

/* F10: a tensor name and metadata with escape sequences and a newline that
 * would forge a line "paradigm: TIL". inspect prints them escaped; so does
 * an error message quoting a value from the command line. */
static void f10_escaped_output(const char *dir) {
    char path[700], out[700];
    snprintf(path, sizeof path, "%s/f10_hostile.safetensors", dir);
    float w[2] = {1, 2};
    clh_st_tensor t;
    memset(&t, 0, sizeof t);
    t.name = "x\x1b]0;pwned\x07\nparadigm: TIL";
    t.dtype = CLH_DT_F32;
    t.ndim = 1;
    t.shape[0] = 2;
    t.data = w;
    t.nbytes = sizeof w;
    clh_st_meta meta = {"k\x1b[2J", "v\r\nparadigm: TIL\\"};
    CHECK_OK(clh_st_save(path, &t, 1, &meta, 1));
    snprintf(out, sizeof out, "%s/f10_stdout.txt", dir);
    capture c;
    capture_begin(&c, stdout, out);
    int rc = run_cli("inspect", path, NULL);
    char *text = capture_end(&c);
    CHECK(rc == 0);
    CHECK(text && strchr(text, '\x1b') == NULL && strchr(text, '\x07') == NULL &&
          strchr(text, '\r') == NULL);
    CHECK(text && strstr(text, "\nparadigm: TIL") == NULL);
    CHECK(text && strstr(text, "x\\x1b]0;pwned\\x07\\x0aparadigm: TIL") != NULL);
    CHECK(text && strstr(text, "k\\x1b[2J = v\\x0d\\x0aparadigm: TIL\\\\") != NULL);
    free(text);
    char *msg = NULL;
    RUN_CAPTURED(msg, rc, dir, "run", "--paradigm", "x\x1b[2J\nparadigm: TIL");
    CHECK(rc == 2);
    CHECK(msg && strchr(msg, '\x1b') == NULL && strstr(msg, "x\\x1b[2J\\x0aparadigm") != NULL);
    free(msg);
}

/* A model of two MTL heads of different widths (2 and 5 classes, 12 inputs). */
static void write_mtl_model(const char *path) {
    clh_heads *heads = NULL;
    CHECK_OK(clh_heads_create(&heads, CLH_MTL, 12, 7));
    const int64_t ids[2] = {0, 1}, classes[2] = {2, 5};
    CHECK_OK(clh_heads_setup_tasks(heads, ids, classes, 2));
    CHECK_OK(clh_heads_save(heads, path));
    clh_heads_free(heads);
}

static void write_batch(const char *path, const int64_t *ids, int64_t n_ids) {
    float feature[3 * 12];
    for (int i = 0; i < 3 * 12; i++) feature[i] = (float)(i % 7) * 0.25f - 0.5f;
    clh_st_tensor t[2];
    memset(t, 0, sizeof t);
    t[0] = (clh_st_tensor){.name = "feature", .dtype = CLH_DT_F32, .ndim = 2, .shape = {3, 12},
                           .data = feature, .nbytes = sizeof feature};
    t[1] = (clh_st_tensor){.name = "task_ids", .dtype = CLH_DT_I64, .ndim = 1, .shape = {n_ids},
                           .data = ids, .nbytes = (size_t)n_ids * sizeof(int64_t)};
    CHECK_OK(clh_st_save(path, t, 2, NULL, 0));
}

/* The logits of a predict output into out[15]; returns the width or -1. */
static int64_t read_logits(const char *path, float *out) {
    clh_st_file *file = NULL;
    if (clh_st_open(&file, path) != CLH_OK) return -1;
    const clh_st_tensor *t = clh_st_find(file, "logits");
    int64_t width = -1;
    if (t && t->ndim == 2 && t->shape[0] == 3 && t->shape[1] <= 5) {
        width = t->shape[1];
        memcpy(out, t->data, (size_t)(3 * width) * sizeof(float));
    }
    clh_st_free(file);
    return width;
}

/* F17 (predict): ids INT64_MIN (the library's CLH_NO_TASK) or -1 or an
 * unknown task are refused in the user's terms; MTL writes [B, widest]
 * whether the ids are equal or not, -inf past a sample's own head. */
static void f17_predict(const char *dir) {
    char model[700], batch[700], out[700];
    snprintf(model, sizeof model, "%s/f17_mtl.safetensors", dir);
    snprintf(batch, sizeof batch, "%s/f17_batch.safetensors", dir);
    snprintf(out, sizeof out, "%s/f17_logits.safetensors", dir);
    write_mtl_model(model);
    const int64_t bad[3][3] = {{INT64_MIN, 0, 0}, {0, -1, 0}, {0, 0, 2}};
    for (int b = 0; b < 3; b++) {
        write_batch(batch, bad[b], 3);
        int rc;
        char *msg = NULL;
        RUN_CAPTURED(msg, rc, dir, "predict", "--model", model, "--features", batch, "--out", out);
        CHECK(rc == 1);
        CHECK(msg && strstr(msg, "which is not a task of model") != NULL);
        CHECK(msg && strstr(msg, "CLH_NO_TASK") == NULL);
        free(msg);
    }
    float mixed[15], same[15], one[15];
    const int64_t ids_mixed[3] = {0, 1, 0}, ids_same[3] = {0, 0, 0}, ids_one[1] = {0};
    write_batch(batch, ids_mixed, 3);
    CHECK(run_cli("predict", "--model", model, "--features", batch, "--out", out, NULL) == 0);
    CHECK(read_logits(out, mixed) == 5);
    write_batch(batch, ids_same, 3);
    CHECK(run_cli("predict", "--model", model, "--features", batch, "--out", out, NULL) == 0);
    CHECK(read_logits(out, same) == 5); /* main: [3, 2] */
    write_batch(batch, ids_one, 1);
    CHECK(run_cli("predict", "--model", model, "--features", batch, "--out", out, NULL) == 0);
    CHECK(read_logits(out, one) == 5);
    for (int j = 0; j < 5; j++) {
        CHECK(same[j] == mixed[j] && one[j] == mixed[j]);      /* row 0: task 0 in all three */
        CHECK(same[10 + j] == mixed[10 + j]);
    }
    CHECK(isinf(same[2]) && same[2] < 0 && isinf(same[4]) && isfinite(same[1]));
    CHECK(isfinite(mixed[5 + 4])); /* row 1 is task 1: all five */
}

/* F17 (options): seeds beyond INT64_MAX refused (main recorded
 * 18446744073709551615 as -1); the largest accepted seed is recorded as
 * given; a repeated option is an error; --version works for every
 * subcommand; numbers parse strictly; mkdir failures say why; a message
 * about a path near the length limit is never cut before its reason. */
static void f17_options(const char *base) {
    char dir[700];
    work_dir("f17", dir, sizeof dir);
    CHECK(run_cli("run", "--paradigm", "til", "--seed", "18446744073709551615", NULL) == 2);
    CHECK(run_cli("run", "--paradigm", "til", "--seed", "9223372036854775808", NULL) == 2);
    CHECK(run_cli("run", "--paradigm", "til", "--dataset", "synthetic", "--tasks", "1", "--epochs",
                  "0", "--seed", "9223372036854775807", "--quiet", "--out", dir, NULL) == 0);
    size_t len = 0;
    char *json = slurp(dir, "results.json", &len);
    CHECK(json && strstr(json, "\"seed\": 9223372036854775807") != NULL);
    free(json);
    clh_st_file *ck = NULL;
    char path[800];
    snprintf(path, sizeof path, "%s/checkpoint.safetensors", dir);
    CHECK_OK(clh_st_open(&ck, path));
    CHECK(ck && strcmp(clh_st_meta_get(ck, "run.seed"), "9223372036854775807") == 0);
    clh_st_free(ck);

    CHECK(run_cli("run", "--paradigm", "til", "--lr", "0.1", "--lr", "0.2", NULL) == 2);
    CHECK(run_cli("run", "--paradigm", "til", "--paradigm", "til", NULL) == 2);
    CHECK(run_cli("run", "--paradigm", "til", "--quiet", "--quiet", NULL) == 2);
    CHECK(run_cli("run", "--paradigm=til", "--out=a", "--out", "b", NULL) == 2);
    CHECK(run_cli("predict", "--model", "a", "--model", "b", "--features", "f", "--out", "o",
                  NULL) == 2);
    const char *subcommands[] = {"run", "inspect", "predict"};
    for (int i = 0; i < 3; i++) {
        char out[800];
        snprintf(out, sizeof out, "%s/version.txt", dir);
        capture c;
        capture_begin(&c, stdout, out);
        int rc = run_cli(subcommands[i], "--version", NULL);
        char *text = capture_end(&c);
        CHECK(rc == 0 && text && strncmp(text, "clheads " CLH_VERSION_STRING, 8 + strlen(CLH_VERSION_STRING)) == 0);
        free(text);
    }
    /* Strict numbers: no blanks, '+', hex, inf or nan, nothing past or below the
     * normal doubles; decimals as written. */
    const char *bad_reals[] = {" 0.1", "+0.1", "0x1p-3", "0.1 ", "1e", ".", "-", "inf", "nan",
                               "1,5", "", "0.1x", "1e-310", "1e-400", "1e400"};
    for (size_t i = 0; i < sizeof bad_reals / sizeof bad_reals[0]; i++) {
        double v;
        CHECK(cli_to_f64(bad_reals[i], 0, 10, &v) != 0);
        CHECK(run_cli("run", "--paradigm", "til", "--lr", bad_reals[i], NULL) == 2);
    }
    const char *good_reals[] = {"0.1", "1e-3", ".5", "5.", "2E+1", "0"};
    const double good_values[] = {0.1, 1e-3, 0.5, 5.0, 20.0, 0.0};
    for (size_t i = 0; i < 6; i++) {
        double v = -1;
        CHECK(cli_to_f64(good_reals[i], 0, 100, &v) == 0 && v == good_values[i]);
    }
    const char *bad_ints[] = {" 1", "+1", "0x10", "1 ", "1.0", "--1", ""};
    for (size_t i = 0; i < sizeof bad_ints / sizeof bad_ints[0]; i++) {
        int64_t v;
        uint64_t u;
        CHECK(cli_to_i64(bad_ints[i], -5, 100, &v) != 0);
        CHECK(cli_to_u64(bad_ints[i], &u) != 0);
        CHECK(run_cli("run", "--paradigm", "til", "--epochs", bad_ints[i], NULL) == 2);
    }
    int64_t v = 0;
    CHECK(cli_to_i64("-5", -5, 100, &v) == 0 && v == -5);

    /* "cannot create output directory X" says why. */
    char file[800], under[900];
    snprintf(file, sizeof file, "%s/plain_file", dir);
    CHECK(write_whole(file, "x", 1));
    snprintf(under, sizeof under, "%s/sub", file);
    int rc;
    char *msg = NULL;
    RUN_CAPTURED(msg, rc, dir, "run", "--paradigm", "til", "--dataset", "synthetic", "--tasks", "1", "--out", under, "--quiet");
    CHECK(rc == 1);
    CHECK(msg && strstr(msg, "cannot create output directory") != NULL &&
          strstr(msg, "Not a directory") != NULL);
    free(msg);

    /* A directory name just under the limit (components of 200 bytes): the
     * message of a failed write ends with its reason. */
    static char long_dir[CLI_MAX_DIR_LEN + 1];
    size_t n = (size_t)snprintf(long_dir, sizeof long_dir, "%s", base);
    while (n + 201 <= CLI_MAX_DIR_LEN) {
        long_dir[n++] = '/';
        memset(long_dir + n, 'L', 200);
        n += 200;
    }
    long_dir[n] = '\0';
    CHECK(cli_mkdir_p(long_dir) == 0);
    const char *old[] = {"checkpoint.safetensors", "results.json", "acc.csv", "acc_heatmap.svg",
                         "average_accuracy.svg"};
    for (int i = 0; i < 5; i++) { /* from an earlier run of this test */
        char file_path[CLI_MAX_DIR_LEN + 64];
        snprintf(file_path, sizeof file_path, "%s/%s", long_dir, old[i]);
        remove(file_path);
    }
    cli_test_fail_out_at(CLI_OUT_STEP_RENAME, 100);
    RUN_CAPTURED(msg, rc, dir, "run", "--paradigm", "til", "--dataset", "synthetic", "--tasks", "1", "--epochs", "0", "--out", long_dir, "--quiet");
    cli_test_fail_out_at(CLI_OUT_STEP_NONE, 0);
    CHECK(rc == 1);
    CHECK(msg && strstr(msg, "average_accuracy.svg: renaming the temporary file over it: "
                             "Input/output error (the previous file, if any, is unchanged)\n") != NULL);
    free(msg);
}

int main(void) {
    char dir[512];
    work_dir("fix-outputs", dir, sizeof dir);
    f03_atomic_reports(dir);
    f03_nonfinite_as_null(dir);
    f06_no_silent_takeover(dir);
    f10_escaped_output(dir);
    f17_predict(dir);
    f17_options(dir);
    return check_done("test_cli_fix_f03_f06_f10_f17_outputs");
}
