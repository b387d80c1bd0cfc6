#ifndef SYNAPSE_POINTWISE_H
#define SYNAPSE_POINTWISE_H

// 1×1 convolutions of up to a couple of hundred input channels on large planes, computed
// directly on the NCHW data: out[o, p] = activation(bias[o] + Σ_c weight[o, c] · x[c, p]).
// Through sgemm a product of depth 16–192 is largely packing; here nothing is packed: four
// outputs by sixteen-position vectors of accumulators, each channel one load per vector and one
// broadcast weight per output.

#ifdef __cplusplus
extern "C" {
#endif

/// Outputs 0 ..< outputs at positions first ..< first + count of one sample's planes:
/// output[o · plane + p] for input[c · plane + p] and weight[o · channels + c] (bias may be
/// NULL). `activation` is a SYNAPSE_ACTIVATION_* (Clip between low and high). Each output is
/// the bias, then the channels in order, one multiply-add each (the same bits for any split
/// of the positions, and from the AVX2 and AVX-512 kernels); needs count ≥ 64.
void synapse_pointwise_forward(const float *input, int channels, long plane, const float *weight, const float *bias,
                               float *output, int outputs, long first, long count, int activation, float low,
                               float high);

#ifdef __cplusplus
}
#endif

#endif
