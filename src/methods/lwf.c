/* LwF's distillation loss against recorded outputs of the old heads, with its
 * gradient w.r.t. the student's logits (see include/clheads/methods.h for
 * the formulas). Softmaxes are computed in double from the max-shifted
 * logits, so large logits neither overflow nor lose the small classes. */
#include <math.h>
#include <string.h>

#include "clheads/methods.h"
#include "common/error.h"
#include "methods/lwf_internal.h"
#include "common/versioned.h"

void clh_lwf_options_init(clh_lwf_options *options) {
    if (!options) return;
    memset(options, 0, sizeof *options);
    options->struct_size = sizeof *options;
    options->kind = CLH_LWF_CROSS_ENTROPY;
    options->temperature = 2.0;
    options->weight = 1.0;
    options->t_squared = 1;
}

/* The caller's options as this library's full struct (defaults for the
 * members the caller's header does not have). */
clh_status clh_lwf_options_read(const clh_lwf_options *given, clh_lwf_options *full) {
    if (!given) return clh_fail(CLH_E_NULL, "clh_lwf_options: options is NULL");
    clh_lwf_options_init(full);
    return clh_versioned_read(full, sizeof *full, CLH_LWF_OPTIONS_FIRST_SIZE, given,
                              "clh_lwf_options");
}

static clh_status check_options(const clh_lwf_options *options) {
    static const char what[] = "clh_lwf_options";
    if (options->kind != CLH_LWF_CROSS_ENTROPY && options->kind != CLH_LWF_KL)
        return clh_fail(CLH_E_INVALID_ARG, "%s: unknown kind %d (cross-entropy 0 or KL 1)", what,
                        (int)options->kind);
    if (!(options->temperature > 0.0 && isfinite(options->temperature)))
        return clh_fail(CLH_E_INVALID_ARG, "%s: invalid temperature %g (must be > 0)", what,
                        options->temperature);
    if (!(options->weight >= 0.0 && isfinite(options->weight)))
        return clh_fail(CLH_E_INVALID_ARG, "%s: invalid weight %g (must be >= 0)", what,
                        options->weight);
    if (options->t_squared != 0 && options->t_squared != 1)
        return clh_fail(CLH_E_INVALID_ARG, "%s: t_squared is %d (must be 0 or 1)", what,
                        options->t_squared);
    return CLH_OK;
}

clh_status clh_lwf_options_check(const clh_lwf_options *given) {
    clh_lwf_options options;
    clh_status st = clh_lwf_options_read(given, &options);
    return st ? st : check_options(&options);
}

/* max over n values of row[c] / T, and log Σ exp(row[c]/T − max). */
static void log_normaliser(const float *row, size_t n, double inv_t, double *max,
                           double *log_sum) {
    double m = (double)row[0] * inv_t;
    for (size_t c = 1; c < n; c++)
        if ((double)row[c] * inv_t > m) m = (double)row[c] * inv_t;
    double s = 0.0;
    for (size_t c = 0; c < n; c++) s += exp((double)row[c] * inv_t - m);
    *max = m;
    *log_sum = log(s);
}

clh_status clh_lwf_loss(const clh_lwf_options *given, const float *logits, size_t batch,
                        size_t cols, size_t stride, const float *old_logits, size_t old_cols,
                        size_t old_stride, double *loss, float *grad_logits) {
    static const char what[] = "clh_lwf_loss";
    clh_lwf_options full;
    clh_status st = clh_lwf_options_read(given, &full);
    if (!st) st = check_options(&full);
    if (st) return st;
    const clh_lwf_options *options = &full;
    if (!logits || !old_logits)
        return clh_fail(CLH_E_NULL, "%s: %s is NULL", what, logits ? "old_logits" : "logits");
    if (batch == 0 || old_cols == 0 || old_cols > cols || stride < cols || old_stride < old_cols)
        return clh_fail(CLH_E_INVALID_ARG,
                        "%s: need batch > 0 (got %zu), 0 < old_cols <= cols (got %zu, %zu), "
                        "stride >= cols and old_stride >= old_cols (got %zu, %zu)",
                        what, batch, old_cols, cols, stride, old_stride);
    for (size_t b = 0; b < batch; b++) {
        for (size_t c = 0; c < cols; c++)
            if (!isfinite(logits[b * stride + c]))
                return clh_fail(CLH_E_INVALID_ARG, "%s: logit [%zu, %zu] is not finite", what, b,
                                c);
        for (size_t c = 0; c < old_cols; c++)
            if (!isfinite(old_logits[b * old_stride + c]))
                return clh_fail(CLH_E_INVALID_ARG, "%s: old logit [%zu, %zu] is not finite",
                                what, b, c);
    }
    const double t = options->temperature, inv_t = 1.0 / t;
    const double factor = options->weight * (options->t_squared ? t * t : 1.0);
    const double grad_factor = factor * inv_t / (double)batch;
    double total = 0.0;
    for (size_t b = 0; b < batch; b++) {
        const float *z = logits + b * stride;
        const float *zo = old_logits + b * old_stride;
        double zmax, zlse, omax, olse;
        log_normaliser(z, cols, inv_t, &zmax, &zlse);
        log_normaliser(zo, old_cols, inv_t, &omax, &olse);
        double row = 0.0;
        for (size_t c = 0; c < cols; c++) {
            double log_p = (double)z[c] * inv_t - zmax - zlse;
            double q = 0.0, log_q = 0.0;
            if (c < old_cols) {
                log_q = (double)zo[c] * inv_t - omax - olse;
                q = exp(log_q);
            }
            if (q > 0.0) row += q * ((options->kind == CLH_LWF_KL ? log_q : 0.0) - log_p);
            if (grad_logits)
                grad_logits[b * stride + c] += (float)(grad_factor * (exp(log_p) - q));
        }
        total += row;
    }
    if (loss) *loss = factor * total / (double)batch;
    return CLH_OK;
}
