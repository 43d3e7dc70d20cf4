/* Linear layers on the multiply dispatch: forward writes, backward accumulates
 * into dW and db and writes dx (llm.c style). */
#include "common/checked.h"
#include "common/error.h"
#include "kernels/gemm.h"
#include "kernels/linear_internal.h"
#include "clheads/linear.h"

void clh_add_column_sums(float *sums, const float *m, int64_t rows, int64_t cols, int64_t ld) {
    enum { BLOCK = 64 }; /* columns per pass: row-wise reads, double accumulators on the stack */
    for (int64_t c0 = 0; c0 < cols; c0 += BLOCK) {
        int64_t n = cols - c0 < BLOCK ? cols - c0 : BLOCK;
        double acc[BLOCK] = {0};
        for (int64_t i = 0; i < rows; i++) {
            const float *row = m + i * ld + c0;
            for (int64_t c = 0; c < n; c++) acc[c] += row[c];
        }
        for (int64_t c = 0; c < n; c++) sums[c0 + c] = (float)((double)sums[c0 + c] + acc[c]);
    }
}

void clh_add_bias_rows(float *out, const float *bias, int64_t rows, int64_t cols, int64_t ld_out) {
    for (int64_t i = 0; i < rows; i++) {
        float *row = out + i * ld_out;
        for (int64_t c = 0; c < cols; c++) row[c] += bias[c];
    }
}

/* Sizes shared by forward and backward: dims > 0, batch >= 0, every matrix's
 * byte size representable. */
static clh_status check_sizes(const char *what, int64_t batch, int64_t in_features,
                              int64_t out_features) {
    size_t bytes;
    if (batch < 0)
        return clh_fail(CLH_E_INVALID_ARG, "%s: batch is %lld, must be >= 0", what, (long long)batch);
    if (in_features <= 0)
        return clh_fail(CLH_E_INVALID_ARG, "%s: in_features is %lld, must be > 0", what,
                        (long long)in_features);
    if (out_features <= 0)
        return clh_fail(CLH_E_INVALID_ARG, "%s: out_features is %lld, must be > 0", what,
                        (long long)out_features);
    if (!clh_float_bytes(batch, in_features, &bytes))
        return clh_fail(CLH_E_OVERFLOW, "%s: x of %lld x %lld floats overflows", what, (long long)batch,
                        (long long)in_features);
    if (!clh_float_bytes(batch, out_features, &bytes))
        return clh_fail(CLH_E_OVERFLOW, "%s: out of %lld x %lld floats overflows", what, (long long)batch,
                        (long long)out_features);
    if (!clh_float_bytes(out_features, in_features, &bytes))
        return clh_fail(CLH_E_OVERFLOW, "%s: weight of %lld x %lld floats overflows", what,
                        (long long)out_features, (long long)in_features);
    return CLH_OK;
}

clh_status clh_linear_forward(float *out, const float *x, const float *weight, const float *bias,
                              int64_t batch, int64_t in_features, int64_t out_features) {
    static const char what[] = "clh_linear_forward";
    clh_status st = check_sizes(what, batch, in_features, out_features);
    if (st) return st;
    if (!weight) return clh_fail(CLH_E_NULL, "%s: weight is NULL", what);
    if (batch == 0) return CLH_OK;
    if (!x) return clh_fail(CLH_E_NULL, "%s: x is NULL (batch %lld)", what, (long long)batch);
    if (!out) return clh_fail(CLH_E_NULL, "%s: out is NULL (batch %lld)", what, (long long)batch);
    clh_gemm(0, 1, batch, out_features, in_features, 1.0f, x, in_features, weight, in_features, 0.0f,
             out, out_features);
    if (bias) clh_add_bias_rows(out, bias, batch, out_features, out_features);
    return CLH_OK;
}

clh_status clh_linear_backward(float *dx, float *dweight, float *dbias, const float *dout,
                               const float *x, const float *weight, int64_t batch,
                               int64_t in_features, int64_t out_features) {
    static const char what[] = "clh_linear_backward";
    clh_status st = check_sizes(what, batch, in_features, out_features);
    if (st) return st;
    if (batch == 0) return CLH_OK;
    if (!dout) return clh_fail(CLH_E_NULL, "%s: dout is NULL (batch %lld)", what, (long long)batch);
    if (dweight && !x)
        return clh_fail(CLH_E_NULL, "%s: x is NULL but dweight is requested", what);
    if (dx && !weight)
        return clh_fail(CLH_E_NULL, "%s: weight is NULL but dx is requested", what);
    /* dW[O, I] += doutᵀ[O, B] · x[B, I] */
    if (dweight)
        clh_gemm(1, 0, out_features, in_features, batch, 1.0f, dout, out_features, x, in_features,
                 1.0f, dweight, in_features);
    if (dbias) clh_add_column_sums(dbias, dout, batch, out_features, out_features);
    /* dx[B, I] = dout[B, O] · W[O, I] */
    if (dx)
        clh_gemm(0, 0, batch, in_features, out_features, 1.0f, dout, out_features, weight, in_features,
                 0.0f, dx, in_features);
    return CLH_OK;
}
