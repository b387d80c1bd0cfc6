#include "fuzz_driver.h"

int LLVMFuzzerRunDriver(int *argc, char ***argv, int (*callback)(const uint8_t *data, size_t size));

static synapse_fuzz_callback current;

// libFuzzer's archive refers to this symbol even when started through LLVMFuzzerRunDriver.
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) { return current ? current(data, size) : 0; }

int synapse_fuzz_run(int argc, char **argv, synapse_fuzz_callback callback) {
    current = callback;
    return LLVMFuzzerRunDriver(&argc, &argv, callback);
}
