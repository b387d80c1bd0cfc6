#ifndef SYNAPSE_DEPTHWISE_H
#define SYNAPSE_DEPTHWISE_H

// The forward depthwise convolution (Sources/Core/Kernels/DepthwiseConvolution.swift), in C
// so that it runs in AVX2 or AVX-512 registers where the CPU has them: each input plane is
// copied once into a zero-padded scratch plane (kept per thread), then the outputs are computed
// sixteen at a time, all kH × kW taps accumulated in a register before one store: blocks of
// four rows by two chunks of a row for square windows, whole planes as one flat run of vectors
// where rows are narrower than a vector.

#ifdef __cplusplus
extern "C" {
#endif

/// output[n, o] = bias[o] + Σ_{i, j} weight[o, i, j] · input[n, o / multiplier] at
/// (y·stride_h − pad_top + i·dilation_h, x·stride_w − pad_left + j·dilation_w), zero outside,
/// for the output planes first_plane ..< first_plane + plane_count (plane p = n·outputs + o).
/// The taps of each output are added in the order (i, j), one multiply-add each; then
/// `activation` (SYNAPSE_ACTIVATION_*, synapse_vector_math.h; Clip between `low` and `high`)
/// is applied in registers before the store.
void synapse_depthwise_forward(const float *input, const float *weight, const float *bias, float *output, int channels,
                               int outputs, int height, int width, int out_height, int out_width, int kernel_h,
                               int kernel_w, int stride_h, int stride_w, int pad_top, int pad_left, int dilation_h,
                               int dilation_w, int first_plane, int plane_count, int activation, float low,
                               float high);

#ifdef __cplusplus
}
#endif

#endif
