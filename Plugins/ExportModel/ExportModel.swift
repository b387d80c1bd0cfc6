import Foundation
import PackagePlugin

/// `swift package export-model CHECKPOINT -o NAME [--embed]`: runs `synapse export` in the
/// package's folder.
@main
struct ExportModel: CommandPlugin {
    func performCommand(context: PluginContext, arguments: [String]) async throws {
        try runSynapse(context: context, verb: "export", arguments: arguments)
    }
}

/// Runs the `synapse` tool with `verb` and `arguments` in the package folder; a failure is
/// reported as the tool's own message.
func runSynapse(context: PluginContext, verb: String, arguments: [String]) throws {
    let tool = try context.tool(named: "synapse")
    let process = Process()
    process.executableURL = tool.url
    process.arguments = [verb] + arguments.filter { $0 != "--allow-writing-to-package-directory" }
    process.currentDirectoryURL = context.package.directoryURL
    try process.run()
    process.waitUntilExit()
    if process.terminationStatus != 0 {
        Diagnostics.error("synapse \(verb) failed (exit status \(process.terminationStatus))")
        throw PluginFailure(status: process.terminationStatus)
    }
}

struct PluginFailure: Error, CustomStringConvertible {
    let status: Int32
    var description: String { "synapse exited with status \(status)" }
}
