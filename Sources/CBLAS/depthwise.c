// Depthwise convolution, forward (see include/synapse_depthwise.h). One source for AVX-512,
// AVX2 and portable code through Clang vector types and `target` attributes, dispatched by
// synapse_cpu_level().

#include "synapse_depthwise.h"
#include "synapse_cpu_level.h"
#include "strided_load.h"
#include "vector_forms.h"

#include <stdlib.h>
#include <string.h>



// `sum` through the activation, then stored: all sixteen floats, or the `count` that are
// the row's (memcpy, so no lane past the row is written).
#define STORE_ACTIVATED(target, sum, count)                                                                     \
    do {                                                                                                        \
        v16 out_ = (sum);                                                                                       \
        VECTOR_ACTIVATE(out_, activation, low, high);                                                           \
        if ((count) == 16) *(v16 *)(target) = out_;                                                             \
        else if ((count) > 0) memcpy((target), &out_, (size_t)(count) * sizeof(float));                          \
    } while (0)

// The four accumulators s0_ … s3_ of a block to their targets.
#define STORE_FOUR()                                                                                            \
    do {                                                                                                        \
        STORE_ACTIVATED(target_[0], s0_, count_[0]);                                                            \
        STORE_ACTIVATED(target_[1], s1_, count_[1]);                                                            \
        STORE_ACTIVATED(target_[2], s2_, count_[2]);                                                            \
        STORE_ACTIVATED(target_[3], s3_, count_[3]);                                                            \
    } while (0)

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
            STORE_FOUR();                                                                                       \
        }                                                                                                       \
    } while (0)

// PLANE_BLOCKS for a square K × K window at stride S (1 or 2) and dilation 1, K and S
// constants: the tap loops have constant bounds, their weights sit in vectors, and each tap is one
// contiguous load: at stride 2 each padded row holds its even columns, then (`half` floats
// on) its odd ones, so column 2x + j is row[(j odd ? half : 0) + x + j / 2]. The same
// multiply-adds in the same order as PLANE_BLOCKS.
#define SQUARE_BLOCKS(K, S)                                                                                     \
    do {                                                                                                        \
        v16 w_[(K) * (K)];                                                                                      \
        for (int t_ = 0; t_ < (K) * (K); t_++) w_[t_] = SPLAT(taps[t_]);                                        \
        int pairs_ = out_height * chunks, y_ = 0, chunk_ = 0;                                                   \
        for (int t0_ = 0; t0_ < pairs_; t0_ += 4) {                                                             \
            const float *base_[4];                                                                              \
            float *target_[4];                                                                                  \
            int count_[4];                                                                                      \
            for (int q_ = 0; q_ < 4; q_++) {                                                                    \
                if (t0_ + q_ >= pairs_) {                                                                       \
                    base_[q_] = base_[0], target_[q_] = target_[0], count_[q_] = 0;                             \
                    continue;                                                                                   \
                }                                                                                               \
                int x0_ = chunk_ * 16;                                                                          \
                base_[q_] = padded + (long)y_ * (S) * padded_width + x0_;                                       \
                target_[q_] = out_plane + (long)y_ * out_width + x0_;                                          \
                count_[q_] = out_width - x0_ < 16 ? out_width - x0_ : 16;                                       \
                if (++chunk_ == chunks) chunk_ = 0, y_++;                                                       \
            }                                                                                                   \
            v16 s0_ = SPLAT(shift), s1_ = s0_, s2_ = s0_, s3_ = s0_;                                            \
            for (int i_ = 0; i_ < (K); i_++) {                                                                  \
                for (int j_ = 0; j_ < (K); j_++) {                                                              \
                    long offset_ = (long)i_ * padded_width + ((S) == 1 ? j_ : (j_ & 1) * half + j_ / 2);        \
                    v16 w = w_[i_ * (K) + j_];                                                                  \
                    s0_ += w * *(const v16 *)(base_[0] + offset_);                                              \
                    s1_ += w * *(const v16 *)(base_[1] + offset_);                                              \
                    s2_ += w * *(const v16 *)(base_[2] + offset_);                                              \
                    s3_ += w * *(const v16 *)(base_[3] + offset_);                                              \
                }                                                                                               \
            }                                                                                                   \
            STORE_FOUR();                                                                                       \
        }                                                                                                       \
    } while (0)

// Input row `row` of `image` into padded row `target` at stride 2: padded column P (input
// column P − pad_left) goes to target[P / 2], odd P to target[half + P / 2]; columns outside
// the input, or past the row's 2·half, are left as they are (zero).
static inline __attribute__((always_inline)) void deinterleave_row(const float *source, int width, int pad_left,
                                                                   long half, float *target) {
    long m = 0;
    // Scalar where the pair (2m, 2m + 1) starts left of the input, then sixteen pairs from
    // two vector loads while 32 input floats are there, then scalar to the input's end.
    for (; m < half && 2 * m - pad_left < 0; m++) {
        long even = 2 * m - pad_left, odd = even + 1;
        if (even >= 0 && even < width) target[m] = source[even];
        if (odd >= 0 && odd < width) target[half + m] = source[odd];
    }
    for (; m + 16 <= half && 2 * m - pad_left + 32 <= width; m += 16) {
        v16 low_ = *(const v16 *)(source + 2 * m - pad_left), high_ = *(const v16 *)(source + 2 * m - pad_left + 16);
        *(v16 *)(target + m) = __builtin_shufflevector(low_, high_, 0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
        *(v16 *)(target + half + m) = __builtin_shufflevector(low_, high_, 1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31);
    }
    for (; m < half && 2 * m - pad_left < width; m++) {
        long even = 2 * m - pad_left, odd = even + 1;
        target[m] = source[even];
        if (odd < width) target[half + m] = source[odd];
    }
}

static inline __attribute__((always_inline)) void forward_body(
    const float *input, const float *weight, const float *bias, float *output, int channels, int outputs, int height,
    int width, int out_height, int out_width, int kernel_h, int kernel_w, int stride_h, int stride_w, int pad_top,
    int pad_left, int dilation_h, int dilation_w, int first_plane, int plane_count, int activation, float low,
    float high) {
    int multiplier = outputs / channels;
    int chunks = (out_width + 15) / 16;
    // Square 3×3, 5×5 and 7×7 windows at stride 1 or 2 without dilation (MobileNet,
    // EfficientNet, ConvNeXt) take SQUARE_BLOCKS; at stride 2 their rows are deinterleaved.
    int square = kernel_h == kernel_w && (kernel_h == 3 || kernel_h == 5 || kernel_h == 7) && stride_h == stride_w &&
                 (stride_w == 1 || stride_w == 2) && dilation_h == 1 && dilation_w == 1;
    int split = square && stride_w == 2;
    // At stride 2 (split rows): each half holds what the loads of the last chunk's taps reach.
    long half = (long)chunks * 16 + (kernel_w - 1) / 2;
    // The padded plane: every row and column any output's taps read, and room for the last
    // chunk's sixteen (or, at stride 2, thirty-two) loads past the row's end.
    long padded_height = (long)(out_height - 1) * stride_h + (long)(kernel_h - 1) * dilation_h + 1;
    long padded_width = split ? 2 * half : (long)chunks * 16 * stride_w + (long)(kernel_w - 1) * dilation_w + 32;
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
                if (split) {
                    deinterleave_row(image + row * width, width, pad_left, half, padded + r * padded_width);
                    continue;
                }
                long first = pad_left > 0 ? pad_left : 0, skip = pad_left < 0 ? -pad_left : 0;
                long count = width - skip < padded_width - first ? width - skip : padded_width - first;
                if (count > 0) memcpy(padded + r * padded_width + first, image + row * width + skip, (size_t)count * sizeof(float));
            }
            padded_plane = source_plane;
        }
        const float *taps = weight + (long)o * kernel_h * kernel_w;
        float shift = bias ? bias[o] : 0;
        float *out_plane = output + (long)plane * out_height * out_width;
        if (square) {
            switch (kernel_w * 2 + stride_w) {
            case 7: SQUARE_BLOCKS(3, 1); break;
            case 8: SQUARE_BLOCKS(3, 2); break;
            case 11: SQUARE_BLOCKS(5, 1); break;
            case 12: SQUARE_BLOCKS(5, 2); break;
            case 15: SQUARE_BLOCKS(7, 1); break;
            default: SQUARE_BLOCKS(7, 2); break;
            }
        } else if (stride_w == 1) PLANE_BLOCKS(1);
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
                                        int plane_count, int activation, float low, float high) {                   \
        forward_body(input, weight, bias, output, channels, outputs, height, width, out_height, out_width,         \
                     kernel_h, kernel_w, stride_h, stride_w, pad_top, pad_left, dilation_h, dilation_w,            \
                     first_plane, plane_count, activation, low, high);                                              \
    }

DEFINE_FORWARD(generic, )
#if defined(__x86_64__)
DEFINE_FORWARD(avx512, __attribute__((target("avx512f,fma"))))
DEFINE_FORWARD(avx2, __attribute__((target("avx2,fma"))))
#endif

void synapse_depthwise_forward(const float *input, const float *weight, const float *bias, float *output, int channels,
                               int outputs, int height, int width, int out_height, int out_width, int kernel_h,
                               int kernel_w, int stride_h, int stride_w, int pad_top, int pad_left, int dilation_h,
                               int dilation_w, int first_plane, int plane_count, int activation, float low,
                               float high) {
    SYNAPSE_DISPATCH(forward, input, weight, bias, output, channels, outputs, height, width, out_height, out_width,
                     kernel_h, kernel_w, stride_h, stride_w, pad_top, pad_left, dilation_h, dilation_w, first_plane,
                     plane_count, activation, low, high);
}
