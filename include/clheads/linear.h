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

#include "export.h"
#include "status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* out[B, O] = x[B, I] · W[O, I]ᵀ + b[O]; bias may be NULL. B may be 0. */
CLH_API clh_status clh_linear_forward(float *out, const float *x, const float *weight,
                                      const float *bias, int64_t batch, int64_t in_features,
                                      int64_t out_features);

/* dW[O, I] += doutᵀ · x; db[O] += Σ_rows dout; dx[B, I] = dout · W (written).
 * Any of dx, dweight, dbias may be NULL to skip that gradient. */
CLH_API clh_status clh_linear_backward(float *dx, float *dweight, float *dbias, const float *dout,
                                       const float *x, const float *weight, int64_t batch,
                                       int64_t in_features, int64_t out_features);

/* "cblas" or "portable": the backend this build was made with. A "cblas"
 * build still sends one-row and small products, and all products on CPUs where
 * the portable kernel has wider vectors than the BLAS, to the portable kernel. */
CLH_API const char *clh_gemm_backend(void);

/* Threads used by the multiply (BLAS threads or the portable kernel's).
 * n <= 0 restores the default (all cores). Small shapes stay on one thread. */
CLH_API void clh_set_num_threads(int n);
CLH_API int clh_get_num_threads(void);

#ifdef __cplusplus
}
#endif
#endif
