// The direct convolution of few-channel inputs (see include/synapse_direct_conv.h).
//
// A register block is OCB output channels by VECTORS × 16 outputs of one line: OCB × VECTORS
// accumulators, each tap one load per vector and one broadcast weight per channel. The input
// rows a call's output lines read are first copied, once each and zero-padded, into `scratch`,
// split by column phase (column x·stride + p goes to phase p at x), so that tap j of every
// output x reads phase j mod stride at x + j / stride: contiguous, for any stride, with no
// test for the borders.

#include "synapse_direct_conv.h"
#include "synapse_cpu_level.h"
#include "vector_forms.h"

#include <string.h>

enum { MAX_BLOCK = 32, MAX_KERNEL_W = 16 };

static long phase_length(int kernel_w, int stride_w, int out_width) {
    long rounded = ((long)out_width + MAX_BLOCK - 1) / MAX_BLOCK * MAX_BLOCK;
    return (rounded + (kernel_w - 1) / stride_w + 16) / 16 * 16;
}

// Input rows `lines` output lines read.
static int rows_read(int lines, int kernel_h, int stride_h) { return (lines - 1) * stride_h + kernel_h; }

size_t synapse_direct_convolution_scratch(int channels, int kernel_h, int kernel_w, int stride_h, int stride_w,
                                          int out_width, int line_count) {
    return (size_t)channels * rows_read(line_count, kernel_h, stride_h) * stride_w *
           phase_length(kernel_w, stride_w, out_width);
}

// The phase-split input rows `first_row ..< first_row + rows` (zero outside the input):
// split[((c·rows + r)·stride_w + p)·length + x] = input[c, first_row + r, x·stride_w + p − pad_left].
static void split_rows(const float *input, int channels, int height, int width, int first_row, int rows,
                       int stride_w, int pad_left, long length, float *split) {
    for (int c = 0; c < channels; c++) {
        for (int r = 0; r < rows; r++) {
            int row = first_row + r;
            float *lines = split + ((long)c * rows + r) * stride_w * length;
            if (row < 0 || row >= height) {
                memset(lines, 0, (size_t)(stride_w * length) * sizeof(float));
                continue;
            }
            const float *source = input + ((long)c * height + row) * width;
            for (int p = 0; p < stride_w; p++) {
                float *line = lines + p * length;
                // x reads column x·stride_w + p − pad_left: inside the row for low ≤ x < high.
                long shift = p - pad_left;
                long low = shift >= 0 ? 0 : (-shift + stride_w - 1) / stride_w;
                long high = width - shift > 0 ? (width - 1 - shift) / stride_w + 1 : 0;
                if (low > length) low = length;
                if (high > length) high = length;
                if (high < low) high = low;
                memset(line, 0, (size_t)low * sizeof(float));
                if (stride_w == 1) {
                    memcpy(line + low, source + low + shift, (size_t)(high - low) * sizeof(float));
                } else {
                    for (long x = low; x < high; x++) line[x] = source[x * stride_w + shift];
                }
                memset(line + high, 0, (size_t)(length - high) * sizeof(float));
            }
        }
    }
}

// One block: `ocb` channels from `weight` (rows of `depth` taps) by `vectors` × 16 outputs
// from `split` (at the block's first output, its first input row; channels `channel_step`
// apart, rows `row_step`); `valid` of the outputs are the line's.
static inline __attribute__((always_inline)) void block(const int ocb, const int vectors, const float *split,
                                                        const long *offsets, int channels, int kernel_h,
                                                        int kernel_w, long channel_step, long row_step, const float *weight,
                                                        long depth, const float *bias, float *output,
                                                        long plane, int valid, int activation, float low,
                                                        float high) {
    v16 sums[8][2];
    _Pragma("clang loop unroll(full)") for (int o = 0; o < ocb; o++)
        _Pragma("clang loop unroll(full)") for (int v = 0; v < vectors; v++) sums[o][v] = SPLAT(bias ? bias[o] : 0);
    for (int c = 0; c < channels; c++) {
        for (int i = 0; i < kernel_h; i++) {
            const float *lines = split + c * channel_step + i * row_step;
            const float *taps = weight + ((long)c * kernel_h + i) * kernel_w;
            for (int j = 0; j < kernel_w; j++) {
                v16 in[2];
                _Pragma("clang loop unroll(full)") for (int v = 0; v < vectors; v++) in[v] = *(const v16 *)(lines + offsets[j] + 16 * v);
                _Pragma("clang loop unroll(full)") for (int o = 0; o < ocb; o++) {
                    float w = taps[o * depth + j];
                    _Pragma("clang loop unroll(full)") for (int v = 0; v < vectors; v++) sums[o][v] += in[v] * w;
                }
            }
        }
    }
    _Pragma("clang loop unroll(full)") for (int o = 0; o < ocb; o++) {
        _Pragma("clang loop unroll(full)") for (int v = 0; v < vectors; v++) {
            VECTOR_ACTIVATE(sums[o][v], activation, low, high);
            if (valid >= 16 * (v + 1)) {
                *(v16 *)(output + o * plane + 16 * v) = sums[o][v];
            } else if (valid > 16 * v) {
                float lanes[16];
                *(v16 *)lanes = sums[o][v];
                memcpy(output + o * plane + 16 * v, lanes, (size_t)(valid - 16 * v) * sizeof(float));
            }
        }
    }
}

// The block of `R` channels from o0 and V vectors from x0 on output line y.
#define BLOCK_AT(R, V)                                                                                           \
    block(R, V, lines + x0, offsets, channels, kernel_h, kernel_w, channel_step, row_step, weight + (long)o0 * depth, \
          depth, bias ? bias + o0 : 0, output + (long)o0 * plane + (long)y * out_width + x0, plane, out_width - x0,    \
          activation, low, high)

// A line's last outputs, when 16 or fewer, take one vector.
#define BLOCK_CASE(R, OCB, VECTORS)                                                                              \
    case R:                                                                                                      \
        if (R < OCB) {                                                                                           \
            if (narrow) BLOCK_AT(R < OCB ? R : 1, 1);                                                            \
            else BLOCK_AT(R < OCB ? R : 1, VECTORS);                                                             \
        }                                                                                                        \
        break;

#define DEFINE_DIRECT(NAME, TARGET, OCB, VECTORS)                                                                \
    TARGET static void NAME(const float *input, int channels, int height, int width, const float *weight,       \
                            const float *bias, int outputs, int kernel_h, int kernel_w, int stride_h, int stride_w, \
                            int pad_top, int pad_left, float *output, int out_height, int out_width, int first_line, \
                            int line_count, int activation, float low, float high, float *scratch) {            \
        long length = phase_length(kernel_w, stride_w, out_width);                                              \
        long depth = (long)channels * kernel_h * kernel_w, plane = (long)out_height * out_width;                \
        int rows = rows_read(line_count, kernel_h, stride_h);                                                    \
        long row_step = stride_w * length, channel_step = rows * row_step;                                       \
        long offsets[MAX_KERNEL_W];                                                                              \
        for (int j = 0; j < kernel_w; j++) offsets[j] = (j % stride_w) * length + j / stride_w;                \
        split_rows(input, channels, height, width, first_line * stride_h - pad_top, rows, stride_w, pad_left,   \
                   length, scratch);                                                                             \
        for (int y = first_line; y < first_line + line_count; y++) {                                             \
            const float *lines = scratch + (long)(y - first_line) * stride_h * row_step;                         \
            for (int o0 = 0; o0 < outputs; o0 += OCB) {                                                          \
                for (int x0 = 0; x0 < out_width; x0 += 16 * VECTORS) {                                           \
                    int narrow = VECTORS > 1 && out_width - x0 <= 16;                                            \
                    if (o0 + OCB <= outputs) {                                                                   \
                        if (narrow) BLOCK_AT(OCB, 1);                                                            \
                        else BLOCK_AT(OCB, VECTORS);                                                             \
                        continue;                                                                                \
                    }                                                                                            \
                    switch (outputs - o0) {                                                                      \
                        BLOCK_CASE(1, OCB, VECTORS) BLOCK_CASE(2, OCB, VECTORS) BLOCK_CASE(3, OCB, VECTORS)      \
                        BLOCK_CASE(4, OCB, VECTORS) BLOCK_CASE(5, OCB, VECTORS) BLOCK_CASE(6, OCB, VECTORS)      \
                        BLOCK_CASE(7, OCB, VECTORS)                                                              \
                    default: break;                                                                              \
                    }                                                                                            \
                }                                                                                                \
            }                                                                                                    \
        }                                                                                                        \
    }

DEFINE_DIRECT(direct_generic, , 4, 1)
#if defined(__x86_64__)
// AVX-512: 8 channels × 32 outputs, 16 zmm accumulators. AVX2: 4 channels × 16 outputs (a
// 16-float vector is two ymm registers: 8 accumulators, 2 for the input).
DEFINE_DIRECT(direct_avx512, __attribute__((target("avx512f,fma"))), 8, 2)
DEFINE_DIRECT(direct_avx2, __attribute__((target("avx2,fma"))), 4, 1)
#endif

void synapse_direct_convolution_at(int level, const float *input, int channels, int height, int width,
                                   const float *weight, const float *bias, int outputs, int kernel_h, int kernel_w,
                                   int stride_h, int stride_w, int pad_top, int pad_left, float *output,
                                   int out_height, int out_width, int first_line, int line_count, int activation,
                                   float low, float high, float *scratch) {
    int available = synapse_cpu_level();
    SYNAPSE_DISPATCH_AT(level < available ? level : available, direct, input, channels, height, width, weight, bias,
                        outputs, kernel_h, kernel_w, stride_h, stride_w, pad_top, pad_left, output, out_height,
                        out_width, first_line, line_count, activation, low, high, scratch);
}

void synapse_direct_convolution(const float *input, int channels, int height, int width, const float *weight,
                                const float *bias, int outputs, int kernel_h, int kernel_w, int stride_h, int stride_w,
                                int pad_top, int pad_left, float *output, int out_height, int out_width,
                                int first_line, int line_count, int activation, float low, float high, float *scratch) {
    synapse_direct_convolution_at(synapse_cpu_level(), input, channels, height, width, weight, bias, outputs, kernel_h,
                                  kernel_w, stride_h, stride_w, pad_top, pad_left, output, out_height, out_width,
                                  first_line, line_count, activation, low, high, scratch);
}
