import Core

/// Runs one ONNX node with Synapse's ops: turns the protobuf node into Core's neutral
/// `ImportNode` and hands it to the op's importer (`OpImport.table`), which checks shapes and
/// attributes first, so that a foreign model never reaches an op's misuse check. Every
/// problem is a `ModelFileError` naming the node. A class: graphs hand their nodes around
/// on every run, and a reference is one retain where this struct's copy was a dozen.
final class NodeInterpreter {
    let node: Onnx_NodeProto
    let label: String
    let file: String
    /// The model's version of the default ONNX domain.
    let opset: Int
    /// The node's attributes in Core's vocabulary, converted once when the graph loads.
    let attributes: [String: NodeAttribute]
    /// The element types the graph declares for the node's inputs (nil where it does not).
    let declaredTypes: [ElementType?]
    /// The node's op type and output count (read from `node` once: a protobuf field read is a
    /// copy-on-write storage access).
    let opType: String
    let outputCount: Int
    /// The node checked against its importer and ONNX's schema, once (or why it fails, thrown
    /// when it runs: a graph with an unsupported node still loads, and tells when run).
    private let prepared: Result<PreparedImport, ModelFileError>

    init(node: Onnx_NodeProto, label: String, file: String, opset: Int, declaredTypes: [String: ElementType] = [:]) throws {
        let declared = node.input.map { declaredTypes[$0] }
        let attributes = try Self.convertedAttributes(node, label: label, file: file)
        (self.declaredTypes, self.node, self.label, self.file, self.opset) = (declared, node, label, file, opset)
        (self.attributes, opType, outputCount) = (attributes, node.opType, node.output.count)
        var blank = ImportNode(
            opType: node.opType, label: label, attributes: attributes, inputs: [GraphValue?](repeating: nil, count: node.input.count),
            opset: opset, outputCount: node.output.count)
        blank.declaredTypes = declared
        do {
            prepared = .success(try OpImport.prepare(blank))
        } catch let error as ImportError {
            prepared = .failure(.unsupported(file: file, node: error.node, opType: error.opType, reason: error.reason))
        } catch {
            prepared = .failure(.unsupported(file: file, node: label, opType: node.opType, reason: "\(error)"))
        }
    }

    /// Whether the node's importer applies a fused activation itself (`run(_:fusing:)`).
    var appliesFusedActivation: Bool {
        if case .success(let prepared) = prepared { return prepared.appliesFusedActivation }
        return false
    }

    private func importNode(inputs: [GraphValue?], isTraining: Bool = false) -> ImportNode {
        var imported = ImportNode(
            opType: opType, label: label, attributes: attributes, inputs: inputs, isTraining: isTraining, opset: opset,
            outputCount: outputCount)
        imported.declaredTypes = declaredTypes
        return imported
    }

    func fail(_ reason: String) -> ModelFileError {
        .unsupported(file: file, node: label, opType: opType, reason: reason)
    }

    /// The protobuf attributes in Core's vocabulary; graphs and sparse tensors are refused.
    private static func convertedAttributes(_ node: Onnx_NodeProto, label: String, file: String) throws -> [String: NodeAttribute] {
        func fail(_ reason: String) -> ModelFileError { .unsupported(file: file, node: label, opType: node.opType, reason: reason) }
        var result: [String: NodeAttribute] = [:]
        for attribute in node.attribute {
            var type = attribute.type
            if type == .undefined {
                if attribute.hasT { type = .tensor } else if attribute.hasF { type = .float } else if attribute.hasI { type = .int }
                else if attribute.hasS { type = .string } else if !attribute.ints.isEmpty { type = .ints }
                else if !attribute.floats.isEmpty { type = .floats } else if !attribute.strings.isEmpty { type = .strings }
            }
            switch type {
            case .int: result[attribute.name] = .int(Int(attribute.i))
            case .float: result[attribute.name] = .float(attribute.f)
            case .ints: result[attribute.name] = .ints(attribute.ints.map { Int($0) })
            case .floats: result[attribute.name] = .floats(attribute.floats)
            case .string: result[attribute.name] = .string(String(decoding: attribute.s, as: UTF8.self))
            case .strings: result[attribute.name] = .strings(attribute.strings.map { String(decoding: $0, as: UTF8.self) })
            case .tensor:
                result[attribute.name] = .value(
                    try ModelFile.tensorValue(attribute.t, file: file, place: "node \(label) attribute \(attribute.name)", external: nil))
            default: throw fail("attribute \(attribute.name) has a type Synapse does not read (\(type))")
            }
        }
        return result
    }

    /// Runs the node on its input values; `activation`, for a node whose importer
    /// `appliesFusedActivation`, is applied to its output by the importer.
    func run(_ inputs: [GraphValue?], isTraining: Bool = false, fusing activation: FusedActivation? = nil) throws -> [GraphValue] {
        do {
            var node = importNode(inputs: inputs, isTraining: isTraining)
            node.fusedActivation = activation
            return try OpImport.run(consume node, prepared: prepared.get())
        } catch let error as ImportError {
            throw ModelFileError.unsupported(file: file, node: error.node, opType: error.opType, reason: error.reason)
        }
    }
}
