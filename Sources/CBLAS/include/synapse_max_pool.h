#ifndef SYNAPSE_MAX_POOL_H
#define SYNAPSE_MAX_POOL_H

// Max pooling without argmax positions (Sources/Core/Kernels/MaxPoolWindows.swift), in C so
// that it runs in AVX2 or AVX-512 registers where the CPU has them.

#ifdef __cplusplus
extern "C" {
#endif

/// y[p, oy, ox] = the maximum over the valid taps (i, j) of the window at (oy, ox) of plane p:
/// rows oy·stride_h − pad_top + i·dilation_h and columns ox·stride_w − pad_left + j·dilation_w
/// inside the plane; −∞ when no tap is valid. The taps are visited rows first, a larger value
/// or a NaN replaces the running maximum (ties keep the first; the first NaN stays), for the
/// planes first_plane ..< first_plane + plane_count. Outputs in [interior_first,
/// interior_end) must have every column tap inside the row.
void synapse_max_pool_values(const float *x, float *y, int height, int width, int out_height, int out_width,
                             int kernel_h, int kernel_w, int stride_h, int stride_w, int pad_top, int pad_left,
                             int dilation_h, int dilation_w, int interior_first, int interior_end, long first_plane,
                             long plane_count);

#ifdef __cplusplus
}
#endif

#endif
