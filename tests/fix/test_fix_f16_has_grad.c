/* Finding 16: which heads have had a gradient (the heads an optimizer steps)
 * is recorded in the heads checkpoint (metadata grad_task_ids) and restored
 * by clh_heads_load and clh_heads_load_into, so a library user resumes
 * exactly: AdamW's decoupled decay moves exactly the heads with a gradient,
 * before and after a save/load. */
#include <string.h>
#include <unistd.h>

#include "check.h"

static char path[256];

/* One AdamW step with weight decay on zero gradients: only heads whose
 * has_grad flag is set move. Returns which of the three moved (bits). */
static int moved_heads(clh_heads *h) {
    clh_heads_zero_grad(h);
    const float *params;
    size_t count;
    clh_heads_flat_const(h, &params, NULL, &count);
    float before[64];
    memcpy(before, params, count * sizeof *params);
    clh_optim_config config;
    clh_optim_config_init(&config, CLH_OPTIM_ADAMW, 0.1);
    config.weight_decay = 0.5;
    clh_optim *optim = NULL;
    CHECK_OK(clh_optim_create(&optim, &config));
    CHECK_OK(clh_optim_step_heads(optim, h));
    clh_optim_free(optim);
    int moved = 0;
    for (size_t t = 0; t < 3; t++) {
        clh_head_view view;
        CHECK_OK(clh_heads_get_head(h, clh_heads_task_ids(h)[t], &view));
        size_t first = (size_t)(view.weight - params);
        if (memcmp(before + first, params + first, 2 * 3 * sizeof(float)) != 0) moved |= 1 << t;
    }
    return moved;
}

int main(void) {
    snprintf(path, sizeof path, "/tmp/clh_fix_f16_%ld.safetensors", (long)getpid());
    clh_heads *h = NULL;
    CHECK_OK(clh_heads_create(&h, CLH_TIL, 3, 1));
    for (int64_t t = 0; t < 3; t++) CHECK_OK(clh_heads_setup_task(h, 10 + t, 2));
    float x[3] = {1, 2, 3}, dlogits[2] = {0.5f, -0.5f};
    CHECK_OK(clh_heads_backward(h, x, 1, 11, dlogits, NULL));
    CHECK_OK(clh_heads_save(h, path));

    clh_st_file *file = NULL;
    CHECK_OK(clh_st_open(&file, path));
    const char *grad = clh_st_meta_get(file, "grad_task_ids");
    CHECK(grad && strcmp(grad, "11") == 0);
    clh_st_free(file);

    clh_heads *loaded = NULL;
    CHECK_OK(clh_heads_load(&loaded, path, NULL));
    CHECK(grad_at(loaded, 0) == 0 && grad_at(loaded, 1) == 1 && grad_at(loaded, 2) == 0);
    CHECK(moved_heads(loaded) == 2);
    CHECK(moved_heads(h) == 2); /* the handle that was saved, for comparison */

    clh_heads *into = NULL;
    CHECK_OK(clh_heads_create(&into, CLH_TIL, 3, 1));
    for (int64_t t = 0; t < 3; t++) CHECK_OK(clh_heads_setup_task(into, 10 + t, 2));
    CHECK_OK(set_grad_at(into, 0, 1));
    CHECK_OK(clh_heads_load_into(into, path, NULL));
    CHECK(grad_at(into, 0) == 0 && grad_at(into, 1) == 1);

    /* DIL's one head is task 0; a file naming a task without a head fails. */
    clh_heads *dil = NULL;
    CHECK_OK(clh_heads_create(&dil, CLH_DIL, 3, 1));
    CHECK_OK(clh_heads_setup_single(dil, 2));
    CHECK_OK(clh_heads_backward(dil, x, 1, CLH_NO_TASK, dlogits, NULL));
    CHECK_OK(clh_heads_save(dil, path));
    clh_heads *dil_loaded = NULL;
    CHECK_OK(clh_heads_load(&dil_loaded, path, NULL));
    CHECK(grad_at(dil_loaded, 0) == 1);

    clh_heads_free(h);
    clh_heads_free(loaded);
    clh_heads_free(into);
    clh_heads_free(dil);
    clh_heads_free(dil_loaded);
    unlink(path);
    return check_done("test_fix_f16_has_grad");
}
