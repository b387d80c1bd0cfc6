// Sums and means, over everything or along one dimension.

extension Tensor {
    // MARK: sum

    /// The sum of all scalars, a tensor of shape `[]`.
    public func sum() -> Tensor {
        rawReduce(dim: nil, keepDim: false, scale: 1).recorded(.sum(dim: nil, keepDim: false), [self])
    }

    /// The sum along `dim`, which is dropped from the shape unless `keepDim`.
    public func sum(dim: Int, keepDim: Bool = false) -> Tensor {
        rawReduce(dim: checkedDim(dim, op: "sum"), keepDim: keepDim, scale: 1)
            .recorded(.sum(dim: dim, keepDim: keepDim), [self])
    }

    /// Every input scalar receives the gradient of the sum it went into, times `scale`.
    func sumBackward(_ gradient: Tensor, dim: Int?, scale: Float) -> Tensor {
        let input = creators[0]
        let result = Tensor.uninitialized(input.shape)
        if let dim {
            let (outer, n, inner) = Kernels.split(input.shape, around: dim)
            Kernels.spread(
                gradient.storage.pointer, into: result.storage.pointer,
                outer: outer, n: n, inner: inner, scale: scale)
        } else {
            result.storage.pointer.update(repeating: scale * gradient.storage.pointer[0], count: result.count)
        }
        return result
    }

    // MARK: mean

    /// The mean of all scalars, a tensor of shape `[]`.
    public func mean() -> Tensor {
        rawReduce(dim: nil, keepDim: false, scale: 1 / Float(count))
            .recorded(.mean(dim: nil, keepDim: false), [self])
    }

    /// The mean along `dim`, which is dropped from the shape unless `keepDim`.
    public func mean(dim: Int, keepDim: Bool = false) -> Tensor {
        let dim = checkedDim(dim, op: "mean")
        return rawReduce(dim: dim, keepDim: keepDim, scale: 1 / Float(shape[dim]))
            .recorded(.mean(dim: dim, keepDim: keepDim), [self])
    }

    func meanBackward(_ gradient: Tensor, dim: Int?) -> Tensor {
        let n = dim.map { creators[0].shape[$0] } ?? creators[0].count
        return sumBackward(gradient, dim: dim, scale: 1 / Float(n))
    }

    // MARK: shared

    /// `dim` checked against this tensor's rank, for ops that take a dimension.
    func checkedDim(_ dim: Int, op: String) -> Int {
        require(dim >= 0 && dim < rank, "\(op): dim \(dim) is out of range for shape \(describe(shape))")
        return dim
    }

    /// `scale · Σ` over everything or along `dim`, recording no graph.
    func rawReduce(dim: Int?, keepDim: Bool, scale: Float) -> Tensor {
        guard let dim else {
            let x = storage.pointer
            var total: Float = 0
            for i in 0..<count { total += x[i] }
            return Tensor(storage: TensorStorage(count: 1, repeating: scale * total), shape: [])
        }
        var newShape = shape
        if keepDim { newShape[dim] = 1 } else { newShape.remove(at: dim) }
        let result = Tensor.uninitialized(newShape)
        let (outer, n, inner) = Kernels.split(shape, around: dim)
        Kernels.reduceMiddle(
            storage.pointer, into: result.storage.pointer, outer: outer, n: n, inner: inner, scale: scale)
        return result
    }
}
