/* clheads — linear layers and the matrix-multiply dispatch.
 *
 * The plain kernels the heads are made of, public so a backbone (an MLP) can be
 * built on the same code (llm.c style: forward writes, backward accumulates).
 * All matrices are float32 row-major; W is [out, in] as nn.Linear.weight.
 * Every multiply goes through one dispatch point: CBLAS when the library was
 * built with it, a portable C kernel with the same semantics otherwise.
 */
#ifndef CLHEADS_LINEAR_H
#define CLHEADS_LINEAR_H

#include <stddef.h>
#include <stdint.h>

#include "status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* out[B, O] = x[B, I] · W[O, I]ᵀ + b[O]; bias may be NULL. B may be 0. */
clh_status clh_linear_forward(float *out, const float *x, const float *weight, const float *bias,
                              int64_t batch, int64_t in_features, int64_t out_features);

/* dW[O, I] += doutᵀ · x; db[O] += Σ_rows dout; dx[B, I] = dout · W (written).
 * Any of dx, dweight, dbias may be NULL to skip that gradient. */
clh_status clh_linear_backward(float *dx, float *dweight, float *dbias, const float *dout,
                               const float *x, const float *weight, int64_t batch,
                               int64_t in_features, int64_t out_features);

/* "cblas" or "portable": the backend this build's dispatch uses. */
const char *clh_gemm_backend(void);

/* Threads used by the multiply (BLAS threads or the portable kernel's).
 * n <= 0 restores the default (all cores). Small shapes stay on one thread. */
void clh_set_num_threads(int n);
int clh_get_num_threads(void);

/* Number of calls into the multiply dispatch since the process started
 * (diagnostics: tests use it to show that a CIL forward is one multiply). */
uint64_t clh_gemm_call_count(void);

#ifdef __cplusplus
}
#endif
#endif
