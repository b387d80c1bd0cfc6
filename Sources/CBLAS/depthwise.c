// Depthwise convolution, forward (see include/synapse_depthwise.h). One source for AVX-512,
// AVX2 and portable code through Clang vector types and `target` attributes, dispatched by
// synapse_cpu_level().

#include "synapse_depthwise.h"
#include "synapse_cpu_level.h"
#include "strided_load.h"
#include "vector_forms.h"
#include "depthwise_lanes.h"
#include "depthwise_square.h"

#include <pthread.h>
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
            STORE_FOUR();                                                                                       \
        }                                                                                                       \
    } while (0)

// A square window's plane at constant K and S: its taps splatted once into vectors; rows of
// fewer than sixteen outputs flat at stride 1, in NARROW_SPLIT_BLOCKS at stride 2.
#define SQUARE_PLANE(K, S)                                                                                      \
    do {                                                                                                        \
        v16 w_[(K) * (K)];                                                                                      \
        for (int t_ = 0; t_ < (K) * (K); t_++) w_[t_] = SPLAT(taps[t_]);                                        \
        if ((S) == 2 && out_width < 16) NARROW_SPLIT_BLOCKS(K, S);                                            \
        else if (flat) square_plane_flat(padded, padded_width, w_, shift, flat_out, out_plane, out_height, out_width, \
                                    (K), activation, low, high);                                                 \
        else if (out_height >= 4)                                                                               \
            square_plane_rows(padded, padded_width, half, w_, shift, out_plane, out_height, out_width, (K), (S), \
                              4, activation, low, high);                                                         \
        else                                                                                                    \
            square_plane_rows(padded, padded_width, half, w_, shift, out_plane, out_height, out_width, (K), (S), \
                              1, activation, low, high);                                                         \
    } while (0)

// This thread's scratch: the zero-padded plane, the flat outputs and the lane layout (64-byte
// aligned, each region a whole number of vectors), kept from call to call. Every plane of one
// geometry writes the same interior floats, so the zeros around them stay; the scratch is
// zeroed only when the geometry or the size asked for (`shape`) differs from the last call's.
typedef struct {
    float *data;
    size_t capacity;
    long shape[12];
} Scratch;

static pthread_key_t scratch_key;
static pthread_once_t scratch_once = PTHREAD_ONCE_INIT;

static void free_scratch(void *pointer) {
    Scratch *scratch = pointer;
    free(scratch->data);
    free(scratch);
}

static void make_scratch_key(void) { pthread_key_create(&scratch_key, free_scratch); }

// `floats` floats of scratch whose padding is zero for `shape`.
static float *padded_scratch(size_t floats, const long shape[12]) {
    pthread_once(&scratch_once, make_scratch_key);
    Scratch *scratch = pthread_getspecific(scratch_key);
    if (!scratch) {
        scratch = calloc(1, sizeof *scratch);
        if (!scratch || pthread_setspecific(scratch_key, scratch) != 0) abort();
    }
    if (scratch->capacity < floats) {
        free(scratch->data);
        scratch->data = NULL;
        if (posix_memalign((void **)&scratch->data, 64, floats * sizeof(float)) != 0) abort();
        scratch->capacity = floats;
        scratch->shape[0] = -1;
    }
    if (memcmp(scratch->shape, shape, sizeof scratch->shape) != 0) {
        memset(scratch->data, 0, floats * sizeof(float));
        memcpy(scratch->shape, shape, sizeof scratch->shape);
    }
    return scratch->data;
}

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
    // EfficientNet, ConvNeXt) take SQUARE_PLANE; at stride 2 their rows are deinterleaved.
    int square = kernel_h == kernel_w && (kernel_h == 3 || kernel_h == 5 || kernel_h == 7) && stride_h == stride_w &&
                 (stride_w == 1 || stride_w == 2) && dilation_h == 1 && dilation_w == 1;
    int split = square && stride_w == 2;
    // Rows narrower than a vector at stride 1 are computed flat (square_plane_flat).
    int flat = square && stride_w == 1 && out_width < 16;
    // At stride 2 (split rows): each half holds what the loads of the last chunk's taps reach.
    long half = (long)chunks * 16 + (kernel_w - 1) / 2;
    // The padded plane: every row and column any output's taps read, and room for the last
    // chunk's sixteen (or, at stride 2, thirty-two) loads past the row's end; a flat plane is
    // exactly as wide as the taps read, with room for its last vector's loads after it.
    long padded_height = (long)(out_height - 1) * stride_h + (long)(kernel_h - 1) * dilation_h + 1;
    long padded_width = flat    ? out_width + kernel_w - 1
                        : split ? 2 * half
                                : (long)chunks * 16 * stride_w + (long)(kernel_w - 1) * dilation_w + 32;
    long padded_floats = (padded_height * padded_width + (flat ? 16 : 0) + 15) / 16 * 16;
    long flat_floats = flat ? ((long)(out_height - 1) * padded_width + out_width + 15) / 16 * 16 : 0;
    // Sixteen narrow planes at a time with the planes in the vector lanes (depthwise_lanes.h),
    // where each output reads one input plane; the planes left over take the kernels below. Not
    // 3 × 3 at stride 1: there the flat run of vectors does fewer multiply-adds than the lanes'
    // transposes cost (MobileNet v2's 14 × 14 planes: 52 against 81 µs; 5 × 5: 151 against 117,
    // 3 × 3 at stride 2: 206 against 59).
    int lanes = square && !(kernel_w == 3 && stride_w == 1) && multiplier == 1 && out_width < 16 &&
                (long)height * width >= 16 &&
                (long)out_height * out_width >= 16 && plane_count >= 16;
    long lanes_width = (long)(out_width - 1) * stride_w + kernel_w;
    long lane_floats = lanes ? (padded_height * lanes_width + (long)out_height * out_width) * 16 : 0;
    long shape[12] = {padded_height, padded_width, pad_top, pad_left, height, width, split, flat, half, out_width, lanes,
                      padded_floats + flat_floats + lane_floats};
    float *padded = padded_scratch((size_t)(padded_floats + flat_floats + lane_floats), shape);
    float *flat_out = padded + padded_floats;
    if (lanes) {
        int position[height * width];
        for (int q = 0; q < height * width; q++) {
            long r = q / width + pad_top, c = q % width + pad_left;
            position[q] = r >= 0 && r < padded_height && c >= 0 && c < lanes_width ? (int)(r * lanes_width + c) : -1;
        }
        float *x_lanes = flat_out + flat_floats;
        LaneLayout layout = {height, width, out_height, out_width, padded_height, lanes_width, position, x_lanes,
                             x_lanes + padded_height * lanes_width * 16};
        int groups = plane_count / 16;
        for (int g = 0; g < groups; g++) {
            int plane0 = first_plane + 16 * g;
            switch (kernel_w * 2 + stride_w) {
            case 7: lanes_planes(input, weight, bias, output, outputs, plane0, &layout, 3, 1, activation, low, high); break;
            case 8: lanes_planes(input, weight, bias, output, outputs, plane0, &layout, 3, 2, activation, low, high); break;
            case 11: lanes_planes(input, weight, bias, output, outputs, plane0, &layout, 5, 1, activation, low, high); break;
            case 12: lanes_planes(input, weight, bias, output, outputs, plane0, &layout, 5, 2, activation, low, high); break;
            case 15: lanes_planes(input, weight, bias, output, outputs, plane0, &layout, 7, 1, activation, low, high); break;
            default: lanes_planes(input, weight, bias, output, outputs, plane0, &layout, 7, 2, activation, low, high); break;
            }
        }
        first_plane += 16 * groups;
        plane_count -= 16 * groups;
    }
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
                if (count > 0) copy_floats(padded + r * padded_width + first, image + row * width + skip, count);
            }
            padded_plane = source_plane;
        }
        const float *taps = weight + (long)o * kernel_h * kernel_w;
        float shift = bias ? bias[o] : 0;
        float *out_plane = output + (long)plane * out_height * out_width;
        if (square) {
            switch (kernel_w * 2 + stride_w) {
            case 7: SQUARE_PLANE(3, 1); break;
            case 8: SQUARE_PLANE(3, 2); break;
            case 11: SQUARE_PLANE(5, 1); break;
            case 12: SQUARE_PLANE(5, 2); break;
            case 15: SQUARE_PLANE(7, 1); break;
            default: SQUARE_PLANE(7, 2); break;
            }
        } else if (stride_w == 1) PLANE_BLOCKS(1);
        else if (stride_w == 2) PLANE_BLOCKS(2);
        else PLANE_BLOCKS(stride_w);
    }
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
