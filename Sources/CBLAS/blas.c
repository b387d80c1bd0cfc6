#define _GNU_SOURCE
#include "synapse_blas.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

// cblas.h's enum values (CBLAS_ORDER, CBLAS_TRANSPOSE), fixed by the CBLAS standard.
enum { ROW_MAJOR = 101, NO_TRANS = 111, TRANS = 112 };

typedef void (*sgemm_fn)(int, int, int, int, int, int, float, const float *, int, const float *,
                         int, float, float *, int);
typedef char *(*string_fn)(void);
typedef int (*get_int_fn)(void);
typedef void (*set_int_fn)(int);

static pthread_once_t once = PTHREAD_ONCE_INIT;
static sgemm_fn sgemm_ptr;
static string_fn config_ptr, corename_ptr;
static get_int_fn get_threads_ptr;
static set_int_fn set_threads_ptr;
static const char *chosen_coretype = "";

// The fastest OpenBLAS core type this CPU runs, or NULL to let OpenBLAS decide.
static const char *coretype_for_this_cpu(void) {
#if defined(__x86_64__)
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
        __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl"))
        return "SkylakeX";
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
        return __builtin_cpu_is("amd") ? "Zen" : "Haswell";
#endif
    return NULL;
}

static void *symbol(void *library, const char *name) {
    void *address = dlsym(library, name);
    if (!address) {
        fprintf(stderr, "Synapse: the OpenBLAS library lacks %s\n", name);
        abort();
    }
    return address;
}

static void load(void) {
    const char *user_choice = getenv("OPENBLAS_CORETYPE");
    if (!user_choice || !*user_choice) {
        const char *core = coretype_for_this_cpu();
        if (core) {
            setenv("OPENBLAS_CORETYPE", core, 1);
            chosen_coretype = core;
        }
    }
    const char *names[] = {"libopenblas.so.0", "libopenblas.so", "libopenblas.dylib"};
    void *library = NULL;
    for (size_t i = 0; i < sizeof names / sizeof names[0] && !library; i++)
        library = dlopen(names[i], RTLD_NOW | RTLD_LOCAL);
    if (!library) {
        fprintf(stderr,
                "Synapse needs OpenBLAS for matrix products and could not load it (%s). "
                "Install it: apt-get install libopenblas-dev\n",
                dlerror());
        abort();
    }
    sgemm_ptr = (sgemm_fn)symbol(library, "cblas_sgemm");
    config_ptr = (string_fn)symbol(library, "openblas_get_config");
    corename_ptr = (string_fn)symbol(library, "openblas_get_corename");
    get_threads_ptr = (get_int_fn)symbol(library, "openblas_get_num_threads");
    set_threads_ptr = (set_int_fn)symbol(library, "openblas_set_num_threads");
    // Synapse cuts large products into tasks of its own thread pool (synapse_parallel.h), each
    // one single-threaded OpenBLAS call: the results then do not depend on the thread count,
    // and a product never starts OpenBLAS' threads on top of Synapse's.
    set_threads_ptr(1);
}

static inline void ensure_loaded(void) { pthread_once(&once, load); }

void synapse_sgemm(int transpose_a, int transpose_b, int m, int n, int k, float alpha,
                   const float *a, int lda, const float *b, int ldb, float beta, float *c, int ldc) {
    ensure_loaded();
    sgemm_ptr(ROW_MAJOR, transpose_a ? TRANS : NO_TRANS, transpose_b ? TRANS : NO_TRANS, m, n, k,
              alpha, a, lda, b, ldb, beta, c, ldc);
}

const char *synapse_blas_config(void) {
    ensure_loaded();
    return config_ptr();
}

const char *synapse_blas_core(void) {
    ensure_loaded();
    return corename_ptr();
}

const char *synapse_blas_chosen_coretype(void) {
    ensure_loaded();
    return chosen_coretype;
}

int synapse_blas_threads(void) {
    ensure_loaded();
    return get_threads_ptr();
}

void synapse_blas_set_threads(int threads) {
    ensure_loaded();
    set_threads_ptr(threads);
}
