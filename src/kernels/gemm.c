/* The one matrix-multiply dispatch point: counts calls, then CBLAS (OpenBLAS)
 * or the portable kernel (gemm_portable.c) by the policy in testing.h. Also the
 * thread-count setting shared by both backends. */
#include <limits.h>
#include <stdatomic.h>

#include "clheads/linear.h"
#include "common/error.h"
#include "common/testing.h"
#include "kernels/gemm.h"
#include "kernels/gemm_pool.h"

#ifdef CLH_HAVE_CBLAS
#include <cblas.h>
#include "common/ascii.h"
#include <string.h>

#include "kernels/gemm_portable.h"
#endif

/* A 64-bit atomic where the target has one without a lock; elsewhere (Cortex-M:
 * no 64-bit exclusive load/store, and bare metal has no libatomic to call) the
 * counter is 32 bits and wraps, as linear.h says. */
#if ATOMIC_LLONG_LOCK_FREE == 2
static _Atomic uint64_t gemm_calls;
#else
static _Atomic uint32_t gemm_calls;
#endif
static _Atomic int chosen_threads; /* 0 = not set: the default */
static _Atomic int gemm_policy = CLH_GEMM_AUTO;

clh_status clh_set_gemm_policy(clh_gemm_policy policy) {
    if (policy != CLH_GEMM_AUTO && policy != CLH_GEMM_BLAS && policy != CLH_GEMM_PORTABLE)
        return clh_fail(CLH_E_INVALID_ARG, "clh_set_gemm_policy: %d is not a clh_gemm_policy",
                        (int)policy);
    atomic_store(&gemm_policy, (int)policy);
    return CLH_OK;
}

clh_gemm_policy clh_get_gemm_policy(void) { return (clh_gemm_policy)atomic_load(&gemm_policy); }

uint64_t clh_gemm_call_count(void) { return atomic_load(&gemm_calls); }

const char *clh_gemm_backend(void) {
#ifdef CLH_HAVE_CBLAS
    return "cblas";
#else
    return "portable";
#endif
}

void clh_set_num_threads(int n) {
    atomic_store(&chosen_threads, n > 0 ? n : 0);
#ifdef CLH_HAVE_CBLAS
    /* The host program's OpenBLAS too (one per process): see linear.h. */
    openblas_set_num_threads(clh_gemm_threads());
#endif
}

int clh_get_num_threads(void) { return clh_gemm_threads(); }

int clh_gemm_threads(void) { return clh_pool_workers(atomic_load(&chosen_threads)); }

void clh_shutdown_threads(void) { clh_pool_shutdown(); }

#ifdef CLH_HAVE_CBLAS
/* 1 when OpenBLAS runs AVX-512 kernels (OPENBLAS_CORETYPE may pin it to less). */
static int blas_has_avx512(void) {
    static const char *const cores[] = {"skylakex", "cooperlake", "sapphirerapids"};
    const char *name = openblas_get_corename();
    char lower[32] = {0};
    for (size_t i = 0; name && name[i] && i + 1 < sizeof lower; i++)
        lower[i] = (char)clh_ascii_lower((unsigned char)name[i]);
    for (size_t i = 0; i < sizeof cores / sizeof *cores; i++)
        if (strcmp(lower, cores[i]) == 0) return 1;
    return 0;
}

/* CLH_GEMM_AUTO's choice (see linear.h for why each case goes portable). */
static int auto_prefers_portable(int64_t m, int64_t n, int64_t k) {
    static _Atomic int wider_than_blas = -1; /* decided once: the CPU does not change */
    int wider = atomic_load(&wider_than_blas);
    if (wider < 0) {
        wider = clh_gemm_portable_vector_width() >= 16 && !blas_has_avx512();
        atomic_store(&wider_than_blas, wider);
    }
    return wider || m == 1 || (double)m * (double)n * (double)k < 8.0 * 1024 * 1024;
}

static int use_blas(int64_t m, int64_t n, int64_t k) {
    switch ((clh_gemm_policy)atomic_load(&gemm_policy)) {
    case CLH_GEMM_BLAS: return 1;
    case CLH_GEMM_PORTABLE: return 0;
    default: return !auto_prefers_portable(m, n, k);
    }
}

/* CBLAS takes int sizes; larger shapes go to the portable kernel. */
static int fits_int(int64_t m, int64_t n, int64_t k, int64_t lda, int64_t ldb, int64_t ldc) {
    return m <= INT_MAX && n <= INT_MAX && k <= INT_MAX && lda <= INT_MAX && ldb <= INT_MAX &&
           ldc <= INT_MAX;
}
#endif

void clh_gemm(int trans_a, int trans_b, int64_t m, int64_t n, int64_t k, float alpha,
              const float *a, int64_t lda, const float *b, int64_t ldb, float beta, float *c,
              int64_t ldc) {
    atomic_fetch_add_explicit(&gemm_calls, 1, memory_order_relaxed);
    if (m <= 0 || n <= 0) return;
#ifdef CLH_HAVE_CBLAS
    /* Empty products (k == 0, the result is just beta · C) stay portable:
     * BLAS would reject their lda = 0. */
    if (k > 0 && fits_int(m, n, k, lda, ldb, ldc) && use_blas(m, n, k)) {
        cblas_sgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans, trans_b ? CblasTrans : CblasNoTrans,
                    (int)m, (int)n, (int)k, alpha, a, (int)lda, b, (int)ldb, beta, c, (int)ldc);
        return;
    }
#endif
    clh_gemm_portable(trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}

/* The symmetric rank-k update (gemm.h): the same policy as the multiply, on
 * the shape of the product it replaces (n x n x k). The portable double
 * kernel is plain C, so AUTO keeps double on the BLAS. */
void clh_syrk_f32(int64_t n, int64_t k, float alpha, const float *a, int64_t lda, float beta,
                  float *c, int64_t ldc) {
    atomic_fetch_add_explicit(&gemm_calls, 1, memory_order_relaxed);
    if (n <= 0) return;
#ifdef CLH_HAVE_CBLAS
    if (k > 0 && fits_int(n, n, k, lda, lda, ldc) && use_blas(n, n, k)) {
        cblas_ssyrk(CblasRowMajor, CblasLower, CblasTrans, (int)n, (int)k, alpha, a, (int)lda,
                    beta, c, (int)ldc);
        return;
    }
#endif
    clh_syrk_portable_f32(n, k, alpha, a, lda, beta, c, ldc);
}

void clh_syrk_f64(int64_t n, int64_t k, double alpha, const double *a, int64_t lda, double beta,
                  double *c, int64_t ldc) {
    atomic_fetch_add_explicit(&gemm_calls, 1, memory_order_relaxed);
    if (n <= 0) return;
#ifdef CLH_HAVE_CBLAS
    if (k > 0 && fits_int(n, n, k, lda, lda, ldc) &&
        atomic_load(&gemm_policy) != CLH_GEMM_PORTABLE) {
        cblas_dsyrk(CblasRowMajor, CblasLower, CblasTrans, (int)n, (int)k, alpha, a, (int)lda,
                    beta, c, (int)ldc);
        return;
    }
#endif
    clh_syrk_portable_f64(n, k, alpha, a, lda, beta, c, ldc);
}
