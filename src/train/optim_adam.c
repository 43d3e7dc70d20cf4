/* Adam's and AdamW's update, operation for operation as torch 1.13's
 * _single_tensor_adam / _single_tensor_adamw (capturable off): bias
 * corrections in double (Python floats), tensor arithmetic in float with the
 * scalars rounded to float, as ATen does.
 *
 * The per-element body is written once (adam_range) and instantiated per
 * variant with constant flags, so each loop has no branch and the compiler
 * vectorises it (this file is built with -fno-math-errno so sqrtf becomes
 * one instruction). Vector lanes do the same IEEE operations in the same
 * order as the scalar form: the results are bit for bit the same. */
#include <math.h>

#include "train/optim_internal.h"

typedef struct adam_scalars {
    float beta1, beta2, one_minus_beta1, one_minus_beta2;
    float bias_correction2_sqrt, neg_step_size, eps, weight_decay, decay_factor;
} adam_scalars;

static inline void adam_range(const adam_scalars *s, float *restrict params,
                              const float *restrict grads, float *restrict exp_avg,
                              float *restrict exp_avg_sq, float *restrict max_exp_avg_sq,
                              size_t n, const int decoupled, const int l2, const int amsgrad) {
    const adam_scalars k = *s;
    for (size_t i = 0; i < n; i++) {
        float g = grads[i];
        float p = params[i];
        if (decoupled) p = p * k.decay_factor; /* param.mul_(1 - lr*wd) */
        if (l2) g = g + k.weight_decay * p;    /* grad.add(param, alpha=wd) */
        float m = exp_avg[i] * k.beta1;        /* exp_avg.mul_(beta1) */
        m = m + k.one_minus_beta1 * g;         /* .add_(grad, alpha=1-beta1) */
        float v = exp_avg_sq[i] * k.beta2;     /* exp_avg_sq.mul_(beta2) */
        v = v + k.one_minus_beta2 * g * g;     /* .addcmul_(grad, grad, value=1-beta2) */
        exp_avg[i] = m;
        exp_avg_sq[i] = v;
        float second = v;
        if (amsgrad) {
            float vmax = max_exp_avg_sq[i];
            vmax = (v > vmax || isnan(v)) ? v : vmax; /* torch.maximum (NaN propagates) */
            max_exp_avg_sq[i] = vmax;
            second = vmax;
        }
        float denom = sqrtf(second) / k.bias_correction2_sqrt + k.eps; /* (sqrt / bc2_sqrt).add_(eps) */
        params[i] = p + k.neg_step_size * m / denom; /* addcdiv_(exp_avg, denom, value=-step_size) */
    }
}

void clh_optim_adam_update(const clh_optim_config *config, float *params, const float *grads,
                           float *exp_avg, float *exp_avg_sq, float *max_exp_avg_sq, size_t n,
                           int64_t step) {
    const int decoupled = config->kind == CLH_OPTIM_ADAMW;
    const double t = (double)step;
    const double bias_correction1 = 1.0 - pow(config->beta1, t);
    const double bias_correction2 = 1.0 - pow(config->beta2, t);
    const double step_size = config->lr / bias_correction1;
    adam_scalars s;
    s.bias_correction2_sqrt = (float)sqrt(bias_correction2);
    s.neg_step_size = (float)(-step_size);
    s.beta1 = (float)config->beta1;
    s.beta2 = (float)config->beta2;
    s.one_minus_beta1 = (float)(1.0 - config->beta1);
    s.one_minus_beta2 = (float)(1.0 - config->beta2);
    s.eps = (float)config->eps;
    s.weight_decay = (float)config->weight_decay;
    s.decay_factor = (float)(1.0 - config->lr * config->weight_decay); /* AdamW */
    const int l2 = !decoupled && config->weight_decay != 0.0;
    const int ams = config->amsgrad != 0;
    float *p = params, *m = exp_avg, *v = exp_avg_sq, *vmax = max_exp_avg_sq;
    if (decoupled) {
        if (ams) adam_range(&s, p, grads, m, v, vmax, n, 1, 0, 1);
        else adam_range(&s, p, grads, m, v, vmax, n, 1, 0, 0);
    } else if (l2) {
        if (ams) adam_range(&s, p, grads, m, v, vmax, n, 0, 1, 1);
        else adam_range(&s, p, grads, m, v, vmax, n, 0, 1, 0);
    } else {
        if (ams) adam_range(&s, p, grads, m, v, vmax, n, 0, 0, 1);
        else adam_range(&s, p, grads, m, v, vmax, n, 0, 0, 0);
    }
}
