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


// The maximum of taps 2l, 2l + 1 and 2l + 2 of `from` for lanes l = 0…15 (a 3-wide window at
// stride 2 along one row: the stem pooling of ResNet, DenseNet and SqueezeNet), from two
// vector loads and one scalar; near the plane's end (`readable` < 33 floats) from a copy.
static inline __attribute__((always_inline)) void row_max3_stride2(v16 *result, const float *from, long readable) {
    v16 low, high;
    float last;
    if (readable >= 33) {
        low = *(const v16 *)from;
        high = *(const v16 *)(from + 16);
        last = from[32];
    } else {
        float copy[33] = {0};
        memcpy(copy, from, (size_t)(readable > 0 ? readable : 0) * sizeof(float));
        low = *(const v16 *)copy;
        high = *(const v16 *)(copy + 16);
        last = copy[32];
    }
    v16 even = __builtin_shufflevector(low, high, 0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
    v16 odd = __builtin_shufflevector(low, high, 1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31);
    v16 tail = (v16){0} + last;
    v16 next = __builtin_shufflevector(even, tail, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16);
    v16 best = even;
    TAKE(best, odd);
    TAKE(best, next);
    *result = best;
}

// Interior outputs [ox, end) of output row `oy` for a 3×3 window at stride 2 (no dilation):
// the three rows' maxima, then their maximum. A row outside the image is replaced by the
// nearest valid one of the window: the maximum of a row with itself is that row's, NaN and
// the first of tied values included, so the result is the general path's bit for bit.
// Returns the first output not computed.
static inline __attribute__((always_inline)) int pool3x3_stride2_row(const float *image, float *out, int height,
                                                                    int width, int origin, int pad_left, int ox,
                                                                    int end) {
    int rows[3];
    for (int i = 0; i < 3; i++) rows[i] = origin + i;
    int first_valid = origin < 0 ? 0 : origin, last_valid = origin + 2 >= height ? height - 1 : origin + 2;
    for (int i = 0; i < 3; i++) {
        if (rows[i] < first_valid) rows[i] = first_valid;
        if (rows[i] > last_valid) rows[i] = last_valid;
    }
    for (; ox < end; ox += 16) {
        int count = end - ox < 16 ? end - ox : 16;
        int column = ox * 2 - pad_left;
        v16 best, row1, row2;
        row_max3_stride2(&best, image + (long)rows[0] * width + column, (long)(height - rows[0]) * width - column);
        row_max3_stride2(&row1, image + (long)rows[1] * width + column, (long)(height - rows[1]) * width - column);
        row_max3_stride2(&row2, image + (long)rows[2] * width + column, (long)(height - rows[2]) * width - column);
        TAKE(best, row1);
        TAKE(best, row2);
        if (count == 16) *(v16 *)(out + ox) = best;
        else for (int lane = 0; lane < count; lane++) out[ox + lane] = best[lane];
    }
    return end;
}

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
            if (kernel_h == 3 && kernel_w == 3 && stride_h == 2 && stride_w == 2 && dilation_h == 1 && dilation_w == 1)
                covered = pool3x3_stride2_row(image, out, height, width, origin, pad_left, interior_first, interior_end);
            for (int ox = covered; ox < interior_end; ox += 16) {
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
                if (count == 16) *(v16 *)(out + ox) = best;
                else for (int lane = 0; lane < count; lane++) out[ox + lane] = best[lane];
                covered = ox + count;
            }
            // The rest one by one, over their valid taps.
            for (int o = interior_first > 0 ? 0 : covered; o < out_width; o = o + 1 == interior_first ? covered : o + 1) {
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
