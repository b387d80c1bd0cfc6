// Synapse's thread pool: one for every kernel, OpenBLAS's products included.
//
// A parallel loop names a number of tasks fixed by the problem (never by the thread count):
// each task is run exactly once, by the caller or one of the workers, so a kernel whose tasks
// write disjoint outputs, and whose reductions are combined in task order afterwards, gives
// the same bits at any thread count. The pool runs one loop at a time: a loop started while
// another runs (from a second user thread, or from inside a task) runs all its tasks on the
// calling thread, so the process never has more busy threads than the setting.
#ifndef SYNAPSE_PARALLEL_H
#define SYNAPSE_PARALLEL_H

#ifdef __cplusplus
extern "C" {
#endif

/// One task of a parallel loop: `index` in 0..<count, `context` as given to synapse_parallel_for.
typedef void (*synapse_task)(void *context, long index);

/// Runs task(context, i) for every i in 0..<count and returns when all have finished.
void synapse_parallel_for(long count, void *context, synapse_task task);

/// The threads parallel loops use, the caller's included (at least 1). The first call reads
/// SYNAPSE_NUM_THREADS, then OPENBLAS_NUM_THREADS, then the CPUs this process may run on.
int synapse_threads(void);

/// Sets the thread count (values below 1 mean 1); the next loop starts or stops workers to match.
void synapse_set_threads(int threads);

/// Whether the caller is inside a task of a parallel loop (or the pool is busy with another
/// caller's loop), where a nested loop would run serially anyway.
int synapse_parallel_busy(void);

#ifdef __cplusplus
}
#endif

#endif
