/// How imported ONNX nodes run: one table from op type to importer, gathered from the op
/// files (each op's importers live beside its forward, backward and export).
public enum OpImport {
    /// Every declared importer, from the op files (each op's importers live beside its
    /// forward, backward and export). Two declarations of one op type are a programming
    /// error, found by the test that walks this list.
    public static let declarations: [ImporterDeclaration] = [
        valueImporters, Tensor.arithmeticImporters, Tensor.matrixImporters, Tensor.reductionImporters,
        Tensor.reshapingImporters, Tensor.elementwiseImporters, Tensor.specialFunctionImporters,
        Tensor.selectionImporters, Tensor.indexingImporters, Tensor.softmaxImporters, Tensor.crossEntropyImporters,
        Tensor.convolutionImporters, Tensor.poolingImporters, Tensor.batchNormImporters, Tensor.layerNormImporters,
        Tensor.recurrenceImporters, Tensor.composedImporters,
        Tensor.mathFunctionImporters, Tensor.binaryFunctionImporters, Tensor.rearrangingImporters, Tensor.gatherScatterImporters,
        Tensor.orderingImporters, Tensor.normalizationImporters, Tensor.einsumImporters, Tensor.resizeImporters, Tensor.convTransposeImporters,
        Tensor.attentionImporters, Tensor.positionAndSignalImporters, Tensor.quantizationImporters, Tensor.determinantImporters,
        Tensor.unpoolingImporters, Tensor.uniqueImporters, Tensor.nonMaxSuppressionImporters, Tensor.spectralImporters,
        Tensor.gridSamplingImporters, Tensor.bitCastImporters, Tensor.quantizedLinearImporters,
    ].flatMap { $0 }

    /// The declarations by op type (the first of two, should a test not have caught them).
    public static let table: [String: ImporterDeclaration] = Dictionary(declarations.map { ($0.opType, $0) }, uniquingKeysWith: { a, _ in a })

    /// Checks `node` against its op's declaration and ONNX's schema, then runs it; a node of
    /// an unknown type, or one that breaks a rule, is an `ImportError` naming the rule.
    public static func run(_ node: ImportNode) throws -> [GraphValue] {
        try run(node, prepared: prepare(node))
    }

    /// The checks of `run` that depend on the node's type, opset, attributes and counts, not
    /// on its input values: made once for a node that runs many times.
    public static func prepare(_ node: ImportNode) throws -> PreparedImport {
        guard let declaration = table[node.opType] else {
            throw node.fail("Synapse has no op for it (supported: \(table.keys.sorted().joined(separator: ", ")))")
        }
        return try declaration.prepared(node)
    }

    /// Runs `node` (with the attributes and counts `prepared` was made from) after checking
    /// its input values.
    public static func run(_ node: consuming ImportNode, prepared: PreparedImport) throws -> [GraphValue] {
        try prepared.declaration.run(try prepared.checked(node))
    }
}
