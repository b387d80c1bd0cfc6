import ArgumentParser
import Foundation
import Synapse

/// Runs an example's command — what every example's `main.swift` calls: a problem with its
/// data, files or run (any `UserFacingError`) prints one line (`digits: …`) and exits 1;
/// command-line mistakes, `--help` and `--version` are ArgumentParser's.
public func runExample<Command: ParsableCommand>(_ command: Command.Type) -> Never {
    do {
        var parsed = try command.parseAsRoot()
        try parsed.run()
        exit(0)
    } catch let error as UserFacingError {
        FileHandle.standardError.write(Data("\(command.configuration.commandName ?? "example"): \(error)\n".utf8))
        exit(1)
    } catch {
        command.exit(withError: error)
    }
}
