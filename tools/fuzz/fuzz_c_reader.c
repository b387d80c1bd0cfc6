// libFuzzer target for the C reader (tools/c): the input is a `.onnx` written beside a real
// pair's `.h5` (tools/fuzz/corpus/model.h5, or $SYNAPSE_FUZZ_WEIGHTS), opened with
// synapse_model_open. Built by `make fuzz` with clang -fsanitize=fuzzer,address.
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "synapse_model.h"

static char folder[256];

static void prepare(void) {
    if (folder[0]) return;
    snprintf(folder, sizeof folder, "/tmp/synapse-fuzz-c-%d", (int)getpid());
    char command[1024];
    const char *weights = getenv("SYNAPSE_FUZZ_WEIGHTS");
    snprintf(command, sizeof command, "mkdir -p %s && cp %s %s/model.h5", folder, weights ? weights : "tools/fuzz/corpus/model.h5", folder);
    if (system(command) != 0) abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    prepare();
    char path[512];
    snprintf(path, sizeof path, "%s/model.onnx", folder);
    FILE *file = fopen(path, "wb");
    if (!file) return 0;
    fwrite(data, 1, size, file);
    fclose(file);
    synapse_model *model = NULL;
    char error[512];
    if (synapse_model_open(path, &model, error, sizeof error) == SYNAPSE_OK) {
        for (size_t i = 0; i < synapse_model_weight_count(model); i++) (void)synapse_model_weight(model, i);
        synapse_model_close(model);
    }
    return 0;
}
