import Foundation
import FuzzDriver
import Synapse

/// A folder of this process's own (in /dev/shm when there is one) for the files a target
/// writes per input.
public final class FuzzScratch: @unchecked Sendable {
    public let folder: String

    public init(_ name: String) {
        let base = FileManager.default.fileExists(atPath: "/dev/shm") ? "/dev/shm" : NSTemporaryDirectory()
        folder = "\(base)/synapse-fuzz-\(name)-\(getpid())"
        try? FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    }

    /// Writes the input as `name` in the folder; returns its path.
    public func write(_ data: UnsafePointer<UInt8>, _ size: Int, as name: String) -> String {
        let path = folder + "/" + name
        let file = fopen(path, "wb")!
        fwrite(data, 1, size, file)
        fclose(file)
        return path
    }
}

/// Runs a loaded model on zeros of its declared input shapes (2 for a symbolic dimension),
/// when they are small; errors are expected, crashes are findings.
public func runOnZeros(_ model: GraphModel) {
    var feeds: [String: Tensor] = [:]
    for (name, shape) in model.inputs {
        let sizes = shape.map { $0 ?? 2 }
        guard sizes.count <= 4, sizes.allSatisfy({ $0 >= 0 && $0 <= 256 }), sizes.reduce(1, *) <= 1 << 16 else { return }
        feeds[name] = Tensor.zeros(sizes)
    }
    _ = try? model.run(feeds)
}

/// Runs libFuzzer on `test` with this process's arguments; returns its exit status.
public func runFuzzer(_ test: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt) -> CInt {
    synapse_fuzz_run(CommandLine.argc, CommandLine.unsafeArgv, test)
}

/// Runs `body` with the values a graph may make bounded to 2²⁰ scalars (real models get 2²⁸):
/// a legal but huge Pad or Resize is a typed error here, not minutes of a sanitized build.
public func withFuzzingBounds(_ body: () throws -> Void) rethrows {
    try OpImport.$largestMadeValue.withValue(1 << 20) { try body() }
}

/// Runs `body`, for which an error of type `E` (a reader's typed error) is an expected answer;
/// any other error is a finding and stops the fuzzer.
public func expecting<E: Error>(_: E.Type, _ body: () throws -> Void) {
    do {
        try body()
    } catch is E {
    } catch {
        fatalError("unexpected error type: \(error)")
    }
}
