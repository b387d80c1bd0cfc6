// Synapse's thread pool (see include/synapse_parallel.h for what it promises).
//
// One loop at a time: the caller that takes `busy` publishes the loop and wakes the workers;
// every thread then claims task indices until none is left, and the caller returns once every
// task has finished -- not once every worker has seen the loop, so a worker the kernel has
// descheduled (another process on its core) stalls a loop only if it holds a task. A claim is a
// compare-and-swap on one word holding the loop's generation and its next index, so a worker
// that wakes late for a finished loop finds a newer generation and claims nothing. Workers spin
// briefly after a loop (a training step runs loops back to back, a few microseconds apart) and
// then sleep on a condition variable, so an idle process does not burn the cores.
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
static atomic_int stopping;

// The current loop's generation (high 32 bits: one more for every loop, and for a stop) and the
// next task index to claim (low 32 bits), which reads CLOSED while the caller publishes a loop.
// A claim that succeeds proves the job it read belongs to its generation: the job changes only
// while the word is closed for a newer one, and the word never returns to an older value.
#define CLOSED 0xFFFFFFFFUL
static _Atomic unsigned long claim_word;
static atomic_long job_count;
static _Atomic(void *) job_context;
static _Atomic(synapse_task) job_task;
static atomic_long finished;       // tasks of the current loop that have returned

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

static unsigned long current_generation(void) {
    return atomic_load_explicit(&claim_word, memory_order_acquire) >> 32;
}

// Claims and runs tasks of loop `generation` until none is left or a newer loop has begun.
static void run_tasks(unsigned long generation) {
    unsigned long word = atomic_load_explicit(&claim_word, memory_order_acquire);
    for (;;) {
        if (word >> 32 != generation) return;
        unsigned long index = word & CLOSED;
        if (index == CLOSED) {     // the caller is still publishing this loop
            relax();
            word = atomic_load_explicit(&claim_word, memory_order_acquire);
            continue;
        }
        long count = atomic_load_explicit(&job_count, memory_order_relaxed);
        if ((long)index >= count) return;
        void *context = atomic_load_explicit(&job_context, memory_order_relaxed);
        synapse_task task = atomic_load_explicit(&job_task, memory_order_relaxed);
        if (!atomic_compare_exchange_weak_explicit(&claim_word, &word, word + 1, memory_order_acq_rel,
                                                   memory_order_acquire))
            continue;
        task(context, (long)index);
        if (atomic_fetch_add_explicit(&finished, 1, memory_order_acq_rel) == count - 1) {
            pthread_mutex_lock(&lock);
            pthread_cond_signal(&left);
            pthread_mutex_unlock(&lock);
        }
        word = atomic_load_explicit(&claim_word, memory_order_acquire);
    }
}

static void *worker_main(void *start) {
    unsigned long seen = (unsigned long)start;
    in_task = 1;
    for (;;) {
        unsigned long now = current_generation();
        if (now == seen) {
            long deadline = nanoseconds() + SPIN_NANOSECONDS;
            int spins = 0;
            while ((now = current_generation()) == seen) {
                relax();
                if (++spins % 64 == 0 && nanoseconds() > deadline) break;
            }
            if (now == seen) {
                pthread_mutex_lock(&lock);
                while ((now = current_generation()) == seen) pthread_cond_wait(&wake, &lock);
                pthread_mutex_unlock(&lock);
            }
        }
        seen = now;
        if (atomic_load_explicit(&stopping, memory_order_acquire)) return NULL;
        run_tasks(seen);
    }
}

// Closes the word for a new generation (nothing of the old loop can be claimed after this) and
// returns that generation; the caller holds `busy`.
static unsigned long close_for_next_generation(void) {
    unsigned long generation = (current_generation() + 1) & CLOSED;
    atomic_store_explicit(&claim_word, generation << 32 | CLOSED, memory_order_seq_cst);
    atomic_thread_fence(memory_order_seq_cst);
    return generation;
}

static void wake_workers(void) {
    pthread_mutex_lock(&lock);
    pthread_cond_broadcast(&wake);
    pthread_mutex_unlock(&lock);
}

// The workers, started (or stopped) to match the setting; the caller holds `busy`.
static void resize(int wanted) {
    if (wanted == worker_count) return;
    if (worker_count > 0) {
        atomic_store_explicit(&stopping, 1, memory_order_release);
        close_for_next_generation();
        wake_workers();
        for (int i = 0; i < worker_count; i++) pthread_join(workers[i], NULL);
        free(workers);
        workers = NULL;
        worker_count = 0;
        atomic_store_explicit(&stopping, 0, memory_order_release);
    }
    if (wanted <= 0) return;
    workers = calloc((size_t)wanted, sizeof *workers);
    if (!workers) return;
    unsigned long start = current_generation();
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
    if (count == 1 || count >= (long)CLOSED || atomic_load(&thread_count) == 1 || in_task ||
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
    unsigned long generation = close_for_next_generation();
    atomic_store_explicit(&job_count, count, memory_order_relaxed);
    atomic_store_explicit(&job_context, context, memory_order_relaxed);
    atomic_store_explicit(&job_task, task, memory_order_relaxed);
    atomic_store_explicit(&finished, 0, memory_order_relaxed);
    atomic_store_explicit(&claim_word, generation << 32, memory_order_release);
    wake_workers();

    in_task = 1;
    run_tasks(generation);
    in_task = 0;

    // Only tasks still running keep the caller here: a worker that has not woken yet will
    // find a newer generation and claim nothing.
    long deadline = nanoseconds() + SPIN_NANOSECONDS;
    int spins = 0;
    while (atomic_load_explicit(&finished, memory_order_acquire) < count) {
        relax();
        if (++spins % 64 == 0 && nanoseconds() > deadline) {
            pthread_mutex_lock(&lock);
            while (atomic_load_explicit(&finished, memory_order_acquire) < count) pthread_cond_wait(&left, &lock);
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
