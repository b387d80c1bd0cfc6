// Ops that pick or join parts of tensors: row gather (for Embedding), concat and slice.

extension Tensor {
    // MARK: gatherRows

    /// The rows of this matrix (a `[rows, columns]` table) named by `indices`, a tensor of
    /// whole numbers of any shape; the result has shape `indices.shape + [columns]`.
    /// Gradients flow to the table only (the original tutorial's `index_select`).
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

    /// The tensors joined along `dim` (negative counts from the end); their shapes must agree everywhere else.
    public static func concat(_ tensors: [Tensor], dim: Int) -> Tensor {
        require(!tensors.isEmpty, "concat: needs at least one tensor")
        let first = tensors[0].shape
        let dim = tensors[0].checkedDim(dim, op: "concat")
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
        let dim = checkedDim(dim, op: "slice")
        return rawSlice(dim: dim, range: range).recorded(.slice(dim: dim, range: range), [self])
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

// MARK: Export and import

extension Tensor {
    /// Indices travel as whole-number floats; ONNX's `Gather` wants integers: `Cast`, then
    /// `Gather` on axis 0.
    static func exportGatherRows(_ site: ExportSite, _ context: inout ExportContext) -> [ExportNode] {
        let indices = context.freshName("indices")
        return [
            ExportNode("Cast", [site.inputs[1]], [indices], ["to": .int(7)]),
            ExportNode("Gather", [site.inputs[0], indices], [site.output], ["axis": .int(0)]),
        ]
    }

    /// `Slice` of one dimension.
    static func exportSlice(dim: Int, range: Range<Int>, _ site: ExportSite, _ context: inout ExportContext) -> [ExportNode] {
        [ExportNode("Slice", [
            site.inputs[0], context.int64s([range.lowerBound], hint: "starts"),
            context.int64s([range.upperBound], hint: "ends"), context.int64s([dim], hint: "axes"),
        ], [site.output])]
    }

    static let indexingImporters: [ImporterDeclaration] = [
        ImporterDeclaration("Gather", reads: ["axis"]) { node in
            let data = try node.value(0)
            let shape = data.shape
            guard !shape.isEmpty else { throw node.fail("cannot gather from a scalar") }
            let axis = try node.axis(node.int("axis", default: 0), rank: shape.count)
            let size = shape[axis]
            let indexValue = try node.value(1)
            let indices = indexValue.asTensor.scalars
            guard indices.allSatisfy({ $0 == $0.rounded() && $0 >= -Float(size) && $0 < Float(size) }) else {
                throw node.fail("an index is not a whole number in -\(size)..<\(size)")
            }
            let positive = Tensor(indices.map { $0 < 0 ? $0 + Float(size) : $0 }, shape: indexValue.shape)
            return try node.numeric { inputs in
                // The gathered axis moved to the front, rows picked, the axes put back.
                let rank = shape.count
                var order = [axis] + (0..<rank).filter { $0 != axis }
                let front = axis == 0 ? inputs[0] : inputs[0].permuted(order)
                let rest = Array(order.dropFirst().map { shape[$0] })
                let rows = front.reshaped([size, rest.reduce(1, *)]).gatherRows(positive)
                let gathered = rows.reshaped(positive.shape + rest)
                guard axis > 0 else { return gathered }
                let q = positive.rank
                order = Array(q..<(q + axis)) + Array(0..<q) + Array((q + axis)..<(q + rank - 1))
                return gathered.permuted(order)
            }
        },
        ImporterDeclaration("Concat", reads: ["axis"]) { node in
            let values = try (0..<node.inputs.count).map { try node.value($0) }
            guard let first = values.first else { throw node.fail("has no inputs") }
            let rank = first.shape.count
            let dim = try node.axis(node.int("axis", default: 0), rank: rank)
            for value in values where value.shape.count != rank || (0..<rank).contains(where: { $0 != dim && value.shape[$0] != first.shape[$0] }) {
                throw node.fail("shapes \(values.map { describe($0.shape) }) differ outside axis \(dim)")
            }
            return try node.numeric { Tensor.concat($0, dim: dim) }
        },
        ImporterDeclaration("Slice") { node in
            let x = try node.value(0)
            guard let starts = try node.integers(1), let ends = try node.integers(2), starts.count == ends.count else {
                throw node.fail("starts and ends must be constants of equal length")
            }
            let axes = try node.integers(3) ?? Array(0..<starts.count)
            let steps = try node.integers(4) ?? Array(repeating: 1, count: starts.count)
            guard axes.count == starts.count, steps.count == starts.count, !steps.contains(0) else {
                throw node.fail("axes and steps must match starts, and no step may be 0")
            }
            // Per axis: the first index taken, the step and the count (ONNX's clamping rules).
            var first = [Int](repeating: 0, count: x.shape.count)
            var step = [Int](repeating: 1, count: x.shape.count)
            var shape = x.shape
            for (index, rawAxis) in axes.enumerated() {
                let dim = try node.axis(rawAxis, rank: x.shape.count)
                let size = x.shape[dim]
                let stride = steps[index]
                func resolved(_ value: Int) -> Int { value < 0 ? Swift.max(value, Int.min / 2) + size : Swift.min(value, Int.max / 2) }
                let (lower, upper) = stride > 0
                    ? (Swift.min(Swift.max(resolved(starts[index]), 0), size), Swift.min(Swift.max(resolved(ends[index]), 0), size))
                    : (Swift.min(Swift.max(resolved(starts[index]), -1), size - 1), Swift.min(Swift.max(resolved(ends[index]), -1), size - 1))
                let count = stride > 0 ? Swift.max(0, (upper - lower + stride - 1) / stride) : Swift.max(0, (lower - upper - stride - 1) / -stride)
                (first[dim], step[dim], shape[dim]) = (lower, stride, count)
            }
            if step.allSatisfy({ $0 == 1 }), case .tensor(let tensor) = x {
                return [.tensor((0..<shape.count).reduce(tensor) { shape[$1] == x.shape[$1] ? $0 : $0.slice(dim: $1, range: first[$1]..<(first[$1] + shape[$1])) })]
            }
            let strides = rowMajorStrides(x.shape)
            return [try node.remapped([x], into: shape) { index in
                var position = 0
                for axis in 0..<index.count { position += (first[axis] + index[axis] * step[axis]) * strides[axis] }
                return position
            }]
        },
    ]
}
