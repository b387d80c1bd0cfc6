// Elementwise exp, sigmoid, SiLU, tanh, GELU and clamping (see include/synapse_vector_math.h): the
// polynomial forms of VectorMath.swift, sixteen lanes at a time, one source for AVX-512,
// AVX2 and portable code, dispatched by synapse_cpu_level().

#include "synapse_vector_math.h"
#include "synapse_cpu_level.h"
#include "vector_forms.h"

#include <string.h>

// The Swift forms multiply and add separately: so must these, for the same bits.
#pragma clang fp contract(off)

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

// One activation over `rows` runs of `columns` floats, `stride` apart, in place (a kernel's
// block of output rows, while it is in cache).
static inline __attribute__((always_inline)) void activate_rows_body(float *x, long rows, long columns, long stride,
                                                                     int activation, float low, float high) {
    for (long r = 0; r < rows; r++) {
        float *row = x + r * stride;
        long i = 0;
        for (; i + 16 <= columns; i += 16) {
            v16 v = *(const v16 *)(row + i);
            VECTOR_ACTIVATE(v, activation, low, high);
            *(v16 *)(row + i) = v;
        }
        if (i < columns) {
            float lanes[16] = {0};
            memcpy(lanes, row + i, (size_t)(columns - i) * sizeof(float));
            v16 v = *(const v16 *)lanes;
            VECTOR_ACTIVATE(v, activation, low, high);
            memcpy(row + i, &v, (size_t)(columns - i) * sizeof(float));
        }
    }
}

static void activate_rows_generic(float *x, long rows, long columns, long stride, int activation, float low,
                                  float high) {
    activate_rows_body(x, rows, columns, stride, activation, low, high);
}
#if defined(__x86_64__)
__attribute__((target("avx512f"))) static void activate_rows_avx512(float *x, long rows, long columns, long stride,
                                                                    int activation, float low, float high) {
    activate_rows_body(x, rows, columns, stride, activation, low, high);
}
__attribute__((target("avx2"))) static void activate_rows_avx2(float *x, long rows, long columns, long stride,
                                                                int activation, float low, float high) {
    activate_rows_body(x, rows, columns, stride, activation, low, high);
}
#endif

void synapse_activate_rows(float *x, long rows, long columns, long stride, int activation, float low, float high) {
    SYNAPSE_DISPATCH(activate_rows, x, rows, columns, stride, activation, low, high);
}
