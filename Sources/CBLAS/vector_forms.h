// The polynomial forms of VectorMath.swift on sixteen-float Clang vectors, for the C kernels
// (a header of this folder, not of the module: Swift never sees it). The Swift forms multiply
// and add separately, so every file that uses these macros computes them with contraction
// off: vector_math.c for the whole file, VECTOR_ACTIVATE in its own block.

#ifndef SYNAPSE_VECTOR_FORMS_H
#define SYNAPSE_VECTOR_FORMS_H

#include "synapse_vector_math.h"

typedef float v16 __attribute__((vector_size(64), aligned(4)));
typedef int vi16 __attribute__((vector_size(64), aligned(4)));

// Lanes of `a` where `mask` is set, of `b` elsewhere.
#define SELECT(mask, a, b) ((v16)(((vi16)(a) & (mask)) | ((vi16)(b) & ~(mask))))
#define SPLAT(value) ((v16){0} + (float)(value))
// `x` clamped to [−limit, limit] (NaN stays NaN).
#define CLAMPED(x, limit) SELECT((x) < -(limit), SPLAT(-(limit)), SELECT((x) > (limit), SPLAT(limit), (x)))

// Macros rather than functions: a vector passed to or returned from a function trips
// -Wpsabi in the portable build.
#define VECTOR_EXP(result, input)                                                                                \
    do {                                                                                                         \
        v16 in_ = (input);                                                                                       \
        const float limit_ = 88.3762626647949f;                                                                  \
        v16 x_ = CLAMPED(in_, limit_);                                                                           \
        v16 magic_ = SPLAT(0x1.8p23f);                                                                           \
        v16 shifted_ = x_ * 1.44269504088896341f + magic_;                                                       \
        v16 n_ = shifted_ - magic_;                                                                              \
        v16 r_ = x_ - n_ * 0.693359375f;                                                                         \
        r_ = r_ + n_ * 2.12194440e-4f;                                                                           \
        v16 r2_ = r_ * r_;                                                                                       \
        v16 p_ = SPLAT(1.9875691500e-4f);                                                                        \
        p_ = p_ * r_ + 1.3981999507e-3f;                                                                         \
        p_ = p_ * r_ + 8.3334519073e-3f;                                                                         \
        p_ = p_ * r_ + 4.1665795894e-2f;                                                                         \
        p_ = p_ * r_ + 1.6666665459e-1f;                                                                         \
        p_ = p_ * r_ + 5.0000001201e-1f;                                                                         \
        p_ = p_ * r2_ + r_ + 1.0f;                                                                               \
        vi16 integer_ = (vi16)shifted_ - (vi16)magic_;                                                           \
        v16 two_to_n_ = (v16)((integer_ + 127) << 23);                                                           \
        v16 e_ = p_ * two_to_n_;                                                                                 \
        e_ = SELECT(in_ > limit_, SPLAT(__builtin_inff()), e_);                                                  \
        e_ = SELECT(in_ < -limit_, SPLAT(0), e_);                                                                \
        (result) = SELECT(in_ != in_, in_, e_);                                                                  \
    } while (0)

#define VECTOR_TANH(result, input)                                                                               \
    do {                                                                                                         \
        v16 in_ = (input);                                                                                       \
        const float limit_ = 7.90531110763549805f;                                                               \
        v16 x_ = CLAMPED(in_, limit_);                                                                           \
        v16 x2_ = x_ * x_;                                                                                       \
        v16 p_ = SPLAT(-2.76076847742355e-16f);                                                                  \
        p_ = p_ * x2_ + 2.00018790482477e-13f;                                                                   \
        p_ = p_ * x2_ - 8.60467152213735e-11f;                                                                   \
        p_ = p_ * x2_ + 5.12229709037114e-08f;                                                                   \
        p_ = p_ * x2_ + 1.48572235717979e-05f;                                                                   \
        p_ = p_ * x2_ + 6.37261928875436e-04f;                                                                   \
        p_ = p_ * x2_ + 4.89352455891786e-03f;                                                                   \
        p_ = p_ * x_;                                                                                            \
        v16 q_ = SPLAT(1.19825839466702e-06f);                                                                   \
        q_ = q_ * x2_ + 1.18534705686654e-04f;                                                                   \
        q_ = q_ * x2_ + 2.26843463243900e-03f;                                                                   \
        q_ = q_ * x2_ + 4.89352518554385e-03f;                                                                   \
        v16 t_ = p_ / q_;                                                                                        \
        vi16 keep_ = ((in_ < 0.0004f) & (in_ > -0.0004f)) | (in_ != in_);                                        \
        (result) = SELECT(keep_, in_, t_);                                                                       \
    } while (0)

// GELU's erf with absolute accuracy (VectorMath.erfAbsolute): Abramowitz and Stegun 7.1.26.
#define VECTOR_ERF_ABSOLUTE(result, input)                                                                       \
    do {                                                                                                         \
        v16 z_ = (input);                                                                                        \
        vi16 negative_ = z_ < 0;                                                                                 \
        v16 a_ = SELECT(negative_, -z_, z_);                                                                     \
        v16 t_ = 1.0f / (1.0f + 0.3275911f * a_);                                                                \
        v16 p_ = SPLAT(1.061405429f);                                                                            \
        p_ = p_ * t_ - 1.453152027f;                                                                             \
        p_ = p_ * t_ + 1.421413741f;                                                                             \
        p_ = p_ * t_ - 0.284496736f;                                                                             \
        p_ = p_ * t_ + 0.254829592f;                                                                             \
        p_ = p_ * t_;                                                                                            \
        v16 exp_;                                                                                                \
        VECTOR_EXP(exp_, -(a_ * a_));                                                                            \
        v16 magnitude_ = 1.0f - p_ * exp_;                                                                       \
        (result) = SELECT(negative_, -magnitude_, magnitude_);                                                   \
    } while (0)

// x/2 · (1 + erf(x/√2)) and x/2 · (1 + tanh(√(2/π)(x + 0.044715x³))), as GELUFunction and
// GELUTanhFunction compute them.
#define VECTOR_GELU(result, input)                                                                               \
    do {                                                                                                         \
        v16 x_gelu_ = (input), erf_;                                                                             \
        VECTOR_ERF_ABSOLUTE(erf_, x_gelu_ * 0.70710678118f);                                                     \
        (result) = 0.5f * x_gelu_ * (1.0f + erf_);                                                               \
    } while (0)

#define VECTOR_GELU_TANH(result, input)                                                                          \
    do {                                                                                                         \
        v16 x_gelu_ = (input), t_gelu_;                                                                          \
        v16 inner_ = 0.7978845608f * (x_gelu_ + 0.044715f * x_gelu_ * x_gelu_ * x_gelu_);                        \
        VECTOR_TANH(t_gelu_, inner_);                                                                            \
        (result) = 0.5f * x_gelu_ * (1.0f + t_gelu_);                                                            \
    } while (0)

// `x` through the activation `kind` (SYNAPSE_ACTIVATION_*) as FusedActivation.apply computes
// it: ReLU `x < 0 ? 0 : x` (NaN stays), Clip `Swift.min(Swift.max(x, low), high)`, Sigmoid
// 1 / (1 + exp(−x)) and SiLU x · (1 / (1 + exp(−x))), unfused. In place on the variable `x`.
#define VECTOR_ACTIVATE(x, kind, low, high)                                                                       \
    do {                                                                                                         \
        _Pragma("clang fp contract(off)") v16 e_activate_;                                                       \
        switch (kind) {                                                                                          \
        case SYNAPSE_ACTIVATION_RELU: (x) = SELECT((x) < 0, SPLAT(0), (x)); break;                               \
        case SYNAPSE_ACTIVATION_CLIP:                                                                            \
            (x) = SELECT(SPLAT(low) >= (x), SPLAT(low), (x));                                                    \
            (x) = SELECT(SPLAT(high) < (x), SPLAT(high), (x));                                                   \
            break;                                                                                               \
        case SYNAPSE_ACTIVATION_SIGMOID: VECTOR_EXP(e_activate_, -(x)); (x) = 1.0f / (1.0f + e_activate_); break; \
        case SYNAPSE_ACTIVATION_SILU: VECTOR_EXP(e_activate_, -(x)); (x) = (x) * (1.0f / (1.0f + e_activate_)); break; \
        default: break;                                                                                          \
        }                                                                                                        \
    } while (0)

#endif
