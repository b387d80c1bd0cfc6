/// An n-dimensional array of Float32 scalars that remembers how it was made.
///
/// A tensor holds its scalars in one contiguous row-major buffer and its `shape`. When a
/// tensor that `requiresGrad` takes part in an op while gradients are being recorded, the
/// result keeps its `creators` (the inputs) and its `creationOp`; `backward()` walks those
/// links in reverse and leaves d(result)/d(leaf) in each leaf's `grad`.
///
/// `Tensor` is a class because identity matters: a model's parameter is *that* tensor, which
/// an optimizer updates in place and a checkpoint stores by name.
///
/// Integer data (class labels, token ids) are tensors of whole-number Float32 values,
/// which represent every integer up to 2²⁴ exactly.
public final class Tensor {
    /// The size of each dimension, outermost first; `[]` for a scalar.
    public let shape: [Int]
    /// The number of scalars: the product of `shape`.
    public let count: Int
    @usableFromInline var storage: TensorStorage

    /// Whether gradients flow to this tensor (the original tutorial's `autograd` flag).
    public var requiresGrad: Bool
    /// The accumulated gradient of a leaf after `backward()`; `nil` until then and after an
    /// optimizer's `zeroGrad()`. Intermediate results do not keep theirs.
    public var grad: Tensor?
    /// The tensors this one was computed from; empty for a leaf and after `backward()` freed
    /// the graph.
    public internal(set) var creators: [Tensor]
    /// The op that computed this tensor from `creators`; `nil` for a leaf.
    public internal(set) var creationOp: Op?
    /// Set once `backward()` has used and released this tensor's graph.
    package internal(set) var isGraphFreed = false
    /// Intermediate values a fused op keeps for its backward (PyTorch's `save_for_backward`);
    /// released with the graph.
    var savedForBackward: Tensor?
    /// The user's function that made a `.custom` result (see `DifferentiableFunction`);
    /// released with the graph.
    var customFunction: CustomFunctionRecord?

    /// Wraps `storage` (which must hold exactly the shape's count) as a leaf.
    @usableFromInline
    init(storage: TensorStorage, shape: [Int], requiresGrad: Bool = false) {
        self.shape = shape
        self.count = shape.reduce(1, *)
        self.storage = storage
        self.requiresGrad = requiresGrad
        self.creators = []
        self.creationOp = nil
    }

    /// A tensor of `shape` whose scalars, in row-major order, are `scalars`.
    public convenience init(_ scalars: [Float], shape: [Int], requiresGrad: Bool = false) {
        require(shape.allSatisfy { $0 >= 0 }, "Tensor: shape \(describe(shape)) has a negative size")
        require(
            scalars.count == shape.reduce(1, *),
            "Tensor: \(scalars.count) scalars do not fill shape \(describe(shape))")
        let storage = scalars.withUnsafeBufferPointer {
            TensorStorage(copying: $0.baseAddress!, count: $0.count)
        }
        self.init(storage: storage, shape: shape, requiresGrad: requiresGrad)
    }

    /// A one-dimensional tensor of shape `[scalars.count]`.
    public convenience init(_ scalars: [Float], requiresGrad: Bool = false) {
        self.init(scalars, shape: [scalars.count], requiresGrad: requiresGrad)
    }

    /// A two-dimensional tensor whose rows are `rows` (all of one length).
    public convenience init(_ rows: [[Float]], requiresGrad: Bool = false) {
        let columns = rows.first?.count ?? 0
        require(
            rows.allSatisfy { $0.count == columns },
            "Tensor: rows of different lengths \(rows.map(\.count))")
        self.init(rows.flatMap { $0 }, shape: [rows.count, columns], requiresGrad: requiresGrad)
    }

    /// A tensor of shape `[]` holding `scalar`.
    public convenience init(scalar: Float, requiresGrad: Bool = false) {
        self.init([scalar], shape: [], requiresGrad: requiresGrad)
    }

    /// A tensor of `shape` with every scalar equal to `value`.
    public convenience init(shape: [Int], repeating value: Float, requiresGrad: Bool = false) {
        require(shape.allSatisfy { $0 >= 0 }, "Tensor: shape \(describe(shape)) has a negative size")
        let count = shape.reduce(1, *)
        self.init(
            storage: TensorStorage(count: count, repeating: value), shape: shape,
            requiresGrad: requiresGrad)
    }

    /// A tensor of `shape` filled with zeros.
    public static func zeros(_ shape: [Int], requiresGrad: Bool = false) -> Tensor {
        Tensor(shape: shape, repeating: 0, requiresGrad: requiresGrad)
    }

    /// A tensor of `shape` filled with ones.
    public static func ones(_ shape: [Int], requiresGrad: Bool = false) -> Tensor {
        Tensor(shape: shape, repeating: 1, requiresGrad: requiresGrad)
    }

    /// An uninitialised result of `shape`, for ops (and file readers) to fill.
    @usableFromInline
    package static func uninitialized(_ shape: [Int]) -> Tensor {
        Tensor(storage: TensorStorage(uninitializedCount: shape.reduce(1, *)), shape: shape)
    }

    /// Releases a long graph iteratively: the default deinit would release creators
    /// recursively and overflow the stack on a long unrolled graph that was never
    /// backpropagated.
    deinit {
        guard !creators.isEmpty else { return }
        var pending = creators
        creators = []
        while var tensor = pending.popLast() {
            if isKnownUniquelyReferenced(&tensor) {
                pending.append(contentsOf: tensor.creators)
                tensor.creators = []
            }
        }
    }

    // MARK: Reading and writing scalars

    /// The number of dimensions.
    public var rank: Int { shape.count }

    /// A copy of the scalars in row-major order.
    public var scalars: [Float] {
        Array(UnsafeBufferPointer(start: storage.pointer, count: count))
    }

    /// The only scalar of a one-element tensor (PyTorch's `item()`).
    public var scalar: Float {
        require(count == 1, "scalar: tensor of shape \(describe(shape)) has \(count) scalars, not 1")
        return storage.pointer[0]
    }

    /// The scalar at a full multi-dimensional index.
    public subscript(index: Int...) -> Float {
        storage.pointer[flatIndex(index)]
    }

    func flatIndex(_ index: [Int]) -> Int {
        require(
            index.count == rank,
            "subscript: index \(index) has \(index.count) components for a tensor of rank \(rank)")
        var flat = 0
        for (dimension, i) in index.enumerated() {
            require(
                i >= 0 && i < shape[dimension],
                "subscript: index \(index) is out of range for shape \(describe(shape))")
            flat = flat * shape[dimension] + i
        }
        return flat
    }

    /// Whether every element is finite (no NaN, no infinity).
    public var isFinite: Bool {
        withUnsafeBufferPointer { values in
            // x - x is 0 for finite x and NaN otherwise; summing keeps the loop branch-free.
            var sum: Float = 0
            for value in values { sum += value - value }
            return sum == 0
        }
    }

    /// Calls `body` with the scalars, read-only, in row-major order.
    @inlinable
    public func withUnsafeBufferPointer<R>(_ body: (UnsafeBufferPointer<Float>) throws -> R) rethrows -> R {
        try body(UnsafeBufferPointer(start: storage.pointer, count: count))
    }

    /// Calls `body` with the scalars to change them in place (optimizer updates, loading
    /// weights). Tensors that share this storage (views made by `reshaped`, `detached`) see
    /// the change; graphs already recorded do not notice it.
    @inlinable
    public func withUnsafeMutableBufferPointer<R>(
        _ body: (UnsafeMutableBufferPointer<Float>) throws -> R
    ) rethrows -> R {
        storage.version &+= 1
        return try body(UnsafeMutableBufferPointer(start: storage.pointer, count: count))
    }

    /// Changes whenever the scalars are written through `withUnsafeMutableBufferPointer` or
    /// `replaceScalars` (by this tensor or a view sharing its storage).
    package var storageVersion: Int { storage.version }

    /// Overwrites every scalar, in row-major order, keeping this tensor's identity.
    public func replaceScalars(with scalars: [Float]) {
        require(
            scalars.count == count,
            "replaceScalars: \(scalars.count) scalars for a tensor of shape \(describe(shape))")
        storage.version &+= 1
        scalars.withUnsafeBufferPointer {
            storage.pointer.update(from: $0.baseAddress!, count: count)
        }
    }

    /// A new leaf that shares these scalars but no graph: gradients stop here (as in
    /// truncated backpropagation through time).
    public func detached() -> Tensor {
        Tensor(storage: storage, shape: shape)
    }

    /// A leaf copy of the scalars, in storage of its own.
    public func copy() -> Tensor {
        Tensor(storage: TensorStorage(copying: storage.pointer, count: count), shape: shape)
    }
}

extension Tensor: CustomStringConvertible {
    /// `Tensor([2, 2], [1.0, 2.0, 3.0, 4.0])`, with at most 16 scalars shown.
    public var description: String {
        let shown = scalars.prefix(16).map { "\($0)" }.joined(separator: ", ")
        return "Tensor(\(describe(shape)), [\(shown)\(count > 16 ? ", …" : "")])"
    }
}
