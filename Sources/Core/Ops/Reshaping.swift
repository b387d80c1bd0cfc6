// Ops that rearrange or repeat scalars: reshape (with squeeze, unsqueeze, flatten) and the
// original tutorial's expand.

extension Tensor {
    // MARK: reshape

    /// The same scalars in `newShape` (which may hold one -1, inferred), sharing storage.
    public func reshaped(_ newShape: [Int]) -> Tensor {
        guard let resolved = resolvedReshape(newShape, count: count) else {
            misuse("reshape: cannot reshape \(describe(shape)) (\(count) scalars) into \(describe(newShape))")
        }
        return Tensor(storage: storage, shape: resolved).recorded(.reshape, [self])
    }

    /// This tensor without dimension `dim` (negative counts from the end), which must have
    /// size 1; without any dimension of size 1 when `dim` is `nil`.
    public func squeezed(dim: Int? = nil) -> Tensor {
        guard let dim else { return reshaped(shape.filter { $0 != 1 }) }
        let d = checkedDim(dim, op: "squeeze")
        require(shape[d] == 1, "squeeze: dim \(dim) of shape \(describe(shape)) has size \(shape[d]), not 1")
        var newShape = shape
        newShape.remove(at: d)
        return reshaped(newShape)
    }

    /// This tensor with a new dimension of size 1 at `dim` (in `-(rank + 1)...rank`; negative
    /// counts from the end of the result).
    public func unsqueezed(dim: Int) -> Tensor {
        guard let d = resolvedDim(dim, rank: rank + 1) else {
            misuse("unsqueeze: dim \(dim) is out of range for shape \(describe(shape))")
        }
        var newShape = shape
        newShape.insert(1, at: d)
        return reshaped(newShape)
    }

    /// Dimensions `startDim...endDim` merged into one (PyTorch's `flatten`).
    public func flattened(startDim: Int = 0, endDim: Int = -1) -> Tensor {
        guard rank > 0 else { return reshaped([1]) }
        let start = checkedDim(startDim, op: "flatten")
        let end = checkedDim(endDim, op: "flatten")
        require(start <= end, "flatten: startDim \(startDim) comes after endDim \(endDim) for shape \(describe(shape))")
        let merged = shape[start...end].reduce(1, *)
        return reshaped(Array(shape[..<start]) + [merged] + Array(shape[(end + 1)...]))
    }

    // Backward: the gradient read in the creator's shape (see `creatorGradients`).

    // MARK: expand

    /// `copies` copies of this tensor stacked along a new dimension inserted at `dim`
    /// (the original tutorial's `expand`): the result's shape is this shape with `copies`
    /// inserted. A negative `dim` counts from the end of the result.
    public func expand(dim: Int, copies: Int) -> Tensor {
        guard let dim = resolvedDim(dim, rank: rank + 1), copies >= 0 else {
            misuse("expand: dim \(dim) with \(copies) copies is invalid for shape \(describe(shape))")
        }
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

// MARK: Export and import

extension Tensor {
    /// `Reshape`; a kept leading (batch) dimension is written as 0, "copy it", so the graph
    /// runs for any batch size.
    static func exportReshape(_ site: ExportSite, _ context: inout ExportContext) -> [ExportNode] {
        var target = site.outputShape
        if let first = site.shapes[0].first, target.first == first { target[0] = 0 }
        return [ExportNode("Reshape", [site.inputs[0], context.int64s(target, hint: "shape")], [site.output])]
    }

    /// `Unsqueeze` then `Tile`.
    static func exportExpand(dim: Int, copies: Int, _ site: ExportSite, _ context: inout ExportContext) -> [ExportNode] {
        let unsqueezed = context.freshName("unsqueezed")
        var repeats = [Int](repeating: 1, count: site.shapes[0].count + 1)
        repeats[dim] = copies
        return [
            ExportNode("Unsqueeze", [site.inputs[0], context.int64s([dim], hint: "axes")], [unsqueezed]),
            ExportNode("Tile", [unsqueezed, context.int64s(repeats, hint: "repeats")], [site.output]),
        ]
    }

    static let reshapingImporters: [ImporterDeclaration] = [
        ImporterDeclaration("Reshape", reads: ["allowzero"]) { node in
            let x = try node.value(0)
            let requested = try node.integers(1) ?? []
            let allowZero = node.int("allowzero", default: 0) != 0
            let count = x.shape.reduce(1, *)
            guard let shape = resolvedReshape(requested, count: count, copyingZerosFrom: allowZero ? nil : x.shape) else {
                throw node.fail("cannot reshape \(describe(x.shape)) into \(describe(requested))")
            }
            return try node.reshapedInput(shape)
        },
        ImporterDeclaration("Flatten", reads: ["axis"]) { node in
            let x = try node.value(0)
            let split = node.int("axis", default: 1)
            let rank = x.shape.count
            let at = split < 0 ? split + rank : split
            guard at >= 0 && at <= rank else { throw node.fail("axis \(split) is out of range for rank \(rank)") }
            let shape = [x.shape[..<at].reduce(1, *), x.shape[at...].reduce(1, *)]
            return try node.reshapedInput(shape)
        },
        ImporterDeclaration("Squeeze") { node in
            let x = try node.value(0)
            let rank = x.shape.count
            let axes = try node.integers(1) ?? node.ints("axes")
            var shape: [Int]
            if let axes {
                let dims = try Set(axes.map { try node.axis($0, rank: rank) })
                guard dims.allSatisfy({ x.shape[$0] == 1 }) else { throw node.fail("axes \(axes) of shape \(describe(x.shape)) are not all of size 1") }
                shape = x.shape.enumerated().filter { !dims.contains($0.offset) }.map(\.element)
            } else {
                shape = x.shape.filter { $0 != 1 }
            }
            return try node.reshapedInput(shape)
        },
        ImporterDeclaration("Unsqueeze") { node in
            let x = try node.value(0)
            guard let axes = try node.integers(1) ?? node.ints("axes") else { throw node.fail("has no axes") }
            let rank = x.shape.count + axes.count
            var shape = x.shape
            let dims = try axes.map { try node.axis($0, rank: rank) }
            guard Set(dims).count == dims.count else { throw node.fail("axes \(axes) repeat a dimension") }
            for a in dims.sorted() { shape.insert(1, at: a) }
            return try node.reshapedInput(shape)
        },
        ImporterDeclaration("Expand") { node in
            let x = try node.value(0)
            guard let target = try node.integers(1), target.allSatisfy({ $0 >= 0 }),
                  let shape = broadcastShapeIfPossible(x.shape, target) else {
                throw node.fail("cannot expand \(describe(x.shape)) to the requested shape")
            }
            guard let count = elementCount(shape), count <= OpImport.largestMadeValue else {
                throw node.fail("expanding to \(describe(shape)) is too large")
            }
            if shape == x.shape { return [x] }
            return try node.numeric { $0[0] + Tensor.zeros(shape) }
        },
        ImporterDeclaration("Tile") { node in
            let x = try node.value(0)
            guard let repeats = try node.integers(1), repeats.count == x.shape.count, repeats.allSatisfy({ $0 >= 1 }),
                  let count = elementCount(x.shape + repeats), count <= OpImport.largestMadeValue else {
                throw node.fail("repeats must be a constant of one positive count per dimension")
            }
            return try node.numeric { inputs in
                var result = inputs[0]
                for (dim, count) in repeats.enumerated() where count > 1 {
                    result = Tensor.concat(Array(repeating: result, count: count), dim: dim)
                }
                return result
            }
        },
    ]
}
