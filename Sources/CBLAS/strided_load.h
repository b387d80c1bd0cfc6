// Sixteen floats read at a stride into a Clang vector, for the C kernels (a header of this
// folder, not of the module: Swift never sees it).

#ifndef SYNAPSE_STRIDED_LOAD_H
#define SYNAPSE_STRIDED_LOAD_H

typedef float v16 __attribute__((vector_size(64), aligned(4)));

// Sixteen floats from `source` at `stride` into `values`: vector loads at strides 1 and 2
// when `readable` floats from `source` may be read (16 and 32), else one by one. A macro: a
// vector returned from a function trips -Wpsabi in the portable build.
#define LOAD_STRIDED16(values, source, stride, readable)                                                        \
    do {                                                                                                        \
        const float *from_ = (source);                                                                          \
        if ((stride) == 1 && (readable) >= 16) {                                                                \
            (values) = *(const v16 *)from_;                                                                     \
        } else if ((stride) == 2 && (readable) >= 32) {                                                         \
            v16 low_ = *(const v16 *)from_, high_ = *(const v16 *)(from_ + 16);                                 \
            (values) = __builtin_shufflevector(low_, high_, 0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30); \
        } else {                                                                                                \
            for (int lane_ = 0; lane_ < 16; lane_++) (values)[lane_] = from_[lane_ * (stride)];                 \
        }                                                                                                       \
    } while (0)

#endif
