// The one primitive behind ONNX's data-movement operators (Pad, Trilu, GatherElements,
// GatherND, ScatterND, ScatterElements, OneHot, TopK, Resize, ReverseSequence, Slice with
// negative steps, …): each output element is picked from — or, for a linear Resize, a
// weighted sum of — elements of the inputs, at positions worked out once when the node runs.
// Its backward is the same map read the other way (a scatter-add), so every operator built on
// it trains. Its ONNX form is the operator it was built for, which the imported graph keeps
// (a fine-tuned file is written back with its own nodes), so it has no export of its own.

/// `output[i] = Σₖ weight[i, k] · input[source[i, k]]` over the taps `k` of output `i` whose
/// source is not −1, or `fill` where none is; sources index the inputs' elements taken one
/// input after another, row-major. With one tap and no weights it is a pick.
struct ElementMap: DifferentiableFunction {
    let shape: [Int]
    let taps: Int
    let sources: [Int]
    let weights: [Float]?
    let fill: Float

    var name: String { "ElementMap" }

    func forward(_ inputs: [Tensor]) -> Tensor {
        let values = ElementMap.joined(inputs)
        let result = Tensor.uninitialized(shape)
        let out = result.storage.pointer
        for i in 0..<(sources.count / Swift.max(taps, 1)) {
            var total: Float = 0
            var any = false
            for k in 0..<taps {
                let source = sources[i * taps + k]
                guard source >= 0 else { continue }
                total += (weights?[i * taps + k] ?? 1) * values[source]
                any = true
            }
            out[i] = any ? total : fill
        }
        return result
    }

    /// Each output's gradient added into the elements it was taken from.
    func backward(_ gradient: Tensor, inputs: [Tensor], output: Tensor) -> [Tensor?] {
        var joined = [Float](repeating: 0, count: inputs.reduce(0) { $0 + $1.count })
        let g = gradient.storage.pointer
        for (position, source) in sources.enumerated() where source >= 0 {
            joined[source] += (weights?[position] ?? 1) * g[position / taps]
        }
        return ElementMap.split(joined, like: inputs)
    }

    /// The inputs' elements one after another.
    static func joined(_ inputs: [Tensor]) -> [Float] {
        inputs.count == 1 ? inputs[0].scalars : inputs.flatMap(\.scalars)
    }

    /// `joined` cut back into tensors shaped like `inputs` (`nil` where no gradient is needed).
    static func split(_ joined: [Float], like inputs: [Tensor]) -> [Tensor?] {
        var start = 0
        return inputs.map { input in
            defer { start += input.count }
            return input.requiresGrad ? Tensor(Array(joined[start..<(start + input.count)]), shape: input.shape) : nil
        }
    }
}

/// `output[target[j]] += input[j]` (targets −1 dropped): ScatterND and ScatterElements with
/// `reduction = "add"`. Its backward picks each input element's gradient from its target.
struct ElementScatterAdd: DifferentiableFunction {
    let shape: [Int]
    let targets: [Int]

    var name: String { "ElementScatterAdd" }

    func forward(_ inputs: [Tensor]) -> Tensor {
        let values = inputs[0].scalars
        var out = [Float](repeating: 0, count: shape.reduce(1, *))
        for (j, target) in targets.enumerated() where target >= 0 { out[target] += values[j] }
        return Tensor(out, shape: shape)
    }

    func backward(_ gradient: Tensor, inputs: [Tensor], output: Tensor) -> [Tensor?] {
        let g = gradient.scalars
        return [Tensor(targets.map { $0 >= 0 ? g[$0] : 0 }, shape: inputs[0].shape)]
    }
}

/// Row-major strides of `shape` (the element distance between neighbours along each axis).
package func rowMajorStrides(_ shape: [Int]) -> [Int] {
    var strides = [Int](repeating: 1, count: shape.count)
    for axis in stride(from: shape.count - 2, through: 0, by: -1) { strides[axis] = strides[axis + 1] * shape[axis + 1] }
    return strides
}

/// Calls `body` with every multi-index of `shape`, in row-major order.
package func forEachIndex(_ shape: [Int], _ body: ([Int]) throws -> Void) rethrows {
    guard !shape.contains(0) else { return }
    var index = [Int](repeating: 0, count: shape.count)
    while true {
        try body(index)
        var axis = shape.count - 1
        while axis >= 0 {
            index[axis] += 1
            if index[axis] < shape[axis] { break }
            index[axis] = 0
            axis -= 1
        }
        if axis < 0 { return }
    }
}

extension ImportNode {
    /// Elements of `values` (taken one after another, row-major) picked into `shape`: source
    /// −1 is `fill`. Whole numbers stay whole numbers of the first value's type (exactly, at
    /// any width); otherwise the result is a float tensor through `ElementMap`, so gradients
    /// flow back to the elements picked.
    func picked(from values: [GraphValue], sources: [Int], shape: [Int], fill: Double = 0) -> GraphValue {
        if values.allSatisfy({ if case .integers = $0 { return true } else { return false } }) {
            let joined = values.flatMap { value -> [Int] in if case .integers(let v, _, _) = value { return v } else { return [] } }
            let type = values.first?.elementType ?? .int64
            return .integers(sources.map { $0 < 0 ? type.wrap(Int(fill)) : joined[$0] }, shape: shape, type: type)
        }
        return .tensor(Tensor.apply(ElementMap(shape: shape, taps: 1, sources: sources, weights: nil, fill: Float(fill)), values.map(\.asTensor)))
    }
}
