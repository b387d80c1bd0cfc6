/// How imported ONNX nodes run: one table from op type to importer, gathered from the op
/// files (each op's importers live beside its forward, backward and export).
public enum OpImport {
    /// Every supported ONNX op type and its importer.
    public static let table: [String: OpImporter] = {
        let parts: [[String: OpImporter]] = [
            valueImporters, Tensor.arithmeticImporters, Tensor.matrixImporters, Tensor.reductionImporters,
            Tensor.reshapingImporters, Tensor.elementwiseImporters, Tensor.specialFunctionImporters,
            Tensor.selectionImporters, Tensor.indexingImporters, Tensor.softmaxImporters, Tensor.crossEntropyImporters,
            Tensor.convolutionImporters, Tensor.poolingImporters, Tensor.batchNormImporters, Tensor.layerNormImporters,
            Tensor.recurrenceImporters,
        ]
        var table: [String: OpImporter] = [:]
        for part in parts {
            table.merge(part) { _, _ in misuse("OpImport: an ONNX op type has two importers") }
        }
        return table
    }()

    /// Runs `node` with its importer; a node of an unknown type is an `ImportError`.
    public static func run(_ node: ImportNode) throws -> [GraphValue] {
        guard let importer = table[node.opType] else {
            throw node.fail("Synapse has no op for it (supported: \(table.keys.sorted().joined(separator: ", ")))")
        }
        return try importer(node)
    }
}
