// Winograd F(2×2, 3×3) tile transforms (see include/synapse_winograd.h). One source for
// AVX-512, AVX2 and portable code through Clang vector types and `target` attributes,
// dispatched by synapse_cpu_level().

#include "synapse_winograd.h"
#include "synapse_cpu_level.h"
#include "synapse_packed_gemm.h"

#include <stdlib.h>
#include <string.h>

typedef float v8 __attribute__((vector_size(32), aligned(4)));
typedef float v16 __attribute__((vector_size(64), aligned(4)));
typedef int vi8 __attribute__((vector_size(32), aligned(4)));

// max(y, 0) as Synapse's ReLU computes it (negative lanes become 0, NaN stays NaN).
#define RECTIFIED(y) ((v8)((vi8)(y) & ~((y) < (v8){0})))

// The rows of one channel that a block's tiles read, for every sample the block touches,
// copied with their zero padding into `plane`: rows of `width_p` floats, sample k's first
// row at plane + first_row[k] · width_p, holding image row 2·ty0[k] − pad_top. Reading
// tiles from this copy needs no edge cases, and no tile row is built float by float on
// the stack (whose vector reloads stalled on store forwarding: half the transform's time
// on images of 16 tiles across or fewer, where every segment touches an edge).
typedef struct {
    int samples, first_n, width_p;
    int *ty0, *first_row, *rows;
    float *plane;
} padded_rows;

static int padded_rows_make(padded_rows *p, const int *segments, int segment_count) {
    p->first_n = segments[2];
    p->samples = segments[5 * (segment_count - 1) + 2] - p->first_n + 1;
    int end_tx = 0;
    p->ty0 = malloc(3 * (size_t)p->samples * sizeof(int));
    if (!p->ty0) return 0;
    p->first_row = p->ty0 + p->samples;
    p->rows = p->first_row + p->samples;
    for (int k = 0; k < p->samples; k++) p->ty0[k] = -1, p->rows[k] = 0;
    for (int s = 0; s < segment_count; s++) {
        const int *segment = segments + 5 * s;
        int k = segment[2] - p->first_n;
        if (p->ty0[k] < 0) p->ty0[k] = segment[3];
        p->rows[k] = 2 * (segment[3] - p->ty0[k]) + 4;
        if (segment[4] + segment[1] > end_tx) end_tx = segment[4] + segment[1];
    }
    // A segment's loads reach 18 floats past its first tile's column, 2·tx.
    p->width_p = 2 * end_tx + 16;
    long total = 0;
    for (int k = 0; k < p->samples; k++) p->first_row[k] = (int)total, total += p->rows[k];
    p->plane = malloc((size_t)(total * p->width_p) * sizeof(float));
    if (!p->plane) return free(p->ty0), 0;
    return 1;
}

static void padded_rows_fill(const padded_rows *p, const float *input, int c, int channels, int height, int width,
                             int pad_top, int pad_left) {
    int first = pad_left > 0 ? pad_left : 0, skip = pad_left < 0 ? -pad_left : 0;
    int count = width - skip < p->width_p - first ? width - skip : p->width_p - first;
    for (int k = 0; k < p->samples; k++) {
        const float *image = input + ((long)(p->first_n + k) * channels + c) * height * width;
        for (int r = 0; r < p->rows[k]; r++) {
            float *row = p->plane + (long)(p->first_row[k] + r) * p->width_p;
            int y = 2 * p->ty0[k] - pad_top + r;
            if (y < 0 || y >= height || count <= 0) {
                memset(row, 0, (size_t)p->width_p * sizeof(float));
                continue;
            }
            memset(row, 0, (size_t)first * sizeof(float));
            memcpy(row + first, image + (long)y * width + skip, (size_t)count * sizeof(float));
            memset(row + first + count, 0, (size_t)(p->width_p - first - count) * sizeof(float));
        }
    }
}

static inline __attribute__((always_inline)) void input_body(const float *input, int channels, int height, int width,
                                                             int pad_top, int pad_left, const int *segments,
                                                             int segment_count, float *v, long v_stride) {
    padded_rows p;
    if (segment_count == 0) return;
    if (!padded_rows_make(&p, segments, segment_count)) abort();
    for (int c = 0; c < channels; c++) {
        padded_rows_fill(&p, input, c, channels, height, width, pad_top, pad_left);
        for (int s = 0; s < segment_count; s++) {
            const int *segment = segments + 5 * s;
            int column = segment[0], lanes = segment[1], k = segment[2] - p.first_n;
            const float *tile_rows =
                p.plane + (long)(p.first_row[k] + 2 * (segment[3] - p.ty0[k])) * p.width_p + 2 * segment[4];
            v8 d[16];
            for (int r = 0; r < 4; r++) {
                const float *row = tile_rows + (long)r * p.width_p;
                // Lane l of a tile row's four columns: columns 2l, 2l + 1, 2l + 2, 2l + 3.
                v16 low = *(const v16 *)row, high = *(const v16 *)(row + 2);
                d[r * 4] = __builtin_shufflevector(low, low, 0, 2, 4, 6, 8, 10, 12, 14);
                d[r * 4 + 1] = __builtin_shufflevector(low, low, 1, 3, 5, 7, 9, 11, 13, 15);
                d[r * 4 + 2] = __builtin_shufflevector(high, high, 0, 2, 4, 6, 8, 10, 12, 14);
                d[r * 4 + 3] = __builtin_shufflevector(high, high, 1, 3, 5, 7, 9, 11, 13, 15);
            }
            // Bᵀ d, then (Bᵀ d) B: rows (a0 − a2, a1 + a2, a2 − a1, a1 − a3) each way.
            v8 w[16];
            for (int q = 0; q < 4; q++) {
                v8 a0 = d[q], a1 = d[4 + q], a2 = d[8 + q], a3 = d[12 + q];
                w[q] = a0 - a2;
                w[4 + q] = a1 + a2;
                w[8 + q] = a2 - a1;
                w[12 + q] = a1 - a3;
            }
            v8 t[16];
            for (int r = 0; r < 4; r++) {
                v8 a0 = w[4 * r], a1 = w[4 * r + 1], a2 = w[4 * r + 2], a3 = w[4 * r + 3];
                t[4 * r] = a0 - a2;
                t[4 * r + 1] = a1 + a2;
                t[4 * r + 2] = a2 - a1;
                t[4 * r + 3] = a1 - a3;
            }
            float *target = v + (long)(column / SYNAPSE_PANEL_WIDTH) * SYNAPSE_PANEL_WIDTH * channels
                            + (long)c * SYNAPSE_PANEL_WIDTH + column % SYNAPSE_PANEL_WIDTH;
            if (lanes == 8) {
                for (int xi = 0; xi < 16; xi++) *(v8 *)(target + xi * v_stride) = t[xi];
            } else {
                for (int xi = 0; xi < 16; xi++) memcpy(target + xi * v_stride, &t[xi], (size_t)lanes * sizeof(float));
            }
        }
    }
    free(p.plane);
    free(p.ty0);
}

static inline __attribute__((always_inline)) void output_body(const float *m, long m_stride, long ldm, const float *bias,
                                                              int activation, int outputs, int out_height, int out_width,
                                                              const int *segments, int segment_count, float *output) {
    for (int o = 0; o < outputs; o++) {
        v8 shift = (v8){0} + (bias ? bias[o] : 0);
        for (int s = 0; s < segment_count; s++) {
            const int *segment = segments + 5 * s;
            int column = segment[0], lanes = segment[1];
            int y = 2 * segment[3], x = 2 * segment[4];
            const float *source = m + (long)o * ldm + column;
            v8 t[16];
            for (int xi = 0; xi < 16; xi++) t[xi] = *(const v8 *)(source + xi * m_stride);
            // Aᵀ t: rows (t0 + t1 + t2, t1 − t2 − t3), then the same on the columns.
            v8 s0[4], s1[4];
            for (int q = 0; q < 4; q++) {
                s0[q] = t[q] + t[4 + q] + t[8 + q];
                s1[q] = t[4 + q] - t[8 + q] - t[12 + q];
            }
            v8 y00 = s0[0] + s0[1] + s0[2] + shift, y01 = s0[1] - s0[2] - s0[3] + shift;
            v8 y10 = s1[0] + s1[1] + s1[2] + shift, y11 = s1[1] - s1[2] - s1[3] + shift;
            if (activation == 1) {
                y00 = RECTIFIED(y00);
                y01 = RECTIFIED(y01);
                y10 = RECTIFIED(y10);
                y11 = RECTIFIED(y11);
            }
            // Output row y holds y00 and y01 of each tile interleaved; row y + 1 y10 and y11.
            v16 top = __builtin_shufflevector(y00, y01, 0, 8, 1, 9, 2, 10, 3, 11, 4, 12, 5, 13, 6, 14, 7, 15);
            v16 bottom = __builtin_shufflevector(y10, y11, 0, 8, 1, 9, 2, 10, 3, 11, 4, 12, 5, 13, 6, 14, 7, 15);
            int count = 2 * lanes < out_width - x ? 2 * lanes : out_width - x;
            float *target = output + ((long)segment[2] * outputs + o) * out_height * out_width + (long)y * out_width + x;
            if (count == 16) {
                *(v16 *)target = top;
                if (y + 1 < out_height) *(v16 *)(target + out_width) = bottom;
            } else {
                memcpy(target, &top, (size_t)count * sizeof(float));
                if (y + 1 < out_height) memcpy(target + out_width, &bottom, (size_t)count * sizeof(float));
            }
        }
    }
}

#define DEFINE_TRANSFORMS(SUFFIX, TARGET)                                                                          \
    TARGET static void input_##SUFFIX(const float *input, int channels, int height, int width, int pad_top,      \
                                      int pad_left, const int *segments, int segment_count, float *v,             \
                                      long v_stride) {                                                            \
        input_body(input, channels, height, width, pad_top, pad_left, segments, segment_count, v, v_stride);      \
    }                                                                                                             \
    TARGET static void output_##SUFFIX(const float *m, long m_stride, long ldm, const float *bias, int activation, \
                                       int outputs, int out_height, int out_width, const int *segments,           \
                                       int segment_count, float *output) {                                        \
        output_body(m, m_stride, ldm, bias, activation, outputs, out_height, out_width, segments, segment_count,   \
                    output);                                                                                      \
    }

DEFINE_TRANSFORMS(generic, )
#if defined(__x86_64__)
DEFINE_TRANSFORMS(avx512, __attribute__((target("avx512f,fma"))))
DEFINE_TRANSFORMS(avx2, __attribute__((target("avx2,fma"))))
#endif

// The transforms only add and subtract, in the same order at every level: the same bits.
void synapse_winograd_input(const float *input, int channels, int height, int width, int pad_top, int pad_left,
                            const int *segments, int segment_count, float *v, long v_stride) {
    // The last panel's columns past the block's tiles enter the products (their results are
    // never read): zeros, so that stale memory cannot slow them with subnormals.
    if (segment_count > 0) {
        const int *last = segments + 5 * (segment_count - 1);
        int tiles = last[0] + last[1], filled = tiles % SYNAPSE_PANEL_WIDTH;
        long panel = (long)(tiles / SYNAPSE_PANEL_WIDTH) * SYNAPSE_PANEL_WIDTH * channels;
        if (filled > 0)
            for (int xi = 0; xi < 16; xi++)
                for (int c = 0; c < channels; c++)
                    memset(v + xi * v_stride + panel + (long)c * SYNAPSE_PANEL_WIDTH + filled, 0,
                           (size_t)(SYNAPSE_PANEL_WIDTH - filled) * sizeof(float));
    }
    SYNAPSE_DISPATCH(input, input, channels, height, width, pad_top, pad_left, segments, segment_count, v, v_stride);
}

void synapse_winograd_output(const float *m, long m_stride, long ldm, const float *bias, int activation, int outputs,
                             int out_height, int out_width, const int *segments, int segment_count, float *output) {
    SYNAPSE_DISPATCH(output, m, m_stride, ldm, bias, activation, outputs, out_height, out_width, segments,
                     segment_count, output);
}
