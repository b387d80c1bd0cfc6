/* A C reader of Synapse model files: NAME.onnx (the graph, ONNX protobuf, read with
 * libprotobuf-c) and NAME.h5 (the weights, read with libhdf5). See formats/FORMAT.md.
 *
 * Everything read is validated (lengths, offsets, names, shapes); on bad input the functions
 * return a non-zero code and write a message naming the file and the place. */
#ifndef SYNAPSE_MODEL_H
#define SYNAPSE_MODEL_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct synapse_model synapse_model;

/* One weight (a float initializer): its name, shape and values. */
typedef struct {
    const char *name;
    size_t rank;
    const int64_t *dims;
    size_t count;
    const float *values;
} synapse_weight;

enum {
    SYNAPSE_OK = 0,
    SYNAPSE_ERROR_IO = 1,       /* a file is missing or unreadable */
    SYNAPSE_ERROR_FORMAT = 2,   /* malformed or inconsistent contents */
    SYNAPSE_ERROR_MEMORY = 3,
};

/* Opens NAME.onnx (and the weight file it names). On failure returns an error code, sets
 * *model to NULL and writes a message into error (error_size bytes). */
int synapse_model_open(const char *onnx_path, synapse_model **model, char *error, size_t error_size);
void synapse_model_close(synapse_model *model);

size_t synapse_model_input_count(const synapse_model *model);
const char *synapse_model_input_name(const synapse_model *model, size_t index);
size_t synapse_model_output_count(const synapse_model *model);
const char *synapse_model_output_name(const synapse_model *model, size_t index);

size_t synapse_model_node_count(const synapse_model *model);
const char *synapse_model_node_op_type(const synapse_model *model, size_t index);
const char *synapse_model_node_name(const synapse_model *model, size_t index);
size_t synapse_model_node_input_count(const synapse_model *model, size_t index);
const char *synapse_model_node_input(const synapse_model *model, size_t index, size_t input);
size_t synapse_model_node_output_count(const synapse_model *model, size_t index);
const char *synapse_model_node_output(const synapse_model *model, size_t index, size_t output);

size_t synapse_model_weight_count(const synapse_model *model);
const synapse_weight *synapse_model_weight(const synapse_model *model, size_t index);

/* The value of metadata_props[key], or NULL. */
const char *synapse_model_metadata(const synapse_model *model, const char *key);

#ifdef __cplusplus
}
#endif

#endif
