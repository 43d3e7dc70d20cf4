/* Internal: what the portable multiply (gemm_portable.c) runs on this CPU, so
 * the dispatch (gemm.c) can prefer it where it beats the BLAS, e.g. for one
 * row (a matrix-vector product) or on AVX-512 CPUs whose OpenBLAS kernels are
 * AVX2 only (OPENBLAS_CORETYPE=Haswell). The product itself is
 * clh_gemm_portable in gemm.h. */
#ifndef CLH_INTERNAL_GEMM_PORTABLE_H
#define CLH_INTERNAL_GEMM_PORTABLE_H

/* Floats per vector register of the kernel in use: 16 (AVX-512), 8 (AVX2+FMA)
 * or 1 (plain C), after CLH_PORTABLE_KERNEL's cap. */
int clh_gemm_portable_vector_width(void);

/* Its name: "avx512", "avx2" or "c". */
const char *clh_gemm_portable_kernel_name(void);

#endif
