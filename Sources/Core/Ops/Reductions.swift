// Sums, means, maxima and minima, over everything or along one dimension.

extension Tensor {
    // MARK: sum

    /// The sum of all scalars, a tensor of shape `[]`.
    public func sum() -> Tensor {
        rawReduce(dim: nil, keepDim: false, scale: 1).recorded(.sum(dim: nil, keepDim: false), [self])
    }

    /// The sum along `dim` (negative counts from the end), which is dropped from the shape unless `keepDim`.
    public func sum(dim: Int, keepDim: Bool = false) -> Tensor {
        let dim = checkedDim(dim, op: "sum")
        return rawReduce(dim: dim, keepDim: keepDim, scale: 1).recorded(.sum(dim: dim, keepDim: keepDim), [self])
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

    /// The mean along `dim` (negative counts from the end), which is dropped from the shape unless `keepDim`.
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

    /// `dim` checked against this tensor's rank, for ops that take a dimension; negative
    /// values count from the end (`-1` is the last), as in PyTorch.
    func checkedDim(_ dim: Int, op: String) -> Int {
        guard let resolved = resolvedDim(dim, rank: rank) else {
            misuse("\(op): dim \(dim) is out of range for shape \(describe(shape))")
        }
        return resolved
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

// MARK: max and min

extension Tensor {
    /// The largest scalar along `dim` (negative counts from the end), which is dropped from
    /// the shape unless `keepDim`. The gradient goes to the first position of the maximum.
    public func max(dim: Int, keepDim: Bool = false) -> Tensor {
        let dim = checkedDim(dim, op: "max")
        return rawExtremum(dim: dim, keepDim: keepDim, largest: true).recorded(.max(dim: dim, keepDim: keepDim), [self])
    }

    /// The smallest scalar along `dim`; see `max(dim:keepDim:)`.
    public func min(dim: Int, keepDim: Bool = false) -> Tensor {
        let dim = checkedDim(dim, op: "min")
        return rawExtremum(dim: dim, keepDim: keepDim, largest: false).recorded(.min(dim: dim, keepDim: keepDim), [self])
    }

    /// The extremum and, kept for the backward, the flat input position of each.
    private func rawExtremum(dim: Int, keepDim: Bool, largest: Bool) -> Tensor {
        require(shape[dim] > 0, "\(largest ? "max" : "min"): dim \(dim) of shape \(describe(shape)) is empty")
        var newShape = shape
        if keepDim { newShape[dim] = 1 } else { newShape.remove(at: dim) }
        let result = Tensor.uninitialized(newShape)
        let positions = Tensor.uninitialized(newShape)
        let (outer, n, inner) = Kernels.split(shape, around: dim)
        let x = storage.pointer
        let y = result.storage.pointer
        let at = positions.storage.pointer
        for o in 0..<outer {
            for i in 0..<inner {
                var best = o * n * inner + i
                for k in 1..<n {
                    let candidate = o * n * inner + k * inner + i
                    if largest ? x[candidate] > x[best] : x[candidate] < x[best] { best = candidate }
                }
                y[o * inner + i] = x[best]
                at[o * inner + i] = Float(best)
            }
        }
        result.savedForBackward = positions
        return result
    }

    /// Each gradient scalar goes to the input position its extremum came from.
    func extremumBackward(_ gradient: Tensor, dim: Int) -> Tensor {
        let result = Tensor.zeros(creators[0].shape)
        let positions = savedForBackward!.storage.pointer
        let g = gradient.storage.pointer
        let out = result.storage.pointer
        for i in 0..<count { out[Int(positions[i])] += g[i] }
        return result
    }
}

// MARK: Export and import

extension Tensor {
    /// `ReduceSum`/`ReduceMean`/`ReduceMax`/`ReduceMin` with the axes as an input (opset 18+).
    static func exportReduction(
        _ opType: String, _ dim: Int?, _ keepDim: Bool, _ site: ExportSite, _ context: inout ExportContext
    ) -> ExportNode {
        guard let dim else { return ExportNode(opType, [site.inputs[0]], [site.output], ["keepdims": .int(0)]) }
        return ExportNode(
            opType, [site.inputs[0], context.int64s([dim], hint: "axes")], [site.output], ["keepdims": .int(keepDim ? 1 : 0)])
    }
}
