/* Adam's and AdamW's update, operation for operation as torch 1.13's
 * _single_tensor_adam / _single_tensor_adamw (capturable off): bias
 * corrections in double (Python floats), tensor arithmetic in float with the
 * scalars rounded to float, as ATen does. */
#include <math.h>

#include "train/optim_internal.h"

void clh_optim_adam_update(const clh_optim_config *config, float *params, const float *grads,
                           float *exp_avg, float *exp_avg_sq, float *max_exp_avg_sq, size_t n,
                           int64_t step) {
    const int decoupled = config->kind == CLH_OPTIM_ADAMW;
    const double t = (double)step;
    const double bias_correction1 = 1.0 - pow(config->beta1, t);
    const double bias_correction2 = 1.0 - pow(config->beta2, t);
    const double step_size = config->lr / bias_correction1;
    const float bias_correction2_sqrt = (float)sqrt(bias_correction2);
    const float neg_step_size = (float)(-step_size);
    const float beta1 = (float)config->beta1, beta2 = (float)config->beta2;
    const float one_minus_beta1 = (float)(1.0 - config->beta1);
    const float one_minus_beta2 = (float)(1.0 - config->beta2);
    const float eps = (float)config->eps;
    const float weight_decay = (float)config->weight_decay;
    const float decay_factor = (float)(1.0 - config->lr * config->weight_decay); /* AdamW */
    const int l2 = !decoupled && config->weight_decay != 0.0;

    for (size_t i = 0; i < n; i++) {
        float g = grads[i];
        float p = params[i];
        if (decoupled) p = p * decay_factor;  /* param.mul_(1 - lr*wd) */
        else if (l2) g = g + weight_decay * p; /* grad.add(param, alpha=wd) */
        float m = exp_avg[i] * beta1;         /* exp_avg.mul_(beta1) */
        m = m + one_minus_beta1 * g;          /* .add_(grad, alpha=1-beta1) */
        float v = exp_avg_sq[i] * beta2;      /* exp_avg_sq.mul_(beta2) */
        v = v + one_minus_beta2 * g * g;      /* .addcmul_(grad, grad, value=1-beta2) */
        exp_avg[i] = m;
        exp_avg_sq[i] = v;
        float second = v;
        if (config->amsgrad) {
            float vmax = max_exp_avg_sq[i];
            if (v > vmax || isnan(v)) vmax = v; /* torch.maximum (NaN propagates) */
            max_exp_avg_sq[i] = vmax;
            second = vmax;
        }
        float denom = sqrtf(second) / bias_correction2_sqrt + eps; /* (sqrt / bc2_sqrt).add_(eps) */
        params[i] = p + neg_step_size * m / denom; /* addcdiv_(exp_avg, denom, value=-step_size) */
    }
}
