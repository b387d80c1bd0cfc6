#ifndef SYNAPSE_PACKED_GEMM_H
#define SYNAPSE_PACKED_GEMM_H

// A matrix product whose right operand is packed once and reused: C = A·B + beta·C.
//
// OpenBLAS packs both operands on every call; for the per-step product of a recurrent layer
// ([batch, H] times the [H, G·H] recurrent weight, T times with the same weight) that packing
// costs about as much as the arithmetic. Here B is packed once per sequence into panels of
// SYNAPSE_PANEL_WIDTH columns (panel p holds, for each kk in 0..<k, the 32 floats
// B[kk][32p ..< 32p + 32], zero-padded past n), and each call streams A's rows against them.
// Every element of C is one fused multiply-add chain over kk in order, so the result does
// not depend on how the panels are divided among threads.

#include <stddef.h>

#define SYNAPSE_PANEL_WIDTH 32

#ifdef __cplusplus
extern "C" {
#endif

// The kernel follows synapse_cpu_level(); at level 0 it is portable code (correct everywhere,
// but slower than an ordinary sgemm: callers use sgemm then).

/// Floats a packed B of n columns and k rows takes.
size_t synapse_packed_floats(int n, int k);

/// Packs B, whose element (kk, j) is b[j * stride_n + kk * stride_k], into `packed`
/// (synapse_packed_floats(n, k) floats, 64-byte aligned).
void synapse_pack_b(int n, int k, const float *b, long stride_n, long stride_k, float *packed);

/// C[m × n] = A[m × k] · B + beta · C for the panels first_panel ..< first_panel + panel_count
/// (the columns 32·first_panel ..< min(n, 32·(first_panel + panel_count))). A is row-major
/// with leading dimension lda, C with ldc; beta is 0 (C is only written) or any other value.
void synapse_packed_gemm(int m, int n, int k, const float *a, int lda, const float *packed,
                         float beta, float *c, int ldc, int first_panel, int panel_count);

/// synapse_packed_gemm with A stored transposed: A's element (r, kk) is a[kk * lda + r] (a
/// convolution's [k, m] patches or a sample's [C, H·W] plane read as [H·W, C]). Same bits as
/// synapse_packed_gemm on the transposed copy.
void synapse_packed_gemm_transposed_a(int m, int n, int k, const float *a, int lda, const float *packed,
                                      float beta, float *c, int ldc, int first_panel, int panel_count);

/// synapse_packed_gemm (transposed_a 0) or synapse_packed_gemm_transposed_a (1) with the kernel
/// of `level` (at most the CPU's), for tests of every kernel on one machine. The AVX2 and
/// AVX-512 kernels give the same bits.
void synapse_packed_gemm_at(int level, int transposed_a, int m, int n, int k, const float *a, int lda,
                            const float *packed, float beta, float *c, int ldc, int first_panel, int panel_count);

#ifdef __cplusplus
}
#endif

#endif
