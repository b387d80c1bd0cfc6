// ONNX's element-indexed gathers and scatters — GatherElements, GatherND, ScatterElements,
// ScatterND (and its old name Scatter), OneHot and Compress — as `ElementMap` picks worked out
// from the index tensors, so gradients flow to the data and the updates.

extension ImportNode {
    /// Input `index` as whole-number indices (int32 or int64), each checked to lie in
    /// `-size..<size` by `bound(position)`, negative ones counted from the end.
    func indices(_ index: Int, bound: (Int) -> Int) throws -> [Int] {
        let value = try self.value(index)
        guard case .integers(let raw, _, _) = value else { throw fail("input \(index) must hold integer indices") }
        return try raw.enumerated().map { position, i in
            let size = bound(position)
            guard i >= -size && i < size else { throw fail("index \(i) is out of range for a dimension of size \(size)") }
            return i < 0 ? i + size : i
        }
    }

    /// `data` with `updates[j]` written at flat position `targets[j]`, in order, combined by
    /// `reduction` (none: the last write wins; add, mul, max, min).
    func scattered(_ data: GraphValue, _ updates: GraphValue, targets: [Int], reduction: String) throws -> GraphValue {
        let count = data.shape.reduce(1, *)
        switch reduction {
        case "none", "max", "min":
            // A pick from [data, updates]: each position's winner so far.
            let (d, u) = (data.asTensor.scalars, updates.asTensor.scalars)
            var sources = Array(0..<count)
            for (j, target) in targets.enumerated() {
                let current = sources[target] < count ? d[sources[target]] : u[sources[target] - count]
                if reduction == "none" || (reduction == "max" ? u[j] > current : u[j] < current) { sources[target] = count + j }
            }
            return picked(from: [data, updates], sources: sources, shape: data.shape)
        case "add":
            if case .integers(var values, let shape, let type) = data, case .integers(let added, _, _) = updates {
                for (j, target) in targets.enumerated() { values[target] = type.wrap(values[target] &+ added[j]) }
                return .integers(values, shape: shape, type: type)
            }
            return .tensor(data.asTensor + Tensor.apply(ElementScatterAdd(shape: data.shape, targets: targets), [updates.asTensor]))
        case "mul":
            if case .integers(var values, let shape, let type) = data, case .integers(let factors, _, _) = updates {
                for (j, target) in targets.enumerated() { values[target] = type.wrap(values[target] &* factors[j]) }
                return .integers(values, shape: shape, type: type)
            }
            let (x, u) = (data.asTensor, updates.asTensor)
            guard !(Tensor.isRecordingGradients && (x.requiresGrad || u.requiresGrad)) else {
                throw fail("reduction \"mul\" has no gradient in Synapse; it runs in inference only")
            }
            var values = x.scalars
            let factors = u.scalars
            for (j, target) in targets.enumerated() { values[target] *= factors[j] }
            return .tensor(Tensor(values, shape: x.shape))
        default:
            throw fail("reduction \"\(reduction)\" (none, add, mul, max or min)")
        }
    }
}

extension Tensor {
    /// ScatterElements (and Scatter): `updates` written into `data` at `indices` along `axis`.
    @Sendable static func scatterElements(_ node: ImportNode) throws -> [GraphValue] {
            let (data, updates) = (try node.value(0), try node.value(2))
            let indexShape = try node.value(1).shape
            let axis = try node.axis(node.int("axis", default: 0), rank: data.shape.count)
            guard indexShape == updates.shape, indexShape.count == data.shape.count else {
                throw node.fail("indices \(describe(indexShape)) and updates \(describe(updates.shape)) must match, with the rank of data")
            }
            let indices = try node.indices(1) { _ in data.shape[axis] }
            let strides = rowMajorStrides(data.shape)
            var targets: [Int] = []
            var position = 0
            try forEachIndex(indexShape) { index in
                var target = index
                target[axis] = indices[position]
                position += 1
                guard zip(target, data.shape).allSatisfy({ $0 < $1 }) else { throw node.fail("indices \(describe(indexShape)) do not fit data \(describe(data.shape))") }
                targets.append(flatPosition(target, strides))
            }
            return [try node.scattered(data, updates, targets: targets, reduction: node.string("reduction", default: "none"))]
        }

    static let gatherScatterImporters: [ImporterDeclaration] = [
        ImporterDeclaration("GatherElements", reads: ["axis"]) { node in
            let data = try node.value(0)
            let indexShape = try node.value(1).shape
            let rank = data.shape.count
            let axis = try node.axis(node.int("axis", default: 0), rank: rank)
            guard indexShape.count == rank, (0..<rank).allSatisfy({ $0 == axis || indexShape[$0] <= data.shape[$0] }) else {
                throw node.fail("indices \(describe(indexShape)) must have the rank of data \(describe(data.shape)) and fit in it")
            }
            let indices = try node.indices(1) { _ in data.shape[axis] }
            let strides = rowMajorStrides(data.shape)
            var position = 0
            return [try node.remapped([data], into: indexShape) { index in
                defer { position += 1 }
                var source = index
                source[axis] = indices[position]
                return flatPosition(source, strides)
            }]
        },
        ImporterDeclaration("GatherND", opsets: 12...Int.max, reads: ["batch_dims"]) { node in
            let data = try node.value(0)
            let indexShape = try node.value(1).shape
            let b = node.int("batch_dims", default: 0)
            guard let k = indexShape.last, b >= 0, b < indexShape.count, k >= 1, b + k <= data.shape.count,
                  Array(indexShape.prefix(b)) == Array(data.shape.prefix(b)) else {
                throw node.fail("indices \(describe(indexShape)) do not fit data \(describe(data.shape)) with batch_dims \(b)")
            }
            let indices = try node.indices(1) { data.shape[b + $0 % k] }
            let slice = Array(data.shape[(b + k)...])
            let sliceCount = slice.reduce(1, *)
            let shape = Array(indexShape.dropLast()) + slice
            let strides = rowMajorStrides(data.shape)
            let tuplesPerBatch = indexShape.dropFirst(b).dropLast().reduce(1, *)
            var sources: [Int] = []
            for tuple in 0..<(indexShape.dropLast().reduce(1, *)) {
                let batch = tuple / Swift.max(tuplesPerBatch, 1)
                var start = b > 0 ? batch * strides[b - 1] : 0  // strides[b − 1]: the elements of one batch entry
                for j in 0..<k { start += indices[tuple * k + j] * strides[b + j] }
                sources += start..<(start + sliceCount)
            }
            return [node.picked(from: [data], sources: sources, shape: shape)]
        },
        ImporterDeclaration("ScatterElements", opsets: 11...Int.max, reads: ["axis", "reduction"], run: scatterElements),
        // Scatter is ScatterElements' name before opset 11.
        ImporterDeclaration("Scatter", opsets: 9...10, reads: ["axis"], run: scatterElements),
        ImporterDeclaration("ScatterND", opsets: 11...Int.max, reads: ["reduction"]) { node in
            let (data, updates) = (try node.value(0), try node.value(2))
            let indexShape = try node.value(1).shape
            guard let k = indexShape.last, k >= 1, k <= data.shape.count,
                  updates.shape == Array(indexShape.dropLast()) + Array(data.shape[k...]) else {
                throw node.fail("indices \(describe(indexShape)) and updates \(describe(updates.shape)) do not fit data \(describe(data.shape))")
            }
            let indices = try node.indices(1) { data.shape[$0 % k] }
            let strides = rowMajorStrides(data.shape)
            let sliceCount = data.shape[k...].reduce(1, *)
            var targets: [Int] = []
            for tuple in 0..<(indexShape.dropLast().reduce(1, *)) {
                let start = (0..<k).reduce(0) { $0 + indices[tuple * k + $1] * strides[$1] }
                targets += start..<(start + sliceCount)
            }
            return [try node.scattered(data, updates, targets: targets, reduction: node.string("reduction", default: "none"))]
        },
        // The key/value cache update: each batch row's update written along `axis` from its
        // write index (0 without one), modulo the cache length in "circular" mode.
        ImporterDeclaration("TensorScatter", opsets: 24...Int.max, reads: ["axis", "mode"]) { node in
            let (cache, update) = (try node.value(0), try node.value(1))
            let rank = cache.shape.count
            let axis = try node.axis(node.int("axis", default: -2), rank: rank)
            var fitting = update.shape
            if fitting.count == rank { fitting[axis] = cache.shape[axis] }
            guard axis > 0, fitting == cache.shape, update.shape[axis] <= cache.shape[axis] else {
                throw node.fail("update \(describe(update.shape)) does not fit cache \(describe(cache.shape)) along axis \(axis) after the batch axis")
            }
            let mode = node.string("mode", default: "linear")
            guard mode == "linear" || mode == "circular" else { throw node.fail("mode must be \"linear\" or \"circular\", got \"\(mode)\"") }
            let (batch, length) = (cache.shape[0], cache.shape[axis])
            let starts = node.has(2) ? try node.integers(2) ?? [] : [Int](repeating: 0, count: batch)
            guard starts.count == batch, starts.allSatisfy({ $0 >= 0 && $0 <= length }) else {
                throw node.fail("write_indices must hold one index in 0...\(length) per batch row (\(batch)), got \(starts.prefix(8))")
            }
            let count = cache.shape.reduce(1, *)
            var sources = Array(0..<count)
            let (cacheStrides, updateStrides) = (rowMajorStrides(cache.shape), rowMajorStrides(update.shape))
            var failure: String?
            forEachIndex(update.shape) { index in
                var target = index[axis] + starts[index[0]]
                if mode == "circular" { target %= length } else if target >= length { failure = "batch row \(index[0]) writes past the cache's \(length) positions"; return }
                var cacheIndex = index
                cacheIndex[axis] = target
                sources[flatPosition(cacheIndex, cacheStrides)] = count + flatPosition(index, updateStrides)
            }
            if let failure { throw node.fail(failure) }
            return [node.picked(from: [cache, update], sources: sources, shape: cache.shape)]
        },
        // out[…, i, …] = values[1] where i is the index (negative from the end), values[0] elsewhere.
        ImporterDeclaration("OneHot", opsets: 9...Int.max, reads: ["axis"]) { node in
            let indexValue = try node.value(0)
            guard let depthValue = try? node.value(1).asTensor.scalars, depthValue.count == 1, depthValue[0] >= 1,
                  depthValue[0] <= Float(OpImport.largestMadeValue) else {
                throw node.fail("depth must be one positive number")
            }
            let depth = Int(depthValue[0])
            let values = try node.value(2)
            guard values.shape.reduce(1, *) == 2 else { throw node.fail("values must be [off, on]") }
            let rank = indexValue.shape.count + 1
            let axis = try node.axis(node.int("axis", default: -1), rank: rank)
            var shape = indexValue.shape
            shape.insert(depth, at: axis)
            let raw = indexValue.asTensor.scalars.map { Int(saturating: $0) }
            let indexStrides = rowMajorStrides(indexValue.shape)
            return [try node.remapped([values], into: shape) { index in
                var position = index
                let i = position.remove(at: axis)
                let target = raw.isEmpty ? 0 : raw[flatPosition(position, indexStrides)]
                return (target < 0 ? target + depth : target) == i ? 1 : 0
            }]
        },
        ImporterDeclaration("Compress", opsets: 9...Int.max, reads: ["axis"]) { node in
            var x = try node.value(0)
            guard case .integers(let condition, _, _)? = node.inputs.count > 1 ? node.inputs[1] : nil else {
                throw node.fail("condition must be a bool tensor")
            }
            if node.attributes["axis"] == nil { x = node.picked(from: [x], sources: Array(0..<x.shape.reduce(1, *)), shape: [x.shape.reduce(1, *)]) }
            let axis = try node.axis(node.int("axis", default: 0), rank: x.shape.count)
            let kept = condition.prefix(x.shape[axis]).enumerated().filter { $0.element != 0 }.map(\.offset)
            var shape = x.shape
            shape[axis] = kept.count
            let strides = rowMajorStrides(x.shape)
            return [try node.remapped([x], into: shape) { index in
                var source = index
                source[axis] = kept[index[axis]]
                return flatPosition(source, strides)
            }]
        },
    ]
}
