import ArgumentParser
import Foundation
import Synapse

/// `synapse _op-table [--update FORMAT.md]`: prints the table of supported ONNX operators made
/// from the importer declarations, or writes it into FORMAT.md between its markers
/// (`make op-table`). Hidden: a maintainer's tool.
struct OperatorTableCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "_op-table", abstract: "Print (or write into FORMAT.md) the table of supported ONNX operators.", shouldDisplay: false)

    @Option(help: "A FORMAT.md to update between its <!-- op-table --> markers.")
    var update: String?

    @Flag(help: "Print only the declared op types, one a line.")
    var list = false

    func run() throws {
        if list { return print(OpImport.declarations.map(\.opType).sorted().joined(separator: "\n")) }
        guard let update else { return print(OpImport.supportedOperatorTable) }
        guard let text = try? String(contentsOfFile: update, encoding: .utf8), let updated = OpImport.updatingOperatorTable(in: text) else {
            throw UsageError(message: "\(update): cannot be read, or has no <!-- op-table --> … <!-- /op-table --> markers")
        }
        try updated.write(toFile: update, atomically: true, encoding: .utf8)
        print("Updated the operator table in \(update) (\(OpImport.declarations.count) operators)")
    }
}
