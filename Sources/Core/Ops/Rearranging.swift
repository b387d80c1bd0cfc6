// ONNX operators that move elements without computing new ones: Split, Pad, CenterCropPad,
// Trilu, ReverseSequence, EyeLike, DepthToSpace and SpaceToDepth. Slices and reshapes where
// they suffice (their export and backward come with them); an `ElementMap` otherwise, so
// every one of them trains and keeps whole numbers exact.

extension ImportNode {
    /// `value` sliced along `dim` (whole numbers exactly).
    func sliced(_ value: GraphValue, dim: Int, range: Range<Int>) -> GraphValue {
        switch value {
        case .tensor(let tensor): return .tensor(tensor.slice(dim: dim, range: range))
        case .integers:
            var shape = value.shape
            let strides = rowMajorStrides(shape)
            shape[dim] = range.count
            var sources: [Int] = []
            forEachIndex(shape) { index in
                var source = 0
                for axis in 0..<index.count { source += (axis == dim ? index[axis] + range.lowerBound : index[axis]) * strides[axis] }
                sources.append(source)
            }
            return picked(from: [value], sources: sources, shape: shape)
        }
    }

    /// The elements of `value` picked into `shape` by `source`, which maps an output
    /// multi-index to an input multi-index (`nil`: `fill`).
    func remapped(_ values: [GraphValue], into shape: [Int], fill: Double = 0, _ source: ([Int]) throws -> Int?) throws -> GraphValue {
        guard let count = elementCount(shape), count <= OpImport.largestMadeValue else {
            throw fail("a result of shape \(describe(shape)) is too large")
        }
        var sources: [Int] = []
        sources.reserveCapacity(count)
        try forEachIndex(shape) { sources.append(try source($0) ?? -1) }
        return picked(from: values, sources: sources, shape: shape, fill: fill)
    }
}

/// The flat position of `index` under `strides`.
@inline(__always) func flatPosition(_ index: [Int], _ strides: [Int]) -> Int {
    var position = 0
    for axis in 0..<index.count { position += index[axis] * strides[axis] }
    return position
}

extension Tensor {
    static let rearrangingImporters: [ImporterDeclaration] = [
        // Split: sizes from the `split` input (opset 13), the attribute (before 13), or
        // `num_outputs` equal parts, the last one smaller (opset 18).
        ImporterDeclaration("Split", opsets: 11...Int.max, reads: ["axis", "split", "num_outputs"]) { node in
            let x = try node.value(0)
            let dim = try node.axis(node.int("axis", default: 0), rank: x.shape.count)
            let size = x.shape[dim]
            var sizes = try node.integers(1) ?? node.ints("split")
            if sizes == nil {
                let parts = node.int("num_outputs", default: node.outputCount)
                guard parts > 0 else { throw node.fail("num_outputs must be positive") }
                let each = (size + parts - 1) / parts
                sizes = (0..<parts).map { Swift.max(0, Swift.min(each, size - $0 * each)) }
            }
            guard let sizes, sizes.count == node.outputCount, sizes.allSatisfy({ $0 >= 0 }), sizes.reduce(0, +) == size else {
                throw node.fail("split sizes must be \(node.outputCount) non-negative counts adding up to \(size)")
            }
            var start = 0
            return sizes.map { count in
                defer { start += count }
                return node.sliced(x, dim: dim, range: start..<(start + count))
            }
        },
        ImporterDeclaration("Pad", opsets: 11...Int.max, reads: ["mode"]) { node in
            let x = try node.value(0)
            let rank = x.shape.count
            let mode = node.string("mode", default: "constant")
            guard ["constant", "reflect", "edge", "wrap"].contains(mode) else { throw node.fail("mode \"\(mode)\" (constant, reflect, edge or wrap)") }
            let axes = try (node.integers(3) ?? Array(0..<rank)).map { try node.axis($0, rank: rank) }
            guard let pads = try node.integers(1), pads.count == 2 * axes.count, Set(axes).count == axes.count else {
                throw node.fail("pads must give a start and an end for each of \(axes.count) axes")
            }
            var (begin, end) = ([Int](repeating: 0, count: rank), [Int](repeating: 0, count: rank))
            for (i, axis) in axes.enumerated() { (begin[axis], end[axis]) = (pads[i], pads[axes.count + i]) }
            guard pads.allSatisfy({ $0 >= -OpImport.largestMadeValue && $0 <= OpImport.largestMadeValue }) else { throw node.fail("pads \(pads) are too large") }
            let shape = (0..<rank).map { x.shape[$0] + begin[$0] + end[$0] }
            guard shape.allSatisfy({ $0 >= 0 }) else { throw node.fail("pads \(pads) crop \(describe(x.shape)) below nothing") }
            if mode != "constant", let axis = (0..<rank).first(where: { x.shape[$0] == 0 && shape[$0] > 0 }) {
                throw node.fail("\(mode) padding of axis \(axis), which is empty")
            }
            // The pad value is one more element to pick from (so its gradient flows too).
            var sources: [GraphValue] = [x]
            var padIndex: Int?
            if node.has(2), let value = node.inputs[2] {
                guard value.shape.reduce(1, *) == 1 else { throw node.fail("constant_value must be one element") }
                sources.append(value)
                padIndex = x.shape.reduce(1, *)
            }
            let strides = rowMajorStrides(x.shape)
            return [try node.remapped(sources, into: shape) { index in
                var position = 0
                for axis in 0..<rank {
                    let size = x.shape[axis]
                    var i = index[axis] - begin[axis]
                    if i < 0 || i >= size {
                        switch mode {
                        case "edge": i = Swift.min(Swift.max(i, 0), size - 1)
                        case "wrap": i = ((i % size) + size) % size
                        case "reflect":
                            guard size > 1 else { i = 0; break }
                            let period = 2 * (size - 1)
                            i = ((i % period) + period) % period
                            if i >= size { i = period - i }
                        default: return padIndex
                        }
                    }
                    position += i * strides[axis]
                }
                return position
            }]
        },
        ImporterDeclaration("CenterCropPad", opsets: 18...Int.max, reads: ["axes"]) { node in
            let x = try node.value(0)
            let rank = x.shape.count
            let axes = try (node.ints("axes") ?? Array(0..<rank)).map { try node.axis($0, rank: rank) }
            guard let target = try node.integers(1), target.count == axes.count, target.allSatisfy({ $0 >= 0 }) else {
                throw node.fail("shape must give a non-negative size for each of \(axes.count) axes")
            }
            var shape = x.shape
            var offset = [Int](repeating: 0, count: rank)  // input index = output index + offset
            for (axis, size) in zip(axes, target) {
                offset[axis] = x.shape[axis] >= size ? (x.shape[axis] - size) / 2 : -((size - x.shape[axis]) / 2)
                shape[axis] = size
            }
            let strides = rowMajorStrides(x.shape)
            return [try node.remapped([x], into: shape) { index in
                var position = 0
                for axis in 0..<rank {
                    let i = index[axis] + offset[axis]
                    guard i >= 0 && i < x.shape[axis] else { return nil }
                    position += i * strides[axis]
                }
                return position
            }]
        },
        // The upper (or lower) triangle of the last two axes from diagonal k; zeros elsewhere.
        ImporterDeclaration("Trilu", opsets: 14...Int.max, reads: ["upper"]) { node in
            let x = try node.value(0)
            guard x.shape.count >= 2 else { throw node.fail("needs at least two axes, got \(describe(x.shape))") }
            let k = try node.integers(1)?.first ?? 0
            let upper = node.int("upper", default: 1) != 0
            let (rows, columns) = (x.shape.count - 2, x.shape.count - 1)
            let strides = rowMajorStrides(x.shape)
            return [try node.remapped([x], into: x.shape) { index in
                let offset = index[columns] - index[rows]
                return (upper ? offset >= k : offset <= k) ? flatPosition(index, strides) : nil
            }]
        },
        // Each batch entry's first sequence_lens[b] steps along the time axis in reverse.
        ImporterDeclaration("ReverseSequence", opsets: 10...Int.max, reads: ["batch_axis", "time_axis"]) { node in
            let x = try node.value(0)
            let rank = x.shape.count
            let (batchAxis, timeAxis) = (node.int("batch_axis", default: 1), node.int("time_axis", default: 0))
            guard rank >= 2, [batchAxis, timeAxis].allSatisfy({ (0...1).contains($0) }), batchAxis != timeAxis else {
                throw node.fail("batch_axis and time_axis must be 0 and 1 of a tensor of rank 2 or more")
            }
            guard let lengths = try node.integers(1), lengths.count == x.shape[batchAxis],
                  lengths.allSatisfy({ $0 >= 0 && $0 <= x.shape[timeAxis] }) else {
                throw node.fail("sequence_lens must give a length in 0...\(x.shape[timeAxis]) for each of \(x.shape[batchAxis]) batch entries")
            }
            let strides = rowMajorStrides(x.shape)
            return [try node.remapped([x], into: x.shape) { index in
                var source = index
                let length = lengths[index[batchAxis]]
                if index[timeAxis] < length { source[timeAxis] = length - 1 - index[timeAxis] }
                return flatPosition(source, strides)
            }]
        },
        ImporterDeclaration("EyeLike", opsets: 9...Int.max, reads: ["dtype", "k"], differentiable: false) { node in
            let shape = try node.value(0).shape
            guard shape.count == 2 else { throw node.fail("input must be a matrix, got \(describe(shape))") }
            let k = node.int("k", default: 0)
            let values = (0..<(shape[0] * shape[1])).map { $0 % shape[1] - $0 / shape[1] == k ? 1 : 0 }
            let code = node.int("dtype", default: try node.value(0).elementType.rawValue)
            guard let type = ElementType(rawValue: code) else { throw node.fail("dtype \(code) is not a numeric type Synapse reads") }
            if type.isFloat { return [.tensor(Tensor(values.map(Float.init), shape: shape))] }
            return [.integers(values, shape: shape, type: type)]
        },
        ImporterDeclaration("DepthToSpace", opsets: 13...Int.max, reads: ["blocksize", "mode"]) { node in
            let x = try node.value(0)
            let b = node.int("blocksize", default: 0)
            let mode = node.string("mode", default: "DCR")
            guard x.shape.count == 4, b > 0, x.shape[1] % (b * b) == 0, mode == "DCR" || mode == "CRD" else {
                throw node.fail("needs [N, C, H, W] with C a multiple of blocksize² and mode DCR or CRD")
            }
            let (n, c, h, w) = (x.shape[0], x.shape[1] / (b * b), x.shape[2], x.shape[3])
            return try node.numeric { inputs in
                mode == "DCR"
                    ? inputs[0].reshaped([n, b, b, c, h, w]).permuted([0, 3, 4, 1, 5, 2]).reshaped([n, c, h * b, w * b])
                    : inputs[0].reshaped([n, c, b, b, h, w]).permuted([0, 1, 4, 2, 5, 3]).reshaped([n, c, h * b, w * b])
            }
        },
        // The inverse of DepthToSpace: DCR puts the block offsets before the channels, CRD after (opset 25 adds mode).
        ImporterDeclaration("SpaceToDepth", opsets: 13...Int.max, reads: ["blocksize", "mode"]) { node in
            let x = try node.value(0)
            let b = node.int("blocksize", default: 0)
            let mode = node.string("mode", default: "DCR")
            guard x.shape.count == 4, b > 0, x.shape[2] % b == 0, x.shape[3] % b == 0, mode == "DCR" || mode == "CRD" else {
                throw node.fail("needs [N, C, H, W] with H and W multiples of blocksize, and mode DCR or CRD")
            }
            let (n, c, h, w) = (x.shape[0], x.shape[1], x.shape[2] / b, x.shape[3] / b)
            let order = mode == "DCR" ? [0, 3, 5, 1, 2, 4] : [0, 1, 3, 5, 2, 4]
            return try node.numeric { $0[0].reshaped([n, c, h, b, w, b]).permuted(order).reshaped([n, c * b * b, h, w]) }
        },
    ]
}
