/* Fix and Independent (CLArena's meanings; method.h): Fix trains the
 * backbone on the first task only and freezes it afterwards (the heads of
 * later tasks still train); Independent (TIL) gives every task a fresh
 * backbone and a fresh backbone optimizer, and tests each task with its own. */
#include <math.h>
#include <string.h>

#include "method_hooks.h"

/* Task `row`'s fresh backbone: nn.Linear's initialisation from a stream of
 * its own (task 1's is the run's initial backbone). */
static void fresh_backbone(cli_learner *l, int64_t row) {
    cli_mlp *mlp = &l->mlp;
    size_t n1 = (size_t)(mlp->hidden * mlp->in), n2 = (size_t)(mlp->hidden * mlp->hidden);
    size_t h = (size_t)mlp->hidden;
    cli_rng rng = cli_rng_stream(l->config->seed ^ ((uint64_t)row * 0x9E3779B97F4A7C15ull),
                                 CLI_STREAM_BACKBONE);
    clh_rng_fill_uniform(&rng, mlp->w1, n1, 1.0 / sqrt((double)mlp->in));
    clh_rng_fill_uniform(&rng, mlp->b1, h, 1.0 / sqrt((double)mlp->in));
    clh_rng_fill_uniform(&rng, mlp->w2, n2, 1.0 / sqrt((double)mlp->hidden));
    clh_rng_fill_uniform(&rng, mlp->b2, h, 1.0 / sqrt((double)mlp->hidden));
}

int cli_backbone_phase_begin(cli_learner *l, int64_t row, char *err, size_t err_len) {
    cli_method m = l->config->method;
    l->backbone_frozen = l->config->freeze_backbone || !cli_learner_has_backbone(l) ||
                         (m == CLI_METHOD_FIX && row > 0);
    if (m != CLI_METHOD_INDEPENDENT || row == 0) return 0;
    fresh_backbone(l, row);
    clh_optim *fresh = NULL;
    clh_status st = clh_optim_create(&fresh, &l->config->optim);
    if (st != CLH_OK) return cli_method_lib_fail(err, err_len, "creating the task's optimizer", st);
    clh_optim_free(l->opt_backbone);
    l->opt_backbone = fresh;
    return 0;
}

void cli_backbone_phase_end(cli_learner *l, int64_t row) {
    cli_method_state *ms = &l->ms;
    if (l->config->method != CLI_METHOD_INDEPENDENT) return;
    memcpy(ms->backbones + (size_t)row * ms->backbone, l->mlp.params, ms->backbone * sizeof(float));
    ms->backbones_done = row + 1;
}

void cli_backbone_select(cli_learner *l, int64_t tau, int64_t current) {
    cli_method_state *ms = &l->ms;
    if (l->config->method != CLI_METHOD_INDEPENDENT) return;
    int64_t which = tau < 0 ? current : tau;
    memcpy(l->mlp.params, ms->backbones + (size_t)which * ms->backbone,
           ms->backbone * sizeof(float));
}
