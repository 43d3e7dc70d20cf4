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

/* "cblas" or "portable": the backend this build was made with. A "cblas"
 * build still sends some multiplies to the portable kernel (see below). */
const char *clh_gemm_backend(void);

/* Which kernel a multiply goes to in a build with CBLAS.
 * CLH_GEMM_AUTO (the default): CBLAS, except where the portable kernel is
 *   measurably faster: one-row products (BLAS sgemm with M = 1 is several times
 *   slower than a matrix-vector product), small products (under 8M
 *   multiply-adds, where BLAS threading costs more than it gains), and CPUs
 *   where the portable kernel uses wider vectors than the BLAS's kernels
 *   (AVX-512 against an OpenBLAS pinned to AVX2 by OPENBLAS_CORETYPE).
 * CLH_GEMM_BLAS / CLH_GEMM_PORTABLE: always that one (tests and benchmarks
 *   use them to check and time both). Sizes over INT_MAX, and every multiply
 *   of a build without CBLAS, go to the portable kernel whatever the policy. */
typedef enum clh_gemm_policy {
    CLH_GEMM_AUTO = 0,
    CLH_GEMM_BLAS = 1,
    CLH_GEMM_PORTABLE = 2
} clh_gemm_policy;
/* Process-wide; CLH_E_INVALID_ARG for a value outside the enum. */
clh_status clh_set_gemm_policy(clh_gemm_policy policy);
clh_gemm_policy clh_get_gemm_policy(void);

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
void clh_set_num_threads(int n);
int clh_get_num_threads(void);

/* The portable kernel's helper threads start at its first multiply large
 * enough to split, then sleep between calls. clh_shutdown_threads() joins
 * them (waiting for a multiply that is using them to finish); a later large
 * multiply starts them again. Use it when the program must be back to one
 * thread (e.g. before it daemonises), or to give back their stacks (1 MiB
 * each). The library joins them by itself when it is unloaded (dlclose() of
 * the shared library, or exit), so no -z nodelete is needed. OpenBLAS's own
 * threads belong to OpenBLAS: this does not stop them. A no-op without
 * threads. */
void clh_shutdown_threads(void);

/* Number of calls into the multiply dispatch since the process started
 * (diagnostics: tests use it to show that a CIL forward is one multiply).
 * Where the target has no lock-free 64-bit atomics (Cortex-M) it counts
 * modulo 2^32. */
uint64_t clh_gemm_call_count(void);

#ifdef __cplusplus
}
#endif
#endif
