#define _POSIX_C_SOURCE 200809L
#include "synapse_model.h"

#include <errno.h>
#include <hdf5.h>
#include <openssl/evp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "generated/synapse.pb-c.h"

#define MAX_PROTOBUF_BYTES ((size_t)1 << 31)
#define MAX_ELEMENTS ((int64_t)1 << 31)

struct synapse_model {
    Onnx__ModelProto *proto;
    size_t weight_count;
    synapse_weight *weights;
    char **input_names; /* graph inputs that are not initializers (borrowed from proto) */
    size_t input_count;
};

static int fail(char *error, size_t size, int code, const char *format, ...) {
    if (error && size > 0) {
        va_list args;
        va_start(args, format);
        vsnprintf(error, size, format, args);
        va_end(args);
    }
    return code;
}

/* Reads the whole of `path` through one descriptor: opened non-blocking (a FIFO cannot block
   the open), refused from fstat unless it is a regular file of at most `limit` bytes, then read
   with pread. Everything the reader checks and parses comes from these bytes, so a file renamed
   over `path` mid-read gives the old file or the new one, never a mix. `identity` (optional)
   receives the file's device and inode. */
static int read_file(const char *path, size_t limit, uint8_t **bytes, size_t *length, struct stat *identity,
                     char *error, size_t size) {
    int descriptor = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (descriptor < 0) return fail(error, size, SYNAPSE_ERROR_IO, "model %s: cannot open it (%s)", path, strerror(errno));
    struct stat info;
    if (fstat(descriptor, &info) != 0 || !S_ISREG(info.st_mode) || (size_t)info.st_size > limit) {
        const char *kind = S_ISFIFO(info.st_mode) ? "a FIFO" : S_ISDIR(info.st_mode) ? "a directory"
                         : S_ISCHR(info.st_mode) || S_ISBLK(info.st_mode) ? "a device" : NULL;
        close(descriptor);
        if (kind) return fail(error, size, SYNAPSE_ERROR_IO, "model %s: is %s, not a regular file", path, kind);
        return fail(error, size, SYNAPSE_ERROR_IO, "model %s: not a regular file of at most %zu bytes", path, limit);
    }
    if (identity) *identity = info;
    *length = (size_t)info.st_size;
    *bytes = malloc(*length ? *length : 1);
    if (!*bytes) {
        close(descriptor);
        return fail(error, size, SYNAPSE_ERROR_MEMORY, "model %s: out of memory", path);
    }
    size_t done = 0;
    while (done < *length) {
        ssize_t got = pread(descriptor, *bytes + done, *length - done, (off_t)done);
        if (got < 0 && errno == EINTR) continue;
        if (got <= 0) break;
        done += (size_t)got;
    }
    close(descriptor);
    if (done != *length) {
        free(*bytes);
        return fail(error, size, SYNAPSE_ERROR_IO, "model %s: short read", path);
    }
    return SYNAPSE_OK;
}

/* A weight file read once and opened by libhdf5 from those bytes (core driver, no backing
   store): libhdf5 never opens the path itself. */
typedef struct {
    char requested[4096]; /* folder/location, as the graph names it */
    char path[4096];      /* the file read: that one, or a pending replacement */
    uint8_t *bytes;
    size_t length;
    hid_t file;
} weight_file;

static void weight_file_close(weight_file *weights) {
    if (weights->file >= 0) H5Fclose(weights->file);
    free(weights->bytes);
    weights->bytes = NULL;
    weights->file = -1;
}

/* Opens the bytes of `weights` with libhdf5 (which copies them into its own image). */
static int weight_file_open_hdf5(const char *model_path, weight_file *weights, char *error, size_t size) {
    static long counter = 0;
    char name[128];
    snprintf(name, sizeof name, "/nonexistent-synapse-image/c-%ld-%ld", (long)getpid(), ++counter);
    hid_t access = H5Pcreate(H5P_FILE_ACCESS);
    if (access < 0 || H5Pset_fapl_core(access, 1 << 20, 0) < 0 || H5Pset_file_image(access, weights->bytes, weights->length) < 0) {
        if (access >= 0) H5Pclose(access);
        return fail(error, size, SYNAPSE_ERROR_IO, "model %s: cannot hand weight file %s to libhdf5", model_path, weights->path);
    }
    weights->file = H5Fopen(name, H5F_ACC_RDONLY, access);
    H5Pclose(access);
    if (weights->file < 0)
        return fail(error, size, SYNAPSE_ERROR_IO, "model %s: cannot open weight file %s as HDF5", model_path, weights->path);
    return SYNAPSE_OK;
}

static const char *entry(Onnx__StringStringEntryProto **entries, size_t count, const char *key) {
    for (size_t i = 0; i < count; i++)
        if (entries[i]->key && strcmp(entries[i]->key, key) == 0) return entries[i]->value;
    return NULL;
}

/* The integrity record's content digest: SHA-256 of the SHA-256 digests of each 4 MiB piece
   of `bytes` (FORMAT.md, "Integrity record"); 0 on success. */
static int piece_list_sha256(const uint8_t *bytes, size_t length, unsigned char digest[32]) {
    const size_t piece = (size_t)4 << 20;
    EVP_MD_CTX *list = EVP_MD_CTX_new();
    if (!list || EVP_DigestInit_ex(list, EVP_sha256(), NULL) != 1) {
        EVP_MD_CTX_free(list);
        return -1;
    }
    for (size_t at = 0; at < length; at += piece) {
        unsigned char part[32];
        EVP_Digest(bytes + at, at + piece < length ? piece : length - at, part, NULL, EVP_sha256(), NULL);
        EVP_DigestUpdate(list, part, 32);
    }
    unsigned int out = 0;
    int status = EVP_DigestFinal_ex(list, digest, &out) == 1 ? 0 : -1;
    EVP_MD_CTX_free(list);
    return status;
}

/* Why the bytes of a pair's weight file are not the ones its graph records (NULL when they
   are): its size and SHA-256 are those of the metadata, and its own integrity record (format
   version 2, the first 512 bytes; see FORMAT.md) matches when it has one. */
static const char *weights_problem(const weight_file *weights, const char *size_text, const char *sha_text) {
    char *end = NULL;
    long long expected = size_text ? strtoll(size_text, &end, 10) : -1;
    if (size_text && (!end || *end || expected != (long long)weights->length))
        return "its size differs from the one the graph records";
    const uint8_t *head = weights->bytes;
    if (weights->length >= 12 && memcmp(head, "SYNAPSE-SEAL", 12) == 0) {
        unsigned char record_digest[32], digest[32];
        if (weights->length < 512) return "it is truncated inside its integrity record";
        EVP_Digest(head, 56, record_digest, NULL, EVP_sha256(), NULL);
        unsigned long long written = 0;
        for (int i = 7; i >= 0; i--) written = written << 8 | head[16 + i];
        if (memcmp(record_digest, head + 56, 32) != 0) return "its integrity record does not match its checksum";
        if (written != (unsigned long long)weights->length) return "its length differs from the one its integrity record holds";
        if (piece_list_sha256(head + 512, weights->length - 512, digest) != 0 || memcmp(digest, head + 24, 32) != 0)
            return "bytes 512.. do not match their SHA-256";
    }
    if (sha_text) {
        unsigned char digest[32];
        char hex[65];
        EVP_Digest(weights->bytes, weights->length, digest, NULL, EVP_sha256(), NULL);
        for (int i = 0; i < 32; i++) snprintf(hex + 2 * i, 3, "%02x", digest[i]);
        if (strcmp(hex, sha_text) != 0) return "its SHA-256 differs from the graph's";
    }
    return NULL;
}

/* Reads a pair's weight file once and checks it against the graph; when it does not match, the
   pending file of a replacement interrupted after its .onnx was in place
   (`.NAME.h5.pending-<16 hex digits of the SHA-256>`, FORMAT.md "Replacing a pair") is tried.
   Returns SYNAPSE_ERROR_MISMATCH (with the message) when neither matches. */
#define SYNAPSE_ERROR_MISMATCH 1000
static int load_pair_weights(const char *model_path, const char *folder, const char *location, const char *size_text,
                             const char *sha_text, weight_file *weights, char *error, size_t size) {
    if (snprintf(weights->path, sizeof weights->path, "%s/%s", folder, location) >= (int)sizeof weights->path)
        return fail(error, size, SYNAPSE_ERROR_FORMAT, "model %s: metadata synapse.weights is too long", model_path);
    memcpy(weights->requested, weights->path, sizeof weights->requested);
    char scratch[512];
    const char *problem = "it is missing or unreadable";
    if (read_file(weights->path, (size_t)1 << 40, &weights->bytes, &weights->length, NULL, scratch, sizeof scratch) == SYNAPSE_OK) {
        problem = weights_problem(weights, size_text, sha_text);
        if (!problem) return weight_file_open_hdf5(model_path, weights, error, size);
        free(weights->bytes);
        weights->bytes = NULL;
    }
    if (sha_text && strlen(sha_text) >= 16) {
        weight_file pending = {.file = -1};
        const char *slash = strrchr(location, '/');
        const char *name = slash ? slash + 1 : location;
        int prefix = slash ? (int)(slash - location + 1) : 0;
        if (prefix < 2048 && snprintf(pending.path, sizeof pending.path, "%s/%.*s.%s.pending-%.16s", folder, prefix, location, name,
                                      sha_text) < (int)sizeof pending.path
            && read_file(pending.path, (size_t)1 << 40, &pending.bytes, &pending.length, NULL, scratch, sizeof scratch) == SYNAPSE_OK) {
            if (!weights_problem(&pending, size_text, sha_text)) {
                memcpy(pending.requested, weights->requested, sizeof pending.requested);
                *weights = pending;
                return weight_file_open_hdf5(model_path, weights, error, size);
            }
            free(pending.bytes);
        }
        /* Or renamed into place just now. */
        if (read_file(weights->path, (size_t)1 << 40, &weights->bytes, &weights->length, NULL, scratch, sizeof scratch) == SYNAPSE_OK) {
            if (!weights_problem(weights, size_text, sha_text)) return weight_file_open_hdf5(model_path, weights, error, size);
            free(weights->bytes);
            weights->bytes = NULL;
        }
    }
    fail(error, size, SYNAPSE_ERROR_FORMAT, "model %s: weight file %s is damaged or changed since export: %s", model_path,
         weights->path, problem);
    return SYNAPSE_ERROR_MISMATCH;
}

/* A relative path inside the model's folder: no leading '/', no ".." component. */
static int is_inside(const char *location) {
    if (!location || !*location || location[0] == '/') return 0;
    const char *p = location;
    while (*p) {
        const char *end = strchr(p, '/');
        size_t n = end ? (size_t)(end - p) : strlen(p);
        if (n == 2 && p[0] == '.' && p[1] == '.') return 0;
        if (!end) break;
        p = end + 1;
    }
    return 1;
}

/* Reads /weights/NAME from the HDF5 weight file with libhdf5, checking it is float32 in the
 * initializer's shape and that its data sit at the offset the graph names. */
static int read_hdf5_weight(const char *model_path, const weight_file *weights, const char *name, const int64_t *dims,
                            size_t rank, int64_t count, uint64_t offset, float *values, char *error, size_t size) {
    const char *h5_path = weights->path;
    if (strchr(name, '/') || !*name)
        return fail(error, size, SYNAPSE_ERROR_FORMAT, "model %s: initializer \"%s\": not a valid weight name", model_path, name);
    char object[4096];
    if (snprintf(object, sizeof object, "/weights/%s", name) >= (int)sizeof object)
        return fail(error, size, SYNAPSE_ERROR_FORMAT, "model %s: initializer name too long", model_path);
    int code = SYNAPSE_OK;
    hid_t file = weights->file;
    hid_t dataset = H5Lexists(file, "/weights", H5P_DEFAULT) > 0 && H5Lexists(file, object, H5P_DEFAULT) > 0
                        ? H5Dopen2(file, object, H5P_DEFAULT) : -1;
    if (dataset < 0) {
        code = fail(error, size, SYNAPSE_ERROR_FORMAT, "model %s: %s has no dataset %s", model_path, h5_path, object);
        return code;
    }
    hid_t type = H5Dget_type(dataset);
    hid_t space = H5Dget_space(dataset);
    int file_rank = H5Sget_simple_extent_ndims(space);
    hsize_t file_dims[32];
    if (type < 0 || space < 0 || H5Tget_class(type) != H5T_FLOAT || H5Tget_size(type) != 4 || file_rank < 0 ||
        file_rank > 32 || (size_t)file_rank != rank) {
        code = fail(error, size, SYNAPSE_ERROR_FORMAT, "model %s: %s%s is not float32 of rank %zu", model_path, h5_path, object, rank);
        goto close_all;
    }
    H5Sget_simple_extent_dims(space, file_dims, NULL);
    for (size_t i = 0; i < rank; i++) {
        if ((int64_t)file_dims[i] != dims[i]) {
            code = fail(error, size, SYNAPSE_ERROR_FORMAT, "model %s: %s%s dimension %zu is %llu, the graph says %lld", model_path,
                        h5_path, object, i, (unsigned long long)file_dims[i], (long long)dims[i]);
            goto close_all;
        }
    }
    haddr_t actual = H5Dget_offset(dataset);
    if (actual == HADDR_UNDEF || (uint64_t)actual != offset) {
        code = fail(error, size, SYNAPSE_ERROR_FORMAT, "model %s: initializer \"%s\": offset %llu, but %s%s starts at %llu",
                    model_path, name, (unsigned long long)offset, h5_path, object, (unsigned long long)actual);
        goto close_all;
    }
    if (count > 0 && H5Dread(dataset, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, values) < 0)
        code = fail(error, size, SYNAPSE_ERROR_IO, "model %s: cannot read %s%s", model_path, h5_path, object);
close_all:
    if (space >= 0) H5Sclose(space);
    if (type >= 0) H5Tclose(type);
    H5Dclose(dataset);
    return code;
}

static int load_weight(const char *path, const char *folder, Onnx__TensorProto *init, synapse_weight *weight,
                       weight_file *cache, char *error, size_t size) {
    const char *name = init->name ? init->name : "";
    int64_t count = 1;
    for (size_t i = 0; i < init->n_dims; i++) {
        if (init->dims[i] < 0 || (init->dims[i] > 0 && count > MAX_ELEMENTS / init->dims[i]))
            return fail(error, size, SYNAPSE_ERROR_FORMAT, "model %s: initializer \"%s\": dims are negative or too large", path, name);
        count *= init->dims[i];
    }
    weight->name = name;
    weight->rank = init->n_dims;
    weight->dims = init->dims;
    weight->count = (size_t)count;
    float *values = malloc(count > 0 ? (size_t)count * sizeof(float) : 1);
    if (!values) return fail(error, size, SYNAPSE_ERROR_MEMORY, "model %s: out of memory", path);
    weight->values = values;
    if (init->data_location == ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL) {
        const char *location = entry(init->external_data, init->n_external_data, "location");
        const char *offset_text = entry(init->external_data, init->n_external_data, "offset");
        const char *length_text = entry(init->external_data, init->n_external_data, "length");
        if (!is_inside(location))
            return fail(error, size, SYNAPSE_ERROR_FORMAT, "model %s: initializer \"%s\": location must be a relative path inside the folder", path, name);
        char *end = NULL;
        unsigned long long offset = offset_text ? strtoull(offset_text, &end, 10) : 0;
        if (offset_text && (!*offset_text || *end))
            return fail(error, size, SYNAPSE_ERROR_FORMAT, "model %s: initializer \"%s\": offset is not a number", path, name);
        unsigned long long length = length_text ? strtoull(length_text, &end, 10) : (unsigned long long)count * 4;
        if (length_text && (!*length_text || *end))
            return fail(error, size, SYNAPSE_ERROR_FORMAT, "model %s: initializer \"%s\": length is not a number", path, name);
        if (length != (unsigned long long)count * 4)
            return fail(error, size, SYNAPSE_ERROR_FORMAT, "model %s: initializer \"%s\": length %llu does not hold %lld floats", path, name, length, (long long)count);
        char h5_path[4096];
        if (snprintf(h5_path, sizeof h5_path, "%s/%s", folder, location) >= (int)sizeof h5_path)
            return fail(error, size, SYNAPSE_ERROR_FORMAT, "model %s: location too long", path);
        if (!cache->bytes || strcmp(cache->requested, h5_path) != 0) {
            weight_file_close(cache);
            snprintf(cache->requested, sizeof cache->requested, "%s", h5_path);
            snprintf(cache->path, sizeof cache->path, "%s", h5_path);
            char scratch[512];
            if (read_file(h5_path, (size_t)1 << 40, &cache->bytes, &cache->length, NULL, scratch, sizeof scratch) != SYNAPSE_OK)
                return fail(error, size, SYNAPSE_ERROR_IO, "model %s: weight file %s is missing or unreadable", path, h5_path);
            int code = weight_file_open_hdf5(path, cache, error, size);
            if (code) return code;
        }
        if (offset > (unsigned long long)cache->length || length > (unsigned long long)cache->length - offset)
            return fail(error, size, SYNAPSE_ERROR_FORMAT, "model %s: initializer \"%s\": offset %llu + length %llu lies beyond %s (%zu bytes)",
                        path, name, offset, length, h5_path, cache->length);
        return read_hdf5_weight(path, cache, name, init->dims, init->n_dims, count, offset, values, error, size);
    }
    if (init->raw_data.len > 0 || count == 0) {
        if (init->raw_data.len != (size_t)count * 4)
            return fail(error, size, SYNAPSE_ERROR_FORMAT, "model %s: initializer \"%s\": raw_data has %zu bytes, the shape needs %lld", path, name, init->raw_data.len, (long long)count * 4);
        for (int64_t i = 0; i < count; i++) {
            const uint8_t *b = init->raw_data.data + 4 * i;
            uint32_t word = (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
            memcpy(&values[i], &word, 4);
        }
        return SYNAPSE_OK;
    }
    if (init->n_float_data != (size_t)count)
        return fail(error, size, SYNAPSE_ERROR_FORMAT, "model %s: initializer \"%s\": float_data has %zu values, the shape needs %lld", path, name, init->n_float_data, (long long)count);
    memcpy(values, init->float_data, (size_t)count * sizeof(float));
    return SYNAPSE_OK;
}

static int open_once(const char *onnx_path, synapse_model **out, struct stat *identity, char *error, size_t error_size) {
    *out = NULL;
    uint8_t *bytes = NULL;
    size_t length = 0;
    int code = read_file(onnx_path, MAX_PROTOBUF_BYTES, &bytes, &length, identity, error, error_size);
    if (code) return code;
    Onnx__ModelProto *proto = onnx__model_proto__unpack(NULL, length, bytes);
    free(bytes);
    if (!proto) return fail(error, error_size, SYNAPSE_ERROR_FORMAT, "model %s: not an ONNX model (protobuf does not parse)", onnx_path);
    if (!proto->graph) {
        onnx__model_proto__free_unpacked(proto, NULL);
        return fail(error, error_size, SYNAPSE_ERROR_FORMAT, "model %s: not an ONNX model (no graph)", onnx_path);
    }
    synapse_model *model = calloc(1, sizeof *model);
    if (!model) {
        onnx__model_proto__free_unpacked(proto, NULL);
        return fail(error, error_size, SYNAPSE_ERROR_MEMORY, "out of memory");
    }
    model->proto = proto;
    Onnx__GraphProto *graph = proto->graph;
    char folder[4096];
    const char *slash = strrchr(onnx_path, '/');
    if (slash) snprintf(folder, sizeof folder, "%.*s", (int)(slash - onnx_path), onnx_path);
    else snprintf(folder, sizeof folder, ".");

    weight_file cache = {.file = -1};
    const char *weights_location = entry(proto->metadata_props, proto->n_metadata_props, "synapse.weights");
    if (weights_location) {
        if (!is_inside(weights_location)) {
            synapse_model_close(model);
            return fail(error, error_size, SYNAPSE_ERROR_FORMAT, "model %s: metadata synapse.weights must be a relative path inside the folder", onnx_path);
        }
        code = load_pair_weights(onnx_path, folder, weights_location,
                                 entry(proto->metadata_props, proto->n_metadata_props, "synapse.weights_size"),
                                 entry(proto->metadata_props, proto->n_metadata_props, "synapse.weights_sha256"), &cache, error, error_size);
        if (code) {
            weight_file_close(&cache);
            synapse_model_close(model);
            return code;
        }
    }
    model->weights = calloc(graph->n_initializer ? graph->n_initializer : 1, sizeof(synapse_weight));
    model->input_names = calloc(graph->n_input ? graph->n_input : 1, sizeof(char *));
    if (!model->weights || !model->input_names) {
        weight_file_close(&cache);
        synapse_model_close(model);
        return fail(error, error_size, SYNAPSE_ERROR_MEMORY, "out of memory");
    }
    for (size_t i = 0; i < graph->n_initializer; i++) {
        Onnx__TensorProto *init = graph->initializer[i];
        if (!init->name || !*init->name) {
            weight_file_close(&cache);
            synapse_model_close(model);
            return fail(error, error_size, SYNAPSE_ERROR_FORMAT, "model %s: initializer %zu has no name", onnx_path, i);
        }
        if (init->data_type != ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT) continue; /* shapes and indices, not weights */
        code = load_weight(onnx_path, folder, init, &model->weights[model->weight_count], &cache, error, error_size);
        model->weight_count++;
        if (code) {
            weight_file_close(&cache);
            synapse_model_close(model);
            return code;
        }
    }
    weight_file_close(&cache);
    for (size_t i = 0; i < graph->n_input; i++) {
        const char *name = graph->input[i]->name ? graph->input[i]->name : "";
        int is_initializer = 0;
        for (size_t j = 0; j < graph->n_initializer; j++)
            if (strcmp(graph->initializer[j]->name, name) == 0) is_initializer = 1;
        if (!is_initializer) model->input_names[model->input_count++] = (char *)name;
    }
    for (size_t i = 0; i < graph->n_node; i++) {
        if (!graph->node[i]->op_type) {
            synapse_model_close(model);
            return fail(error, error_size, SYNAPSE_ERROR_FORMAT, "model %s: node %zu has no op_type", onnx_path, i);
        }
    }
    *out = model;
    return SYNAPSE_OK;
}

/* Opens the model; a pair replaced while it was read (its .onnx renamed over the path between
   the two files' reads, so the weights belong to the new graph) is read again. */
int synapse_model_open(const char *onnx_path, synapse_model **out, char *error, size_t error_size) {
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    for (int attempt = 1;; attempt++) {
        struct stat identity, now;
        int code = open_once(onnx_path, out, &identity, error, error_size);
        if (code != SYNAPSE_ERROR_MISMATCH) return code;
        if (attempt >= 5 || stat(onnx_path, &now) != 0 || (now.st_dev == identity.st_dev && now.st_ino == identity.st_ino))
            return SYNAPSE_ERROR_FORMAT;
    }
}

void synapse_model_close(synapse_model *model) {
    if (!model) return;
    for (size_t i = 0; i < model->weight_count; i++) free((void *)model->weights[i].values);
    free(model->weights);
    free(model->input_names);
    if (model->proto) onnx__model_proto__free_unpacked(model->proto, NULL);
    free(model);
}

size_t synapse_model_input_count(const synapse_model *m) { return m->input_count; }
const char *synapse_model_input_name(const synapse_model *m, size_t i) { return i < m->input_count ? m->input_names[i] : NULL; }
size_t synapse_model_output_count(const synapse_model *m) { return m->proto->graph->n_output; }
const char *synapse_model_output_name(const synapse_model *m, size_t i) {
    return i < m->proto->graph->n_output ? m->proto->graph->output[i]->name : NULL;
}
size_t synapse_model_node_count(const synapse_model *m) { return m->proto->graph->n_node; }
static const Onnx__NodeProto *node_at(const synapse_model *m, size_t i) {
    return i < m->proto->graph->n_node ? m->proto->graph->node[i] : NULL;
}
const char *synapse_model_node_op_type(const synapse_model *m, size_t i) { return node_at(m, i) ? node_at(m, i)->op_type : NULL; }
const char *synapse_model_node_name(const synapse_model *m, size_t i) { return node_at(m, i) ? node_at(m, i)->name : NULL; }
size_t synapse_model_node_input_count(const synapse_model *m, size_t i) { return node_at(m, i) ? node_at(m, i)->n_input : 0; }
const char *synapse_model_node_input(const synapse_model *m, size_t i, size_t j) {
    return j < synapse_model_node_input_count(m, i) ? node_at(m, i)->input[j] : NULL;
}
size_t synapse_model_node_output_count(const synapse_model *m, size_t i) { return node_at(m, i) ? node_at(m, i)->n_output : 0; }
const char *synapse_model_node_output(const synapse_model *m, size_t i, size_t j) {
    return j < synapse_model_node_output_count(m, i) ? node_at(m, i)->output[j] : NULL;
}
size_t synapse_model_weight_count(const synapse_model *m) { return m->weight_count; }
const synapse_weight *synapse_model_weight(const synapse_model *m, size_t i) { return i < m->weight_count ? &m->weights[i] : NULL; }
const char *synapse_model_metadata(const synapse_model *m, const char *key) {
    return entry(m->proto->metadata_props, m->proto->n_metadata_props, key);
}
