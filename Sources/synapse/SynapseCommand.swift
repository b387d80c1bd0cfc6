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
        subcommands: [TrainCommand.self, InspectCommand.self, ExportCommand.self, ImportCommand.self, PredictCommand.self, FineTuneCommand.self, StressSaveCommand.self, CollectivesCheckCommand.self])

    /// Runs the command; errors from outside (files, arguments) print one line on standard
    /// error and exit 1, never a backtrace.
    static func main() {
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch let error as CheckpointError {
            fail("\(error)")
        } catch let error as ExampleDataError {
            fail("\(error)")
        } catch let error as ModelFileError {
            fail("\(error)")
        } catch let error as AtomicWriteError {
            fail("\(error)")
        } catch let error as TensorInputError {
            fail(error.message)
        } catch let error as UsageError {
            fail(error.message)
        } catch {
            exit(withError: error)
        }
    }

    static func fail(_ message: String) -> Never {
        FileHandle.standardError.write(Data("synapse: \(message)\n".utf8))
        Foundation.exit(1)
    }
}

/// A request that cannot be carried out as given (not a malformed command line).
struct UsageError: Error {
    let message: String
}
