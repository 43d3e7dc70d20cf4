/* SGD's update, operation for operation as torch 1.13's _single_tensor_sgd.
 * Scalars are rounded to float before use, as ATen does for a float32 tensor
 * op with a Python-number argument. */
#include "train/optim_internal.h"

void clh_optim_sgd_update(const clh_optim_config *config, float *params, const float *grads,
                          float *momentum_buffer, size_t n, int64_t step) {
    const float weight_decay = (float)config->weight_decay;
    const float momentum = (float)config->momentum;
    const float keep = (float)(1.0 - config->dampening); /* alpha = 1 - dampening */
    const float neg_lr = (float)(-config->lr);
    const int use_decay = config->weight_decay != 0.0;
    const int use_momentum = config->momentum != 0.0;
    for (size_t i = 0; i < n; i++) {
        float d = grads[i];
        if (use_decay) d = d + weight_decay * params[i]; /* d_p.add(param, alpha=wd) */
        if (use_momentum) {
            float buf;
            if (step == 1) {
                buf = d; /* torch.clone(d_p): the buffer starts as the first gradient */
            } else {
                buf = momentum_buffer[i] * momentum; /* buf.mul_(momentum) */
                buf = buf + keep * d;                /* .add_(d_p, alpha=1-dampening) */
            }
            momentum_buffer[i] = buf;
            d = config->nesterov ? d + momentum * buf : buf;
        }
        params[i] = params[i] + neg_lr * d; /* param.add_(d_p, alpha=-lr) */
    }
}
