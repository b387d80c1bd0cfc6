#ifndef SYNAPSE_STORE_PLANES_H
#define SYNAPSE_STORE_PLANES_H

// A product computed as [positions, channels] (the packed-weight convolutions' out[n]ᵀ) stored
// as the channels' planes, with the bias and activation on the way: sixteen by sixteen
// through transposes in registers, where the scalar loop read one float per strided load.

#ifdef __cplusplus
extern "C" {
#endif

/// result[o · plane_stride + p] = activation(block[p · block_stride + o] + bias[o]) for p in
/// 0 ..< positions and o in 0 ..< channels (bias may be NULL: no addition). `activation` is a
/// SYNAPSE_ACTIVATION_* (Clip between `low` and `high`), computed as synapse_activate_rows
/// computes it, so the bits do not depend on how positions and channels are split.
void synapse_store_planes(const float *block, int positions, int channels, long block_stride, const float *bias,
                          float *result, long plane_stride, int activation, float low, float high);

#ifdef __cplusplus
}
#endif

#endif
