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
