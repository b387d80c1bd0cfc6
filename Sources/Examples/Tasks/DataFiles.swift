import Synapse
import Foundation

/// Where the example data sets live: `$SYNAPSE_DATA` when set, else the repository's `data/`
/// folder (found from this source file's path, so `swift run` and `swift test` work from
/// anywhere in the checkout).
public enum DataFiles {
    /// The folder that holds `digits/` and `text/`.
    public static var root: String {
        if let override = ProcessInfo.processInfo.environment["SYNAPSE_DATA"], !override.isEmpty {
            return override
        }
        return URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent()  // Tasks
            .deletingLastPathComponent()  // Examples
            .deletingLastPathComponent()  // Sources
            .deletingLastPathComponent()  // repository
            .appendingPathComponent("data").path
    }

    /// The text of `relativePath` under `root`.
    public static func read(_ relativePath: String) throws -> String {
        let path = root + "/" + relativePath
        do {
            return try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw ExampleDataError.unreadable(path: path, reason: error.localizedDescription)
        }
    }
}

/// A data file that is missing or malformed.
public enum ExampleDataError: UserFacingError {
    case unreadable(path: String, reason: String)
    case malformed(path: String, line: Int, expected: String)

    public var description: String {
        switch self {
        case let .unreadable(path, reason): "\(path): cannot read (\(reason))"
        case let .malformed(path, line, expected): "\(path):\(line): expected \(expected)"
        }
    }
}
