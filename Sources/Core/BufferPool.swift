/// Recycles large scalar buffers per thread: Synapse's caching allocator.
///
/// glibc serves allocations of 128 KiB and more with a fresh `mmap` and returns them with
/// `munmap`, so every large temporary (an LSTM step's [32, 512] gates and its [512, 128]
/// weight gradient, a convolution's patches) costs page faults and zeroing by the kernel
/// (15 % of a ResNet-18 training step when the pool kept only 64 MiB). Freed buffers of
/// 64 KiB and up go to a per-thread free list keyed by exact size — a training or inference
/// loop asks for the same sizes every step, so after the first step it maps no new pages.
///
/// Limit and release policy: one thread keeps at most `limit` bytes of free buffers
/// (1 GiB, or an eighth of the machine's memory when that is less); a buffer freed beyond it
/// goes back to the system, and a thread's buffers are released when it exits. Small
/// buffers go straight to malloc, whose own bins are fast.
final class BufferPool {
    /// Buffers below this many scalars are not pooled.
    static let minimumCount = 16_384
    /// The most bytes one thread keeps.
    static let limit: Int = {
        let physical = sysconf(Int32(_SC_PHYS_PAGES)) * sysconf(Int32(_SC_PAGESIZE))
        return physical > 0 ? Swift.min(1 << 30, physical / 8) : 1 << 30
    }()

    private var free: [Int: [UnsafeMutablePointer<Float>]] = [:]
    private var bytes = 0

    private static let key: pthread_key_t = {
        var key = pthread_key_t()
        pthread_key_create(&key) { pool in
            guard let pool else { return }
            Unmanaged<BufferPool>.fromOpaque(pool).release()
        }
        return key
    }()

    /// This thread's pool.
    static var current: BufferPool {
        if let existing = pthread_getspecific(key) {
            return Unmanaged<BufferPool>.fromOpaque(existing).takeUnretainedValue()
        }
        let pool = BufferPool()
        pthread_setspecific(key, Unmanaged.passRetained(pool).toOpaque())
        return pool
    }

    /// A buffer of `count` scalars, uninitialised.
    static func allocate(_ count: Int) -> UnsafeMutablePointer<Float> {
        guard count >= minimumCount else { return .allocate(capacity: Swift.max(count, 1)) }
        return current.take(count) ?? .allocate(capacity: count)
    }

    /// Returns a buffer from `allocate(count)`.
    static func release(_ pointer: UnsafeMutablePointer<Float>, count: Int) {
        guard count >= minimumCount else { return pointer.deallocate() }
        current.keep(pointer, count)
    }

    private func take(_ count: Int) -> UnsafeMutablePointer<Float>? {
        guard let pointer = free[count]?.popLast() else { return nil }
        bytes -= count * MemoryLayout<Float>.stride
        return pointer
    }

    private func keep(_ pointer: UnsafeMutablePointer<Float>, _ count: Int) {
        let size = count * MemoryLayout<Float>.stride
        guard bytes + size <= Self.limit else { return pointer.deallocate() }
        free[count, default: []].append(pointer)
        bytes += size
    }

    deinit {
        for pointers in free.values { for pointer in pointers { pointer.deallocate() } }
    }
}
