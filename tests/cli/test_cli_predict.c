/* `clheads predict` on model files written by PyTorch (the seed's heads with
 * PyTorch's own initialisation, no clheads metadata; made by
 * scripts/gen_cli_reference.py): the logits equal PyTorch's within 1e-5.
 * Cases: TIL (tasks set up 3, 1, 2; the seed's head_t alias in the file),
 * CIL, an MTL mixed batch, and a whole model's state dict read with --prefix. */
#include <string.h>

#include "check.h"
#include "clheads/safetensors.h"
#include "test_cli_util.h"

static void check_case(const char *name, const char *paradigm, const char *prefix,
                       const char *dir) {
    char model[512], features[512], expected[512], out[600];
    snprintf(model, sizeof model, "%s/cli/predict_%s_model.safetensors", CLH_TEST_DATA_DIR, name);
    snprintf(features, sizeof features, "%s/cli/predict_%s_features.safetensors",
             CLH_TEST_DATA_DIR, name);
    snprintf(expected, sizeof expected, "%s/cli/predict_%s_expected.safetensors",
             CLH_TEST_DATA_DIR, name);
    snprintf(out, sizeof out, "%s/logits_%s.safetensors", dir, name);
    remove(out);
    CHECK(run_cli("predict", "--model", model, "--features", features, "--out", out,
                  "--paradigm", paradigm, prefix ? "--prefix" : NULL, prefix, NULL) == 0);
    clh_st_file *got = NULL, *want = NULL;
    CHECK_OK(clh_st_open(&got, out));
    CHECK_OK(clh_st_open(&want, expected));
    if (!got || !want) {
        clh_st_free(got);
        clh_st_free(want);
        return;
    }
    const clh_st_tensor *g = clh_st_find(got, "logits"), *w = clh_st_find(want, "logits");
    CHECK(g && w);
    if (g && w) {
        CHECK(g->dtype == CLH_DT_F32 && g->ndim == 2);
        CHECK(g->shape[0] == w->shape[0] && g->shape[1] == w->shape[1]);
        if (g->shape[0] == w->shape[0] && g->shape[1] == w->shape[1]) {
            const float *a = g->data, *b = w->data;
            size_t n = clh_st_numel(g);
            double scale = check_max_abs(b, n);
            for (size_t i = 0; i < n; i++) CHECK_CLOSE(a[i], b[i], 1e-5, scale > 1 ? scale : 1);
        }
    }
    clh_st_free(got);
    clh_st_free(want);
}

/* Writes a features file: 'feature' F32 [batch, 12], a 1-byte tensor 'pad'
 * (so that 'task_ids' starts at an odd offset: a reader must not assume
 * alignment), and 'task_ids' I64 [n_ids]. */
static void write_features(const char *path, int64_t batch, const int64_t *ids, int64_t n_ids) {
    float feature[4 * 12];
    for (int i = 0; i < 4 * 12; i++) feature[i] = (float)(i % 5) - 2.0f;
    unsigned char pad = 0;
    clh_st_tensor t[3];
    memset(t, 0, sizeof t);
    t[0] = (clh_st_tensor){.name = "feature", .dtype = CLH_DT_F32, .ndim = 2, .shape = {batch, 12},
                           .data = feature, .nbytes = (size_t)batch * 12 * sizeof(float)};
    t[1] = (clh_st_tensor){.name = "pad", .dtype = CLH_DT_U8, .ndim = 1, .shape = {1},
                           .data = &pad, .nbytes = 1};
    t[2] = (clh_st_tensor){.name = "task_ids", .dtype = CLH_DT_I64, .ndim = 1, .shape = {n_ids},
                           .data = ids, .nbytes = (size_t)n_ids * sizeof(int64_t)};
    CHECK_OK(clh_st_save(path, t, 3, NULL, 0));
}

/* The shape of 'logits' in a predict output, or -1s when unreadable. */
static void logits_shape(const char *path, int64_t *rows, int64_t *cols) {
    clh_st_file *file = NULL;
    *rows = *cols = -1;
    if (clh_st_open(&file, path) != CLH_OK) return;
    const clh_st_tensor *t = clh_st_find(file, "logits");
    if (t && t->dtype == CLH_DT_F32 && t->ndim == 2) {
        *rows = t->shape[0];
        *cols = t->shape[1];
    }
    clh_st_free(file);
}

/* `clheads predict` of a model with a paradigm, into a fresh out file. */
static int predict(const char *model, const char *paradigm, const char *features,
                   const char *out) {
    remove(out);
    return run_cli("predict", "--model", model, "--features", features, "--out", out,
                   "--paradigm", paradigm, NULL);
}

/* Task ids at an unaligned offset, and empty batches with empty ids. */
static void check_task_ids(const char *dir) {
    char til[512], mtl[512], features[600], out[600];
    snprintf(til, sizeof til, "%s/cli/predict_til_model.safetensors", CLH_TEST_DATA_DIR);
    snprintf(mtl, sizeof mtl, "%s/cli/predict_mtl_model.safetensors", CLH_TEST_DATA_DIR);
    snprintf(features, sizeof features, "%s/ids.safetensors", dir);
    snprintf(out, sizeof out, "%s/ids_logits.safetensors", dir);
    int64_t rows, cols;

    /* [B] ids, all equal, unaligned: TIL task 2 has 4 classes. */
    const int64_t same[3] = {2, 2, 2};
    write_features(features, 3, same, 3);
    CHECK(predict(til, "til", features, out) == 0);
    logits_shape(out, &rows, &cols);
    CHECK(rows == 3 && cols == 4);

    /* Mixed ids: TIL refuses them, MTL pads to its widest head (3). */
    const int64_t mixed[3] = {2, 0, 1};
    write_features(features, 3, mixed, 3);
    CHECK(predict(til, "til", features, out) == 1);
    CHECK(predict(mtl, "mtl", features, out) == 0);
    logits_shape(out, &rows, &cols);
    CHECK(rows == 3 && cols == 3);

    /* An empty batch with empty ids: no task for TIL (a failure, not a read
     * past the ids), an empty mixed batch for MTL. */
    write_features(features, 0, NULL, 0);
    CHECK(predict(til, "til", features, out) == 1);
    CHECK(predict(mtl, "mtl", features, out) == 0);
    logits_shape(out, &rows, &cols);
    CHECK(rows == 0 && cols == 3);
}

int main(void) {
    char dir[512];
    work_dir("predict", dir, sizeof dir);
    check_case("til", "til", NULL, dir);
    check_case("cil", "cil", NULL, dir);
    check_case("mtl", "mtl", NULL, dir);
    check_case("prefix", "cil", "heads.", dir);
    check_task_ids(dir);
    return check_done("test_cli_predict");
}
