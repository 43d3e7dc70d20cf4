/* The backbone of `clheads run`: an MLP in -> hidden -> hidden with ReLU after
 * each layer (PyTorch: Sequential(Linear, ReLU, Linear, ReLU)), built on the
 * library's clh_linear_forward/backward. Its output is the heads' feature.
 *
 * All parameters live in one flat buffer (W1 [h, in], b1 [h], W2 [h, h],
 * b2 [h]) and the gradients in another of the same layout, so zero-grad is a
 * memset and one optimizer step covers the whole backbone. Initialisation is
 * nn.Linear's distribution (uniform in +-1/sqrt(fan_in)) from a seeded stream. */
#ifndef CLI_MLP_H
#define CLI_MLP_H

#include <stddef.h>
#include <stdint.h>

typedef struct cli_mlp {
    int64_t in, hidden, max_batch;
    float *params, *grads; /* [count] each */
    size_t count;
    float *w1, *b1, *w2, *b2;    /* views into params */
    float *gw1, *gb1, *gw2, *gb2; /* views into grads */
    float *h1, *h2, *dh1;         /* activations [max_batch, hidden] */
} cli_mlp;

int cli_mlp_init(cli_mlp *mlp, int64_t in, int64_t hidden, int64_t max_batch, uint64_t seed);
void cli_mlp_free(cli_mlp *mlp);

/* feature = relu(W2 relu(W1 x + b1) + b2) for x [batch, in]; returns the
 * feature [batch, hidden] (owned by mlp, valid until the next forward), or
 * NULL when a linear layer fails (its detail in clh_last_error()). */
const float *cli_mlp_forward(cli_mlp *mlp, const float *x, int64_t batch);

/* Given d(feature) [batch, hidden] for the last forward's batch (modified in
 * place: the ReLU mask is applied), accumulates the parameter gradients. */
int cli_mlp_backward(cli_mlp *mlp, const float *x, int64_t batch, float *dfeature);

void cli_mlp_zero_grad(cli_mlp *mlp);

#endif
