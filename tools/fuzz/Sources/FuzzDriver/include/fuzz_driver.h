// libFuzzer's driver, started from a Swift `main` (SwiftPM gives every executable a main of
// its own, so libFuzzer's cannot be used).
#include <stddef.h>
#include <stdint.h>

typedef int (*synapse_fuzz_callback)(const uint8_t *data, size_t size);

/// Runs libFuzzer with the process's arguments and `callback` as LLVMFuzzerTestOneInput.
int synapse_fuzz_run(int argc, char **argv, synapse_fuzz_callback callback);
