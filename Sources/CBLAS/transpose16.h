// A 16 × 16 transpose of sixteen v16 rows in registers, for the kernels that move sixteen
// planes in and out of vector lanes (depthwise_lanes.h) or store a [positions, channels] block
// as planes (store_planes.c). A header of this folder, not of the module.

#ifndef SYNAPSE_TRANSPOSE16_H
#define SYNAPSE_TRANSPOSE16_H

#include "vector_forms.h"

#define UNPARENTHESISED_(...) __VA_ARGS__
#define UNPARENTHESISED(list) UNPARENTHESISED_ list

// One level of a 16 × 16 transpose of the rows m[0 ..< 16]: in every 2d × 2d block, the d × d
// block above the diagonal and the one below it change places (four levels, d = 1, 2, 4, 8).
#define SWAP_BLOCKS(m, d, FIRST, SECOND)                                                                        \
    do {                                                                                                        \
        for (int r_ = 0; r_ < 16; r_++) {                                                                       \
            if (r_ & (d)) continue;                                                                             \
            v16 a_ = (m)[r_], b_ = (m)[r_ + (d)];                                                               \
            (m)[r_] = __builtin_shufflevector(a_, b_, UNPARENTHESISED(FIRST));                                  \
            (m)[r_ + (d)] = __builtin_shufflevector(a_, b_, UNPARENTHESISED(SECOND));                           \
        }                                                                                                       \
    } while (0)

#define TRANSPOSE16(m)                                                                                          \
    do {                                                                                                        \
        SWAP_BLOCKS(m, 1, (0, 16, 2, 18, 4, 20, 6, 22, 8, 24, 10, 26, 12, 28, 14, 30),                          \
                    (1, 17, 3, 19, 5, 21, 7, 23, 9, 25, 11, 27, 13, 29, 15, 31));                               \
        SWAP_BLOCKS(m, 2, (0, 1, 16, 17, 4, 5, 20, 21, 8, 9, 24, 25, 12, 13, 28, 29),                           \
                    (2, 3, 18, 19, 6, 7, 22, 23, 10, 11, 26, 27, 14, 15, 30, 31));                              \
        SWAP_BLOCKS(m, 4, (0, 1, 2, 3, 16, 17, 18, 19, 8, 9, 10, 11, 24, 25, 26, 27),                           \
                    (4, 5, 6, 7, 20, 21, 22, 23, 12, 13, 14, 15, 28, 29, 30, 31));                              \
        SWAP_BLOCKS(m, 8, (0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23),                             \
                    (8, 9, 10, 11, 12, 13, 14, 15, 24, 25, 26, 27, 28, 29, 30, 31));                            \
    } while (0)

#endif
