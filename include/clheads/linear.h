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
 * n <= 0 restores the default (all online cores). Small shapes stay on one
 * thread. Process-wide; safe to call from any thread at any time (a multiply
 * already running keeps the count it started with).
 * OpenBLAS: in a build with CBLAS this also calls
 * openblas_set_num_threads(clh_get_num_threads()), which changes the thread
 * count of the host program's own OpenBLAS calls too (there is one OpenBLAS
 * per process). Until clh_set_num_threads is called the library leaves
 * OpenBLAS's setting (OPENBLAS_NUM_THREADS) alone.
 * A build without threads (CLH_WITH_THREADS=OFF, the device core) runs every
 * multiply on the calling thread: clh_get_num_threads() is then 1 whatever n. */
CLH_API void clh_set_num_threads(int n);
CLH_API int clh_get_num_threads(void);

/* The portable kernel's helper threads start at its first multiply large
 * enough to split, then sleep between calls. clh_shutdown_threads() joins
 * them (waiting for a multiply that is using them to finish); a later large
 * multiply starts them again. Use it when the program must be back to one
 * thread (e.g. before it daemonises), or to give back their stacks (1 MiB
 * each). The library joins them by itself when it is unloaded (dlclose() of
 * the shared library, or exit), so no -z nodelete is needed. OpenBLAS's own
 * threads belong to OpenBLAS: this does not stop them. A no-op without
 * threads. */
CLH_API void clh_shutdown_threads(void);

#ifdef __cplusplus
}
#endif
#endif
