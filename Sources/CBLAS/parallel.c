// Synapse's thread pool (see include/synapse_parallel.h for what it promises).
//
// One loop at a time: the caller that takes `busy` publishes the loop and wakes the workers;
// every thread then claims task indices from one atomic counter until none is left, and the
// caller returns once every worker has left the loop. Workers spin briefly after a loop
// (a training step runs loops back to back, a few microseconds apart) and then sleep on a
// condition variable, so an idle process does not burn the cores.
#define _GNU_SOURCE
#include "synapse_parallel.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

// How long a worker (or a caller waiting for the workers) spins before sleeping.
#define SPIN_NANOSECONDS 100000L

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t wake = PTHREAD_COND_INITIALIZER;
static pthread_cond_t left = PTHREAD_COND_INITIALIZER;
static pthread_once_t configured = PTHREAD_ONCE_INIT;

static atomic_int busy;            // 1 while a loop runs or the pool is being resized
static atomic_int thread_count = 1; // the setting, the caller's thread included
static pthread_t *workers;
static int worker_count;           // threads started: thread_count - 1 once the first loop ran
static atomic_long generation;     // one more for every loop (and for a stop)
static atomic_int stopping;
static atomic_int inside;          // workers still inside the current loop

static long job_count;
static void *job_context;
static synapse_task job_task;
static atomic_long next_index;

static _Thread_local int in_task;  // set on workers, and on a caller while it runs its loop

static long nanoseconds(void) {
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return now.tv_sec * 1000000000L + now.tv_nsec;
}

static inline void relax(void) {
#if defined(__x86_64__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield");
#endif
}

static int positive(const char *name) {
    const char *text = getenv(name);
    if (!text || !*text) return 0;
    char *end;
    long value = strtol(text, &end, 10);
    return *end == 0 && value > 0 && value <= 1024 ? (int)value : 0;
}

static void read_setting(void) {
    int threads = positive("SYNAPSE_NUM_THREADS");
    if (!threads) threads = positive("OPENBLAS_NUM_THREADS");
    if (!threads) {
        cpu_set_t set;
        threads = sched_getaffinity(0, sizeof set, &set) == 0 ? CPU_COUNT(&set) : (int)sysconf(_SC_NPROCESSORS_ONLN);
    }
    atomic_store(&thread_count, threads > 0 ? threads : 1);
}

static void run_tasks(void) {
    for (;;) {
        long index = atomic_fetch_add_explicit(&next_index, 1, memory_order_relaxed);
        if (index >= job_count) return;
        job_task(job_context, index);
    }
}

static void *worker_main(void *start) {
    long seen = (long)start;
    in_task = 1;
    for (;;) {
        long now = atomic_load_explicit(&generation, memory_order_acquire);
        if (now == seen) {
            long deadline = nanoseconds() + SPIN_NANOSECONDS;
            int spins = 0;
            while ((now = atomic_load_explicit(&generation, memory_order_acquire)) == seen) {
                relax();
                if (++spins % 64 == 0 && nanoseconds() > deadline) break;
            }
            if (now == seen) {
                pthread_mutex_lock(&lock);
                while ((now = atomic_load_explicit(&generation, memory_order_acquire)) == seen)
                    pthread_cond_wait(&wake, &lock);
                pthread_mutex_unlock(&lock);
            }
        }
        seen = now;
        if (atomic_load_explicit(&stopping, memory_order_acquire)) return NULL;
        run_tasks();
        if (atomic_fetch_sub_explicit(&inside, 1, memory_order_acq_rel) == 1) {
            pthread_mutex_lock(&lock);
            pthread_cond_signal(&left);
            pthread_mutex_unlock(&lock);
        }
    }
}

// The workers, started (or stopped) to match the setting; the caller holds `busy`.
static void resize(int wanted) {
    if (wanted == worker_count) return;
    if (worker_count > 0) {
        atomic_store_explicit(&stopping, 1, memory_order_release);
        pthread_mutex_lock(&lock);
        atomic_fetch_add_explicit(&generation, 1, memory_order_acq_rel);
        pthread_cond_broadcast(&wake);
        pthread_mutex_unlock(&lock);
        for (int i = 0; i < worker_count; i++) pthread_join(workers[i], NULL);
        free(workers);
        workers = NULL;
        worker_count = 0;
        atomic_store_explicit(&stopping, 0, memory_order_release);
    }
    if (wanted <= 0) return;
    workers = calloc((size_t)wanted, sizeof *workers);
    if (!workers) return;
    long start = atomic_load_explicit(&generation, memory_order_acquire);
    for (int i = 0; i < wanted; i++) {
        if (pthread_create(&workers[worker_count], NULL, worker_main, (void *)start) != 0) break;
        worker_count++;
    }
}

// A forked child has none of the parent's workers: it starts its own on its first loop.
static void after_fork_in_child(void) {
    workers = NULL;
    worker_count = 0;
    atomic_store(&busy, 0);
    atomic_store(&inside, 0);
    atomic_store(&stopping, 0);
    pthread_mutex_init(&lock, NULL);
    pthread_cond_init(&wake, NULL);
    pthread_cond_init(&left, NULL);
}

static void configure(void) {
    read_setting();
    pthread_atfork(NULL, NULL, after_fork_in_child);
}

static void run_serially(long count, void *context, synapse_task task) {
    int was_in_task = in_task;
    in_task = 1;
    for (long i = 0; i < count; i++) task(context, i);
    in_task = was_in_task;
}

void synapse_parallel_for(long count, void *context, synapse_task task) {
    pthread_once(&configured, configure);
    if (count <= 0) return;
    int expected = 0;
    if (count == 1 || atomic_load(&thread_count) == 1 || in_task ||
        !atomic_compare_exchange_strong_explicit(&busy, &expected, 1, memory_order_acq_rel, memory_order_relaxed)) {
        run_serially(count, context, task);
        return;
    }
    // A changed setting takes effect here, where no loop runs.
    int wanted = atomic_load(&thread_count) - 1;
    if (worker_count != wanted) resize(wanted);
    if (worker_count == 0) {
        atomic_store_explicit(&busy, 0, memory_order_release);
        run_serially(count, context, task);
        return;
    }
    job_count = count;
    job_context = context;
    job_task = task;
    atomic_store_explicit(&next_index, 0, memory_order_relaxed);
    atomic_store_explicit(&inside, worker_count, memory_order_relaxed);
    pthread_mutex_lock(&lock);
    atomic_fetch_add_explicit(&generation, 1, memory_order_acq_rel);
    pthread_cond_broadcast(&wake);
    pthread_mutex_unlock(&lock);

    in_task = 1;
    run_tasks();
    in_task = 0;

    long deadline = nanoseconds() + SPIN_NANOSECONDS;
    int spins = 0;
    while (atomic_load_explicit(&inside, memory_order_acquire) > 0) {
        relax();
        if (++spins % 64 == 0 && nanoseconds() > deadline) {
            pthread_mutex_lock(&lock);
            while (atomic_load_explicit(&inside, memory_order_acquire) > 0) pthread_cond_wait(&left, &lock);
            pthread_mutex_unlock(&lock);
            break;
        }
    }
    atomic_store_explicit(&busy, 0, memory_order_release);
}

int synapse_threads(void) {
    pthread_once(&configured, configure);
    return atomic_load(&thread_count);
}

void synapse_set_threads(int threads) {
    pthread_once(&configured, configure);
    atomic_store(&thread_count, threads < 1 ? 1 : threads > 1024 ? 1024 : threads);
}

int synapse_parallel_busy(void) {
    return in_task || atomic_load_explicit(&busy, memory_order_relaxed);
}
