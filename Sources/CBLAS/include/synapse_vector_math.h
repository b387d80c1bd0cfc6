#ifndef SYNAPSE_VECTOR_MATH_H
#define SYNAPSE_VECTOR_MATH_H

// exp, sigmoid, x·sigmoid(x), tanh, GELU (erf and tanh forms) and clamping over arrays (Sources/Core/Kernels/VectorMath.swift), in
// C so that they run in AVX2 or AVX-512 registers where the CPU has them. The operations
// are those of the Swift forms, in the same order and without fused multiply-adds, so both
// give the same bits at every vector width.

#ifdef __cplusplus
extern "C" {
#endif

enum {
    SYNAPSE_VECTOR_EXP = 0,
    SYNAPSE_VECTOR_SIGMOID = 1,
    SYNAPSE_VECTOR_SILU = 2,
    SYNAPSE_VECTOR_TANH = 3,
    SYNAPSE_VECTOR_GELU = 4,
    SYNAPSE_VECTOR_GELU_TANH = 5,
};

/// Activations the C kernels apply to their outputs in registers before storing them, with
/// the bits of FusedActivation.apply (Sources/Core/Kernels/FusedActivation.swift).
enum {
    SYNAPSE_ACTIVATION_NONE = 0,
    SYNAPSE_ACTIVATION_RELU = 1,
    SYNAPSE_ACTIVATION_CLIP = 2,
    SYNAPSE_ACTIVATION_SIGMOID = 3,
    SYNAPSE_ACTIVATION_SILU = 4,
};

/// y[i] = f(x[i]) for i in 0 ..< count, f one of SYNAPSE_VECTOR_*; y may be x.
void synapse_vector_map(int function, const float *x, float *y, long count);

/// y[i] = min(max(x[i], low), high) as Swift's `Swift.min(Swift.max(x, low), high)` computes
/// it (a NaN x stays NaN); y may be x.
void synapse_vector_clamp(const float *x, float *y, long count, float low, float high);

/// `activation` (SYNAPSE_ACTIVATION_*; Clip between `low` and `high`) over `rows` runs of
/// `columns` floats `stride` apart, in place, with the bits of FusedActivation.apply.
void synapse_activate_rows(float *x, long rows, long columns, long stride, int activation, float low, float high);

/// The softmax of each of `rows` contiguous rows of n floats: exp(x − max) / Σ exp(x − max),
/// with VectorMath.exp's bits for each exponential and the sum in a fixed order; y may be x.
void synapse_softmax_rows(const float *x, float *y, long rows, long n);

#ifdef __cplusplus
}
#endif

#endif
