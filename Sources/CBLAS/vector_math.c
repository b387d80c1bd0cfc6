// Elementwise exp, sigmoid, SiLU, tanh, GELU and clamping (see include/synapse_vector_math.h): the
// polynomial forms of VectorMath.swift, sixteen lanes at a time, one source for AVX-512,
// AVX2 and portable code, dispatched by synapse_cpu_level().

#include "synapse_vector_math.h"
#include "synapse_cpu_level.h"

#include <string.h>

// The Swift forms multiply and add separately: so must these, for the same bits.
#pragma clang fp contract(off)

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

#define APPLY(function, y, x)                                                                                    \
    do {                                                                                                         \
        v16 e_value_;                                                                                            \
        switch (function) {                                                                                      \
        case SYNAPSE_VECTOR_EXP: VECTOR_EXP(y, x); break;                                                        \
        case SYNAPSE_VECTOR_SIGMOID: VECTOR_EXP(e_value_, -(x)); (y) = 1.0f / (1.0f + e_value_); break;          \
        case SYNAPSE_VECTOR_SILU: VECTOR_EXP(e_value_, -(x)); (y) = (x) * (1.0f / (1.0f + e_value_)); break;     \
        case SYNAPSE_VECTOR_GELU: VECTOR_GELU(y, x); break;                                                      \
        case SYNAPSE_VECTOR_GELU_TANH: VECTOR_GELU_TANH(y, x); break;                                            \
        default: VECTOR_TANH(y, x); break;                                                                       \
        }                                                                                                        \
    } while (0)

static inline __attribute__((always_inline)) void map_body(int function, const float *x, float *y, long count) {
    long i = 0;
    for (; i + 16 <= count; i += 16) {
        v16 in = *(const v16 *)(x + i), out;
        APPLY(function, out, in);
        *(v16 *)(y + i) = out;
    }
    if (i < count) {
        // The tail through a zero-padded vector, as the Swift form's.
        float lanes[16] = {0};
        memcpy(lanes, x + i, (size_t)(count - i) * sizeof(float));
        v16 in = *(const v16 *)lanes, out;
        APPLY(function, out, in);
        memcpy(y + i, &out, (size_t)(count - i) * sizeof(float));
    }
}

static void map_generic(int function, const float *x, float *y, long count) { map_body(function, x, y, count); }
#if defined(__x86_64__)
__attribute__((target("avx512f"))) static void map_avx512(int function, const float *x, float *y, long count) {
    map_body(function, x, y, count);
}
__attribute__((target("avx2"))) static void map_avx2(int function, const float *x, float *y, long count) {
    map_body(function, x, y, count);
}
#endif

void synapse_vector_map(int function, const float *x, float *y, long count) {
    SYNAPSE_DISPATCH(map, function, x, y, count);
}

// Swift.max(v, low) is `low >= v ? low : v`, Swift.min(v, high) `high < v ? high : v`.
static inline __attribute__((always_inline)) void clamp_body(const float *x, float *y, long count, float low,
                                                             float high) {
    long i = 0;
    for (; i + 16 <= count; i += 16) {
        v16 v = *(const v16 *)(x + i);
        v = SELECT(SPLAT(low) >= v, SPLAT(low), v);
        v = SELECT(SPLAT(high) < v, SPLAT(high), v);
        *(v16 *)(y + i) = v;
    }
    for (; i < count; i++) {
        float v = x[i];
        v = low >= v ? low : v;
        y[i] = high < v ? high : v;
    }
}

static void clamp_generic(const float *x, float *y, long count, float low, float high) {
    clamp_body(x, y, count, low, high);
}
#if defined(__x86_64__)
__attribute__((target("avx512f"))) static void clamp_avx512(const float *x, float *y, long count, float low,
                                                            float high) {
    clamp_body(x, y, count, low, high);
}
__attribute__((target("avx2"))) static void clamp_avx2(const float *x, float *y, long count, float low, float high) {
    clamp_body(x, y, count, low, high);
}
#endif

void synapse_vector_clamp(const float *x, float *y, long count, float low, float high) {
    SYNAPSE_DISPATCH(clamp, x, y, count, low, high);
}

// Each row: m = max over the row (a NaN never wins, as Swift.max(m, x) keeps m), e = exp(x − m)
// (m taken as 0 when not finite), then e / Σ e. The sum runs in sixteen lanes (the tail
// zero-padded), the lanes added pairwise in a fixed order: the same bits at every level.
static inline __attribute__((always_inline)) void softmax_body(const float *x, float *y, long rows, long n) {
    for (long row = 0; row < rows; row++) {
        const float *in = x + row * n;
        float *out = y + row * n;
        float maximum = -__builtin_inff();
        for (long k = 0; k < n; k++) maximum = in[k] >= maximum ? in[k] : maximum;
        float shift = __builtin_isfinite(maximum) ? maximum : 0;
        v16 sums = SPLAT(0);
        long k = 0;
        for (; k + 16 <= n; k += 16) {
            v16 e;
            VECTOR_EXP(e, *(const v16 *)(in + k) - shift);
            *(v16 *)(out + k) = e;
            sums += e;
        }
        if (k < n) {
            float lanes[16] = {0};
            for (long j = k; j < n; j++) lanes[j - k] = in[j] - shift;
            v16 e;
            VECTOR_EXP(e, *(const v16 *)lanes);
            memcpy(out + k, &e, (size_t)(n - k) * sizeof(float));
            for (long j = n - k; j < 16; j++) e[j] = 0;
            sums += e;
        }
        for (int width = 8; width >= 1; width /= 2)
            for (int lane = 0; lane < width; lane++) sums[lane] += sums[lane + width];
        float scale = 1 / sums[0];
        for (k = 0; k + 16 <= n; k += 16) *(v16 *)(out + k) = *(const v16 *)(out + k) * scale;
        for (; k < n; k++) out[k] *= scale;
    }
}

static void softmax_generic(const float *x, float *y, long rows, long n) { softmax_body(x, y, rows, n); }
#if defined(__x86_64__)
__attribute__((target("avx512f"))) static void softmax_avx512(const float *x, float *y, long rows, long n) {
    softmax_body(x, y, rows, n);
}
__attribute__((target("avx2"))) static void softmax_avx2(const float *x, float *y, long rows, long n) {
    softmax_body(x, y, rows, n);
}
#endif

void synapse_softmax_rows(const float *x, float *y, long rows, long n) { SYNAPSE_DISPATCH(softmax, x, y, rows, n); }
