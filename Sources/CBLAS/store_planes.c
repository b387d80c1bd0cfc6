// Stores a [positions, channels] block as channel planes (see include/synapse_store_planes.h).
//
// Tiles of 16 positions by 16 channels: sixteen row loads, one 16 × 16 transpose in registers
// (transpose16.h), the bias and the activation, sixteen stores. A partial tile at the end
// of either side starts sixteen back instead, overlapping the tile before it (it writes the same
// values again); only a side shorter than sixteen goes through a zero-padded copy.

#include "synapse_store_planes.h"
#include "synapse_cpu_level.h"
#include "transpose16.h"
#include "vector_forms.h"

#include <string.h>

// The tile at (p, o), `rows` × `columns` of it real (16 × 16 but at a side shorter than 16).
static inline __attribute__((always_inline)) void store_tile(const float *block, long block_stride, const float *bias,
                                                             float *result, long plane_stride, int p, int o, int rows,
                                                             int columns, int activation, float low, float high) {
    v16 m[16];
    if (rows == 16 && columns == 16) {
        for (int r = 0; r < 16; r++) m[r] = *(const v16 *)(block + (long)(p + r) * block_stride + o);
    } else {
        for (int r = 0; r < 16; r++) {
            m[r] = SPLAT(0);
            if (r < rows) memcpy(&m[r], block + (long)(p + r) * block_stride + o, (size_t)columns * sizeof(float));
        }
    }
    TRANSPOSE16(m);
    for (int c = 0; c < columns; c++) {
        v16 out = m[c];
        if (bias) out = out + SPLAT(bias[o + c]);
        VECTOR_ACTIVATE(out, activation, low, high);
        float *target = result + (long)(o + c) * plane_stride + p;
        if (rows == 16) {
            *(v16 *)target = out;
        } else {
            memcpy(target, &out, (size_t)rows * sizeof(float));
        }
    }
}

// The starts of the tiles along a side of `length`: every 16, the last one at length − 16
// when the length is not a multiple (overlapping), one start 0 when the side is shorter.
static inline int tile_count(int length) { return length <= 16 ? 1 : (length + 15) / 16; }
static inline int tile_start(int index, int length) {
    int start = index * 16;
    return length > 16 && start + 16 > length ? length - 16 : start;
}

static inline __attribute__((always_inline)) void store_body(const float *block, int positions, int channels,
                                                             long block_stride, const float *bias, float *result,
                                                             long plane_stride, int activation, float low, float high) {
    if (positions <= 0 || channels <= 0) return;
    int rows = positions < 16 ? positions : 16, columns = channels < 16 ? channels : 16;
    for (int i = 0; i < tile_count(channels); i++) {
        int o = tile_start(i, channels);
        for (int j = 0; j < tile_count(positions); j++) {
            int p = tile_start(j, positions);
            if (rows == 16 && columns == 16) {
                store_tile(block, block_stride, bias, result, plane_stride, p, o, 16, 16, activation, low, high);
            } else {
                store_tile(block, block_stride, bias, result, plane_stride, p, o, rows, columns, activation, low, high);
            }
        }
    }
}

#define DEFINE_STORE(SUFFIX, TARGET)                                                                                \
    TARGET static void store_##SUFFIX(const float *block, int positions, int channels, long block_stride,           \
                                      const float *bias, float *result, long plane_stride, int activation,         \
                                      float low, float high) {                                                      \
        store_body(block, positions, channels, block_stride, bias, result, plane_stride, activation, low, high);   \
    }

DEFINE_STORE(generic, )
#if defined(__x86_64__)
DEFINE_STORE(avx512, __attribute__((target("avx512f,fma"))))
DEFINE_STORE(avx2, __attribute__((target("avx2,fma"))))
#endif

void synapse_store_planes(const float *block, int positions, int channels, long block_stride, const float *bias,
                          float *result, long plane_stride, int activation, float low, float high) {
    SYNAPSE_DISPATCH(store, block, positions, channels, block_stride, bias, result, plane_stride, activation, low, high);
}
