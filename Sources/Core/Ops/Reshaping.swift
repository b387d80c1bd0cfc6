// Ops that rearrange or repeat scalars: reshape and the seed's expand.

extension Tensor {
    // MARK: reshape

    /// The same scalars in `newShape` (which may hold one -1, inferred), sharing storage.
    public func reshaped(_ newShape: [Int]) -> Tensor {
        var resolved = newShape
        let inferred = newShape.indices.filter { newShape[$0] == -1 }
        require(
            inferred.count <= 1 && newShape.allSatisfy { $0 >= -1 },
            "reshape: invalid shape \(describe(newShape))")
        if let position = inferred.first {
            let known = newShape.filter { $0 != -1 }.reduce(1, *)
            require(
                known > 0 && count % known == 0,
                "reshape: cannot reshape \(describe(shape)) into \(describe(newShape))")
            resolved[position] = count / known
        }
        require(
            resolved.reduce(1, *) == count,
            "reshape: cannot reshape \(describe(shape)) (\(count) scalars) into \(describe(newShape))")
        return Tensor(storage: storage, shape: resolved).recorded(.reshape, [self])
    }

    // Backward: the gradient read in the creator's shape (see `creatorGradients`).

    // MARK: expand

    /// `copies` copies of this tensor stacked along a new dimension inserted at `dim`
    /// (the seed's `expand`): the result's shape is this shape with `copies` inserted.
    public func expand(dim: Int, copies: Int) -> Tensor {
        require(
            dim >= 0 && dim <= rank && copies >= 0,
            "expand: dim \(dim) with \(copies) copies is invalid for shape \(describe(shape))")
        var newShape = shape
        newShape.insert(copies, at: dim)
        let result = Tensor.uninitialized(newShape)
        let outer = shape[..<dim].reduce(1, *)
        let inner = shape[dim...].reduce(1, *)
        Kernels.spread(
            storage.pointer, into: result.storage.pointer, outer: outer, n: copies, inner: inner, scale: 1)
        return result.recorded(.expand(dim: dim, copies: copies), [self])
    }

    /// The copies' gradients summed back into one.
    func expandBackward(_ gradient: Tensor, dim: Int) -> Tensor {
        let (outer, copies, inner) = Kernels.split(gradient.shape, around: dim)
        let result = Tensor.uninitialized(creators[0].shape)
        Kernels.reduceMiddle(
            gradient.storage.pointer, into: result.storage.pointer,
            outer: outer, n: copies, inner: inner, scale: 1)
        return result
    }
}
