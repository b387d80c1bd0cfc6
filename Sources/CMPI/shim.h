// Open MPI for Swift: mpi.h's handles (MPI_COMM_WORLD, MPI_FLOAT, MPI_SUM, …) are macros over
// addresses of library globals, which Swift cannot import; these functions return them.
#ifndef SYNAPSE_CMPI_SHIM_H
#define SYNAPSE_CMPI_SHIM_H
#include <mpi.h>

static inline MPI_Comm synapse_mpi_comm_world(void) { return MPI_COMM_WORLD; }
static inline MPI_Datatype synapse_mpi_float(void) { return MPI_FLOAT; }
static inline MPI_Datatype synapse_mpi_byte(void) { return MPI_BYTE; }
static inline MPI_Datatype synapse_mpi_int64(void) { return MPI_INT64_T; }
static inline MPI_Op synapse_mpi_sum(void) { return MPI_SUM; }
static inline MPI_Op synapse_mpi_max(void) { return MPI_MAX; }
static inline MPI_Errhandler synapse_mpi_errors_return(void) { return MPI_ERRORS_RETURN; }
static inline int synapse_mpi_success(void) { return MPI_SUCCESS; }
static inline void *synapse_mpi_in_place(void) { return MPI_IN_PLACE; }
static inline int synapse_mpi_max_error_string(void) { return MPI_MAX_ERROR_STRING; }

#endif
