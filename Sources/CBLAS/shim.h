// OpenBLAS' C interface. The include path comes from pkg-config (openblas.pc).
#include <cblas.h>
