// ONNX's ten reductions over any set of axes (an input from opset 18, ReduceSum's from 13; an
// attribute before), built from Synapse's sum, mean, max and min and the elementwise ops, so
// each is differentiable; ReduceProd has its own backward. Reducing over an empty axis gives
// the reduction's identity (0 for sums, 1 for the product, −∞ for the maximum and log-sums,
// +∞ for the minimum), as ONNX says.

/// The product along one axis of `[outer, n, inner]`; d/dxₖ is the product of the others
/// (prefix times suffix, so a zero among them is handled exactly).
struct AxisProduct: DifferentiableFunction {
    let axis: Int
    let keepDim: Bool

    var name: String { "ReduceProd" }

    func forward(_ inputs: [Tensor]) -> Tensor {
        let x = inputs[0]
        let (outer, n, inner) = Kernels.split(x.shape, around: axis)
        let values = x.scalars
        var out = [Float](repeating: 1, count: outer * inner)
        for o in 0..<outer {
            for k in 0..<n {
                for i in 0..<inner { out[o * inner + i] *= values[(o * n + k) * inner + i] }
            }
        }
        var shape = x.shape
        if keepDim { shape[axis] = 1 } else { shape.remove(at: axis) }
        return Tensor(out, shape: shape)
    }

    func backward(_ gradient: Tensor, inputs: [Tensor], output: Tensor) -> [Tensor?] {
        let x = inputs[0]
        let (outer, n, inner) = Kernels.split(x.shape, around: axis)
        let (values, g) = (x.scalars, gradient.scalars)
        var result = [Float](repeating: 0, count: values.count)
        for o in 0..<outer {
            for i in 0..<inner {
                var prefix: Float = 1
                for k in 0..<n { result[(o * n + k) * inner + i] = prefix; prefix *= values[(o * n + k) * inner + i] }
                var suffix: Float = 1
                for k in stride(from: n - 1, through: 0, by: -1) {
                    let position = (o * n + k) * inner + i
                    result[position] *= suffix * g[o * inner + i]
                    suffix *= values[position]
                }
            }
        }
        return [Tensor(result, shape: x.shape)]
    }
}

extension Tensor {
    /// The reductions, with axes as an input or (before opset 18; ReduceSum before 13) an attribute.
    static let reductionImporters: [ImporterDeclaration] = {
        /// How one reduction is made: over one axis, and its value over nothing.
        struct Reduction {
            var along: (Tensor, Int, Bool) -> Tensor
            var identity: Float
            /// Applied elementwise before reducing and after (L2: x² then √).
            var before: ((Tensor) -> Tensor)? = nil
            var after: ((Tensor) -> Tensor)? = nil
        }
        @Sendable func reduction(_ opType: String) -> Reduction {
            switch opType {
            case "ReduceSum": Reduction(along: { $0.sum(dim: $1, keepDim: $2) }, identity: 0)
            case "ReduceMean": Reduction(along: { $0.mean(dim: $1, keepDim: $2) }, identity: .nan)
            case "ReduceMax": Reduction(along: { $0.max(dim: $1, keepDim: $2) }, identity: -.infinity)
            case "ReduceMin": Reduction(along: { $0.min(dim: $1, keepDim: $2) }, identity: .infinity)
            case "ReduceProd": Reduction(along: { $0.apply(AxisProduct(axis: $1, keepDim: $2)) }, identity: 1)
            case "ReduceL1": Reduction(along: { $0.sum(dim: $1, keepDim: $2) }, identity: 0, before: { $0.absComposed() })
            case "ReduceL2": Reduction(along: { $0.sum(dim: $1, keepDim: $2) }, identity: 0, before: { $0 * $0 }, after: { $0.sqrt() })
            case "ReduceSumSquare": Reduction(along: { $0.sum(dim: $1, keepDim: $2) }, identity: 0, before: { $0 * $0 })
            case "ReduceLogSum": Reduction(along: { $0.sum(dim: $1, keepDim: $2) }, identity: -.infinity, after: { $0.log() })
            default: Reduction(along: { $0.sum(dim: $1, keepDim: $2) }, identity: -.infinity)  // ReduceLogSumExp, below
            }
        }
        @Sendable func reduce(_ node: ImportNode) throws -> [GraphValue] {
            let input = try node.value(0)
            let shape = input.shape
            let keep = node.int("keepdims", default: 1) != 0
            var axes = try node.integers(1) ?? node.ints("axes") ?? []
            if axes.isEmpty {
                if node.int("noop_with_empty_axes", default: 0) != 0 { return [input] }
                axes = Array(0..<shape.count)
            }
            let dims = try Set(axes.map { try node.axis($0, rank: shape.count) }).sorted(by: >)
            var resultShape = shape
            for dim in dims { if keep { resultShape[dim] = 1 } else { resultShape.remove(at: dim) } }
            let rule = reduction(node.opType)
            // Over an empty axis: the identity, in the input's type (integers: its extreme value).
            if dims.contains(where: { shape[$0] == 0 }) || (shape.contains(0) && !dims.isEmpty) {
                let count = resultShape.reduce(1, *)
                if input.elementType.isInteger {
                    let value = rule.identity == .infinity ? (input.elementType == .bool ? 1 : Int.max) : rule.identity == -.infinity ? (input.elementType == .bool || input.elementType.isUnsigned ? 0 : Int.min) : Int(rule.identity)
                    return [.integers(Array(repeating: input.elementType.wrap(value), count: count), shape: resultShape, type: input.elementType)]
                }
                return [.tensor(Tensor(shape: resultShape, repeating: rule.identity))]
            }
            return try node.numeric { inputs in
                var x = inputs[0]
                if node.opType == "ReduceLogSumExp" {
                    // log Σ eˣ = m + log Σ e^(x − m), m the (constant) maximum: no overflow.
                    let m = Tensor.withoutGradients { dims.reduce(x.detached()) { $0.max(dim: $1, keepDim: true) } }
                    let m0 = Tensor(m.scalars.map { $0.isFinite ? $0 : 0 }, shape: m.shape)
                    let sums = dims.reduce((x - m0).exp()) { $0.sum(dim: $1, keepDim: keep) }
                    return sums.log() + m0.reshaped(resultShape)
                }
                if let before = rule.before { x = before(x) }
                if dims.isEmpty { return rule.after.map { $0(x) } ?? x }
                let reduced = dims.reduce(x) { rule.along($0, $1, keep) }
                return rule.after.map { $0(reduced) } ?? reduced
            }
        }
        // ReduceSum takes its axes as an input from opset 13, the others from 18 (an attribute before).
        return [
            ImporterDeclaration("ReduceSum", reads: ["keepdims", "noop_with_empty_axes"], run: reduce),
        ] + ["ReduceMean", "ReduceMax", "ReduceMin", "ReduceProd", "ReduceL1", "ReduceL2", "ReduceSumSquare", "ReduceLogSum", "ReduceLogSumExp"].map {
            ImporterDeclaration($0, opsets: 11...Int.max, reads: ["keepdims", "axes", "noop_with_empty_axes"], run: reduce)
        }
    }()
}

extension ElementType {
    /// Whether the type has no negative values (bool and the unsigned integers).
    public var isUnsigned: Bool { [.bool, .uint2, .uint4, .uint8, .uint16, .uint32, .uint64].contains(self) }
}
