// libhdf5 for Swift. Many of HDF5's constants are macros over run-time globals that need
// H5open(); Swift cannot import them, so these inline functions return them.
#include <hdf5.h>

static inline hid_t synapse_h5t_native_float(void) { return H5T_NATIVE_FLOAT; }
static inline hid_t synapse_h5t_native_int64(void) { return H5T_NATIVE_INT64; }
static inline hid_t synapse_h5t_native_uint64(void) { return H5T_NATIVE_UINT64; }
static inline hid_t synapse_h5t_native_double(void) { return H5T_NATIVE_DOUBLE; }
static inline hid_t synapse_h5t_ieee_f32le(void) { return H5T_IEEE_F32LE; }
static inline hid_t synapse_h5t_c_s1(void) { return H5T_C_S1; }
static inline hid_t synapse_h5p_file_access(void) { return H5P_FILE_ACCESS; }
static inline hid_t synapse_h5p_file_create(void) { return H5P_FILE_CREATE; }
static inline hid_t synapse_h5p_dataset_create(void) { return H5P_DATASET_CREATE; }
static inline unsigned synapse_h5f_acc_trunc(void) { return H5F_ACC_TRUNC; }
static inline unsigned synapse_h5f_acc_excl(void) { return H5F_ACC_EXCL; }
static inline unsigned synapse_h5f_acc_rdonly(void) { return H5F_ACC_RDONLY; }
static inline hid_t synapse_h5p_default(void) { return H5P_DEFAULT; }
static inline hid_t synapse_h5s_all(void) { return H5S_ALL; }

// Turns off HDF5's printing of its error stack; Synapse throws errors instead.
static inline void synapse_h5_silence_errors(void) { H5Eset_auto2(H5E_DEFAULT, NULL, NULL); }
static inline size_t synapse_h5t_variable(void) { return H5T_VARIABLE; }
static inline hid_t synapse_h5t_native_uint8(void) { return H5T_NATIVE_UINT8; }

// Opening a file image without copying it: libhdf5's core driver normally copies the image
// into its property list and again into the open file (H5LTopen_file_image's DONT_COPY |
// DONT_RELEASE flags avoid that, but live in libhdf5_hl). These callbacks hand libhdf5 the
// caller's buffer for every allocation and make the copies no-ops; the file is opened read
// only, so libhdf5 never writes to, grows or frees it. The buffer must outlive the file.
static inline void *synapse_h5_image_malloc(size_t size, H5FD_file_image_op_t op, void *udata) {
    (void)size; (void)op;
    return udata;
}
static inline void *synapse_h5_image_memcpy(void *dest, const void *src, size_t size, H5FD_file_image_op_t op, void *udata) {
    (void)op; (void)udata;
    if (dest != src) return NULL;  // never asked for with these callbacks
    (void)size;
    return dest;
}
static inline void *synapse_h5_image_realloc(void *ptr, size_t size, H5FD_file_image_op_t op, void *udata) {
    (void)ptr; (void)size; (void)op; (void)udata;
    return NULL;  // a read-only image never grows
}
static inline herr_t synapse_h5_image_free(void *ptr, H5FD_file_image_op_t op, void *udata) {
    (void)ptr; (void)op; (void)udata;
    return 0;
}
static inline void *synapse_h5_image_udata_copy(void *udata) { return udata; }
static inline herr_t synapse_h5_image_udata_free(void *udata) { (void)udata; return 0; }

// A file access list for the core driver (in memory, no backing store) over `buffer`, which
// libhdf5 reads in place. Returns the list (close it with H5Pclose) or a negative id.
static inline hid_t synapse_h5p_image_access(void *buffer, size_t size) {
    hid_t access = H5Pcreate(H5P_FILE_ACCESS);
    if (access < 0) return access;
    H5FD_file_image_callbacks_t callbacks = {
        synapse_h5_image_malloc, synapse_h5_image_memcpy, synapse_h5_image_realloc, synapse_h5_image_free,
        synapse_h5_image_udata_copy, synapse_h5_image_udata_free, buffer};
    if (H5Pset_fapl_core(access, 1 << 20, 0) < 0 || H5Pset_file_image_callbacks(access, &callbacks) < 0
        || H5Pset_file_image(access, buffer, size) < 0) {
        H5Pclose(access);
        return -1;
    }
    return access;
}

// The memory of a file libhdf5 builds in memory (core driver, no backing store), allocated
// through these callbacks so that Synapse can write it to disk in place, without the copy
// H5Fget_file_image makes. The file starts at byte 0 of `buffer` (its user block included).
// `reserved` is memory Synapse allocated for it (with huge pages: faulting in fresh 4 KiB
// pages was most of what building files in memory cost); libhdf5 uses it while the file fits,
// and the C heap beyond. Synapse frees `reserved` after the file is closed.
typedef struct {
    void *buffer;
    size_t capacity;
    void *reserved;
    size_t reserved_capacity;
} synapse_h5_memory;

static inline void *synapse_h5_memory_malloc(size_t size, H5FD_file_image_op_t op, void *udata) {
    (void)op;
    synapse_h5_memory *memory = (synapse_h5_memory *)udata;
    void *buffer = memory->reserved && size <= memory->reserved_capacity ? memory->reserved : malloc(size ? size : 1);
    if (buffer) { memory->buffer = buffer; memory->capacity = size; }
    return buffer;
}
static inline void *synapse_h5_memory_memcpy(void *dest, const void *src, size_t size, H5FD_file_image_op_t op, void *udata) {
    (void)op; (void)udata;
    return __builtin_memcpy(dest, src, size);
}
static inline void *synapse_h5_memory_realloc(void *ptr, size_t size, H5FD_file_image_op_t op, void *udata) {
    synapse_h5_memory *memory = (synapse_h5_memory *)udata;
    if (ptr == NULL) return synapse_h5_memory_malloc(size, op, udata);
    if (ptr == memory->reserved && size <= memory->reserved_capacity) {
        memory->capacity = size;
        return ptr;
    }
    void *moved = malloc(size ? size : 1);
    if (!moved) return NULL;
    __builtin_memcpy(moved, ptr, memory->capacity < size ? memory->capacity : size);
    if (ptr != memory->reserved) free(ptr);
    memory->buffer = moved;
    memory->capacity = size;
    return moved;
}
static inline herr_t synapse_h5_memory_free(void *ptr, H5FD_file_image_op_t op, void *udata) {
    (void)op;
    synapse_h5_memory *memory = (synapse_h5_memory *)udata;
    if (ptr && ptr != memory->reserved) free(ptr);
    if (ptr == memory->buffer) { memory->buffer = NULL; memory->capacity = 0; }
    return 0;
}
static inline void *synapse_h5_memory_udata_copy(void *udata) { return udata; }
static inline herr_t synapse_h5_memory_udata_free(void *udata) { (void)udata; return 0; }

// A file access list for a new file built in `memory` (core driver, no backing store),
// growing in steps of `increment` bytes. Returns the list or a negative id.
static inline hid_t synapse_h5p_memory_access(synapse_h5_memory *memory, size_t increment) {
    hid_t access = H5Pcreate(H5P_FILE_ACCESS);
    if (access < 0) return access;
    H5FD_file_image_callbacks_t callbacks = {
        synapse_h5_memory_malloc, synapse_h5_memory_memcpy, synapse_h5_memory_realloc, synapse_h5_memory_free,
        synapse_h5_memory_udata_copy, synapse_h5_memory_udata_free, memory};
    if (H5Pset_fapl_core(access, increment, 0) < 0 || H5Pset_file_image_callbacks(access, &callbacks) < 0) {
        H5Pclose(access);
        return -1;
    }
    return access;
}
