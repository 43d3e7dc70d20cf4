/* Adagrad's update, operation for operation as torch 1.13's
 * _single_tensor_adagrad (dense gradients, maximize off): the decayed
 * learning rate in double (Python floats), tensor arithmetic in float with the
 * scalars rounded to float, as ATen does. */
#include <math.h>

#include "common/error.h"
#include "train/optim_internal.h"

/* x >= 0 and finite (torch's "0.0 <= x" checks let NaN through; we do not). */
static int non_negative(double x) { return x >= 0.0 && isfinite(x); }

clh_status clh_optim_adagrad_check(const clh_optim_config *config) {
    static const char what[] = "clh_optim_config";
    if (!non_negative(config->lr_decay))
        return clh_fail(CLH_E_INVALID_ARG, "%s: invalid lr_decay %g (must be >= 0)", what,
                        config->lr_decay);
    if (!non_negative(config->initial_accumulator_value))
        return clh_fail(CLH_E_INVALID_ARG,
                        "%s: invalid initial_accumulator_value %g (must be >= 0)", what,
                        config->initial_accumulator_value);
    if (!non_negative(config->eps))
        return clh_fail(CLH_E_INVALID_ARG, "%s: invalid eps %g (must be >= 0)", what, config->eps);
    return CLH_OK;
}

void clh_optim_adagrad_update(const clh_optim_config *config, float *params, const float *grads,
                              float *sum, size_t n, int64_t step) {
    const double clr = config->lr / (1.0 + (double)(step - 1) * config->lr_decay);
    const float neg_clr = (float)(-clr);
    const float eps = (float)config->eps;
    const float weight_decay = (float)config->weight_decay;
    const int l2 = config->weight_decay != 0.0;
    for (size_t i = 0; i < n; i++) {
        float g = grads[i];
        if (l2) g = g + weight_decay * params[i]; /* grad.add(param, alpha=wd) */
        float s = sum[i] + g * g;                 /* state_sum.addcmul_(grad, grad, value=1) */
        sum[i] = s;
        float std = sqrtf(s) + eps;               /* state_sum.sqrt().add_(eps) */
        params[i] = params[i] + neg_clr * g / std; /* param.addcdiv_(grad, std, value=-clr) */
    }
}
