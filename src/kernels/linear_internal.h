/* Internal: helpers of linear.c shared with the heads' backward passes. */
#ifndef CLH_INTERNAL_LINEAR_H
#define CLH_INTERNAL_LINEAR_H

#include <stdint.h>

/* sums[c] += Σ_i m[i*ld + c] for c < cols, i < rows (accumulated in double). */
void clh_add_column_sums(float *sums, const float *m, int64_t rows, int64_t cols, int64_t ld);

/* out[i*ld_out + c] += bias[c] for i < rows, c < cols. */
void clh_add_bias_rows(float *out, const float *bias, int64_t rows, int64_t cols, int64_t ld_out);

#endif
