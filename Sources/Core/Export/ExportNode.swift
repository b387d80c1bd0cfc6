/// One node of an exported graph, in ONNX's vocabulary but independent of any file format:
/// `IO` turns these into protobuf. Each `Op` case maps to a few of them (`Op.exportNodes`).
public struct ExportNode: Equatable, Sendable {
    /// The ONNX operator (`Gemm`, `Add`, `Sigmoid`, …), default domain.
    public var opType: String
    /// Names of the values it reads; `""` marks an omitted optional input.
    public var inputs: [String]
    /// Names of the values it writes.
    public var outputs: [String]
    /// Its attributes by name.
    public var attributes: [String: ExportAttribute]

    public init(_ opType: String, _ inputs: [String], _ outputs: [String], _ attributes: [String: ExportAttribute] = [:]) {
        self.opType = opType
        self.inputs = inputs
        self.outputs = outputs
        self.attributes = attributes
    }
}

/// An attribute value.
public enum ExportAttribute: Equatable, Sendable {
    case int(Int)
    case ints([Int])
    case float(Float)
    case string(String)
    case strings([String])
}

/// A constant the mapping needs: a float tensor (a scalar factor) or int64 values (shapes,
/// axes, slice bounds).
public enum ExportConstant: Equatable, Sendable {
    case floats([Float], shape: [Int])
    case int64s([Int], shape: [Int])
}

/// Names fresh values and collects the constants a graph's nodes need.
public struct ExportContext {
    /// Constants by name, in creation order.
    public private(set) var constants: [(name: String, value: ExportConstant)] = []
    private var counter = 0

    public init() {}

    /// A name no other value has.
    public mutating func freshName(_ hint: String) -> String {
        counter += 1
        return "\(hint)_\(counter)"
    }

    /// A new constant's name.
    public mutating func constant(_ value: ExportConstant, hint: String) -> String {
        let name = freshName(hint)
        constants.append((name, value))
        return name
    }

    /// An int64 vector constant.
    public mutating func int64s(_ values: [Int], hint: String) -> String {
        constant(.int64s(values, shape: [values.count]), hint: hint)
    }

    /// A float scalar constant.
    public mutating func scalar(_ value: Float, hint: String) -> String {
        constant(.floats([value], shape: []), hint: hint)
    }
}
