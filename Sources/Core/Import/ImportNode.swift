/// A value flowing through an imported graph: a float tensor, or whole numbers of an integer
/// or bool type (token ids, masks, shapes, axes, indices — the shape arithmetic PyTorch's
/// exporters write), which keep their `ElementType`.
public enum GraphValue {
    case tensor(Tensor)
    case integers([Int], shape: [Int], type: ElementType = .int64)

    /// The value's shape.
    public var shape: [Int] {
        switch self {
        case .tensor(let tensor): return tensor.shape
        case .integers(_, let shape, _): return shape
        }
    }

    /// The value's element type.
    public var elementType: ElementType {
        switch self {
        case .tensor: return .float32
        case .integers(_, _, let type): return type
        }
    }

    /// The value as a float tensor (integers become whole-number floats).
    public var asTensor: Tensor {
        switch self {
        case .tensor(let tensor): return tensor
        case .integers(let values, let shape, _): return Tensor(values.map(Float.init), shape: shape)
        }
    }
}

/// An attribute of an imported node, independent of any file format.
public enum NodeAttribute {
    case int(Int)
    case ints([Int])
    case float(Float)
    case floats([Float])
    case string(String)
    case strings([String])
    case value(GraphValue)
}

/// An op of an imported graph could not be run: names the node, its type and the reason.
public struct ImportError: UserFacingError, Equatable {
    /// How the node is named in messages: `"name"` or `#index`.
    public var node: String
    public var opType: String
    public var reason: String

    public var description: String { "node \(node) (\(opType)): \(reason)" }
}

/// One node of an imported graph as ops see it: its ONNX op type, attributes and input values
/// (`nil` for an omitted optional input). `IO` builds it from protobuf; each op's file under
/// `Ops/` reads it (see `OpImport.table`).
public struct ImportNode {
    public var opType: String
    /// How messages name the node.
    public var label: String
    public var attributes: [String: NodeAttribute]
    public var inputs: [GraphValue?]
    /// Whether the graph runs in training mode: `BatchNormalization` then uses the batch's
    /// statistics and updates its running ones, as the PyTorch layer it came from would.
    public var isTraining: Bool
    /// The model's version of the default ONNX domain.
    public var opset: Int
    /// How many outputs the node names.
    public var outputCount: Int
    /// The element type the graph declares for each input, where it does (graph inputs,
    /// initializers, value_info, Cast outputs): float values compute as float32 whatever their
    /// declared type, so `CastLike` reads a bfloat16 or float8 target's type from here.
    public var declaredTypes: [ElementType?] = []
    /// An activation an inference graph fused into this node, for an importer that applies it
    /// to its output itself (`ImporterDeclaration.appliesFusedActivation`); others never see one.
    package var fusedActivation: FusedActivation?

    public init(
        opType: String, label: String, attributes: [String: NodeAttribute], inputs: [GraphValue?], isTraining: Bool = false,
        opset: Int = 21, outputCount: Int = 1
    ) {
        self.opType = opType
        self.label = label
        self.attributes = attributes
        self.inputs = inputs
        self.isTraining = isTraining
        self.opset = opset
        self.outputCount = outputCount
    }

    /// The error to throw for this node.
    public func fail(_ reason: String) -> ImportError {
        ImportError(node: label, opType: opType, reason: reason)
    }

    // MARK: Attributes

    public func int(_ name: String, default value: Int) -> Int {
        if case .int(let v)? = attributes[name] { return v }
        return value
    }

    public func float(_ name: String, default value: Float) -> Float {
        if case .float(let v)? = attributes[name] { return v }
        return value
    }

    public func ints(_ name: String) -> [Int]? {
        if case .ints(let v)? = attributes[name] { return v }
        return nil
    }

    public func string(_ name: String, default value: String) -> String {
        if case .string(let v)? = attributes[name] { return v }
        return value
    }

    public func strings(_ name: String) -> [String]? {
        if case .strings(let v)? = attributes[name] { return v }
        return nil
    }

    // MARK: Inputs

    /// Whether input `index` was given.
    public func has(_ index: Int) -> Bool { index < inputs.count && inputs[index] != nil }

    /// Input `index`, which must be present.
    public func value(_ index: Int) throws -> GraphValue {
        guard index < inputs.count, let value = inputs[index] else { throw fail("input \(index) is missing") }
        return value
    }

    /// Input `index` as a float tensor.
    public func tensor(_ index: Int) throws -> Tensor { try value(index).asTensor }

    /// Input `index` as constant integers (axes, shapes, bounds), or `nil` when omitted.
    public func integers(_ index: Int) throws -> [Int]? {
        guard has(index) else { return nil }
        switch inputs[index]! {
        case .integers(let values, _, _): return values
        case .tensor(let tensor) where tensor.creationOp == nil && !tensor.requiresGrad:
            let values = tensor.scalars
            guard values.allSatisfy({ $0 == $0.rounded() && abs($0) < 1e15 }) else { throw fail("input \(index) must hold integers") }
            return values.map { Int($0) }
        case .tensor:
            throw fail("input \(index) must be a constant (shapes, axes and bounds are read when the graph runs)")
        }
    }

    /// `value` (negative counts from the end) checked against `rank`.
    public func axis(_ value: Int, rank: Int) throws -> Int {
        let resolved = value < 0 ? value + rank : value
        guard resolved >= 0 && resolved < Swift.max(rank, 1) else { throw fail("axis \(value) is out of range for rank \(rank)") }
        return resolved
    }

    /// Whether every present input is integers: the node is shape arithmetic, and its result
    /// is integers too.
    public var isIntegerArithmetic: Bool {
        var any = false
        for case let value? in inputs {
            guard case .integers = value else { return false }
            any = true
        }
        return any
    }

    /// Input 0 with `shape` (of as many elements), as a view of the same values: a float
    /// tensor's storage is shared, whole numbers keep their type and values exactly.
    /// (Reshape, Flatten, Squeeze, Unsqueeze: no arithmetic, so no trip through floats.)
    public func reshapedInput(_ shape: [Int]) throws -> [GraphValue] {
        switch try value(0) {
        case .tensor(let tensor): return [.tensor(tensor.reshaped(shape))]
        case .integers(let values, _, let type): return [.integers(values, shape: shape, type: type)]
        }
    }

    /// Runs `body` on the inputs as tensors; when they were all integers, the result is
    /// turned back into integers of input 0's type, or of `resultType` (`bool` for a
    /// comparison) — exact for the values shapes, indices and masks hold.
    public func numeric(resultType: ElementType? = nil, _ body: ([Tensor]) throws -> Tensor) throws -> [GraphValue] {
        let tensors = try (0..<inputs.count).map { has($0) ? try tensor($0) : Tensor(scalar: 0) }
        let result = try body(tensors)
        guard isIntegerArithmetic else { return [.tensor(result)] }
        // Input 0's type: ONNX gives the operands of arithmetic one type, and the other inputs of
        // data-movement ops (axes, shapes, indices) do not decide the result's.
        let type = resultType ?? inputs.first??.elementType ?? .int64
        return [.integers(result.scalars.map { type.wrap(Int(saturating: $0)) }, shape: result.shape, type: type)]
    }

    /// A binary elementwise op with broadcasting, checked first; `resultType` as `numeric`'s.
    public func binary(resultType: ElementType? = nil, _ op: (Tensor, Tensor) -> Tensor) throws -> [GraphValue] {
        let (a, b) = (try value(0).shape, try value(1).shape)
        guard broadcastable(a, b) else { throw fail("shapes \(describe(a)) and \(describe(b)) cannot broadcast") }
        // Operands of one role: where a graph mixes whole-number types, the wider wins.
        let promoted = ElementType.promoted(try value(0).elementType, try value(1).elementType)
        return try numeric(resultType: resultType ?? promoted) { op($0[0], $0[1]) }
    }

    /// A unary elementwise op on a float input.
    public func unary(_ op: (Tensor) -> Tensor) throws -> [GraphValue] {
        [.tensor(op(try tensor(0)))]
    }
}

/// A function that runs one imported node.
public typealias OpImporter = @Sendable (ImportNode) throws -> [GraphValue]

extension Int {
    /// `value` truncated toward zero, saturated to Int's range (NaN is 0): whole-number
    /// arithmetic that went through float32 must not trap on a value past 2⁶³.
    public init(saturating value: Float) {
        if value.isNaN { self = 0 } else if value >= 9.223372e18 { self = .max } else if value <= -9.223372e18 { self = .min } else { self = Int(value.rounded(.towardZero)) }
    }
}
