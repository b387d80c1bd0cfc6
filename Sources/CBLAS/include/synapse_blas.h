// OpenBLAS, loaded at run time.
//
// Synapse does not link OpenBLAS: it opens libopenblas.so.0 with dlopen on first use, after
// choosing OPENBLAS_CORETYPE from the CPU's features when the user has not set it. OpenBLAS
// picks its kernels in a load-time constructor, so this is the only moment the choice can be
// made; an OpenBLAS that does not know the CPU (0.3.21 on recent Xeons) otherwise falls back to
// its slow generic SSE3 kernel.
#ifndef SYNAPSE_BLAS_H
#define SYNAPSE_BLAS_H

#ifdef __cplusplus
extern "C" {
#endif

/// C = alpha * op(A) * op(B) + beta * C for row-major float matrices (cblas_sgemm with
/// CblasRowMajor); a non-zero transpose flag reads that matrix transposed.
void synapse_sgemm(int transpose_a, int transpose_b, int m, int n, int k, float alpha,
                   const float *a, int lda, const float *b, int ldb, float beta, float *c, int ldc);

/// OpenBLAS' own description of its build and the kernel it runs (openblas_get_config()).
const char *synapse_blas_config(void);

/// The kernel OpenBLAS runs (openblas_get_corename()).
const char *synapse_blas_core(void);

/// The OPENBLAS_CORETYPE Synapse chose before loading, or "" when the user set one or the CPU
/// needed none.
const char *synapse_blas_chosen_coretype(void);

/// Threads OpenBLAS uses for one product: 1 (Synapse's pool runs products as several calls).
int synapse_blas_threads(void);
void synapse_blas_set_threads(int threads);

#ifdef __cplusplus
}
#endif

#endif
