extension OpImport {
    /// formats/FORMAT.md's table of the ONNX operators Synapse reads, made from the importer
    /// declarations and ONNX's schemas: `make op-table` writes it between the markers
    /// `<!-- op-table -->` and `<!-- /op-table -->`, and a test fails when the committed table
    /// differs.
    public static var supportedOperatorTable: String {
        var lines = [
            "\(declarations.count) operators of the default domain (ai.onnx). Opsets: those read; ONNX versions: the versions of the operator's schema in force there. Attributes read: implemented; every other attribute of the operator must be absent or hold its default. Trainable: gradients flow through the node.",
            "",
            "| operator | opsets | ONNX versions | attributes read | attributes only at their default | state inputs | trainable |",
            "| --- | --- | --- | --- | --- | --- | --- |",
        ]
        for declaration in declarations.sorted(by: { $0.opType < $1.opType }) {
            // The schema versions in force over the opsets read: the one at the oldest, and later ones.
            let lower = declaration.opsets.lowerBound
            let schemas = ONNXSchema.standard[declaration.opType] ?? []
            let inForce = schemas.filter { $0.since > lower || $0.since == schemas.last(where: { $0.since <= lower })?.since }
            let versions = inForce.map(\.since)
            let all = Set(inForce.flatMap(\.attributes.keys))
            let read = all.intersection(declaration.reads).sorted()
            let fixed = all.subtracting(declaration.reads).sorted()
            func list(_ names: [String]) -> String { names.isEmpty ? "—" : names.map { "`\($0)`" }.joined(separator: ", ") }
            lines.append(
                "| \(declaration.opType) | \(describe(declaration.opsets)) | \(versions.map(String.init).joined(separator: ", ")) | \(list(read)) | \(list(fixed)) | "
                    + (declaration.stateInputs.isEmpty ? "—" : declaration.stateInputs.sorted().map(String.init).joined(separator: ", "))
                    + " | \(declaration.differentiable ? "yes" : "no") |")
        }
        return lines.joined(separator: "\n")
    }

    /// `text` (FORMAT.md) with the part between the op-table markers replaced by the current
    /// table; `nil` when the markers are missing.
    public static func updatingOperatorTable(in text: String) -> String? {
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        guard let open = lines.firstIndex(of: "<!-- op-table -->"), let close = lines.firstIndex(of: "<!-- /op-table -->"), open < close else {
            return nil
        }
        lines.replaceSubrange((open + 1)..<close, with: supportedOperatorTable.split(separator: "\n", omittingEmptySubsequences: false).map(String.init))
        return lines.joined(separator: "\n")
    }
}
