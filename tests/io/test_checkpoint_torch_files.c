/* Round trip 2: files written from PyTorch (the seed's heads' state dicts, no
 * clheads metadata; tests/data/checkpoint/, scripts/gen_checkpoint_reference.py)
 * load in clheads when the paradigm is named, and give PyTorch's logits.
 * Covers F32, F16, BF16, F64, TIL's head_t alias and a whole-model prefix. */
#include "refdata.h"
#include "test_checkpoint_util.h"

static refdata *ref;

static clh_heads *load(const char *file, clh_paradigm paradigm, const char *prefix) {
    char path[1024];
    snprintf(path, sizeof path, "%s/checkpoint/%s", CLH_TEST_DATA_DIR, file);
    clh_load_options options;
    clh_load_options_init(&options);
    options.paradigm = (int)paradigm;
    options.prefix = prefix;
    clh_heads *heads = NULL;
    CHECK_OK(clh_heads_load(&heads, path, &options));
    return heads;
}

/* Compares clheads' logits for task (or CLH_NO_TASK) with the reference. */
static void check_logits(const clh_heads *heads, int64_t task, const char *ref_name) {
    size_t nx = 0, nl = 0;
    const float *x = refdata_f32(ref, &nx, "x");
    const float *want = refdata_f32(ref, &nl, "%s", ref_name);
    CHECK(x && want);
    if (!heads || !x || !want) return;
    int64_t batch = (int64_t)(nx / (size_t)clh_heads_in_features(heads)), width = 0;
    CHECK_OK(clh_heads_logits_width(heads, task, &width));
    CHECK((size_t)(batch * width) == nl);
    if ((size_t)(batch * width) != nl) return;
    float got[256];
    CHECK_OK(clh_heads_forward(heads, x, batch, task, got));
    double scale = check_max_abs(want, nl) > 1 ? check_max_abs(want, nl) : 1;
    for (size_t i = 0; i < nl; i++) CHECK_CLOSE(got[i], want[i], 1e-5, scale);
}

static void check_tasks(const clh_heads *heads, const int64_t *ids, size_t n) {
    CHECK(heads && clh_heads_num_tasks(heads) == n);
    if (!heads || clh_heads_num_tasks(heads) != n) return;
    for (size_t i = 0; i < n; i++) CHECK(clh_heads_task_ids(heads)[i] == ids[i]);
}

int main(void) {
    ref = refdata_load_test_file("checkpoint/reference.bin");
    CHECK(ref != NULL);
    if (!ref) return check_done("test_checkpoint_torch_files");
    char name[64];

    /* TIL, F32, tasks set up 3, 1, 2 in PyTorch: without metadata the order
     * is ascending id. The head_t alias (a copy of task 2) is skipped. */
    clh_heads *til = load("torch_til_f32.safetensors", CLH_TIL, NULL);
    static const int64_t ascending3[] = {1, 2, 3};
    check_tasks(til, ascending3, 3);
    for (int64_t t = 1; t <= 3; t++) {
        snprintf(name, sizeof name, "logits_til_f32_%lld", (long long)t);
        check_logits(til, t, name);
    }
    clh_heads_free(til);

    /* CIL stored as F16: logits concatenated in ascending task id. */
    clh_heads *cil = load("torch_cil_f16.safetensors", CLH_CIL, NULL);
    static const int64_t cil_ids[] = {0, 1, 2};
    check_tasks(cil, cil_ids, 3);
    check_logits(cil, CLH_NO_TASK, "logits_cil_f16");
    clh_heads_free(cil);

    /* MTL stored as BF16. */
    clh_heads *mtl = load("torch_mtl_bf16.safetensors", CLH_MTL, NULL);
    static const int64_t mtl_ids[] = {1, 5};
    check_tasks(mtl, mtl_ids, 2);
    check_logits(mtl, 5, "logits_mtl_bf16_5");
    check_logits(mtl, 1, "logits_mtl_bf16_1");
    clh_heads_free(mtl);

    /* DIL stored as F64, STL as F32. */
    clh_heads *dil = load("torch_dil_f64.safetensors", CLH_DIL, NULL);
    check_logits(dil, CLH_NO_TASK, "logits_dil_f64");
    clh_heads_free(dil);
    clh_heads *stl = load("torch_stl_f32.safetensors", CLH_STL, NULL);
    check_logits(stl, CLH_NO_TASK, "logits_stl_f32");
    clh_heads_free(stl);

    /* A whole model's state dict: the heads live under "heads." (so TIL's
     * own keys read "heads.heads.4.weight"); the backbone is ignored. */
    clh_heads *model = load("torch_model_prefix.safetensors", CLH_TIL, "heads.");
    static const int64_t model_ids[] = {4, 7};
    check_tasks(model, model_ids, 2);
    check_logits(model, 4, "logits_model_prefix_4");
    check_logits(model, 7, "logits_model_prefix_7");
    clh_heads_free(model);

    /* Without the prefix the backbone is an unknown key; with the prefix on a
     * plain heads file, "heads.3.weight" becomes "3.weight": both named. */
    char path[1024];
    clh_load_options options;
    clh_load_options_init(&options);
    options.paradigm = CLH_TIL;
    clh_heads *none = NULL;
    snprintf(path, sizeof path, "%s/checkpoint/torch_model_prefix.safetensors", CLH_TEST_DATA_DIR);
    CHECK_STATUS(clh_heads_load(&none, path, &options), CLH_E_MISMATCH);
    CHECK_DETAIL("tensor 'backbone.weight' is not a TIL head tensor");
    options.prefix = "heads.";
    snprintf(path, sizeof path, "%s/checkpoint/torch_til_f32.safetensors", CLH_TEST_DATA_DIR);
    CHECK_STATUS(clh_heads_load(&none, path, &options), CLH_E_MISMATCH);
    CHECK_DETAIL("tensor 'heads.3.weight' is not a TIL head tensor (expected heads.heads.<task_id>");
    options.prefix = "nothing.";
    options.ignore_unknown = 1;
    CHECK_STATUS(clh_heads_load(&none, path, &options), CLH_E_MISMATCH);
    CHECK_DETAIL("no head tensors found under the prefix 'nothing.'");
    /* The CIL file read as DIL: its keys are not DIL's. */
    snprintf(path, sizeof path, "%s/checkpoint/torch_cil_f16.safetensors", CLH_TEST_DATA_DIR);
    options.prefix = NULL;
    options.ignore_unknown = 0;
    options.paradigm = CLH_DIL;
    CHECK_STATUS(clh_heads_load(&none, path, &options), CLH_E_MISMATCH);
    CHECK_DETAIL("is not a DIL head tensor (expected head.weight / head.bias)");
    CHECK(none == NULL);

    refdata_free(ref);
    return check_done("test_checkpoint_torch_files");
}
