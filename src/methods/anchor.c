/* The quadratic anchor penalty and the importance estimators that build its
 * Ω (EWC's Fisher, online EWC's running Fisher, SI's path integral, MAS's
 * output sensitivity). Every function checks all its arguments before it
 * writes anything. */
#include <math.h>
#include <string.h>

#include "clheads/methods.h"
#include "common/error.h"

/* x >= 0 and finite. */
static int non_negative(double x) { return x >= 0.0 && isfinite(x); }

/* CLH_E_NULL naming the first NULL vector among a call's required ones
 * (only when count > 0: an empty vector may be NULL). */
static clh_status require_vectors(const char *what, size_t count, int n, const void *const *ptrs,
                                  const char *const *names) {
    if (count == 0) return CLH_OK;
    for (int i = 0; i < n; i++)
        if (!ptrs[i]) return clh_fail(CLH_E_NULL, "%s: %s is NULL", what, names[i]);
    return CLH_OK;
}

/* The anchor penalty's loop: returns sum w (p - a)^2 over [0, count) and,
 * when with_grads, adds scale * (w * diff) to grads. The sum runs in LANES
 * double accumulators (element i in lane i mod LANES) so the loop vectorises;
 * the gradient is element-wise (its float operations do not depend on the
 * lanes). with_omega and with_grads are constants at each call. */
enum { LANES = 8 };
static inline double penalty_range(const float *restrict params, const float *restrict anchor,
                                   const float *restrict omega, size_t count, float scale,
                                   float *restrict grads, const int with_omega,
                                   const int with_grads) {
    double acc[LANES] = {0};
    size_t i = 0;
    for (; i + LANES <= count; i += LANES) {
        for (size_t j = 0; j < LANES; j++) {
            float diff = params[i + j] - anchor[i + j];
            float w = with_omega ? omega[i + j] : 1.0f;
            acc[j] += (double)w * (double)diff * (double)diff;
            if (with_grads) grads[i + j] += scale * (w * diff);
        }
    }
    for (size_t j = 0; i < count; i++, j++) {
        float diff = params[i] - anchor[i];
        float w = with_omega ? omega[i] : 1.0f;
        acc[j] += (double)w * (double)diff * (double)diff;
        if (with_grads) grads[i] += scale * (w * diff);
    }
    double sum = 0.0;
    for (size_t j = 0; j < LANES; j++) sum += acc[j];
    return sum;
}

clh_status clh_anchor_penalty(const float *params, const float *anchor, const float *omega,
                              size_t count, double lambda, double *penalty, float *grads) {
    static const char what[] = "clh_anchor_penalty";
    const void *ptrs[] = {params, anchor};
    const char *names[] = {"params", "anchor"};
    clh_status st = require_vectors(what, count, 2, ptrs, names);
    if (st) return st;
    if (!non_negative(lambda))
        return clh_fail(CLH_E_INVALID_ARG, "%s: invalid strength lambda %g (must be >= 0)", what,
                        lambda);
    const float scale = (float)lambda;
    double sum;
    if (omega)
        sum = grads ? penalty_range(params, anchor, omega, count, scale, grads, 1, 1)
                    : penalty_range(params, anchor, omega, count, scale, NULL, 1, 0);
    else
        sum = grads ? penalty_range(params, anchor, NULL, count, scale, grads, 0, 1)
                    : penalty_range(params, anchor, NULL, count, scale, NULL, 0, 0);
    if (penalty) *penalty = 0.5 * lambda * sum;
    return CLH_OK;
}

clh_status clh_fisher_accumulate(float *fisher, const float *grads, size_t count, double scale) {
    static const char what[] = "clh_fisher_accumulate";
    const void *ptrs[] = {fisher, grads};
    const char *names[] = {"fisher", "grads"};
    clh_status st = require_vectors(what, count, 2, ptrs, names);
    if (st) return st;
    if (!non_negative(scale))
        return clh_fail(CLH_E_INVALID_ARG, "%s: invalid scale %g (must be >= 0)", what, scale);
    const float s = (float)scale;
    for (size_t i = 0; i < count; i++) fisher[i] += (grads[i] * grads[i]) * s;
    return CLH_OK;
}

clh_status clh_fisher_merge(float *running, const float *fisher, size_t count, double gamma) {
    static const char what[] = "clh_fisher_merge";
    const void *ptrs[] = {running, fisher};
    const char *names[] = {"running", "fisher"};
    clh_status st = require_vectors(what, count, 2, ptrs, names);
    if (st) return st;
    if (!(gamma >= 0.0 && gamma <= 1.0))
        return clh_fail(CLH_E_INVALID_ARG, "%s: invalid decay gamma %g (must be in [0, 1])", what,
                        gamma);
    const float g = (float)gamma;
    for (size_t i = 0; i < count; i++) running[i] = g * running[i] + fisher[i];
    return CLH_OK;
}

clh_status clh_si_accumulate(float *w, const float *unreg_grads, const float *params_before,
                             const float *params_after, size_t count) {
    static const char what[] = "clh_si_accumulate";
    const void *ptrs[] = {w, unreg_grads, params_before, params_after};
    const char *names[] = {"w", "unreg_grads", "params_before", "params_after"};
    clh_status st = require_vectors(what, count, 4, ptrs, names);
    if (st) return st;
    for (size_t i = 0; i < count; i++) {
        float delta = params_after[i] - params_before[i];
        w[i] -= unreg_grads[i] * delta;
    }
    return CLH_OK;
}

clh_status clh_si_consolidate(float *omega, float *w, const float *params,
                              const float *params_prev, size_t count, double damping) {
    static const char what[] = "clh_si_consolidate";
    const void *ptrs[] = {omega, w, params, params_prev};
    const char *names[] = {"omega", "w", "params", "params_prev"};
    clh_status st = require_vectors(what, count, 4, ptrs, names);
    if (st) return st;
    if (!(damping > 0.0 && isfinite(damping)))
        return clh_fail(CLH_E_INVALID_ARG, "%s: invalid damping %g (must be > 0)", what, damping);
    const float xi = (float)damping;
    for (size_t i = 0; i < count; i++) {
        float delta = params[i] - params_prev[i];
        omega[i] += w[i] / (delta * delta + xi);
        w[i] = 0.0f;
    }
    return CLH_OK;
}

clh_status clh_mas_output_grad(const float *logits, size_t batch, size_t cols, size_t stride,
                               double *loss, float *grad_logits) {
    static const char what[] = "clh_mas_output_grad";
    if (!logits || !grad_logits)
        return clh_fail(CLH_E_NULL, "%s: %s is NULL", what, logits ? "grad_logits" : "logits");
    if (batch == 0 || cols == 0 || stride < cols)
        return clh_fail(CLH_E_INVALID_ARG,
                        "%s: batch %zu and cols %zu must be > 0 and stride %zu >= cols", what,
                        batch, cols, stride);
    double n = (double)batch * (double)cols;
    for (size_t b = 0; b < batch; b++)
        for (size_t c = 0; c < cols; c++)
            if (!isfinite(logits[b * stride + c]))
                return clh_fail(CLH_E_INVALID_ARG, "%s: logit [%zu, %zu] is not finite", what, b,
                                c);
    double sum = 0.0;
    const float factor = (float)(2.0 / n);
    for (size_t b = 0; b < batch; b++) {
        for (size_t c = 0; c < cols; c++) {
            float z = logits[b * stride + c];
            sum += (double)z * (double)z;
            grad_logits[b * stride + c] = factor * z;
        }
    }
    if (loss) *loss = sum / n;
    return CLH_OK;
}

clh_status clh_mas_accumulate(float *omega, const float *grads, size_t count, double scale) {
    static const char what[] = "clh_mas_accumulate";
    const void *ptrs[] = {omega, grads};
    const char *names[] = {"omega", "grads"};
    clh_status st = require_vectors(what, count, 2, ptrs, names);
    if (st) return st;
    if (!non_negative(scale))
        return clh_fail(CLH_E_INVALID_ARG, "%s: invalid scale %g (must be >= 0)", what, scale);
    const float s = (float)scale;
    for (size_t i = 0; i < count; i++) omega[i] += fabsf(grads[i]) * s;
    return CLH_OK;
}
