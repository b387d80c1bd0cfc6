#ifndef SYNAPSE_WINOGRAD_H
#define SYNAPSE_WINOGRAD_H

// The tile transforms of Winograd's F(2×2, 3×3) (Sources/Core/Kernels/Winograd.swift), in C
// so that they run in AVX2 or AVX-512 registers where the CPU has them (Swift code is built
// for the baseline x86-64, SSE2, and spilled its 16 eight-float tiles).
//
// A block's tiles come as segments: up to eight tiles side by side in one tile row, never
// crossing a multiple of eight of the block's columns. Segment s is five ints at
// segments[5s]: the block column of its first tile, its tile count, the sample, the tile row
// and the tile column of its first tile.

#ifdef __cplusplus
extern "C" {
#endif

/// V_ξ = Bᵀ d B for every channel and segment, written as the packed kernel's panels
/// (synapse_packed_gemm.h): block column t and channel c at (t / 32)·32·channels + 32c + t % 32
/// of V_ξ, V_ξ at v + ξ·v_stride. The input is [N, channels, height, width]; tile (ty, tx)
/// reads rows 2ty − pad_top ..< +4 and columns 2tx − pad_left ..< +4, zero outside. The last
/// panel's columns past the segments' tiles are set to zero.
void synapse_winograd_input(const float *input, int channels, int height, int width, int pad_top, int pad_left,
                            const int *segments, int segment_count, float *v, long v_stride);

/// Y = Aᵀ M A + bias[o] for every output channel and segment, then `activation` (0 none,
/// 1 max(y, 0)): M_ξ row o is m + ξ·m_stride + o·ldm (a segment's eight columns are read
/// whole, so the rows must have room for them). The output is [N, outputs, out_height,
/// out_width]; tile (ty, tx) writes rows 2ty ..< +2 and columns 2tx ..< +2 inside it.
void synapse_winograd_output(const float *m, long m_stride, long ldm, const float *bias, int activation, int outputs,
                             int out_height, int out_width, const int *segments, int segment_count, float *output);

#ifdef __cplusplus
}
#endif

#endif
