// The packed-operand product (see include/synapse_packed_gemm.h).
//
// A register tile is ROWS rows of C by 16 or 32 columns of a panel: one accumulator per row
// and 16 columns, the panel's row loaded once per kk and A broadcast once per row and kk.
// GCC/Clang vector types let one source serve AVX-512 and AVX2: the compiler lowers a
// 16-float vector to one zmm or two ymm registers.

#include "synapse_packed_gemm.h"
#include "synapse_cpu_level.h"

#include <string.h>

typedef float v16 __attribute__((vector_size(64), aligned(4)));

// DEPTH: kk runs in slices of 128, so that a panel's slice (16 KB) and A's rows stay in L1
// across all the row blocks; C takes the slices' sums in order (the first with beta).
enum { PANEL = SYNAPSE_PANEL_WIDTH, MAX_ROWS = 8, DEPTH = 128 };

size_t synapse_packed_floats(int n, int k) {
    if (n <= 0 || k <= 0) return 0;
    return ((size_t)n + PANEL - 1) / PANEL * (size_t)k * PANEL;
}

void synapse_pack_b(int n, int k, const float *b, long stride_n, long stride_k, float *packed) {
    int panels = (n + PANEL - 1) / PANEL;
    for (int p = 0; p < panels; p++) {
        float *out = packed + (size_t)p * k * PANEL;
        int columns = n - PANEL * p < PANEL ? n - PANEL * p : PANEL;
        if (columns < PANEL) memset(out, 0, (size_t)k * PANEL * sizeof(float));
        if (stride_n == 1) {
            // B's rows are contiguous: copy a row's 32 columns at a time.
            for (int kk = 0; kk < k; kk++)
                memcpy(out + (size_t)kk * PANEL, b + kk * stride_k + (long)PANEL * p, (size_t)columns * sizeof(float));
        } else {
            // B's columns are contiguous (a weight read transposed): read each column in order.
            for (int j = 0; j < columns; j++) {
                const float *column = b + ((long)PANEL * p + j) * stride_n;
                for (int kk = 0; kk < k; kk++) out[(size_t)kk * PANEL + j] = column[kk * stride_k];
            }
        }
    }
}

// One tile: `rows` rows of C by `vectors` × 16 columns of one panel (from column `offset` of
// it); `columns` of them are C's. A's element (r, kk) is a[r * row_step + kk * depth_step]
// ((lda, 1) row-major, (1, lda) read transposed). `rows`, `vectors` and the steps' form are
// constants at every call, so the loops over them unroll and the accumulators live in registers.
static inline __attribute__((always_inline)) void tile(const int rows, const int vectors, int k, const float *a,
                                                       long row_step, long depth_step, const float *panel, float beta,
                                                       float *c, int ldc, int columns) {
    v16 sums[MAX_ROWS][2];
    for (int r = 0; r < rows; r++)
        for (int v = 0; v < vectors; v++) sums[r][v] = (v16){0};
    for (int kk = 0; kk < k; kk++) {
        v16 b[2];
        for (int v = 0; v < vectors; v++) b[v] = *(const v16 *)(panel + (size_t)kk * PANEL + 16 * v);
        for (int r = 0; r < rows; r++) {
            float s = a[r * row_step + kk * depth_step];
            for (int v = 0; v < vectors; v++) sums[r][v] += b[v] * s;
        }
    }
    for (int r = 0; r < rows; r++) {
        float *row = c + (size_t)r * ldc;
        if (columns == 16 * vectors) {
            v16 *out = (v16 *)row;
            for (int v = 0; v < vectors; v++) out[v] = beta == 0 ? sums[r][v] : sums[r][v] + beta * out[v];
        } else {
            float lanes[PANEL];
            for (int v = 0; v < vectors; v++) *(v16 *)(lanes + 16 * v) = sums[r][v];
            for (int j = 0; j < columns; j++) row[j] = beta == 0 ? lanes[j] : lanes[j] + beta * row[j];
        }
    }
}

#define TILE_CASE(R, ROWS, VECTORS)                                                                          \
    case R:                                                                                                  \
        if (R < ROWS)                                                                                        \
            tile(R < ROWS ? R : 1, VECTORS, depth, rows_a + row * row_step, row_step, depth_step,            \
                 slice + start, scale, c + (size_t)row * ldc + PANEL * p + start, ldc, width);               \
        break;

// Panels first ..< first + count, each as column blocks of VECTORS × 16 and row blocks of ROWS;
// A read row-major (TRANSPOSED 0) or as the transpose of a row-major [k, m] matrix (1).
#define DEFINE_PANELS(NAME, TARGET, ROWS, VECTORS, TRANSPOSED)                                               \
    TARGET static void NAME(int m, int n, int k, const float *a, int lda, const float *packed, float beta,   \
                            float *c, int ldc, int first, int count) {                                      \
        const long row_step = TRANSPOSED ? 1 : lda, depth_step = TRANSPOSED ? lda : 1;                       \
        for (int p = first; p < first + count; p++) {                                                        \
            const float *panel = packed + (size_t)p * k * PANEL;                                             \
            int columns = n - PANEL * p < PANEL ? n - PANEL * p : PANEL;                                     \
            for (int k0 = 0; k0 < k; k0 += DEPTH) {                                                          \
                int depth = k - k0 < DEPTH ? k - k0 : DEPTH;                                                 \
                const float *slice = panel + (size_t)k0 * PANEL, *rows_a = a + k0 * depth_step;              \
                float scale = k0 == 0 ? beta : 1;                                                            \
                for (int start = 0; start < columns; start += 16 * VECTORS) {                                \
                    int width = columns - start < 16 * VECTORS ? columns - start : 16 * VECTORS;             \
                    int row = 0;                                                                             \
                    for (; row + ROWS <= m; row += ROWS)                                                     \
                        tile(ROWS, VECTORS, depth, rows_a + row * row_step, row_step, depth_step,            \
                             slice + start, scale, c + (size_t)row * ldc + PANEL * p + start, ldc, width);   \
                    switch (m - row) {                                                                       \
                        TILE_CASE(1, ROWS, VECTORS) TILE_CASE(2, ROWS, VECTORS) TILE_CASE(3, ROWS, VECTORS)  \
                        TILE_CASE(4, ROWS, VECTORS) TILE_CASE(5, ROWS, VECTORS) TILE_CASE(6, ROWS, VECTORS)  \
                        TILE_CASE(7, ROWS, VECTORS)                                                          \
                        default: break;                                                                      \
                    }                                                                                        \
                }                                                                                            \
            }                                                                                                \
        }                                                                                                    \
    }

DEFINE_PANELS(panels_generic, , 4, 1, 0)
DEFINE_PANELS(transposed_panels_generic, , 4, 1, 1)
#if defined(__x86_64__)
// AVX-512: 8 rows × 32 columns, 16 zmm accumulators. AVX2: 6 rows × 16 columns, 12 ymm
// accumulators (a 16-float vector is two ymm registers), Haswell's classic 6×16 shape.
DEFINE_PANELS(panels_avx512, __attribute__((target("avx512f,fma"))), 8, 2, 0)
DEFINE_PANELS(panels_avx2, __attribute__((target("avx2,fma"))), 6, 1, 0)
DEFINE_PANELS(transposed_panels_avx512, __attribute__((target("avx512f,fma"))), 8, 2, 1)
DEFINE_PANELS(transposed_panels_avx2, __attribute__((target("avx2,fma"))), 6, 1, 1)
#endif

void synapse_packed_gemm(int m, int n, int k, const float *a, int lda, const float *packed, float beta, float *c,
                         int ldc, int first_panel, int panel_count) {
    synapse_packed_gemm_at(synapse_cpu_level(), 0, m, n, k, a, lda, packed, beta, c, ldc, first_panel, panel_count);
}

void synapse_packed_gemm_transposed_a(int m, int n, int k, const float *a, int lda, const float *packed, float beta,
                                      float *c, int ldc, int first_panel, int panel_count) {
    synapse_packed_gemm_at(synapse_cpu_level(), 1, m, n, k, a, lda, packed, beta, c, ldc, first_panel, panel_count);
}

void synapse_packed_gemm_at(int level, int transposed_a, int m, int n, int k, const float *a, int lda,
                            const float *packed, float beta, float *c, int ldc, int first_panel, int panel_count) {
    int available = synapse_cpu_level();
    level = level < available ? level : available;
    if (transposed_a)
        SYNAPSE_DISPATCH_AT(level, transposed_panels, m, n, k, a, lda, packed, beta, c, ldc, first_panel, panel_count);
    else
        SYNAPSE_DISPATCH_AT(level, panels, m, n, k, a, lda, packed, beta, c, ldc, first_panel, panel_count);
}
