/// An ONNX importer, declared: which operator it reads, at which opsets, which of the
/// operator's attributes it implements, which inputs are state, and the body that runs a node.
///
/// Before the body runs, the interpreter checks the node against the declaration and against
/// ONNX's own schema of the operator at the model's opset (`ONNXSchema`, generated from the
/// `onnx` package): the input count (no extra input is ignored silently, required inputs are
/// there), the output count, every attribute's name and type, required attributes present,
/// and every attribute the importer does not implement absent or at its default. A malformed
/// node is therefore an `ImportError` naming the node and the rule, and a body reads attributes
/// the schema guarantees (`node.int("axis")` gets the schema's default when absent).
///
/// Each op file declares its importers beside the op's forward, backward and export:
///
///     static let softmaxImporters = [
///         ImporterDeclaration("Softmax", reads: ["axis"]) { node in … },
///     ]
///
/// `OpImport.table` gathers them; formats/FORMAT.md's table of supported operators is made
/// from the declarations (`make op-table`), and a test fails when it is stale.
public struct ImporterDeclaration: Sendable {
    /// The ONNX operator (default domain).
    public let opType: String
    /// The opsets read: from 13 (the oldest Synapse reads) through the newest by default.
    public let opsets: ClosedRange<Int>
    /// The attributes the body implements; any other attribute of the operator must be absent
    /// or hold its default.
    public let reads: Set<String>
    /// Inputs that are state rather than weights (BatchNormalization's running mean and
    /// variance): initializers that feed them load as buffers, saved but never trained.
    public let stateInputs: Set<Int>
    /// Whether gradients flow through the node (false for constants and shape arithmetic).
    public let differentiable: Bool
    /// Runs a node that passed the checks.
    public let run: OpImporter
    /// Whether the body applies `ImportNode.fusedActivation` to its output itself (in its
    /// kernels' epilogues); an inference graph applies a fused activation after other nodes.
    package private(set) var appliesFusedActivation = false

    public init(
        _ opType: String, opsets: ClosedRange<Int> = 13...Int.max, reads: Set<String> = [], stateInputs: Set<Int> = [],
        differentiable: Bool = true, run: @escaping OpImporter
    ) {
        (self.opType, self.opsets, self.reads, self.stateInputs, self.differentiable, self.run) =
            (opType, opsets, reads, stateInputs, differentiable, run)
    }

    /// This declaration, with a body that applies `ImportNode.fusedActivation` itself.
    package func applyingFusedActivation() -> ImporterDeclaration {
        var declaration = self
        declaration.appliesFusedActivation = true
        return declaration
    }

    /// The checks that depend on the node alone (opset, input and output counts, attributes),
    /// made once: an imported graph runs each node many times with the same attributes.
    func prepared(_ node: ImportNode) throws -> PreparedImport {
        guard opsets.contains(node.opset) else {
            throw node.fail("opset \(node.opset) is outside the opsets Synapse reads for \(opType) (\(describe(opsets)))")
        }
        guard let schema = ONNXSchema.schema(opType, opset: node.opset) else {
            throw node.fail("ONNX defines no \(opType) at opset \(node.opset)")
        }
        guard node.inputs.count <= schema.inputs.upperBound else {
            throw node.fail("it has \(node.inputs.count) inputs; \(opType) takes \(describe(schema.inputs)) at opset \(node.opset)")
        }
        guard schema.outputs.contains(node.outputCount) else {
            throw node.fail("it has \(node.outputCount) outputs; \(opType) gives \(describe(schema.outputs)) at opset \(node.opset)")
        }
        var filled = node.attributes
        for (name, value) in node.attributes.sorted(by: { $0.key < $1.key }) {
            guard let rule = schema.attributes[name] else {
                throw node.fail("attribute \(name) is not an attribute of \(opType) at opset \(node.opset) (it has \(schema.attributes.keys.sorted().joined(separator: ", ")))")
            }
            guard rule.kind.matches(value) else { throw node.fail("attribute \(name) must be \(rule.kind.phrase)") }
            if !reads.contains(name), !(rule.defaultValue.map { $0.equals(value) } ?? false) {
                throw node.fail("attribute \(name) = \(describe(value)) is not supported" + (rule.defaultValue.map { " (Synapse reads only its default, \(describe($0.attribute)))" } ?? ""))
            }
        }
        for (name, rule) in schema.attributes.sorted(by: { $0.key < $1.key }) where node.attributes[name] == nil {
            if rule.required { throw node.fail("attribute \(name) is required") }
            if let value = rule.defaultValue { filled[name] = value.attribute }
        }
        return PreparedImport(declaration: self, schema: schema, attributes: filled)
    }
}

/// A node checked against its declaration and schema as far as its attributes and counts go
/// (`OpImport.prepare`): what remains to check when it runs is its input values. A class:
/// a node runs with it every time, and handing it on is one retain, not one per field.
public final class PreparedImport {
    let declaration: ImporterDeclaration
    let schema: ONNXSchema
    /// The node's attributes with the schema's defaults filled in.
    let attributes: [String: NodeAttribute]

    init(declaration: ImporterDeclaration, schema: ONNXSchema, attributes: [String: NodeAttribute]) {
        (self.declaration, self.schema, self.attributes) = (declaration, schema, attributes)
    }
    /// Whether the importer applies `ImportNode.fusedActivation` itself.
    package var appliesFusedActivation: Bool { declaration.appliesFusedActivation }

    /// `node` (the one prepared, now with its input values) with the defaults filled in,
    /// after checking that its required inputs are given and of types ONNX allows. The node is
    /// consumed: its attributes are replaced in place, not copied with the rest of it.
    func checked(_ node: consuming ImportNode) throws -> ImportNode {
        // Index loops, not closures over the node: a closure capturing it copies it.
        for index in 0..<schema.inputs.lowerBound where !node.has(index) { throw node.fail("input \(index) is required") }
        for index in node.inputs.indices {
            if let value = node.inputs[index], let problem = schema.typeProblem(value, input: index) { throw node.fail(problem) }
        }
        node.attributes = attributes
        return node
    }
}

/// What ONNX's standard says of one version of an operator: generated from the `onnx`
/// package into `ONNXSchemas.swift` (`make onnx-schemas`).
public struct ONNXSchema: Sendable {
    /// One attribute: its type, its default (when the standard gives one) and whether a node
    /// must give it.
    public struct Attribute: Sendable {
        public let kind: AttributeKind
        public let defaultValue: AttributeDefault?
        public let required: Bool

        init(_ kind: AttributeKind, _ defaultValue: AttributeDefault?, required: Bool) {
            (self.kind, self.defaultValue, self.required) = (kind, defaultValue, required)
        }
    }

    /// The opset version in which this version of the operator was introduced.
    public let since: Int
    public let inputs: ClosedRange<Int>
    public let outputs: ClosedRange<Int>
    public let attributes: [String: Attribute]
    /// Per formal input (the last one repeats for variadic inputs), the element types ONNX
    /// allows there among those Synapse has (empty: any).
    public let inputTypes: [[ElementType]]

    init(since: Int, inputs: ClosedRange<Int>, outputs: ClosedRange<Int>, attributes: [String: Attribute], inputTypes: [[ElementType]] = []) {
        (self.since, self.inputs, self.outputs, self.attributes, self.inputTypes) = (since, inputs, outputs, attributes, inputTypes)
    }

    /// Why `value` cannot be input `index`, or `nil`. Float values compute as float32, which
    /// stands for every float type (float16 and float64 are converted at the edges) and for
    /// bool (a mask computed by a comparison of floats is a float tensor of 0 and 1).
    func typeProblem(_ value: GraphValue, input index: Int) -> String? {
        guard !inputTypes.isEmpty else { return nil }
        let allowed = inputTypes[Swift.min(index, inputTypes.count - 1)]
        let type = value.elementType
        guard !allowed.isEmpty, !allowed.contains(type) else { return nil }
        if type == .float32 && allowed.contains(where: { $0.isFloat || $0 == .bool }) { return nil }
        return "input \(index) is \(type.name); it takes \(allowed.map(\.name).joined(separator: ", "))"
    }

    /// The version of `opType` in force at `opset`, or `nil` when ONNX has none.
    public static func schema(_ opType: String, opset: Int) -> ONNXSchema? {
        standard[opType]?.last { $0.since <= opset }
    }
}

/// ONNX's attribute types.
public enum AttributeKind: String, Sendable {
    case int, ints, float, floats, string, strings, tensor, graph, sparseTensor, typeProto, graphs, tensors

    func matches(_ value: NodeAttribute) -> Bool {
        switch (self, value) {
        case (.int, .int), (.ints, .ints), (.float, .float), (.floats, .floats), (.string, .string), (.strings, .strings),
             (.tensor, .value):
            return true
        // An empty list attribute carries no type of its own in the protobuf.
        case (.ints, .floats([])), (.floats, .ints([])), (.strings, .ints([])), (.ints, .strings([])):
            return true
        default:
            return false
        }
    }

    var phrase: String {
        switch self {
        case .int: "an integer"
        case .ints: "a list of integers"
        case .float: "a float"
        case .floats: "a list of floats"
        case .string: "a string"
        case .strings: "a list of strings"
        case .tensor: "a tensor"
        default: "a \(rawValue)"
        }
    }
}

/// A default value from ONNX's schema.
public enum AttributeDefault: Sendable, Equatable {
    case int(Int)
    case ints([Int])
    case float(Float)
    case floats([Float])
    case string(String)
    case strings([String])

    var attribute: NodeAttribute {
        switch self {
        case .int(let v): .int(v)
        case .ints(let v): .ints(v)
        case .float(let v): .float(v)
        case .floats(let v): .floats(v)
        case .string(let v): .string(v)
        case .strings(let v): .strings(v)
        }
    }

    func equals(_ value: NodeAttribute) -> Bool {
        switch (self, value) {
        case let (.int(a), .int(b)): a == b
        case let (.ints(a), .ints(b)): a == b
        case let (.float(a), .float(b)): a == b
        case let (.floats(a), .floats(b)): a == b
        case let (.string(a), .string(b)): a == b
        case let (.strings(a), .strings(b)): a == b
        default: false
        }
    }
}

/// `13...21`, `13 and later`.
func describe(_ range: ClosedRange<Int>) -> String {
    range.upperBound == .max ? "\(range.lowerBound) and later" : range.lowerBound == range.upperBound ? "\(range.lowerBound)" : "\(range.lowerBound)...\(range.upperBound)"
}

/// An attribute's value as messages show it.
func describe(_ value: NodeAttribute) -> String {
    switch value {
    case .int(let v): "\(v)"
    case .ints(let v): "\(v)"
    case .float(let v): "\(v)"
    case .floats(let v): "\(v)"
    case .string(let v): "\"\(v)\""
    case .strings(let v): "\(v)"
    case .value: "a tensor"
    }
}
