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

int main(void) {
    char dir[512];
    work_dir("predict", dir, sizeof dir);
    check_case("til", "til", NULL, dir);
    check_case("cil", "cil", NULL, dir);
    check_case("mtl", "mtl", NULL, dir);
    check_case("prefix", "cil", "heads.", dir);
    return check_done("test_cli_predict");
}
