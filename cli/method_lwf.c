/* LwF (method.h), as van de Ven & Tolias 2018 (docs/methods.md): after each
 * task the model is copied; on the current task's inputs the copy's logits
 * are soft targets (temperature T, x T^2). The total of task t (1-based) is
 *   1/t * L_current + (1 - 1/t) * L_distill
 * with L_distill the mean over the old tasks' heads (TIL), the one head
 * (DIL), or all classes so far against the old classes padded with zeros
 * (CIL: the library's clh_lwf_loss with cols > old_cols). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "method_hooks.h"

double cli_lwf_current_weight(const cli_learner *l, int64_t row) {
    if (l->config->method != CLI_METHOD_LWF || l->ms.old_rows == 0) return 1.0;
    return 1.0 / (double)(row + 1);
}

int cli_lwf_snapshot(cli_learner *l, char *err, size_t err_len) {
    cli_method_state *ms = &l->ms;
    const float *hp;
    size_t hc;
    clh_heads_flat_const(l->heads, &hp, NULL, &hc);
    float *heads = malloc((hc ? hc : 1) * sizeof(float));
    if (!heads) {
        snprintf(err, err_len, "out of memory for LwF's old model");
        return 1;
    }
    memcpy(heads, hp, hc * sizeof(float));
    free(ms->old_heads);
    ms->old_heads = heads;
    ms->old_rows = clh_heads_total_classes(l->heads);
    memcpy(ms->old_backbone, l->mlp.params, ms->backbone * sizeof(float));
    return 0;
}

int cli_lwf_distill(cli_learner *l, const float *feature, int64_t batch, int64_t global,
                    int64_t row, float *dfeature, float *loss, char *err, size_t err_len) {
    cli_method_state *ms = &l->ms;
    if (l->config->method != CLI_METHOD_LWF || ms->old_rows == 0) return 0;
    clh_paradigm p = l->config->paradigm;
    cli_mlp *old = ms->old_mlp;
    const float *old_feature = cli_mlp_forward(old, l->x, batch);
    if (!old_feature) return cli_method_lib_fail(err, err_len, "LwF's old backbone", CLH_E_INVALID_ARG);
    int64_t h = ms->hidden, old_rows = ms->old_rows;
    const float *old_w = ms->old_heads, *old_b = ms->old_heads + old_rows * h;
    clh_lwf_options opt;
    clh_lwf_options_init(&opt);
    opt.temperature = l->config->mopt.temperature;
    /* TIL: one distillation per old head, averaged; else one over all. */
    int64_t terms = p == CLH_TIL ? row : 1;
    /* In a data-parallel run, this process's share of the global batch's
     * mean (the shares are summed with the gradients). */
    opt.weight = (1.0 - 1.0 / (double)(row + 1)) / (double)terms * ((double)batch / (double)global);
    for (int64_t tau = 0; tau < terms; tau++) {
        int64_t id = p == CLH_TIL ? tau : CLH_NO_TASK;
        int64_t first = p == CLH_TIL ? cli_method_head_row(l, tau) : 0;
        int64_t old_cols = p == CLH_TIL ? l->tasks->tasks[tau].num_classes : old_rows;
        int64_t cols = 0;
        clh_status st = clh_heads_logits_width(l->heads, id, &cols);
        if (st == CLH_OK) st = clh_heads_forward(l->heads, feature, batch, id, ms->old_logits);
        if (st != CLH_OK) return cli_method_lib_fail(err, err_len, "LwF's forward", st);
        /* The student's logits in old_logits' buffer, the teacher's in the
         * batch's d(logits), which the current loss's backward has used. */
        float *student = ms->old_logits;
        float *teacher = l->dlogits;
        st = clh_linear_forward(teacher, old_feature, old_w + first * h, old_b + first, batch, h,
                                old_cols);
        memset(ms->lwf_dlogits, 0, (size_t)(batch * cols) * sizeof(float));
        double value = 0.0;
        if (st == CLH_OK)
            st = clh_lwf_loss(&opt, student, (size_t)batch, (size_t)cols, (size_t)cols, teacher,
                              (size_t)old_cols, (size_t)old_cols, &value, ms->lwf_dlogits);
        if (st == CLH_OK)
            st = clh_heads_backward(l->heads, feature, batch, id, ms->lwf_dlogits,
                                    dfeature ? ms->lwf_dfeature : NULL);
        if (st != CLH_OK) return cli_method_lib_fail(err, err_len, "LwF's distillation", st);
        if (dfeature)
            for (int64_t i = 0; i < batch * h; i++) dfeature[i] += ms->lwf_dfeature[i];
        *loss += (float)value;
    }
    return 0;
}
