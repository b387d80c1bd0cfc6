#ifndef SYNAPSE_CPU_LEVEL_H
#define SYNAPSE_CPU_LEVEL_H

// Which vector code this CPU runs, detected once: 2 AVX-512F, 1 AVX2 and FMA, 0 portable
// code only. Swift is compiled for baseline x86-64 (SSE2), so the hot kernels are C with one
// source compiled three times under `target` attributes (NAME_avx512, NAME_avx2,
// NAME_generic) and chosen by this level.

#ifdef __cplusplus
extern "C" {
#endif

/// 2: AVX-512F, 1: AVX2 and FMA, 0: neither (or not x86-64).
int synapse_cpu_level(void);

#ifdef __cplusplus
}
#endif

// Calls NAME_avx512, NAME_avx2 or NAME_generic (one signature) by `level`, then returns from
// the calling function (which returns void).
#if defined(__x86_64__)
#define SYNAPSE_DISPATCH_AT(level, NAME, ...)                                                                        \
    do {                                                                                                             \
        switch (level) {                                                                                             \
        case 2: NAME##_avx512(__VA_ARGS__); return;                                                                  \
        case 1: NAME##_avx2(__VA_ARGS__); return;                                                                    \
        default: NAME##_generic(__VA_ARGS__); return;                                                                \
        }                                                                                                            \
    } while (0)
#else
#define SYNAPSE_DISPATCH_AT(level, NAME, ...)                                                                        \
    do {                                                                                                             \
        (void)(level);                                                                                               \
        NAME##_generic(__VA_ARGS__);                                                                                 \
        return;                                                                                                      \
    } while (0)
#endif

// SYNAPSE_DISPATCH_AT at this CPU's level.
#define SYNAPSE_DISPATCH(NAME, ...) SYNAPSE_DISPATCH_AT(synapse_cpu_level(), NAME, __VA_ARGS__)

#endif
