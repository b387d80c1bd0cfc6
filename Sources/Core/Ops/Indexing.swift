// Ops that pick or join parts of tensors: row gather (for Embedding), concat and slice.

extension Tensor {
    // MARK: gatherRows

    /// The rows of this matrix (a `[rows, columns]` table) named by `indices`, a tensor of
    /// whole numbers of any shape; the result has shape `indices.shape + [columns]`.
    /// Gradients flow to the table only (the seed's `index_select`).
    public func gatherRows(_ indices: Tensor) -> Tensor {
        require(rank == 2, "gatherRows: the table must be a matrix, got shape \(describe(shape))")
        let (rows, columns) = (shape[0], shape[1])
        let result = Tensor.uninitialized(indices.shape + [columns])
        let table = storage.pointer
        let out = result.storage.pointer
        let index = indices.storage.pointer
        for i in 0..<indices.count {
            let row = Tensor.rowIndex(index[i], rows: rows, tableShape: shape)
            (out + i * columns).update(from: table + row * columns, count: columns)
        }
        return result.recorded(.gatherRows, [self, indices])
    }

    /// Each gathered row's gradient added into the row it came from; other rows get zero.
    func gatherRowsBackward(_ gradient: Tensor) -> Tensor {
        let (table, indices) = (creators[0], creators[1])
        let columns = table.shape[1]
        let result = Tensor.zeros(table.shape)
        let out = result.storage.pointer
        let g = gradient.storage.pointer
        let index = indices.storage.pointer
        for i in 0..<indices.count {
            let row = out + Int(index[i]) * columns
            let source = g + i * columns
            for j in 0..<columns { row[j] += source[j] }
        }
        return result
    }

    static func rowIndex(_ value: Float, rows: Int, tableShape: [Int]) -> Int {
        require(
            value == value.rounded() && value >= 0 && value < Float(rows),
            "gatherRows: index \(value) is out of range for a table of shape \(describe(tableShape))")
        return Int(value)
    }

    // MARK: concat

    /// The tensors joined along `dim`; their shapes must agree everywhere else.
    public static func concat(_ tensors: [Tensor], dim: Int) -> Tensor {
        require(!tensors.isEmpty, "concat: needs at least one tensor")
        let first = tensors[0].shape
        require(dim >= 0 && dim < first.count, "concat: dim \(dim) is out of range for shape \(describe(first))")
        for tensor in tensors {
            var a = tensor.shape
            var b = first
            let sameRank = a.count == b.count
            if sameRank { a[dim] = 0; b[dim] = 0 }
            require(
                sameRank && a == b,
                "concat: shapes \(tensors.map { describe($0.shape) }.joined(separator: ", ")) "
                    + "differ outside dim \(dim)")
        }
        var shape = first
        shape[dim] = tensors.reduce(0) { $0 + $1.shape[dim] }
        let result = Tensor.uninitialized(shape)
        let (outer, _, inner) = Kernels.split(shape, around: dim)
        var out = result.storage.pointer
        for o in 0..<outer {
            for tensor in tensors {
                let block = tensor.shape[dim] * inner
                out.update(from: tensor.storage.pointer + o * block, count: block)
                out += block
            }
        }
        return result.recorded(.concat(dim: dim), tensors)
    }

    /// Each creator receives its own slice of the gradient.
    func concatBackward(_ gradient: Tensor, dim: Int) -> [Tensor?] {
        var start = 0
        return creators.map { creator in
            let range = start..<(start + creator.shape[dim])
            start = range.upperBound
            return creator.requiresGrad ? gradient.rawSlice(dim: dim, range: range) : nil
        }
    }

    // MARK: slice

    /// The part of this tensor whose index along `dim` lies in `range` (a copy).
    public func slice(dim: Int, range: Range<Int>) -> Tensor {
        rawSlice(dim: checkedDim(dim, op: "slice"), range: range).recorded(.slice(dim: dim, range: range), [self])
    }

    func rawSlice(dim: Int, range: Range<Int>) -> Tensor {
        require(
            range.lowerBound >= 0 && range.upperBound <= shape[dim],
            "slice: range \(range) is out of bounds for dim \(dim) of shape \(describe(shape))")
        var newShape = shape
        newShape[dim] = range.count
        let result = Tensor.uninitialized(newShape)
        let (outer, n, inner) = Kernels.split(shape, around: dim)
        let block = range.count * inner
        for o in 0..<outer {
            (result.storage.pointer + o * block)
                .update(from: storage.pointer + (o * n + range.lowerBound) * inner, count: block)
        }
        return result
    }

    /// The gradient placed back where the slice came from; zero elsewhere.
    func sliceBackward(_ gradient: Tensor, dim: Int, range: Range<Int>) -> Tensor {
        let inputShape = creators[0].shape
        let result = Tensor.zeros(inputShape)
        let (outer, n, inner) = Kernels.split(inputShape, around: dim)
        let block = range.count * inner
        for o in 0..<outer {
            (result.storage.pointer + (o * n + range.lowerBound) * inner)
                .update(from: gradient.storage.pointer + o * block, count: block)
        }
        return result
    }
}
