/* synapse-inspect-c NAME.onnx: the graph and a summary of every weight, read with the C
 * reader alone. Numbers are printed with 9 significant digits (float32 exactly) and sums
 * are accumulated in double in storage order, as `synapse inspect` does. */
#include <stdio.h>

#include "synapse_model.h"

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: synapse-inspect-c NAME.onnx\n");
        return 2;
    }
    synapse_model *model = NULL;
    char error[1024];
    int code = synapse_model_open(argv[1], &model, error, sizeof error);
    if (code) {
        fprintf(stderr, "synapse-inspect-c: %s\n", error);
        return 1;
    }
    printf("model %s\n", argv[1]);
    for (size_t i = 0; i < synapse_model_input_count(model); i++) printf("input %s\n", synapse_model_input_name(model, i));
    for (size_t i = 0; i < synapse_model_output_count(model); i++) printf("output %s\n", synapse_model_output_name(model, i));
    for (size_t i = 0; i < synapse_model_node_count(model); i++) {
        printf("node %s:", synapse_model_node_op_type(model, i));
        for (size_t j = 0; j < synapse_model_node_input_count(model, i); j++) printf(" %s", synapse_model_node_input(model, i, j));
        printf(" ->");
        for (size_t j = 0; j < synapse_model_node_output_count(model, i); j++) printf(" %s", synapse_model_node_output(model, i, j));
        printf("\n");
    }
    for (size_t i = 0; i < synapse_model_weight_count(model); i++) {
        const synapse_weight *w = synapse_model_weight(model, i);
        float lo = 0, hi = 0;
        double sum = 0;
        for (size_t k = 0; k < w->count; k++) {
            float v = w->values[k];
            if (k == 0 || v < lo) lo = v;
            if (k == 0 || v > hi) hi = v;
            sum += (double)v;
        }
        printf("weight %s [", w->name);
        for (size_t d = 0; d < w->rank; d++) printf("%s%lld", d ? ", " : "", (long long)w->dims[d]);
        printf("] min %.9g max %.9g sum %.17g\n", lo, hi, sum);
    }
    synapse_model_close(model);
    return 0;
}
