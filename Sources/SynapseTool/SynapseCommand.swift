import ArgumentParser
import ExampleTasks
import Foundation
import Synapse

/// `synapse`: train the examples with checkpoints, and look inside checkpoint files.
@main
struct SynapseCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "synapse",
        abstract: "Train, checkpoint, resume and inspect Synapse models.",
        version: "synapse \(SynapseVersion.string) (BLAS: \(BLAS.configuration))",
        subcommands: [TrainCommand.self, InspectCommand.self, ExportCommand.self, ImportCommand.self, PredictCommand.self, BenchmarkCommand.self, FineTuneCommand.self, StressSaveCommand.self, CollectivesCheckCommand.self, OperatorTableCommand.self])

    /// Runs the command. Every error prints one line on standard error, never a backtrace:
    /// files, data and training that cannot go on (a damaged checkpoint, a full disk, a
    /// diverging run) exit 1; a command line that cannot be parsed exits 64 (EX_USAGE), with a
    /// pointer to `--help`.
    static func main() {
        var parsed: ParsableCommand?
        do {
            var command = try parseAsRoot()
            parsed = command
            try command.run()
        } catch let error as UserFacingError {
            fail("\(error)")
        } catch {
            let code = exitCode(for: error)
            // --help and --version print as ArgumentParser does.
            guard code != .success, parsed == nil else { exit(withError: error) }
            let message = self.message(for: error).split(separator: "\n").first.map(String.init) ?? "\(error)"
            let names = configuration.subcommands.map { $0.configuration.commandName ?? "" }
            let help = CommandLine.arguments.dropFirst().first { !$0.hasPrefix("-") }.flatMap { names.contains($0) ? "synapse \($0) --help" : nil }
                ?? "synapse --help"
            FileHandle.standardError.write(Data("synapse: \(message) (see \(help))\n".utf8))
            Foundation.exit(code.rawValue)
        }
    }

    static func fail(_ message: String) -> Never {
        FileHandle.standardError.write(Data("synapse: \(message)\n".utf8))
        Foundation.exit(1)
    }
}

/// A request that cannot be carried out as given (not a malformed command line).
struct UsageError: UserFacingError {
    let message: String
    var description: String { message }
}
