/* The seeded random-feature expansion: P [width, in] ~ N(0, 1/in) by
 * Box–Muller over splitmix64 (the recipe is in analytic.h, reproduced by
 * scripts/gen_analytic_reference.py), out = ReLU(x · Pᵀ): through the
 * multiply dispatch, or, for inputs that are mostly zeros (images with a
 * blank background: MNIST's pixels are 81% zeros), as sums of the rows of Pᵀ
 * at each input's nonzeros (kernels/sparse_rows.h), which does a fifth of
 * the arithmetic there. Both give ReLU(x · Pᵀ) to float rounding. */
#include <math.h>

#include "common/alloc.h"
#include "analytic/analytic_internal.h"
#include "common/checked.h"
#include "kernels/gemm.h"
#include "kernels/sparse_rows.h"
#include "clheads/rng.h"

/* The sparse path runs where at most this fraction of the inputs are
 * nonzero: it does a multiply-add per nonzero and output at about half the
 * rate of a dense multiply's (one load per multiply-add), so it pays below
 * one half; a third leaves a margin. */
#define SPARSE_MAX_DENSITY (1.0 / 3.0)

/* The stream's offset from the seed (the first 64 bits of sqrt(2)'s
 * fraction, SHA-512's first constant): keeps it apart from the heads'
 * initialisation streams of the same seed. */
#define STREAM_CONSTANT UINT64_C(0x6A09E667F3BCC909)
#define TWO_PI 6.283185307179586476925286766559

struct clh_random_features {
    uint64_t seed;
    int64_t in, width;
    float *weight;    /* [width, in] */
    float *packed;     /* Pᵀ [in, width] packed for the sparse path (sparse_rows.h) */
};

/* Fills w[0..count) with N(0, std²) values as documented. */
static void fill_gaussian(uint64_t seed, float *w, size_t count, double std) {
    clh_rng rng = {seed ^ STREAM_CONSTANT};
    for (size_t i = 0; i < count; i += 2) {
        double u1 = ((double)(clh_rng_next(&rng) >> 11) + 1.0) * 0x1.0p-53;
        double u2 = (double)(clh_rng_next(&rng) >> 11) * 0x1.0p-53;
        double r = sqrt(-2.0 * log(u1));
        w[i] = (float)(r * cos(TWO_PI * u2) * std);
        if (i + 1 < count) w[i + 1] = (float)(r * sin(TWO_PI * u2) * std);
    }
}

clh_status clh_random_features_create(clh_random_features **out, uint64_t seed,
                                      int64_t in_features, int64_t width) {
    static const char what[] = "clh_random_features_create";
    if (!out) return clh_fail(CLH_E_NULL, "%s: out is NULL", what);
    if (in_features <= 0 || width <= 0)
        return clh_fail(CLH_E_INVALID_ARG, "%s: in_features = %lld and width = %lld must be "
                        "positive", what, (long long)in_features, (long long)width);
    size_t bytes;
    if (!clh_float_bytes(width, in_features, &bytes))
        return clh_fail(CLH_E_OVERFLOW, "%s: %lld x %lld overflows", what, (long long)width,
                        (long long)in_features);
    size_t packed = clh_sparse_rows_packed_size(in_features, width);
    if (!packed || !clh_mul_size(packed, sizeof(float), &packed))
        return clh_fail(CLH_E_OVERFLOW, "%s: %lld x %lld overflows", what, (long long)width,
                        (long long)in_features);
    clh_random_features *rf = clh_calloc(1, sizeof *rf);
    float *w = clh_malloc(bytes), *t = clh_malloc(packed);
    if (!rf || !w || !t) {
        clh_free(rf);
        clh_free(w);
        clh_free(t);
        return clh_fail(CLH_E_NOMEM, "%s: out of memory for a %lld x %lld projection", what,
                        (long long)width, (long long)in_features);
    }
    fill_gaussian(seed, w, bytes / sizeof(float), 1.0 / sqrt((double)in_features));
    clh_sparse_rows_pack(in_features, width, w, 1, in_features, t); /* Pᵀ: (p, j) = P[j, p] */
    rf->seed = seed;
    rf->in = in_features;
    rf->width = width;
    rf->weight = w;
    rf->packed = t;
    *out = rf;
    return CLH_OK;
}

void clh_random_features_free(clh_random_features *rf) {
    if (!rf) return;
    clh_free(rf->weight);
    clh_free(rf->packed);
    clh_free(rf);
}

clh_status clh_random_features_apply(const clh_random_features *rf, const float *x,
                                     int64_t batch, float *out) {
    static const char what[] = "clh_random_features_apply";
    if (!rf) return clh_fail(CLH_E_NULL, "%s: expansion is NULL", what);
    if (batch < 0)
        return clh_fail(CLH_E_INVALID_ARG, "%s: batch = %lld is negative", what, (long long)batch);
    if (batch == 0) return CLH_OK;
    if (!x || !out) return clh_fail(CLH_E_NULL, "%s: %s is NULL", what, x ? "out" : "x");
    size_t bytes;
    if (!clh_float_bytes(batch, rf->width, &bytes) || !clh_float_bytes(batch, rf->in, &bytes))
        return clh_fail(CLH_E_OVERFLOW, "%s: batch %lld overflows", what, (long long)batch);
    int64_t nonzeros = clh_count_nonzeros(batch, rf->in, x, rf->in);
    if ((double)nonzeros <= SPARSE_MAX_DENSITY * (double)batch * (double)rf->in &&
        clh_gemm_sparse_rows(batch, rf->width, rf->in, x, rf->in, nonzeros, rf->packed, out,
                             rf->width, 1) == 0)
        return CLH_OK; /* (out of memory for the compressed rows: the dense path) */
    clh_gemm(0, 1, batch, rf->width, rf->in, 1.0f, x, rf->in, rf->weight, rf->in, 0.0f, out,
             rf->width);
    /* The ReLU as a select, not a branch: the sign of a random feature is a
     * coin flip, which a branch mispredicts half the time (that cost more
     * than the multiply's own memory traffic); the select vectorises. NaN is
     * not < 0: it stays NaN. */
    size_t n = (size_t)batch * (size_t)rf->width;
    for (size_t i = 0; i < n; i++) {
        float v = out[i];
        out[i] = v < 0.0f ? 0.0f : v;
    }
    return CLH_OK;
}

const float *clh_random_features_weight(const clh_random_features *rf) {
    return rf ? rf->weight : NULL;
}
int64_t clh_random_features_in(const clh_random_features *rf) { return rf ? rf->in : 0; }
int64_t clh_random_features_width(const clh_random_features *rf) { return rf ? rf->width : 0; }
uint64_t clh_random_features_seed(const clh_random_features *rf) { return rf ? rf->seed : 0; }
