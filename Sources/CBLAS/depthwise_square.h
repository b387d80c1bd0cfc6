// The blocks of depthwise.c's forward kernel for square windows (3 × 3, 5 × 5, 7 × 7 at stride
// 1 or 2, dilation 1) and the stores every block shares (a header of this folder, included by
// depthwise.c, whose forward body compiles it once for every CPU level): row blocks over the
// zero-padded plane, a flat run of vectors for narrow planes at stride 1, four split rows for
// narrow planes at stride 2.

#ifndef SYNAPSE_DEPTHWISE_SQUARE_H
#define SYNAPSE_DEPTHWISE_SQUARE_H

#include "vector_forms.h"

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

// PLANE_BLOCKS for a square K × K window at stride 2 on rows of fewer than sixteen outputs, K
// a constant: four rows, tap by tap, each tap one contiguous load from the split rows (see
// square_rows), with the weights SQUARE_PLANE splatted into w_. Measured 20-40 % faster there
// than square_rows, whose loads one row shares among several output rows (EfficientNet's 5 × 5
// on 28 × 28 and 14 × 14 planes). The same multiply-adds in the same order as PLANE_BLOCKS.
#define NARROW_SPLIT_BLOCKS(K, S)                                                                                     \
    do {                                                                                                        \
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
                    v16 w = w_[i_ * (K) + j_];                                                                 \
                    s0_ += w * *(const v16 *)(base_[0] + offset_);                                              \
                    s1_ += w * *(const v16 *)(base_[1] + offset_);                                              \
                    s2_ += w * *(const v16 *)(base_[2] + offset_);                                              \
                    s3_ += w * *(const v16 *)(base_[3] + offset_);                                              \
                }                                                                                               \
            }                                                                                                   \
            STORE_FOUR();                                                                                       \
        }                                                                                                       \
    } while (0)

typedef float v8 __attribute__((vector_size(32), aligned(4)));
typedef float v4 __attribute__((vector_size(16), aligned(4)));

// `count` floats from `source` to `target` in vector moves, the last one overlapping the one
// before so that nothing past `count` is read or written (no call to memcpy for a short row).
static inline __attribute__((always_inline)) void copy_floats(float *target, const float *source, long count) {
    if (count >= 16) {
        long k = 0;
        for (; k + 16 <= count; k += 16) *(v16 *)(target + k) = *(const v16 *)(source + k);
        if (k < count) *(v16 *)(target + count - 16) = *(const v16 *)(source + count - 16);
    } else if (count >= 8) {
        *(v8 *)target = *(const v8 *)source;
        *(v8 *)(target + count - 8) = *(const v8 *)(source + count - 8);
    } else if (count >= 4) {
        *(v4 *)target = *(const v4 *)source;
        *(v4 *)(target + count - 4) = *(const v4 *)(source + count - 4);
    } else {
        for (long k = 0; k < count; k++) target[k] = source[k];
    }
}

// Output rows y ..< y + ROWS of the chunks of sixteen columns that start at x[0 ..< CHUNKS], for
// a square K × K window at stride S (1 or 2) and dilation 1 (K, S, ROWS, CHUNKS constants). Each
// padded row the block reads is loaded once per tap column and added into every output row it
// reaches, so ROWS × CHUNKS accumulators have their multiply-adds in flight together; each
// accumulator still adds its taps in the order (i, j), one multiply-add each. At stride 2 each
// padded row holds its even columns, then (`half` floats on) its odd ones, so column 2x + j is
// row[(j odd ? half : 0) + x + j / 2]. `count` outputs of each chunk are stored.
static inline __attribute__((always_inline)) void square_rows(const float *padded, long padded_width, long half,
                                                              const v16 *w, float shift, float *out_plane,
                                                              int out_width, int y, const int *x, int count, int K,
                                                              int S, int ROWS, int CHUNKS, int activation, float low,
                                                              float high) {
    v16 sum[4][2];
#pragma clang loop unroll(full)
    for (int q = 0; q < ROWS; q++)
#pragma clang loop unroll(full)
        for (int c = 0; c < CHUNKS; c++) sum[q][c] = SPLAT(shift);
#pragma clang loop unroll(full)
    for (int r = 0; r < (ROWS - 1) * S + K; r++) {
        const float *row = padded + (long)(y * S + r) * padded_width;
#pragma clang loop unroll(full)
        for (int j = 0; j < K; j++) {
            long column = S == 1 ? j : (j & 1) * half + j / 2;
            v16 v[2];
#pragma clang loop unroll(full)
            for (int c = 0; c < CHUNKS; c++) v[c] = *(const v16 *)(row + x[c] + column);
#pragma clang loop unroll(full)
            for (int q = 0; q < ROWS; q++) {
                int i = r - q * S;
                if (i < 0 || i >= K) continue;
#pragma clang loop unroll(full)
                for (int c = 0; c < CHUNKS; c++) sum[q][c] += w[i * K + j] * v[c];
            }
        }
    }
#pragma clang loop unroll(full)
    for (int q = 0; q < ROWS; q++)
#pragma clang loop unroll(full)
        for (int c = 0; c < CHUNKS; c++) STORE_ACTIVATED(out_plane + (long)(y + q) * out_width + x[c], sum[q][c], count);
}

// The first column of chunk k of a row: 16·k, the last chunk of a row of ≥ 16 outputs ending at
// the row's end (it overlaps the one before, whose outputs it recomputes with the same bits).
static inline int chunk_start(int k, int out_width) {
    return out_width >= 16 && 16 * k > out_width - 16 ? out_width - 16 : 16 * k;
}

// Every output row of a plane through square_rows at ROWS rows a block (the last block
// overlapping the one before), chunks in pairs.
static inline __attribute__((always_inline)) void square_plane_rows(const float *padded, long padded_width, long half,
                                                                    const v16 *w, float shift, float *out_plane,
                                                                    int out_height, int out_width, int K, int S,
                                                                    int ROWS, int activation, float low, float high) {
    int chunks = (out_width + 15) / 16, count = out_width < 16 ? out_width : 16;
    for (int y0 = 0; y0 < out_height; y0 += ROWS) {
        int y = y0 + ROWS <= out_height ? y0 : out_height - ROWS;
        int k = 0;
        for (; k + 2 <= chunks; k += 2) {
            int x[2] = {chunk_start(k, out_width), chunk_start(k + 1, out_width)};
            square_rows(padded, padded_width, half, w, shift, out_plane, out_width, y, x, count, K, S, ROWS, 2,
                        activation, low, high);
        }
        if (k < chunks) {
            int x[1] = {chunk_start(k, out_width)};
            square_rows(padded, padded_width, half, w, shift, out_plane, out_width, y, x, count, K, S, ROWS, 1,
                        activation, low, high);
        }
    }
}

// GROUP consecutive vectors of a flat plane (square_plane_flat) from vector `first` on.
static inline __attribute__((always_inline)) void flat_group(const float *padded, long padded_width, const v16 *w,
                                                             float shift, float *flat, long first, int K, int GROUP,
                                                             int activation, float low, float high) {
    v16 sum[8];
#pragma clang loop unroll(full)
    for (int a = 0; a < GROUP; a++) sum[a] = SPLAT(shift);
#pragma clang loop unroll(full)
    for (int i = 0; i < K; i++) {
#pragma clang loop unroll(full)
        for (int j = 0; j < K; j++) {
            const float *from = padded + first * 16 + i * padded_width + j;
#pragma clang loop unroll(full)
            for (int a = 0; a < GROUP; a++) sum[a] += w[i * K + j] * *(const v16 *)(from + 16 * a);
        }
    }
#pragma clang loop unroll(full)
    for (int a = 0; a < GROUP; a++) STORE_ACTIVATED(flat + (first + a) * 16, sum[a], 16);
}

// A plane of fewer than sixteen output columns at stride 1: the padded plane is exactly
// out_width + K − 1 wide, so output (y, x) reads padded[f + i·padded_width + j] with
// f = y·padded_width + x, and sixteen consecutive f (a row and its K − 1 unused columns, then
// the next row) are one vector whatever the rows' width. The vectors go to `flat` eight, four,
// two or one at a time, then each row's outputs to the plane. The same multiply-adds in the
// same order as square_rows.
static inline __attribute__((always_inline)) void square_plane_flat(const float *padded, long padded_width,
                                                                    const v16 *w, float shift, float *flat,
                                                                    float *out_plane, int out_height, int out_width,
                                                                    int K, int activation, float low, float high) {
    long used = (long)(out_height - 1) * padded_width + out_width;
    long vectors = (used + 15) / 16, first = 0;
    for (; first + 8 <= vectors; first += 8) flat_group(padded, padded_width, w, shift, flat, first, K, 8, activation, low, high);
    if (first + 4 <= vectors) flat_group(padded, padded_width, w, shift, flat, first, K, 4, activation, low, high), first += 4;
    if (first + 2 <= vectors) flat_group(padded, padded_width, w, shift, flat, first, K, 2, activation, low, high), first += 2;
    if (first < vectors) flat_group(padded, padded_width, w, shift, flat, first, K, 1, activation, low, high);
    for (int y = 0; y < out_height; y++) copy_floats(out_plane + (long)y * out_width, flat + y * padded_width, out_width);
}

#endif
