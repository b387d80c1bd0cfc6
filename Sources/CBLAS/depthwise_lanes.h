// Depthwise convolution on planes narrower than a vector, sixteen planes at a time with one
// plane in each vector lane (a header of this folder, included by depthwise.c, whose forward
// body compiles it once for every CPU level). A 7 × 7 or 14 × 14 plane fills a sixteen-float
// vector badly row by row, and its per-plane work (padding it, splatting its taps) costs as
// much as its multiply-adds; with the planes in the lanes every output position is one vector,
// every tap one aligned load and one multiply-add for sixteen planes, and the planes pass in
// and out through 16 × 16 transposes in registers. Lane by lane the sums are those of the
// per-plane kernels: the bias, then the taps in the order (i, j), one multiply-add each.

#ifndef SYNAPSE_DEPTHWISE_LANES_H
#define SYNAPSE_DEPTHWISE_LANES_H

#include "transpose16.h"
#include "vector_forms.h"

// The geometry of the lane layout: `x_lanes` holds the zero-padded input, position
// (r, c) of the padded plane at x_lanes[(r · lanes_width + c) · 16 + lane]; `y_lanes` the
// outputs, position p at y_lanes[p · 16 + lane]; `position[q]` is where input position q goes
// in x_lanes (in vectors), or −1 where no output reads it.
typedef struct {
    int height, width, out_height, out_width;
    long lanes_height, lanes_width;
    const int *position;
    float *x_lanes, *y_lanes;
} LaneLayout;

// Output positions (y, x ..< x + GROUP) of a K × K window at stride S (K, S, GROUP constants).
static inline __attribute__((always_inline)) void lanes_block(const LaneLayout *layout, const v16 *w,
                                                              const v16 *shift, int y, int x, int K, int S, int GROUP,
                                                              int activation, float low, float high) {
    v16 sum[8];
#pragma clang loop unroll(full)
    for (int g = 0; g < GROUP; g++) sum[g] = *shift;
#pragma clang loop unroll(full)
    for (int i = 0; i < K; i++) {
#pragma clang loop unroll(full)
        for (int j = 0; j < K; j++) {
            const float *from = layout->x_lanes + ((long)(y * S + i) * layout->lanes_width + (long)x * S + j) * 16;
#pragma clang loop unroll(full)
            for (int g = 0; g < GROUP; g++) sum[g] += w[i * K + j] * *(const v16 *)(from + g * S * 16);
        }
    }
#pragma clang loop unroll(full)
    for (int g = 0; g < GROUP; g++) {
        v16 out = sum[g];
        VECTOR_ACTIVATE(out, activation, low, high);
        *(v16 *)(layout->y_lanes + ((long)y * layout->out_width + x + g) * 16) = out;
    }
}

// Output planes plane0 ..< plane0 + 16 (one output per input plane: plane p reads input plane
// p), for a square K × K window at stride S and dilation 1; needs planes of at least sixteen
// floats, in and out.
static inline __attribute__((always_inline)) void lanes_planes(const float *input, const float *weight,
                                                               const float *bias, float *output, int outputs,
                                                               int plane0, const LaneLayout *layout, int K, int S,
                                                               int activation, float low, float high) {
    long plane = (long)layout->height * layout->width, out_plane = (long)layout->out_height * layout->out_width;
    v16 w[49], shift;
    for (int lane = 0; lane < 16; lane++) {
        int o = (plane0 + lane) % outputs;
        for (int t = 0; t < K * K; t++) w[t][lane] = weight[(long)o * K * K + t];
        shift[lane] = bias ? bias[o] : 0;
    }
    // The sixteen input planes into the lanes, sixteen positions at a time (the last sixteen
    // overlapping the ones before).
    for (long q0 = 0; q0 < plane; q0 += 16) {
        long q = q0 + 16 <= plane ? q0 : plane - 16;
        v16 m[16];
        for (int lane = 0; lane < 16; lane++) m[lane] = *(const v16 *)(input + (plane0 + lane) * plane + q);
        TRANSPOSE16(m);
        for (int k = 0; k < 16; k++)
            if (layout->position[q + k] >= 0) *(v16 *)(layout->x_lanes + (long)layout->position[q + k] * 16) = m[k];
    }
    for (int y = 0; y < layout->out_height; y++) {
        int x = 0;
        for (; x + 8 <= layout->out_width; x += 8) lanes_block(layout, w, &shift, y, x, K, S, 8, activation, low, high);
        if (x + 4 <= layout->out_width) lanes_block(layout, w, &shift, y, x, K, S, 4, activation, low, high), x += 4;
        if (x + 2 <= layout->out_width) lanes_block(layout, w, &shift, y, x, K, S, 2, activation, low, high), x += 2;
        if (x < layout->out_width) lanes_block(layout, w, &shift, y, x, K, S, 1, activation, low, high);
    }
    // The lanes back into the sixteen output planes.
    for (long p0 = 0; p0 < out_plane; p0 += 16) {
        long p = p0 + 16 <= out_plane ? p0 : out_plane - 16;
        v16 m[16];
        for (int k = 0; k < 16; k++) m[k] = *(const v16 *)(layout->y_lanes + (p + k) * 16);
        TRANSPOSE16(m);
        for (int lane = 0; lane < 16; lane++) *(v16 *)(output + (plane0 + lane) * out_plane + p) = m[lane];
    }
}

#endif
