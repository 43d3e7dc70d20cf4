/* Internal: test and diagnostic knobs. Not part of the public API and not
 * exported from the shared library; tests and benchmarks link the static
 * library and include this header (their include path has src/).
 */
#ifndef CLH_INTERNAL_TESTING_H
#define CLH_INTERNAL_TESTING_H

#include <stdint.h>

#include "clheads/status.h"

/* ---- the multiply dispatch (gemm.c) ---- */

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

/* Number of calls into the multiply dispatch since the process started
 * (tests use it to show that a CIL forward is one multiply). */
uint64_t clh_gemm_call_count(void);

/* ---- allocation (alloc.c) ---- */

/* The allocation `countdown` calls from now fails (1 = the next one); 0 turns
 * injection off. Not thread-safe. */
void clh_test_fail_alloc_after(long countdown);
/* Allocations made since the process started (for "no allocation in the
 * steady state" checks). */
unsigned long clh_test_alloc_count(void);
/* The largest single request (bytes, count x size for calloc) since the last
 * call, which resets it (for "a small file never asks for gigabytes" checks). */
size_t clh_test_largest_alloc(void);

#endif
