// Importers of nodes that make or convert values rather than compute with tensors:
// constants, casts and the shape arithmetic PyTorch's exporters write
// (Shape → Gather → Unsqueeze → Concat → Reshape, ConstantOfShape, Range). No `Op` case
// corresponds to them: they become constants or integers when a graph is loaded or run.

extension OpImport {
    /// The most scalars a value made from a shape (ConstantOfShape, Expand, Tile, Range, a
    /// padded or resized output) may have: 2²⁸ (1 GiB of float32), so a graph cannot make the
    /// reader allocate without bound. The fuzzers lower it for a scope (`$largestMadeValue.withValue`)
    /// so that no input spends minutes of a sanitized build filling a legal but huge value.
    @TaskLocal public static var largestMadeValue = 1 << 28

    static let valueImporters: [ImporterDeclaration] = [
        ImporterDeclaration("Identity", opsets: 1...Int.max) { node in [try node.value(0)] },
        // The identity with an all-true mask, unless training_mode is true and the ratio is not
        // 0: then y = x · m / (1 − ratio) with m drawn from Synapse's generator (a training-mode
        // export; its values cannot match another framework's random draws). The ratio is an
        // input from opset 12, an attribute before.
        ImporterDeclaration("Dropout", opsets: 7...Int.max, reads: ["seed", "ratio"]) { node in
            let x = try node.value(0)
            let training = (try node.integers(2)?.first ?? 0) != 0
            let ratio = node.has(1) ? (try node.tensor(1).scalars.first ?? 0.5) : node.float("ratio", default: 0.5)
            guard ratio >= 0 && ratio < 1 else { throw node.fail("ratio must be in [0, 1), got \(ratio)") }
            guard training && ratio > 0 else {
                return [x, .integers(Array(repeating: 1, count: x.shape.reduce(1, *)), shape: x.shape, type: .bool)][..<node.outputCount].map { $0 }
            }
            let keep = Tensor.uniform(x.shape).scalars.map { $0 >= ratio ? Float(1) : 0 }
            let y = GraphValue.tensor(x.asTensor * Tensor(keep.map { $0 / (1 - ratio) }, shape: x.shape))
            return [y, .integers(keep.map { Int($0) }, shape: x.shape, type: .bool)][..<node.outputCount].map { $0 }
        },
        ImporterDeclaration("Constant", opsets: 9...Int.max, reads: ["value", "value_float", "value_floats", "value_int", "value_ints"], differentiable: false) { node in
            switch node.attributes["value"] ?? node.attributes["value_float"] ?? node.attributes["value_floats"]
                ?? node.attributes["value_int"] ?? node.attributes["value_ints"] {
            case .value(let value)?: return [value]
            case .float(let f)?: return [.tensor(Tensor(scalar: f))]
            case .floats(let fs)?: return [.tensor(Tensor(fs))]
            case .int(let i)?: return [.integers([i], shape: [])]
            case .ints(let values)?: return [.integers(values, shape: [values.count])]
            default: throw node.fail("only value, value_float(s) and value_int(s) constants are supported")
            }
        },
        ImporterDeclaration("Cast", opsets: 6...Int.max, reads: ["to", "saturate", "round_mode"], differentiable: false) { node in
            let to = node.int("to", default: 1)
            guard let type = ElementType(rawValue: to) else {
                throw node.fail("cast to data type \(to) (float8e8m0, strings and complex types are not read)")
            }
            return [try node.cast(try node.value(0), to: type, saturate: node.int("saturate", default: 1) != 0)]
        },
        // Cast to the type of input 1 (only its type is read).
        ImporterDeclaration("CastLike", opsets: 15...Int.max, reads: ["saturate", "round_mode"], differentiable: false) { node in
            let computed = try node.value(1).elementType
            let like = (node.declaredTypes.count > 1 ? node.declaredTypes[1] : nil) ?? computed
            return [try node.cast(try node.value(0), to: like, saturate: node.int("saturate", default: 1) != 0)]
        },
        ImporterDeclaration("Shape", reads: ["start", "end"], differentiable: false) { node in
            let shape = try node.value(0).shape
            func bound(_ value: Int) -> Int { Swift.min(Swift.max(value < 0 ? value + shape.count : value, 0), shape.count) }
            let start = bound(node.int("start", default: 0))
            let end = bound(node.int("end", default: shape.count))
            let part = Array(shape[start..<Swift.max(start, end)])
            return [.integers(part, shape: [part.count])]
        },
        ImporterDeclaration("Size", differentiable: false) { node in [.integers([try node.value(0).shape.reduce(1, *)], shape: [])] },
        ImporterDeclaration("ConstantOfShape", reads: ["value"], differentiable: false) { node in
            let shape = try node.integers(0) ?? []
            guard let count = elementCount(shape), count <= largestMadeValue else {
                throw node.fail("shape \(describe(shape)) is negative or too large")
            }
            switch node.attributes["value"] {
            case nil: return [.tensor(Tensor.zeros(shape))]
            case .value(.integers(let values, _, let type))?:
                guard values.count == 1 else { throw node.fail("value must hold one element") }
                return [.integers(Array(repeating: values[0], count: count), shape: shape, type: type)]
            case .value(.tensor(let tensor))?:
                guard tensor.count == 1 else { throw node.fail("value must hold one element") }
                return [.tensor(Tensor(shape: shape, repeating: tensor.scalars[0]))]
            default: throw node.fail("value must be a one-element tensor")
            }
        },
        ImporterDeclaration("Range", differentiable: false) { node in
            let values = try (0..<3).map { try node.value($0) }
            let numbers = try values.map { value -> Double in
                let scalars = value.asTensor.scalars
                guard scalars.count == 1 else { throw node.fail("start, limit and delta must be scalars") }
                if case .integers(let i, _, _) = value { return Double(i[0]) }
                return Double(scalars[0])
            }
            let (start, limit, delta) = (numbers[0], numbers[1], numbers[2])
            guard delta != 0, delta.isFinite, start.isFinite, limit.isFinite else { throw node.fail("delta must be finite and non-zero") }
            let steps = ((limit - start) / delta).rounded(.up)
            guard steps.isFinite, steps <= Double(largestMadeValue) else { throw node.fail("\(steps) elements is too many") }
            let count = Swift.max(Int(steps), 0)
            let sequence = (0..<count).map { start + Double($0) * delta }
            if node.isIntegerArithmetic { return [.integers(sequence.map { Int($0) }, shape: [count], type: values[0].elementType)] }
            return [.tensor(Tensor(sequence.map { Float($0) }, shape: [count]))]
        },
    ]
}

extension ImportNode {
    /// `value` as `type`: floats stay float tensors, rounded to `type`'s grid (float16,
    /// bfloat16, float8 and float4 compute in float32 but hold only their values; `saturate`
    /// as ONNX's); integers are wrapped to the target's width, as ONNX's Cast does; floats
    /// become whole numbers truncated toward zero (bool: non-zero is 1; NaN and out-of-range
    /// values int64's minimum, wrapped; to a 4- or 2-bit type, 0 when out of its range, as
    /// ONNX's reference gives). No gradient flows through a cast to a whole-number type.
    func cast(_ value: GraphValue, to type: ElementType, saturate: Bool = true) throws -> GraphValue {
        if type.isFloat {
            let tensor = value.asTensor
            guard type != .float32 && type != .float64 else { return .tensor(tensor) }
            return .tensor(Tensor(tensor.scalars.map { type.rounded($0, saturate: saturate) }, shape: tensor.shape))
        }
        switch value {
        case let .integers(values, shape, _):
            return .integers(values.map(type.wrap), shape: shape, type: type)
        case .tensor(let tensor):
            if type.bitWidth <= 4 && type != .bool {
                let range = type.isUnsigned ? 0...((1 << type.bitWidth) - 1) : -(1 << (type.bitWidth - 1))...((1 << (type.bitWidth - 1)) - 1)
                return .integers(tensor.scalars.map { value in
                    guard value.isFinite, abs(value) < 1e9, range.contains(Int(value.rounded(.towardZero))) else { return 0 }
                    return Int(value.rounded(.towardZero))
                }, shape: tensor.shape, type: type)
            }
            // NaN and values out of int64's range become int64's minimum (what x86's conversion
            // gives, and so onnxruntime and PyTorch): T5's relative-position buckets cast the
            // log of 0 and then discard it with a Where.
            return .integers(tensor.scalars.map { value in
                if type == .bool { return value != 0 ? 1 : 0 }
                return type.wrap(value.isNaN || abs(value) >= 9.2e18 ? Int.min : Int(value.rounded(.towardZero)))
            }, shape: tensor.shape, type: type)
        }
    }
}
