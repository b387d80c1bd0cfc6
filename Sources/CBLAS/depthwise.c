// Depthwise convolution, forward (see include/synapse_depthwise.h). One source for AVX-512,
// AVX2 and portable code through Clang vector types and `target` attributes, dispatched by
// synapse_cpu_level().

#include "synapse_depthwise.h"
#include "synapse_cpu_level.h"
#include "strided_load.h"

#include <stdlib.h>
#include <string.h>



// The plane's outputs as (row, 16-column chunk) pairs, four at a time: four accumulators
// whose multiply-adds interleave (one accumulator waits on each of its taps' results in
// turn). A group past the plane's last pair repeats its first and stores nothing. STRIDE is
// a constant in each use, so the loads compile without the stride's branches.
#define PLANE_BLOCKS(STRIDE)                                                                                    \
    do {                                                                                                        \
        int pairs_ = out_height * chunks;                                                                       \
        for (int t0_ = 0; t0_ < pairs_; t0_ += 4) {                                                             \
            const float *base_[4];                                                                              \
            float *target_[4];                                                                                  \
            int count_[4];                                                                                      \
            for (int q_ = 0; q_ < 4; q_++) {                                                                    \
                int t_ = t0_ + q_ < pairs_ ? t0_ + q_ : t0_;                                                    \
                int y_ = t_ / chunks, x0_ = (t_ % chunks) * 16;                                                 \
                base_[q_] = padded + (long)y_ * stride_h * padded_width + (long)x0_ * (STRIDE);                 \
                target_[q_] = out_plane + (long)y_ * out_width + x0_;                                          \
                count_[q_] = t0_ + q_ < pairs_ ? (out_width - x0_ < 16 ? out_width - x0_ : 16) : 0;            \
            }                                                                                                   \
            v16 s0_ = (v16){0} + shift, s1_ = s0_, s2_ = s0_, s3_ = s0_;                                        \
            for (int i_ = 0; i_ < kernel_h; i_++) {                                                             \
                for (int j_ = 0; j_ < kernel_w; j_++) {                                                         \
                    long offset_ = (long)i_ * dilation_h * padded_width + (long)j_ * dilation_w;                \
                    float w_ = taps[i_ * kernel_w + j_];                                                        \
                    v16 v0_, v1_, v2_, v3_;                                                                     \
                    LOAD_STRIDED16(v0_, base_[0] + offset_, STRIDE, 32);                                            \
                    LOAD_STRIDED16(v1_, base_[1] + offset_, STRIDE, 32);                                            \
                    LOAD_STRIDED16(v2_, base_[2] + offset_, STRIDE, 32);                                            \
                    LOAD_STRIDED16(v3_, base_[3] + offset_, STRIDE, 32);                                            \
                    s0_ += w_ * v0_;                                                                            \
                    s1_ += w_ * v1_;                                                                            \
                    s2_ += w_ * v2_;                                                                            \
                    s3_ += w_ * v3_;                                                                            \
                }                                                                                               \
            }                                                                                                   \
            v16 sums_[4] = {s0_, s1_, s2_, s3_};                                                                \
            for (int q_ = 0; q_ < 4; q_++) {                                                                    \
                if (count_[q_] == 16) *(v16 *)target_[q_] = sums_[q_];                                          \
                else if (count_[q_] > 0) memcpy(target_[q_], &sums_[q_], (size_t)count_[q_] * sizeof(float));  \
            }                                                                                                   \
        }                                                                                                       \
    } while (0)

static inline __attribute__((always_inline)) void forward_body(
    const float *input, const float *weight, const float *bias, float *output, int channels, int outputs, int height,
    int width, int out_height, int out_width, int kernel_h, int kernel_w, int stride_h, int stride_w, int pad_top,
    int pad_left, int dilation_h, int dilation_w, int first_plane, int plane_count) {
    int multiplier = outputs / channels;
    int chunks = (out_width + 15) / 16;
    // The padded plane: every row and column any output's taps read, and room for the last
    // chunk's sixteen (or, at stride 2, thirty-two) loads past the row's end.
    long padded_height = (long)(out_height - 1) * stride_h + (long)(kernel_h - 1) * dilation_h + 1;
    long padded_width = (long)chunks * 16 * stride_w + (long)(kernel_w - 1) * dilation_w + 32;
    // One plane of scratch per call (a call covers many planes); zeroed once: every plane
    // writes the same interior rows and columns, so the border stays zero.
    float *padded = calloc((size_t)(padded_height * padded_width), sizeof(float));
    if (!padded) abort();
    int padded_plane = -1;
    for (int plane = first_plane; plane < first_plane + plane_count; plane++) {
        int n = plane / outputs, o = plane % outputs, c = o / multiplier;
        // Input plane (n, c) is shared by the `multiplier` outputs after one another.
        int source_plane = n * channels + c;
        if (source_plane != padded_plane) {
            const float *image = input + (long)source_plane * height * width;
            for (long r = 0; r < padded_height; r++) {
                long row = r - pad_top;
                if (row < 0 || row >= height) continue;
                long first = pad_left > 0 ? pad_left : 0, skip = pad_left < 0 ? -pad_left : 0;
                long count = width - skip < padded_width - first ? width - skip : padded_width - first;
                if (count > 0) memcpy(padded + r * padded_width + first, image + row * width + skip, (size_t)count * sizeof(float));
            }
            padded_plane = source_plane;
        }
        const float *taps = weight + (long)o * kernel_h * kernel_w;
        float shift = bias ? bias[o] : 0;
        float *out_plane = output + (long)plane * out_height * out_width;
        if (stride_w == 1) PLANE_BLOCKS(1);
        else if (stride_w == 2) PLANE_BLOCKS(2);
        else PLANE_BLOCKS(stride_w);
    }
    free(padded);
}

#define DEFINE_FORWARD(SUFFIX, TARGET)                                                                              \
    TARGET static void forward_##SUFFIX(const float *input, const float *weight, const float *bias, float *output,  \
                                        int channels, int outputs, int height, int width, int out_height,           \
                                        int out_width, int kernel_h, int kernel_w, int stride_h, int stride_w,      \
                                        int pad_top, int pad_left, int dilation_h, int dilation_w, int first_plane, \
                                        int plane_count) {                                                          \
        forward_body(input, weight, bias, output, channels, outputs, height, width, out_height, out_width,         \
                     kernel_h, kernel_w, stride_h, stride_w, pad_top, pad_left, dilation_h, dilation_w,            \
                     first_plane, plane_count);                                                                     \
    }

DEFINE_FORWARD(generic, )
#if defined(__x86_64__)
DEFINE_FORWARD(avx512, __attribute__((target("avx512f,fma"))))
DEFINE_FORWARD(avx2, __attribute__((target("avx2,fma"))))
#endif

void synapse_depthwise_forward(const float *input, const float *weight, const float *bias, float *output, int channels,
                               int outputs, int height, int width, int out_height, int out_width, int kernel_h,
                               int kernel_w, int stride_h, int stride_w, int pad_top, int pad_left, int dilation_h,
                               int dilation_w, int first_plane, int plane_count) {
    SYNAPSE_DISPATCH(forward, input, weight, bias, output, channels, outputs, height, width, out_height, out_width,
                     kernel_h, kernel_w, stride_h, stride_w, pad_top, pad_left, dilation_h, dilation_w, first_plane,
                     plane_count);
}
