// Direct 1×1 convolution of few input channels (see include/synapse_pointwise.h).
//
// A register block is OB ≤ 4 outputs by four vectors of sixteen positions: sixteen
// accumulators, each channel four loads of the input and OB broadcasts of the weight. The
// positions go 64 at a time, the input block (channels × 64 floats) staying in L1 while every
// output reads it; a last block shorter than 64 starts 64 back instead, overlapping the one
// before it (it writes the same values again).

#include "synapse_pointwise.h"
#include "synapse_cpu_level.h"
#include "vector_forms.h"

static inline __attribute__((always_inline)) void pointwise_block(const float *input, int channels, long plane,
                                                                  const float *weight, const float *bias,
                                                                  float *output, int o, int OB, long p,
                                                                  int activation, float low, float high) {
    v16 sum[4][4];
#pragma clang loop unroll(full)
    for (int b = 0; b < OB; b++) {
        v16 start = bias ? SPLAT(bias[o + b]) : SPLAT(0);
#pragma clang loop unroll(full)
        for (int v = 0; v < 4; v++) sum[b][v] = start;
    }
    const float *x = input + p;
    const float *w = weight + (long)o * channels;
    for (int c = 0; c < channels; c++) {
        v16 in[4];
#pragma clang loop unroll(full)
        for (int v = 0; v < 4; v++) in[v] = *(const v16 *)(x + (long)c * plane + 16 * v);
#pragma clang loop unroll(full)
        for (int b = 0; b < OB; b++) {
            v16 weight_splat = SPLAT(w[(long)b * channels + c]);
#pragma clang loop unroll(full)
            for (int v = 0; v < 4; v++) sum[b][v] += weight_splat * in[v];
        }
    }
#pragma clang loop unroll(full)
    for (int b = 0; b < OB; b++) {
#pragma clang loop unroll(full)
        for (int v = 0; v < 4; v++) {
            v16 out = sum[b][v];
            VECTOR_ACTIVATE(out, activation, low, high);
            *(v16 *)(output + (long)(o + b) * plane + p + 16 * v) = out;
        }
    }
}

static inline __attribute__((always_inline)) void pointwise_body(const float *input, int channels, long plane,
                                                                 const float *weight, const float *bias,
                                                                 float *output, int outputs, long first, long count,
                                                                 int activation, float low, float high) {
    if (count < 64) return;
    for (long p = first; p < first + count; p += 64) {
        long at = p + 64 > first + count ? first + count - 64 : p;
        int o = 0;
        for (; o + 4 <= outputs; o += 4)
            pointwise_block(input, channels, plane, weight, bias, output, o, 4, at, activation, low, high);
        switch (outputs - o) {
        case 3: pointwise_block(input, channels, plane, weight, bias, output, o, 3, at, activation, low, high); break;
        case 2: pointwise_block(input, channels, plane, weight, bias, output, o, 2, at, activation, low, high); break;
        case 1: pointwise_block(input, channels, plane, weight, bias, output, o, 1, at, activation, low, high); break;
        default: break;
        }
    }
}

#define DEFINE_POINTWISE(SUFFIX, TARGET)                                                                           \
    TARGET static void pointwise_##SUFFIX(const float *input, int channels, long plane, const float *weight,      \
                                          const float *bias, float *output, int outputs, long first, long count,  \
                                          int activation, float low, float high) {                                \
        pointwise_body(input, channels, plane, weight, bias, output, outputs, first, count, activation, low, high); \
    }

DEFINE_POINTWISE(generic, )
#if defined(__x86_64__)
DEFINE_POINTWISE(avx512, __attribute__((target("avx512f,fma"))))
DEFINE_POINTWISE(avx2, __attribute__((target("avx2,fma"))))
#endif

void synapse_pointwise_forward(const float *input, int channels, long plane, const float *weight, const float *bias,
                               float *output, int outputs, long first, long count, int activation, float low,
                               float high) {
    SYNAPSE_DISPATCH(pointwise, input, channels, plane, weight, bias, output, outputs, first, count, activation, low,
                     high);
}
