/* The C side of the PyTorch round trip (scripts/torch_roundtrip.py runs it):
 * writes one clheads checkpoint per paradigm into <workdir>, and beside each
 * a <paradigm>_io.safetensors with the input features "x" and the logits
 * clheads computes ("logits.<task_id>" for TIL/MTL, "logits" otherwise), so
 * the script can load the checkpoint into the seed's heads and compare. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clheads.h"

#define IN 7
#define BATCH 3

static int fail(const char *what) {
    fprintf(stderr, "checkpoint_export: %s failed: %s\n", what, clh_last_error());
    return 0;
}

/* Moves every weight away from its initial value, so the file carries trained
 * rather than freshly initialised heads. */
static void perturb(clh_heads *heads) {
    float *params;
    size_t count;
    clh_heads_flat(heads, &params, NULL, &count);
    for (size_t i = 0; i < count; i++) params[i] += 0.01f * (float)((i * 37) % 11) - 0.05f;
}

static int export_one(const char *dir, clh_paradigm paradigm) {
    clh_heads *heads = NULL;
    if (clh_heads_create(&heads, paradigm, IN, 1234) != CLH_OK) return fail("create");
    int64_t ids[3] = {3, 1, 2}, classes[3] = {2, 3, 4};
    size_t n_tasks = 3;
    clh_status s = CLH_OK;
    switch (paradigm) {
    case CLH_TIL:
    case CLH_CIL:
        for (size_t i = 0; i < 3 && s == CLH_OK; i++) s = clh_heads_setup_task(heads, ids[i], classes[i]);
        if (s == CLH_OK) s = clh_heads_set_frozen(heads, 1, 1);
        break;
    case CLH_MTL:
        s = clh_heads_setup_tasks(heads, ids, classes, 3);
        break;
    default:
        s = clh_heads_setup_single(heads, 5);
        n_tasks = 1;
        break;
    }
    if (s != CLH_OK) return fail("set-up");
    perturb(heads);

    char path[4096];
    const char *name = clh_paradigm_name(paradigm);
    snprintf(path, sizeof path, "%s/%s.safetensors", dir, name);
    if (clh_heads_save(heads, path) != CLH_OK) return fail("save");

    float x[BATCH * IN];
    for (int i = 0; i < BATCH * IN; i++) x[i] = (float)((i * 13) % 17) / 8.0f - 1.0f;
    float logits[3][BATCH * 16];
    char names[4][32];
    clh_st_tensor tensors[4];
    tensors[0] = (clh_st_tensor){"x", CLH_DT_F32, 2, {BATCH, IN}, x, sizeof x};
    size_t n = 1;
    int per_task = paradigm == CLH_TIL || paradigm == CLH_MTL;
    for (size_t t = 0; t < (per_task ? n_tasks : 1); t++) {
        int64_t task = per_task ? ids[t] : CLH_NO_TASK, width;
        if (clh_heads_logits_width(heads, task, &width) != CLH_OK ||
            clh_heads_forward(heads, x, BATCH, task, logits[t]) != CLH_OK)
            return fail("forward");
        if (per_task) snprintf(names[n], sizeof names[n], "logits.%lld", (long long)task);
        else snprintf(names[n], sizeof names[n], "logits");
        tensors[n] = (clh_st_tensor){names[n], CLH_DT_F32, 2, {BATCH, width}, logits[t],
                                     (size_t)(BATCH * width) * sizeof(float)};
        n++;
    }
    snprintf(path, sizeof path, "%s/%s_io.safetensors", dir, name);
    if (clh_st_save(path, tensors, n, NULL, 0) != CLH_OK) return fail("save io");
    clh_heads_free(heads);
    return 1;
}

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: checkpoint_export <workdir>\n");
        return EXIT_FAILURE;
    }
    for (int p = CLH_TIL; p <= CLH_STL; p++)
        if (!export_one(argv[1], (clh_paradigm)p)) return EXIT_FAILURE;
    printf("checkpoint_export: wrote 5 checkpoints to %s\n", argv[1]);
    return EXIT_SUCCESS;
}
