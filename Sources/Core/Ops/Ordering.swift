// ONNX operators that order or locate elements along an axis — TopK, ArgMax, ArgMin, Hardmax,
// NonZero — and the running sum and product CumSum and CumProd. Positions come out as int64;
// TopK's values are an `ElementMap` pick (gradients flow to the elements chosen); CumSum and
// CumProd have their own backwards.

/// The running sum along the middle axis of `[outer, n, inner]`, optionally exclusive (each
/// sum leaves its own element out) and reversed (from the end). Its gradient is the running sum
/// of the gradient the other way.
struct CumulativeSum: DifferentiableFunction {
    let axis: Int
    let exclusive: Bool
    let reverse: Bool

    var name: String { "CumSum" }

    func forward(_ inputs: [Tensor]) -> Tensor {
        Tensor(CumulativeSum.run(inputs[0].scalars, shape: inputs[0].shape, axis: axis, exclusive: exclusive, reverse: reverse), shape: inputs[0].shape)
    }

    func backward(_ gradient: Tensor, inputs: [Tensor], output: Tensor) -> [Tensor?] {
        [Tensor(CumulativeSum.run(gradient.scalars, shape: gradient.shape, axis: axis, exclusive: exclusive, reverse: !reverse), shape: gradient.shape)]
    }

    /// `add` is `+` for floats and wrapping `&+` for whole numbers (no trap on overflow).
    static func run<T: AdditiveArithmetic>(_ values: [T], shape: [Int], axis: Int, exclusive: Bool, reverse: Bool, add: (T, T) -> T = (+)) -> [T] {
        scan(values, shape: shape, axis: axis, exclusive: exclusive, reverse: reverse, identity: .zero, combine: add)
    }

    /// The running `combine` along the axis from `identity`: each position's total including
    /// (or, exclusive, before) its own element, walking from the start (or the end).
    static func scan<T>(_ values: [T], shape: [Int], axis: Int, exclusive: Bool, reverse: Bool, identity: T, combine: (T, T) -> T) -> [T] {
        var result = values
        forEachLine(shape, axis: axis, reverse: reverse) { positions in
            var total = identity
            for position in positions {
                if exclusive { result[position] = total; total = combine(total, values[position]) } else { total = combine(total, values[position]); result[position] = total }
            }
        }
        return result
    }

    /// Calls `body` with the flat positions of each line along the middle axis of `[outer, n,
    /// inner]`, in walking order (from the end when `reverse`).
    static func forEachLine(_ shape: [Int], axis: Int, reverse: Bool, _ body: ([Int]) -> Void) {
        let (outer, n, inner) = Kernels.split(shape, around: axis)
        for o in 0..<outer {
            for i in 0..<inner {
                let steps = (0..<n).map { (o * n + (reverse ? n - 1 - $0 : $0)) * inner + i }
                body(steps)
            }
        }
    }
}

/// The running product along an axis, inclusive or exclusive, forwards or reversed. Its
/// backward is exact where elements are zero (no division): walking a line `x₀ … xₙ₋₁`,
/// `∂L/∂xᵢ = (∏ₖ<ᵢ xₖ) · Sᵢ` with `Sᵢ = gᵢ + xᵢ₊₁ Sᵢ₊₁` (inclusive) or `Sᵢ = gᵢ₊₁ + xᵢ₊₁ Sᵢ₊₁`
/// (exclusive), `Sₙ = 0`.
struct CumulativeProduct: DifferentiableFunction {
    let axis: Int
    let exclusive: Bool
    let reverse: Bool

    var name: String { "CumProd" }

    func forward(_ inputs: [Tensor]) -> Tensor {
        Tensor(CumulativeSum.scan(inputs[0].scalars, shape: inputs[0].shape, axis: axis, exclusive: exclusive, reverse: reverse, identity: 1, combine: *), shape: inputs[0].shape)
    }

    func backward(_ gradient: Tensor, inputs: [Tensor], output: Tensor) -> [Tensor?] {
        let (x, g) = (inputs[0].scalars, gradient.scalars)
        var result = [Float](repeating: 0, count: x.count)
        CumulativeSum.forEachLine(inputs[0].shape, axis: axis, reverse: reverse) { line in
            let n = line.count
            var suffix = [Float](repeating: 0, count: n + 1)
            for i in stride(from: n - 1, through: 0, by: -1) {
                let next: Float = i + 1 < n ? x[line[i + 1]] * suffix[i + 1] : 0
                suffix[i] = exclusive ? (i + 1 < n ? g[line[i + 1]] : 0) + next : g[line[i]] + next
            }
            var prefix: Float = 1
            for i in 0..<n {
                result[line[i]] = prefix * suffix[i]
                prefix *= x[line[i]]
            }
        }
        return [Tensor(result, shape: inputs[0].shape)]
    }
}

extension ImportNode {
    /// Calls `body` with each line of input 0 along `axis` (the values, the flat position of
    /// its first element and the distance between its elements), lines in row-major order.
    func lines(axis: Int, _ body: ([Float], _ base: Int, _ stride: Int) throws -> Void) throws {
        let x = try value(0)
        let values = x.asTensor.scalars
        let (outer, n, inner) = Kernels.split(x.shape, around: axis)
        for o in 0..<outer {
            for i in 0..<inner {
                let base = o * n * inner + i
                try body((0..<n).map { values[base + $0 * inner] }, base, inner)
            }
        }
    }

    /// The position of each line's largest (or smallest) element: the first or the last of
    /// equal ones.
    func extremumPositions(axis: Int, largest: Bool, last: Bool) throws -> [Int] {
        var positions: [Int] = []
        try lines(axis: axis) { line, _, _ in
            guard !line.isEmpty else { throw fail("cannot find the extremum of an empty axis") }
            var best = 0
            for k in 1..<line.count {
                let better = largest ? line[k] > line[best] : line[k] < line[best]
                if better || (last && line[k] == line[best]) { best = k }
            }
            positions.append(best)
        }
        return positions
    }
}

extension Tensor {
    static let orderingImporters: [ImporterDeclaration] = {
        @Sendable func argExtremum(_ node: ImportNode) throws -> [GraphValue] {
            let shape = try node.value(0).shape
            guard !shape.isEmpty else { throw node.fail("a scalar has no axis to find the extremum along") }
            let axis = try node.axis(node.int("axis", default: 0), rank: shape.count)
            let positions = try node.extremumPositions(axis: axis, largest: node.opType == "ArgMax", last: node.int("select_last_index", default: 0) != 0)
            var result = shape
            if node.int("keepdims", default: 1) != 0 { result[axis] = 1 } else { result.remove(at: axis) }
            return [.integers(positions, shape: result)]
        }
        return [
            ImporterDeclaration("ArgMax", opsets: 11...Int.max, reads: ["axis", "keepdims", "select_last_index"], differentiable: false, run: argExtremum),
            ImporterDeclaration("ArgMin", opsets: 11...Int.max, reads: ["axis", "keepdims", "select_last_index"], differentiable: false, run: argExtremum),
            ImporterDeclaration("Hardmax", reads: ["axis"], differentiable: false) { node in
                let shape = try node.value(0).shape
                let axis = try node.axis(node.int("axis", default: -1), rank: shape.count)
                let positions = try node.extremumPositions(axis: axis, largest: true, last: false)
                var out = [Float](repeating: 0, count: shape.reduce(1, *))
                let (_, n, inner) = Kernels.split(shape, around: axis)
                for (line, k) in positions.enumerated() { out[(line / inner) * n * inner + line % inner + k * inner] = 1 }
                return [.tensor(Tensor(out, shape: shape))]
            },
            // The k largest (or smallest) along an axis, sorted, ties by position; values and int64 indices.
            ImporterDeclaration("TopK", opsets: 11...Int.max, reads: ["axis", "largest", "sorted"]) { node in
                let x = try node.value(0)
                guard !x.shape.isEmpty else { throw node.fail("a scalar has no axis to take the k largest along") }
                let axis = try node.axis(node.int("axis", default: -1), rank: x.shape.count)
                guard let k = try node.integers(1)?.first, k >= 0, k <= x.shape[axis] else {
                    throw node.fail("k must be one count in 0...\(x.shape[axis])")
                }
                let largest = node.int("largest", default: 1) != 0
                var (sources, positions) = ([Int](), [Int]())
                var shape = x.shape
                shape[axis] = k
                let (outer, _, inner) = Kernels.split(shape, around: axis)
                var chosen: [[Int]] = []
                try node.lines(axis: axis) { line, base, stride in
                    let order = line.indices.sorted { a, b in
                        let (p, q) = (line[a], line[b])
                        if p == q || (p.isNaN && q.isNaN) { return a < b }
                        if p.isNaN { return largest }  // NaN counts as the largest
                        if q.isNaN { return !largest }
                        return largest ? p > q : p < q
                    }
                    chosen.append(order.prefix(k).map { base + $0 * stride } + order.prefix(k))
                }
                // Lines come in (outer, inner) order; outputs are [outer, k, inner].
                sources = [Int](repeating: 0, count: outer * k * inner)
                positions = sources
                for (line, picks) in chosen.enumerated() {
                    let (o, i) = (line / inner, line % inner)
                    for j in 0..<k {
                        sources[(o * k + j) * inner + i] = picks[j]
                        positions[(o * k + j) * inner + i] = picks[k + j]
                    }
                }
                return [node.picked(from: [x], sources: sources, shape: shape), .integers(positions, shape: shape)]
            },
            ImporterDeclaration("NonZero", opsets: 9...Int.max, differentiable: false) { node in
                let x = try node.value(0)
                let values = x.asTensor.scalars
                let strides = rowMajorStrides(x.shape)
                var rows = [[Int]](repeating: [], count: Swift.max(x.shape.count, 1))
                var position = 0
                if x.shape.isEmpty {
                    if values.first ?? 0 != 0 { rows[0].append(0) }
                    return [.integers(rows[0], shape: [1, rows[0].count])]
                }
                forEachIndex(x.shape) { index in
                    defer { position += 1 }
                    guard values[flatPosition(index, strides)] != 0 else { return }
                    for axis in 0..<index.count { rows[axis].append(index[axis]) }
                }
                return [.integers(rows.flatMap { $0 }, shape: [x.shape.count, rows[0].count])]
            },
            ImporterDeclaration("CumSum", opsets: 11...Int.max, reads: ["exclusive", "reverse"]) { node in
                let x = try node.value(0)
                guard let axisValue = try node.integers(1), axisValue.count == 1 else { throw node.fail("axis must be one integer") }
                let axis = try node.axis(axisValue[0], rank: x.shape.count)
                let (exclusive, reverse) = (node.int("exclusive", default: 0) != 0, node.int("reverse", default: 0) != 0)
                if case .integers(let values, let shape, let type) = x {
                    return [.integers(CumulativeSum.run(values, shape: shape, axis: axis, exclusive: exclusive, reverse: reverse, add: { $0 &+ $1 }).map(type.wrap), shape: shape, type: type)]
                }
                return [.tensor(Tensor.apply(CumulativeSum(axis: axis, exclusive: exclusive, reverse: reverse), [x.asTensor]))]
            },
            ImporterDeclaration("CumProd", opsets: 26...Int.max, reads: ["exclusive", "reverse"]) { node in
                let x = try node.value(0)
                guard let axisValue = try node.integers(1), axisValue.count == 1 else { throw node.fail("axis must be one integer") }
                let axis = try node.axis(axisValue[0], rank: x.shape.count)
                let (exclusive, reverse) = (node.int("exclusive", default: 0) != 0, node.int("reverse", default: 0) != 0)
                if case .integers(let values, let shape, let type) = x {
                    let products = CumulativeSum.scan(values, shape: shape, axis: axis, exclusive: exclusive, reverse: reverse, identity: 1) { type.wrap($0 &* $1) }
                    return [.integers(products, shape: shape, type: type)]
                }
                return [.tensor(Tensor.apply(CumulativeProduct(axis: axis, exclusive: exclusive, reverse: reverse), [x.asTensor]))]
            },
        ]
    }()
}
