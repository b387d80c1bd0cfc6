// Max pooling, values only (see include/synapse_max_pool.h). One source for AVX-512, AVX2
// and portable code through Clang vector types and `target` attributes, dispatched by
// synapse_cpu_level().

#include "synapse_max_pool.h"
#include "synapse_cpu_level.h"
#include "strided_load.h"

#include <math.h>
#include <string.h>

typedef int vi16 __attribute__((vector_size(64), aligned(4)));

// The running maximum takes `v` where it is larger or NaN (v != v).
#define TAKE(best, v) ((best) = (v16)(((vi16)(v) & (((v) > (best)) | ((v) != (v)))) | ((vi16)(best) & ~(((v) > (best)) | ((v) != (v))))))
#define TAKE1(best, v) ((best) = (v) > (best) || (v) != (v) ? (v) : (best))


static inline __attribute__((always_inline)) void pool_body(const float *x, float *y, int height, int width,
                                                            int out_height, int out_width, int kernel_h, int kernel_w,
                                                            int stride_h, int stride_w, int pad_top, int pad_left,
                                                            int dilation_h, int dilation_w, int interior_first,
                                                            int interior_end, long first_plane, long plane_count) {
    for (long plane = first_plane; plane < first_plane + plane_count; plane++) {
        const float *image = x + plane * height * width;
        for (int oy = 0; oy < out_height; oy++) {
            int origin = oy * stride_h - pad_top;
            float *out = y + (plane * out_height + oy) * out_width;
            // Sixteen interior outputs at a time, all valid rows and column taps in a register.
            // A last, shorter run of them too (its spare lanes read on into the plane's next
            // row, or are gathered where the plane ends, and are not stored), except at
            // strides whose loads gather lane by lane anyway.
            int covered = interior_first;
            for (int ox = interior_first; ox < interior_end; ox += 16) {
                int count = interior_end - ox < 16 ? interior_end - ox : 16;
                if (count < 16 && stride_w > 2) break;
                v16 best = (v16){0} - INFINITY;
                for (int i = 0; i < kernel_h; i++) {
                    int row = origin + i * dilation_h;
                    if (row < 0 || row >= height) continue;
                    for (int j = 0; j < kernel_w; j++) {
                        int column = ox * stride_w - pad_left + j * dilation_w;
                        long readable = (long)(height - row) * width - column;
                        v16 values;
                        if (count < 16 && readable < 16 * stride_w) {
                            for (int lane = 0; lane < 16; lane++)
                                values[lane] = lane < count ? image[(long)row * width + column + lane * stride_w] : 0;
                        } else {
                            LOAD_STRIDED16(values, image + (long)row * width + column, stride_w, readable);
                        }
                        TAKE(best, values);
                    }
                }
                memcpy(out + ox, &best, (size_t)count * sizeof(float));
                covered = ox + count;
            }
            // The rest one by one, over their valid taps.
            for (int o = 0; o < out_width; o++) {
                if (o >= interior_first && o < covered) continue;
                float best = -INFINITY;
                for (int i = 0; i < kernel_h; i++) {
                    int row = origin + i * dilation_h;
                    if (row < 0 || row >= height) continue;
                    for (int j = 0; j < kernel_w; j++) {
                        int column = o * stride_w - pad_left + j * dilation_w;
                        if (column < 0 || column >= width) continue;
                        float value = image[(long)row * width + column];
                        TAKE1(best, value);
                    }
                }
                out[o] = best;
            }
        }
    }
}

#define DEFINE_POOL(SUFFIX, TARGET)                                                                                  \
    TARGET static void pool_##SUFFIX(const float *x, float *y, int height, int width, int out_height, int out_width, \
                                     int kernel_h, int kernel_w, int stride_h, int stride_w, int pad_top,          \
                                     int pad_left, int dilation_h, int dilation_w, int interior_first,             \
                                     int interior_end, long first_plane, long plane_count) {                       \
        pool_body(x, y, height, width, out_height, out_width, kernel_h, kernel_w, stride_h, stride_w, pad_top,      \
                  pad_left, dilation_h, dilation_w, interior_first, interior_end, first_plane, plane_count);       \
    }

DEFINE_POOL(generic, )
#if defined(__x86_64__)
DEFINE_POOL(avx512, __attribute__((target("avx512f"))))
DEFINE_POOL(avx2, __attribute__((target("avx2"))))
#endif

void synapse_max_pool_values(const float *x, float *y, int height, int width, int out_height, int out_width,
                             int kernel_h, int kernel_w, int stride_h, int stride_w, int pad_top, int pad_left,
                             int dilation_h, int dilation_w, int interior_first, int interior_end, long first_plane,
                             long plane_count) {
    SYNAPSE_DISPATCH(pool, x, y, height, width, out_height, out_width, kernel_h, kernel_w, stride_h, stride_w, pad_top,
                     pad_left, dilation_h, dilation_w, interior_first, interior_end, first_plane, plane_count);
}
