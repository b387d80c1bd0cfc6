#ifndef SYNAPSE_DIRECT_CONV_H
#define SYNAPSE_DIRECT_CONV_H

// The direct convolution of inputs with few channels (a network's stem: 3 → 64 7×7 at
// 224×224, 3 → 32 3×3), Sources/Core/Kernels/DirectConvolution.swift. There im2col + sgemm
// multiplies a product of small depth (27 or 147) and builds a patch matrix 9–49 times the
// input; here each output line is computed 32 (AVX-512) or 16 outputs at a time for 8 or 4
// output channels, in registers, from the input lines split by column phase (stride 2: the
// even and odd columns), so that every tap is one contiguous load.

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/// Floats of scratch synapse_direct_convolution needs for `line_count` output lines: the
/// zero-padded, phase-split input rows they read.
size_t synapse_direct_convolution_scratch(int channels, int kernel_h, int kernel_w, int stride_h, int stride_w,
                                          int out_width, int line_count);

/// Output lines first_line ..< first_line + line_count of one sample:
/// output[o, y, x] = bias[o] + Σ_{c, i, j} weight[o, c, i, j] · input[c, y·stride_h − pad_top + i,
/// x·stride_w − pad_left + j] (zero outside; dilation 1), the terms added in the order (c, i, j)
/// after the bias (0 without one), one multiply-add each, then `activation`
/// (SYNAPSE_ACTIVATION_*, synapse_vector_math.h; Clip between `low` and `high`) applied in
/// registers before the store. kernel_w is at most 16. The AVX2 and AVX-512 kernels give the
/// same bits.
void synapse_direct_convolution(const float *input, int channels, int height, int width, const float *weight,
                                const float *bias, int outputs, int kernel_h, int kernel_w, int stride_h, int stride_w,
                                int pad_top, int pad_left, float *output, int out_height, int out_width,
                                int first_line, int line_count, int activation, float low, float high, float *scratch);

/// synapse_direct_convolution with the kernel of `level` (at most the CPU's), for tests.
void synapse_direct_convolution_at(int level, const float *input, int channels, int height, int width,
                                   const float *weight, const float *bias, int outputs, int kernel_h, int kernel_w,
                                   int stride_h, int stride_w, int pad_top, int pad_left, float *output,
                                   int out_height, int out_width, int first_line, int line_count, int activation,
                                   float low, float high, float *scratch);

#ifdef __cplusplus
}
#endif

#endif
