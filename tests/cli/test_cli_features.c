#define _POSIX_C_SOURCE 200809L /* fileno */
/* `clheads run --dataset features` and the analytic methods through the tool.
 *
 * tests/data/features/ holds features a PyTorch backbone exported and the
 * float64 numpy reference of what ridge, NCM and streaming LDA predict from
 * them after each task in CIL, TIL and DIL (scripts/gen_features_reference.py).
 * Asserted: the tool's accuracy matrix equals the reference's, the heads it
 * checkpoints predict the reference's classes on every test sample, `predict`
 * serves a ridge model on an expansion with the reference's logits, fine-tuning
 * the heads alone runs on features, bad features files and bad options fail
 * with the tool's exit codes and a message naming the problem, and an
 * interrupted run resumed gives byte-identical results.json. */
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "refdata.h"
#include "test_cli_capture.h"
#include "test_cli_util.h"

#define TASKS 3
#define TEST_SAMPLES 90
#define TRAIN_SAMPLES 180
#define WIDTH 8

static char train_path[1024], test_path[1024];
static refdata *ref;

/* The accuracy matrix of DIR/results.json, row-major [TASKS, TASKS], NaN for null. */
static int read_accuracy_rows(const char *dir, double *acc, size_t want_rows) {
    char path[600];
    snprintf(path, sizeof path, "%s/results.json", dir);
    json_error_t error;
    json_t *root = json_load_file(path, 0, &error);
    if (!root) return 1;
    json_t *rows = json_object_get(root, "accuracy");
    int rc = json_array_size(rows) == want_rows ? 0 : 1;
    for (size_t r = 0; !rc && r < want_rows; r++) {
        json_t *row = json_array_get(rows, r);
        for (size_t c = 0; c < TASKS; c++) {
            json_t *v = json_array_get(row, c);
            acc[r * TASKS + c] = json_is_number(v) ? json_number_value(v) : NAN;
        }
    }
    json_decref(root);
    return rc;
}

static int read_accuracy(const char *dir, double *acc) {
    return read_accuracy_rows(dir, acc, TASKS);
}

/* The joint references solve once on all tasks: MTL equals TIL's last row
 * (each head its task's classes, one shared matrix), STL CIL's. */
static void test_joint(const char *method) {
    static const char *const joint[2] = {"mtl", "stl"}, *const seq[2] = {"til", "cil"};
    for (int k = 0; k < 2; k++) {
        char dir[512], sub[64];
        snprintf(sub, sizeof sub, "joint_%s_%s", method, joint[k]);
        work_dir(sub, dir, sizeof dir);
        CHECK(run_cli("run", "--method", method, "--paradigm", joint[k], "--dataset", "features",
                      "--train", train_path, "--test", test_path, "--expansion", "0", "--out",
                      dir, "--quiet", strcmp(method, "slda") == 0 ? "--lda-shrinkage=0.01"
                                                                  : "--seed=1", NULL) ==
              CLI_EXIT_OK);
        double acc[TASKS];
        CHECK(read_accuracy_rows(dir, acc, 1) == 0);
        const float *want = refdata_f32(ref, NULL, "%s.%s.acc", method, seq[k]);
        for (int t = 0; want && t < TASKS; t++)
            CHECK_CLOSE(acc[t], want[(TASKS - 1) * TASKS + t], 1e-6, 1.0);
    }
}

/* The final predictions of the heads in DIR/checkpoint.safetensors on the
 * test features: global class (CIL), or the class within the sample's task
 * (TIL: its task's head; DIL: the one head). */
static int final_predictions(const char *dir, clh_paradigm p, const float *x, const int64_t *task,
                             int64_t *pred) {
    char path[600];
    snprintf(path, sizeof path, "%s/checkpoint.safetensors", dir);
    clh_heads *heads = NULL;
    clh_load_options options;
    clh_load_options_init(&options);
    options.ignore_unknown = 1;
    if (clh_heads_load(&heads, path, &options) != CLH_OK) return 1;
    int rc = 0;
    float logits[TASKS * 2];
    for (int64_t i = 0; i < TEST_SAMPLES && !rc; i++) {
        int64_t id = p == CLH_TIL ? task[i] : CLH_NO_TASK, width = 0;
        if (clh_heads_logits_width(heads, id, &width) != CLH_OK ||
            clh_heads_forward(heads, x + i * WIDTH, 1, id, logits) != CLH_OK)
            rc = 1;
        int64_t best = 0;
        for (int64_t j = 1; j < width; j++)
            if (logits[j] > logits[best]) best = j;
        pred[i] = best;
    }
    clh_heads_free(heads);
    return rc;
}

/* The test features and tasks, read back from the exported file. */
static float test_x[TEST_SAMPLES * WIDTH];
static int64_t test_task[TEST_SAMPLES];

static void load_test_features(void) {
    clh_st_file *f = NULL;
    CHECK_OK(clh_st_open(&f, test_path));
    if (!f) return;
    const clh_st_tensor *x = clh_st_find(f, "feature"), *t = clh_st_find(f, "task");
    CHECK(x && x->nbytes == sizeof test_x && t && t->nbytes == sizeof test_task);
    if (x && x->nbytes == sizeof test_x) memcpy(test_x, x->data, sizeof test_x);
    if (t && t->nbytes == sizeof test_task) memcpy(test_task, t->data, sizeof test_task);
    clh_st_free(f);
}

static void test_reference(const char *method, const char *paradigm, clh_paradigm p) {
    char dir[512], sub[64];
    snprintf(sub, sizeof sub, "ref_%s_%s", method, paradigm);
    work_dir(sub, dir, sizeof dir);
    /* The reference's λ and ε (ncm has no parameter: a harmless --seed). */
    const char *opt = strcmp(method, "ridge") == 0  ? "--ridge-lambda=1"
                      : strcmp(method, "slda") == 0 ? "--lda-shrinkage=0.01"
                                                    : "--seed=1";
    int rc = run_cli("run", "--method", method, "--paradigm", paradigm, "--dataset", "features",
                     "--train", train_path, "--test", test_path, "--expansion", "0", "--out", dir,
                     "--quiet", opt, NULL);
    CHECK(rc == CLI_EXIT_OK);
    if (rc != CLI_EXIT_OK) return;
    double acc[TASKS * TASKS];
    CHECK(read_accuracy(dir, acc) == 0);
    size_t n = 0;
    const float *want = refdata_f32(ref, &n, "%s.%s.acc", method, paradigm);
    CHECK(want && n == TASKS * TASKS);
    for (size_t i = 0; want && i < TASKS * TASKS; i++) {
        if (isnan(want[i])) {
            CHECK(isnan(acc[i]));
        } else {
            CHECK_CLOSE(acc[i], want[i], 1e-6, 1.0);
        }
    }
    const int64_t *pred = refdata_i64(ref, &n, "%s.%s.pred", method, paradigm);
    CHECK(pred && n == TASKS * TEST_SAMPLES);
    int64_t got[TEST_SAMPLES];
    CHECK(final_predictions(dir, p, test_x, test_task, got) == 0);
    int differ = 0;
    for (int64_t i = 0; pred && i < TEST_SAMPLES; i++)
        differ += got[i] != pred[(TASKS - 1) * TEST_SAMPLES + i];
    if (differ) fprintf(stderr, "%s %s: %d predictions differ from the reference\n", method,
                        paradigm, differ);
    CHECK(differ == 0);
}

/* Ridge on the expansion of width 32: `predict` expands the raw features as
 * the run did and gives the reference's logits. */
static void test_predict_expansion(void) {
    char dir[512], logits_path[600];
    work_dir("predict_expansion", dir, sizeof dir);
    CHECK(run_cli("run", "--method", "ridge", "--paradigm", "cil", "--dataset", "features",
                  "--train", train_path, "--test", test_path, "--expansion", "32", "--seed", "1",
                  "--out", dir, "--quiet", NULL) == CLI_EXIT_OK);
    char model[600];
    snprintf(model, sizeof model, "%s/checkpoint.safetensors", dir);
    snprintf(logits_path, sizeof logits_path, "%s/logits.safetensors", dir);
    CHECK(run_cli("predict", "--model", model, "--features", test_path, "--out", logits_path,
                  NULL) == CLI_EXIT_OK);
    clh_st_file *f = NULL;
    CHECK_OK(clh_st_open(&f, logits_path));
    if (!f) return;
    const clh_st_tensor *t = clh_st_find(f, "logits");
    size_t n = 0;
    const float *want = refdata_f32(ref, &n, "ridge.cil.expansion.logits");
    const int64_t *pred = refdata_i64(ref, NULL, "ridge.cil.expansion.pred");
    CHECK(t && t->dtype == CLH_DT_F32 && t->ndim == 2 && t->shape[0] == TEST_SAMPLES &&
          t->shape[1] == TASKS * 2 && want && pred && n == TEST_SAMPLES * TASKS * 2);
    if (t && want && pred && t->nbytes == n * sizeof(float)) {
        float *got = malloc(t->nbytes);
        memcpy(got, t->data, t->nbytes);
        double scale = check_max_abs(want, n);
        for (size_t i = 0; i < n; i++) CHECK_CLOSE(got[i], want[i], 1e-4, scale);
        for (int64_t i = 0; i < TEST_SAMPLES; i++) {
            int64_t best = 0;
            for (int64_t j = 1; j < TASKS * 2; j++)
                if (got[i * TASKS * 2 + j] > got[i * TASKS * 2 + best]) best = j;
            CHECK(best == pred[i]);
        }
        free(got);
    }
    clh_st_free(f);
    /* The expansion's inputs are the raw features: 32 columns are refused. */
    CHECK(run_cli("predict", "--model", model, "--features", model, "--out", logits_path, NULL) ==
          CLI_EXIT_FAIL);
}

/* Fine-tuning the heads alone (no backbone) on the features. */
static void test_finetune_features(void) {
    char dir[512];
    work_dir("finetune", dir, sizeof dir);
    CHECK(run_cli("run", "--paradigm", "til", "--dataset", "features", "--train", train_path,
                  "--test", test_path, "--epochs", "30", "--batch-size", "16", "--lr", "0.05",
                  "--out", dir, "--quiet", NULL) == CLI_EXIT_OK);
    double acc[TASKS * TASKS];
    CHECK(read_accuracy(dir, acc) == 0);
    /* TIL on these separable tasks: far above chance (0.5) after 30 epochs. */
    for (int t = 0; t < TASKS; t++) CHECK(acc[(TASKS - 1) * TASKS + t] > 0.7);
    char path[600];
    snprintf(path, sizeof path, "%s/checkpoint.safetensors", dir);
    clh_st_file *f = NULL;
    CHECK_OK(clh_st_open(&f, path));
    CHECK(f && !clh_st_find(f, "backbone.0.weight") && clh_st_find(f, "heads.0.weight"));
    const clh_st_tensor *w = f ? clh_st_find(f, "heads.0.weight") : NULL;
    CHECK(w && w->shape[1] == WIDTH);
    clh_st_free(f);
}

/* An interrupted run resumed equals the uninterrupted one, byte for byte. */
static void test_resume(const char *method, const char *paradigm, const char *dataset) {
    char full[512], part[512], sub[64];
    snprintf(sub, sizeof sub, "resume_full_%s_%s", method, paradigm);
    work_dir(sub, full, sizeof full);
    snprintf(sub, sizeof sub, "resume_part_%s_%s", method, paradigm);
    work_dir(sub, part, sizeof part);
    int features = strcmp(dataset, "features") == 0;
    const char *a = features ? "--train" : "--expansion", *av = features ? train_path : "64";
    const char *b = features ? "--test" : "--tasks", *bv = features ? test_path : "3";
    CHECK(run_cli("run", "--method", method, "--paradigm", paradigm, "--dataset", dataset, a, av,
                  b, bv, "--out", full, "--quiet", NULL) == CLI_EXIT_OK);
    CHECK(run_cli("run", "--method", method, "--paradigm", paradigm, "--dataset", dataset, a, av,
                  b, bv, "--out", part, "--quiet", "--stop-after", "1", NULL) == CLI_EXIT_OK);
    if (features)
        CHECK(run_cli("run", "--resume", part, "--train", train_path, "--test", test_path,
                      "--quiet", NULL) == CLI_EXIT_OK);
    else
        CHECK(run_cli("run", "--resume", part, "--quiet", NULL) == CLI_EXIT_OK);
    CHECK(same_file(full, part, "results.json"));
    CHECK(same_file(full, part, "acc.csv"));
    /* A method that differs from the checkpoint's is refused. */
    const char *other = strcmp(method, "slda") == 0 ? "ridge" : "slda";
    if (features)
        CHECK(run_cli("run", "--resume", part, "--method", other, "--quiet", a, av, b, bv,
                      NULL) == CLI_EXIT_FAIL);
    else
        CHECK(run_cli("run", "--resume", part, "--method", other, "--quiet", NULL) ==
              CLI_EXIT_FAIL);
}

/* Writes a features file; fields replace the good ones. */
static void write_features(const char *path, clh_dtype feature_dtype, const void *feature,
                           size_t feature_bytes, int64_t n, int64_t d, const int64_t *label,
                           const int64_t *task, size_t label_ndim, int64_t n_labels) {
    clh_st_tensor t[3];
    memset(t, 0, sizeof t);
    t[0].name = "feature", t[0].dtype = feature_dtype, t[0].ndim = 2, t[0].shape[0] = n,
    t[0].shape[1] = d, t[0].data = feature, t[0].nbytes = feature_bytes;
    t[1].name = "label", t[1].dtype = CLH_DT_I64, t[1].ndim = label_ndim,
    t[1].shape[0] = n_labels, t[1].shape[1] = 1, t[1].data = label,
    t[1].nbytes = (size_t)n_labels * sizeof(int64_t);
    t[2].name = "task", t[2].dtype = CLH_DT_I64, t[2].ndim = 1, t[2].shape[0] = n_labels,
    t[2].data = task, t[2].nbytes = (size_t)n_labels * sizeof(int64_t);
    CHECK_OK(clh_st_save(path, t, 3, NULL, 0));
}

/* Runs ridge CIL on (train, test) and expects exit 1 with `needle` in the message. */
static void expect_data_error(const char *train, const char *test, const char *needle) {
    char dir[512], log[600];
    work_dir("bad", dir, sizeof dir);
    snprintf(log, sizeof log, "%s/stderr.txt", dir);
    capture c;
    capture_begin(&c, stderr, log);
    int rc = run_cli("run", "--method", "ridge", "--paradigm", "cil", "--dataset", "features",
                     "--train", train, "--test", test, "--expansion", "0", "--out", dir, "--quiet",
                     NULL);
    char *msg = capture_end(&c);
    CHECK(rc == CLI_EXIT_FAIL);
    int found = msg && strstr(msg, needle) != NULL;
    if (!found) fprintf(stderr, "expected '%s' in: %s\n", needle, msg ? msg : "(nothing)");
    CHECK(found);
    free(msg);
}

static void test_bad_files(void) {
    char dir[512], bad[1100];
    work_dir("badfiles", dir, sizeof dir);
    snprintf(bad, sizeof bad, "%s/bad.safetensors", dir);
    enum { N = 6, D = 2 };
    float x[N * D] = {0, 1, 1, 0, 0.5f, 0.5f, 1, 1, 0, 0, 1, 0.5f};
    double x64[N * D] = {0};
    int64_t label[N] = {0, 1, 0, 1, 0, 1}, task[N] = {0, 0, 1, 1, 2, 2};
    /* The good file first: train = test runs. */
    write_features(bad, CLH_DT_F32, x, sizeof x, N, D, label, task, 1, N);
    CHECK(run_cli("run", "--method", "ncm", "--paradigm", "cil", "--dataset", "features",
                  "--train", bad, "--test", bad, "--expansion", "0", "--out", dir, "--quiet",
                  NULL) == CLI_EXIT_OK);
    char other[600];
    snprintf(other, sizeof other, "%s/other.safetensors", dir);
    write_features(other, CLH_DT_F32, x, sizeof x, N, D, label, task, 1, N);

    x[5] = NAN;
    write_features(bad, CLH_DT_F32, x, sizeof x, N, D, label, task, 1, N);
    expect_data_error(bad, other, "feature[2, 1] is not finite");
    expect_data_error(other, bad, "feature[2, 1] is not finite");
    x[5] = 0.5f;
    label[3] = 2; /* test label out of range of task 1's two classes */
    write_features(bad, CLH_DT_F32, x, sizeof x, N, D, label, task, 1, N);
    expect_data_error(other, bad, "label[3] is 2, out of range for task 1");
    /* In the training file it makes task 1 three classes, one without samples. */
    expect_data_error(bad, other, "no training sample of class 1");
    label[3] = -1;
    write_features(bad, CLH_DT_F32, x, sizeof x, N, D, label, task, 1, N);
    expect_data_error(bad, other, "label[3] is -1");
    label[3] = 1;
    task[2] = task[3] = 3; /* tasks 0, 3, 2: task 1 missing */
    write_features(bad, CLH_DT_F32, x, sizeof x, N, D, label, task, 1, N);
    expect_data_error(bad, other, "task 1 has no samples");
    expect_data_error(other, bad, "task[2] is 3");
    task[2] = task[3] = 1;
    write_features(bad, CLH_DT_F64, x64, sizeof x64, N, D, label, task, 1, N);
    expect_data_error(bad, other, "tensor 'feature' is F64, expected F32");
    write_features(bad, CLH_DT_F32, x, sizeof x, N, D, label, task, 2, N);
    expect_data_error(bad, other, "tensor 'label' has rank 2, expected 1");
    write_features(bad, CLH_DT_F32, x, sizeof x / 2, N / 2, D, label, task, 1, N);
    expect_data_error(other, bad, "must have one entry per row");
    write_features(bad, CLH_DT_F32, x, sizeof x, N / 2, 2 * D, label, task, 1, N / 2);
    expect_data_error(other, bad, "has 4 features per sample");
    expect_data_error(other, "/nonexistent/features.safetensors", "cannot read the test features");
}

static void test_option_errors(void) {
    char dir[512];
    work_dir("options", dir, sizeof dir);
    const char *f[] = {"--dataset", "features", "--train", train_path, "--test", test_path};
#define USAGE(...) CHECK(run_cli("run", "--paradigm", "cil", "--out", dir, "--quiet", __VA_ARGS__, \
                                 NULL) == CLI_EXIT_USAGE)
    USAGE("--method", "bogus");
    USAGE("--method", "ncm", "--ridge-lambda", "1");
    USAGE("--method", "ridge", "--lda-shrinkage", "0.1");
    USAGE("--method", "ridge", "--ncm-normalize");
    USAGE("--method", "ridge", "--lr", "0.1");
    USAGE("--method", "slda", "--epochs", "2");
    USAGE("--method", "ncm", "--stats-precision", "f32");
    USAGE("--method", "ridge", "--stats-precision", "f16");
    USAGE("--method", "ridge", "--ridge-lambda", "-1");
    USAGE("--method", "ridge", "--expansion", "-3");
    USAGE("--method", "ridge", "--expansion", "70000");
    USAGE("--method", "slda", "--lda-shrinkage", "1.5");
    USAGE("--expansion", "64");
    USAGE("--method", "ridge", "--method", "ncm");
    USAGE(f[0], f[1], f[2], f[3]);                 /* no --test */
    USAGE("--train", train_path, "--test", test_path); /* not --dataset features */
    USAGE(f[0], f[1], f[2], f[3], f[4], f[5], "--pad32");
    USAGE(f[0], f[1], f[2], f[3], f[4], f[5], "--freeze-backbone");
    USAGE(f[0], f[1], f[2], f[3], f[4], f[5], "--data", "x");
#undef USAGE
}

int main(void) {
    snprintf(train_path, sizeof train_path, "%s/features/train.safetensors", CLH_TEST_DATA_DIR);
    snprintf(test_path, sizeof test_path, "%s/features/test.safetensors", CLH_TEST_DATA_DIR);
    ref = refdata_load_test_file("features/reference.bin");
    CHECK(ref != NULL);
    if (!ref) return check_done("test_cli_features");
    load_test_features();
    static const char *const methods[] = {"ridge", "ncm", "slda"};
    for (int m = 0; m < 3; m++) {
        test_reference(methods[m], "cil", CLH_CIL);
        test_reference(methods[m], "til", CLH_TIL);
        test_reference(methods[m], "dil", CLH_DIL);
    }
    test_joint("ridge");
    test_joint("ncm");
    test_joint("slda");
    test_predict_expansion();
    test_finetune_features();
    test_resume("ridge", "cil", "features");
    test_resume("slda", "til", "features");
    test_resume("ncm", "dil", "features");
    test_resume("ridge", "cil", "synthetic");
    test_bad_files();
    test_option_errors();
    refdata_free(ref);
    return check_done("test_cli_features");
}
