// The CPU's vector level (see include/synapse_cpu_level.h).

#include "synapse_cpu_level.h"

#include <stdatomic.h>

// Detected once; detection is pure, so a racing first call only repeats it.
static atomic_int detected_level = -1;

int synapse_cpu_level(void) {
    int level = atomic_load_explicit(&detected_level, memory_order_relaxed);
    if (level >= 0) return level;
    level = 0;
#if defined(__x86_64__)
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f")) level = 2;
    else if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) level = 1;
#endif
    atomic_store_explicit(&detected_level, level, memory_order_relaxed);
    return level;
}
