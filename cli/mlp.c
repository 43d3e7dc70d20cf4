/* The MLP backbone (see mlp.h). */
#include "mlp.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "clheads.h"
#include "cli_rng.h"

int cli_mlp_init(cli_mlp *mlp, int64_t in, int64_t hidden, int64_t max_batch, uint64_t seed) {
    memset(mlp, 0, sizeof *mlp);
    mlp->in = in;
    mlp->hidden = hidden;
    mlp->max_batch = max_batch;
    size_t n1 = (size_t)(hidden * in), n2 = (size_t)(hidden * hidden), h = (size_t)hidden;
    mlp->count = n1 + h + n2 + h;
    mlp->params = malloc(mlp->count * sizeof(float));
    mlp->grads = calloc(mlp->count, sizeof(float));
    size_t act = (size_t)max_batch * h;
    mlp->h1 = malloc(act * sizeof(float));
    mlp->h2 = malloc(act * sizeof(float));
    mlp->dh1 = malloc(act * sizeof(float));
    if (!mlp->params || !mlp->grads || !mlp->h1 || !mlp->h2 || !mlp->dh1) {
        cli_mlp_free(mlp);
        return 1;
    }
    mlp->w1 = mlp->params;
    mlp->b1 = mlp->w1 + n1;
    mlp->w2 = mlp->b1 + h;
    mlp->b2 = mlp->w2 + n2;
    mlp->gw1 = mlp->grads;
    mlp->gb1 = mlp->gw1 + n1;
    mlp->gw2 = mlp->gb1 + h;
    mlp->gb2 = mlp->gw2 + n2;
    /* nn.Linear order per layer: weight then bias, drawn as the library draws a head's. */
    cli_rng rng = cli_rng_stream(seed, CLI_STREAM_BACKBONE);
    clh_rng_fill_uniform(&rng, mlp->w1, n1, 1.0 / sqrt((double)in));
    clh_rng_fill_uniform(&rng, mlp->b1, h, 1.0 / sqrt((double)in));
    clh_rng_fill_uniform(&rng, mlp->w2, n2, 1.0 / sqrt((double)hidden));
    clh_rng_fill_uniform(&rng, mlp->b2, h, 1.0 / sqrt((double)hidden));
    return 0;
}

void cli_mlp_free(cli_mlp *mlp) {
    if (!mlp) return;
    free(mlp->params);
    free(mlp->grads);
    free(mlp->h1);
    free(mlp->h2);
    free(mlp->dh1);
    memset(mlp, 0, sizeof *mlp);
}

static void relu(float *x, size_t n) {
    for (size_t i = 0; i < n; i++) x[i] = x[i] > 0.0f ? x[i] : 0.0f;
}

/* dx *= (activation > 0): the ReLU's backward from its output. */
static void relu_backward(float *d, const float *activation, size_t n) {
    for (size_t i = 0; i < n; i++) d[i] = activation[i] > 0.0f ? d[i] : 0.0f; /* no branch: vectorises */
}

const float *cli_mlp_forward(cli_mlp *mlp, const float *x, int64_t batch) {
    size_t n = (size_t)(batch * mlp->hidden);
    if (clh_linear_forward(mlp->h1, x, mlp->w1, mlp->b1, batch, mlp->in, mlp->hidden) != CLH_OK)
        return NULL;
    relu(mlp->h1, n);
    if (clh_linear_forward(mlp->h2, mlp->h1, mlp->w2, mlp->b2, batch, mlp->hidden, mlp->hidden) !=
        CLH_OK)
        return NULL;
    relu(mlp->h2, n);
    return mlp->h2;
}

int cli_mlp_backward(cli_mlp *mlp, const float *x, int64_t batch, float *dfeature) {
    size_t n = (size_t)(batch * mlp->hidden);
    relu_backward(dfeature, mlp->h2, n);
    if (clh_linear_backward(mlp->dh1, mlp->gw2, mlp->gb2, dfeature, mlp->h1, mlp->w2, batch,
                            mlp->hidden, mlp->hidden) != CLH_OK)
        return 1;
    relu_backward(mlp->dh1, mlp->h1, n);
    /* The input needs no gradient. */
    return clh_linear_backward(NULL, mlp->gw1, mlp->gb1, mlp->dh1, x, mlp->w1, batch, mlp->in,
                               mlp->hidden) != CLH_OK;
}

void cli_mlp_zero_grad(cli_mlp *mlp) {
    /* An absent backbone (--dataset features) has no gradient buffer. */
    if (mlp->count) memset(mlp->grads, 0, mlp->count * sizeof(float));
}
