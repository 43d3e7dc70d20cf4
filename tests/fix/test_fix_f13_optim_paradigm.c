/* Finding 13: an optimizer bound to one handle's layout refuses heads of
 * another paradigm (same tasks and shapes, TIL then CIL), of another
 * in_features, or with other tasks, and leaves their parameters alone. */
#include <string.h>

#include "check.h"

static clh_heads *heads_with_grad(clh_paradigm p, int64_t in, int64_t task, int64_t classes) {
    clh_heads *h = NULL;
    CHECK_OK(clh_heads_create(&h, p, in, 1));
    CHECK_OK(clh_heads_setup_task(h, task, classes));
    float x[4] = {1, 2, 3, 4}, dlogits[3] = {0.5f, -0.5f, 0.25f};
    CHECK_OK(clh_heads_backward(h, x, 1, p == CLH_CIL ? CLH_NO_TASK : task, dlogits, NULL));
    return h;
}

/* A step that must fail with CLH_E_MISMATCH naming `word`, changing nothing. */
static void refused(clh_optim *optim, clh_heads *h, const char *word) {
    const float *params;
    size_t count;
    clh_heads_flat_const(h, &params, NULL, &count);
    float before[16];
    memcpy(before, params, count * sizeof *params);
    CHECK_STATUS(clh_optim_step_heads(optim, h), CLH_E_MISMATCH);
    CHECK(strstr(clh_last_error(), word) != NULL);
    CHECK(memcmp(before, params, count * sizeof *params) == 0);
}

int main(void) {
    clh_optim_config config;
    clh_optim_config_init(&config, CLH_OPTIM_ADAM, 0.1);
    clh_optim *optim = NULL;
    CHECK_OK(clh_optim_create(&optim, &config));
    clh_heads *til = heads_with_grad(CLH_TIL, 3, 0, 2);
    CHECK_OK(clh_optim_step_heads(optim, til));
    clh_heads *cil = heads_with_grad(CLH_CIL, 3, 0, 2);
    refused(optim, cil, "CIL");
    clh_heads *wider = heads_with_grad(CLH_TIL, 4, 0, 2);
    refused(optim, wider, "in_features");
    clh_heads *other_task = heads_with_grad(CLH_TIL, 3, 5, 2);
    refused(optim, other_task, "id 5");
    clh_heads *other_classes = heads_with_grad(CLH_TIL, 3, 0, 3);
    refused(optim, other_classes, "3 classes");
    CHECK_OK(clh_optim_step_heads(optim, til)); /* its own heads still step */
    clh_heads_free(til);
    clh_heads_free(cil);
    clh_heads_free(wider);
    clh_heads_free(other_task);
    clh_heads_free(other_classes);
    clh_optim_free(optim);
    return check_done("test_fix_f13_optim_paradigm");
}
