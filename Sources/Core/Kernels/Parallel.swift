import CBLAS

/// The threads Synapse's kernels run on: one setting for all of them, matrix products included
/// (OpenBLAS is always called single-threaded, from Synapse's pool).
///
/// The default is the `SYNAPSE_NUM_THREADS` environment variable, else `OPENBLAS_NUM_THREADS`,
/// else the CPUs this process may run on. Every parallel kernel cuts its work into pieces fixed
/// by the problem's sizes, never by the thread count, and combines partial results in a fixed
/// order, so **results are bit-identical at any setting** (PyTorch does not promise this).
///
/// One parallel kernel runs at a time: a kernel started while another runs — from a second
/// thread of the caller's, or inside a kernel — runs on its caller's thread alone, so calling
/// Synapse from several threads does not multiply the threads.
///
///     Threads.count = 1   // as torch.set_num_threads(1)
public enum Threads {
    /// The threads parallel kernels use, the calling thread included (at least 1).
    public static var count: Int {
        get { Int(synapse_threads()) }
        set { synapse_set_threads(Int32(clamping: newValue)) }
    }
}

extension Threads {
    /// `0..<total` in pieces of `grain` elements run on the pool (for Synapse's other modules:
    /// the optimizers' updates); the pieces depend on `total` and `grain` alone.
    package static func forEachPiece(of total: Int, grain: Int = 1 << 15, _ body: (Range<Int>) -> Void) {
        Kernels.parallelChunks(total, grain: grain, body)
    }
}

extension Kernels {
    /// Runs `body(i)` for every `i` in `0..<count` on the pool and returns when all have run.
    /// Each `i` runs exactly once, on some thread, in no particular order: bodies must write
    /// disjoint memory.
    static func parallelFor(_ count: Int, _ body: (Int) -> Void) {
        if count <= 1 {
            if count == 1 { body(0) }
            return
        }
        withoutActuallyEscaping(body) { escapable in
            var task = escapable
            withUnsafeMutablePointer(to: &task) { pointer in
                synapse_parallel_for(count, pointer) { context, index in
                    context!.assumingMemoryBound(to: ((Int) -> Void).self).pointee(index)
                }
            }
        }
    }

    /// `0..<total` cut into pieces of `grain` (the last one shorter), each given to `body` on
    /// the pool. The pieces depend on `total` and `grain` alone.
    static func parallelChunks(_ total: Int, grain: Int, _ body: (Range<Int>) -> Void) {
        let grain = Swift.max(grain, 1)
        let pieces = (total + grain - 1) / grain
        parallelFor(pieces) { piece in
            let start = piece * grain
            body(start..<Swift.min(start + grain, total))
        }
    }

    /// The elements one elementwise task covers: 32,768 floats (128 KiB, tens of microseconds
    /// of work), large enough that the pool's hand-off is noise.
    static let elementGrain = 1 << 15

    /// How many runs of `elementsEach` elements one task takes: about `elementGrain` elements.
    static func channelGrain(_ elementsEach: Int) -> Int { Swift.max(1, elementGrain / Swift.max(elementsEach, 1)) }
}
