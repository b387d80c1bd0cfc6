import Core

/// Runs one ONNX node with Synapse's ops, checking shapes and attributes first so that a
/// foreign model never reaches an op's misuse check: every problem is a `ModelFileError`
/// naming the node.
struct NodeInterpreter {
    let node: Onnx_NodeProto
    let label: String
    let file: String

    static let supported: Set<String> = [
        "Gemm", "MatMul", "Add", "Sub", "Mul", "Div", "Neg", "Relu", "Sigmoid", "Tanh", "Exp", "Log", "Pow",
        "Softmax", "LogSoftmax", "Gather", "Concat", "Slice", "Reshape", "Flatten", "Transpose", "Identity",
        "Constant", "Cast", "ReduceSum", "ReduceMean", "Unsqueeze", "Tile",
    ]

    func fail(_ reason: String) -> ModelFileError {
        .unsupported(file: file, node: label, opType: node.opType, reason: reason)
    }

    // MARK: Attributes and inputs

    func attribute(_ name: String) -> Onnx_AttributeProto? { node.attribute.first { $0.name == name } }
    func int(_ name: String, default value: Int) -> Int { attribute(name).map { Int($0.i) } ?? value }
    func float(_ name: String, default value: Float) -> Float { attribute(name).map(\.f) ?? value }

    func tensor(_ inputs: [GraphValue?], _ index: Int) throws -> Tensor {
        guard index < inputs.count, let value = inputs[index] else { throw fail("input \(index) is missing") }
        switch value {
        case .tensor(let tensor): return tensor
        case .integers(let values, let shape): return Tensor(values.map(Float.init), shape: shape)
        }
    }

    func integers(_ inputs: [GraphValue?], _ index: Int) throws -> [Int]? {
        guard index < inputs.count, let value = inputs[index] else { return nil }
        switch value {
        case .integers(let values, _): return values
        case .tensor(let tensor) where tensor.creationOp == nil && !tensor.requiresGrad:
            let values = tensor.scalars
            guard values.allSatisfy({ $0 == $0.rounded() && abs($0) < 1e15 }) else { throw fail("input \(index) must hold integers") }
            return values.map { Int($0) }
        case .tensor:
            throw fail("input \(index) must be a constant (shapes, axes and bounds are read when the graph runs)")
        }
    }

    func axis(_ value: Int, rank: Int) throws -> Int {
        let resolved = value < 0 ? value + rank : value
        guard resolved >= 0 && resolved < max(rank, 1) else { throw fail("axis \(value) is out of range for rank \(rank)") }
        return resolved
    }

    func broadcastable(_ a: [Int], _ b: [Int]) -> Bool {
        let rank = max(a.count, b.count)
        return (0..<rank).allSatisfy { d in
            let x = d - (rank - a.count) >= 0 ? a[d - (rank - a.count)] : 1
            let y = d - (rank - b.count) >= 0 ? b[d - (rank - b.count)] : 1
            return x == y || x == 1 || y == 1
        }
    }

    func binary(_ inputs: [GraphValue?], _ op: (Tensor, Tensor) -> Tensor) throws -> Tensor {
        let (a, b) = (try tensor(inputs, 0), try tensor(inputs, 1))
        guard broadcastable(a.shape, b.shape) else { throw fail("shapes \(a.shape) and \(b.shape) cannot broadcast") }
        return op(a, b)
    }

    // MARK: Running

    func run(_ inputs: [GraphValue?]) throws -> [GraphValue] {
        switch node.opType {
        case "Identity": return [inputs.first.flatMap { $0 } ?? .integers([], shape: [0])]
        case "Constant": return [try constant()]
        case "Cast":
            let to = int("to", default: 1)
            guard [1, 6, 7].contains(to) else { throw fail("cast to data type \(to) (only float32, int32, int64)") }
            guard let value = inputs.first ?? nil else { throw fail("input 0 is missing") }
            return [value]
        case "Add": return [.tensor(try binary(inputs, +))]
        case "Sub": return [.tensor(try binary(inputs, -))]
        case "Mul": return [.tensor(try binary(inputs, *))]
        case "Div": return [.tensor(try binary(inputs, /))]
        case "Neg": return [.tensor(-(try tensor(inputs, 0)))]
        case "Relu": return [.tensor(try tensor(inputs, 0).relu())]
        case "Sigmoid": return [.tensor(try tensor(inputs, 0).sigmoid())]
        case "Tanh": return [.tensor(try tensor(inputs, 0).tanh())]
        case "Exp": return [.tensor(try tensor(inputs, 0).exp())]
        case "Log": return [.tensor(try tensor(inputs, 0).log())]
        case "Pow":
            let exponent = try tensor(inputs, 1)
            guard exponent.count == 1, exponent.creationOp == nil else { throw fail("the exponent must be a constant scalar") }
            return [.tensor(try tensor(inputs, 0).pow(exponent.scalars[0]))]
        case "Gemm": return [.tensor(try gemm(inputs))]
        case "MatMul": return [.tensor(try matmul(inputs))]
        case "Softmax", "LogSoftmax":
            let x = try tensor(inputs, 0)
            let dim = try axis(int("axis", default: -1), rank: x.rank)
            let result = x.logSoftmax(dim: dim)
            return [.tensor(node.opType == "Softmax" ? result.exp() : result)]
        case "Gather": return [.tensor(try gather(inputs))]
        case "Concat":
            let parts = try (0..<inputs.count).map { try tensor(inputs, $0) }
            guard let first = parts.first else { throw fail("has no inputs") }
            let dim = try axis(int("axis", default: 0), rank: first.rank)
            for part in parts where part.rank != first.rank || (0..<first.rank).contains(where: { $0 != dim && part.shape[$0] != first.shape[$0] }) {
                throw fail("shapes \(parts.map(\.shape)) differ outside axis \(dim)")
            }
            return [.tensor(Tensor.concat(parts, dim: dim))]
        case "Slice": return [.tensor(try slice(inputs))]
        case "Reshape": return [.tensor(try reshape(try tensor(inputs, 0), to: try integers(inputs, 1) ?? []))]
        case "Flatten":
            let x = try tensor(inputs, 0)
            let split = int("axis", default: 1)
            let at = split < 0 ? split + x.rank : split
            guard at >= 0 && at <= x.rank else { throw fail("axis \(split) is out of range for rank \(x.rank)") }
            return [.tensor(x.reshaped([x.shape[..<at].reduce(1, *), x.shape[at...].reduce(1, *)]))]
        case "Transpose":
            let x = try tensor(inputs, 0)
            let perm = attribute("perm").map { $0.ints.map { Int($0) } } ?? Array((0..<x.rank).reversed())
            if perm == Array(0..<x.rank) { return [.tensor(x)] }
            guard x.rank == 2, perm == [1, 0] else { throw fail("only the transpose of a matrix is supported (perm \(perm))") }
            return [.tensor(x.transposed())]
        case "ReduceSum", "ReduceMean": return [.tensor(try reduce(inputs))]
        case "Unsqueeze":
            let x = try tensor(inputs, 0)
            let axes = try integers(inputs, 1) ?? attribute("axes").map { $0.ints.map { Int($0) } } ?? []
            let rank = x.rank + axes.count
            var shape = x.shape
            for a in try axes.map({ try axis($0, rank: rank) }).sorted() { shape.insert(1, at: a) }
            return [.tensor(x.reshaped(shape))]
        case "Tile":
            let x = try tensor(inputs, 0)
            guard let repeats = try integers(inputs, 1), repeats.count == x.rank, repeats.allSatisfy({ $0 >= 1 }) else {
                throw fail("repeats must be a constant of one positive count per dimension")
            }
            var result = x
            for (dim, count) in repeats.enumerated() where count > 1 {
                result = Tensor.concat(Array(repeating: result, count: count), dim: dim)
            }
            return [.tensor(result)]
        default:
            throw fail("Synapse has no op for it")
        }
    }

    func constant() throws -> GraphValue {
        if let value = attribute("value") {
            return try ModelFile.tensorValue(value.t, file: file, place: "node \(label) value", folder: "")
        }
        if let f = attribute("value_float") { return .tensor(Tensor(scalar: f.f)) }
        if let fs = attribute("value_floats") { return .tensor(Tensor(fs.floats)) }
        if let i = attribute("value_int") { return .integers([Int(i.i)], shape: []) }
        if let ints = attribute("value_ints") { return .integers(ints.ints.map { Int($0) }, shape: [ints.ints.count]) }
        throw fail("only value, value_float(s) and value_int(s) constants are supported")
    }

    func gemm(_ inputs: [GraphValue?]) throws -> Tensor {
        let (a, b) = (try tensor(inputs, 0), try tensor(inputs, 1))
        let (transposeA, transposeB) = (int("transA", default: 0) != 0, int("transB", default: 0) != 0)
        guard a.rank == 2, b.rank == 2 else { throw fail("needs matrices, got shapes \(a.shape) and \(b.shape)") }
        let k = transposeA ? a.shape[0] : a.shape[1]
        let k2 = transposeB ? b.shape[1] : b.shape[0]
        guard k == k2 else { throw fail("inner sizes differ: \(a.shape) and \(b.shape) with transA \(transposeA), transB \(transposeB)") }
        var result = a.matmul(b, transposeA: transposeA, transposeB: transposeB)
        let alpha = float("alpha", default: 1)
        if alpha != 1 { result = result * alpha }
        if inputs.count > 2, inputs[2] != nil {
            let c = try tensor(inputs, 2)
            guard broadcastable(result.shape, c.shape) else { throw fail("C of shape \(c.shape) does not broadcast to \(result.shape)") }
            let beta = float("beta", default: 1)
            result = result + (beta == 1 ? c : c * beta)
        }
        return result
    }

    func matmul(_ inputs: [GraphValue?]) throws -> Tensor {
        let (a, b) = (try tensor(inputs, 0), try tensor(inputs, 1))
        guard b.rank == 2, a.rank >= 2, a.shape.last == b.shape[0] else {
            throw fail("supports [..., k] · [k, n] only; got shapes \(a.shape) and \(b.shape)")
        }
        if a.rank == 2 { return a.matmul(b) }
        let rows = a.reshaped([-1, b.shape[0]]).matmul(b)
        return rows.reshaped(Array(a.shape.dropLast()) + [b.shape[1]])
    }

    func gather(_ inputs: [GraphValue?]) throws -> Tensor {
        let data = try tensor(inputs, 0)
        guard int("axis", default: 0) == 0, data.rank == 2 || data.rank == 1 else {
            throw fail("supports rows of a matrix (axis 0) only; data shape \(data.shape)")
        }
        let rows = data.shape[0]
        var indices = try tensor(inputs, 1)
        let values = indices.scalars
        guard values.allSatisfy({ $0 == $0.rounded() && $0 >= -Float(rows) && $0 < Float(rows) }) else {
            throw fail("an index is not a whole number in -\(rows)..<\(rows)")
        }
        if values.contains(where: { $0 < 0 }) {
            indices = Tensor(values.map { $0 < 0 ? $0 + Float(rows) : $0 }, shape: indices.shape)
        }
        if data.rank == 1 { return data.reshaped([rows, 1]).gatherRows(indices).reshaped(indices.shape) }
        return data.gatherRows(indices)
    }

    func slice(_ inputs: [GraphValue?]) throws -> Tensor {
        var x = try tensor(inputs, 0)
        guard let starts = try integers(inputs, 1), let ends = try integers(inputs, 2), starts.count == ends.count else {
            throw fail("starts and ends must be constants of equal length")
        }
        let axes = try integers(inputs, 3) ?? Array(0..<starts.count)
        let steps = try integers(inputs, 4) ?? Array(repeating: 1, count: starts.count)
        guard axes.count == starts.count, steps.allSatisfy({ $0 == 1 }) else { throw fail("only steps of 1 are supported") }
        for (index, rawAxis) in axes.enumerated() {
            let dim = try axis(rawAxis, rank: x.rank)
            let size = x.shape[dim]
            func clamp(_ value: Int) -> Int { min(max(value < 0 ? value + size : value, 0), size) }
            let (lower, upper) = (clamp(starts[index]), clamp(ends[index]))
            x = x.slice(dim: dim, range: lower..<max(lower, upper))
        }
        return x
    }

    func reshape(_ x: Tensor, to requested: [Int]) throws -> Tensor {
        var shape = requested
        for (i, size) in requested.enumerated() where size == 0 {
            guard i < x.rank, int("allowzero", default: 0) == 0 else { throw fail("dimension \(i) of 0 has nothing to copy") }
            shape[i] = x.shape[i]
        }
        let known = shape.filter { $0 != -1 }.reduce(1, *)
        let inferred = shape.filter { $0 == -1 }.count
        guard shape.allSatisfy({ $0 >= -1 }), inferred <= 1,
              inferred == 1 ? known > 0 && x.count % known == 0 : known == x.count else {
            throw fail("cannot reshape \(x.shape) into \(requested)")
        }
        return x.reshaped(shape)
    }

    func reduce(_ inputs: [GraphValue?]) throws -> Tensor {
        let x = try tensor(inputs, 0)
        let keep = int("keepdims", default: 1) != 0
        let axes = try integers(inputs, 1) ?? attribute("axes").map { $0.ints.map { Int($0) } } ?? []
        let mean = node.opType == "ReduceMean"
        if axes.isEmpty {
            guard int("noop_with_empty_axes", default: 0) == 0 else { return x }
            let all = mean ? x.mean() : x.sum()
            return keep ? all.reshaped(Array(repeating: 1, count: x.rank)) : all
        }
        var result = x
        for dim in try Set(axes.map { try axis($0, rank: x.rank) }).sorted(by: >) {
            result = mean ? result.mean(dim: dim, keepDim: keep) : result.sum(dim: dim, keepDim: keep)
        }
        return result
    }
}
