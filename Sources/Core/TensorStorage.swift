/// One contiguous, row-major buffer of Float32 scalars, owned by one or more tensors.
///
/// Tensors that are views of the same numbers (`reshaped`, `detached`) share a storage, so
/// those operations copy nothing.
@usableFromInline
final class TensorStorage {
    @usableFromInline let pointer: UnsafeMutablePointer<Float>
    @usableFromInline let count: Int
    /// Bumped by every write through the public mutation API, so that caches derived from
    /// these scalars (an LSTM's packed weights) know when to rebuild.
    @usableFromInline var version = 0
    /// Forms of these scalars that kernels prepared for inference (`PreparedWeights`), made
    /// when first asked for; `nil` for nearly every storage.
    var preparedForms: PreparedForms?

    /// Allocates `count` scalars, uninitialised.
    @usableFromInline
    init(uninitializedCount count: Int) {
        self.count = count
        pointer = BufferPool.allocate(count)
    }

    /// Allocates `count` scalars, each set to `value`.
    convenience init(count: Int, repeating value: Float) {
        self.init(uninitializedCount: count)
        pointer.initialize(repeating: value, count: count)
    }

    /// Allocates a copy of `source`'s scalars.
    convenience init(copying source: UnsafePointer<Float>, count: Int) {
        self.init(uninitializedCount: count)
        pointer.initialize(from: source, count: count)
    }

    deinit {
        BufferPool.release(pointer, count: count)
    }
}
