import Core

/// Version-1 files (Synapse 0.1) have no integrity record, and libhdf5 1.10 can crash or loop
/// forever on a damaged HDF5 file. Such a file is therefore read first in a child process:
/// if the child crashes, hangs past `timeout` or fails, the caller's process never hands the
/// file to libhdf5 and reports why instead. A whole file costs one extra read.
enum LegacyCheck {
    /// How long the child may take before it is killed and the file refused.
    static let timeoutSeconds = 60.0

    /// Why the child's read of a file did not succeed.
    enum Outcome: Equatable {
        case succeeded
        /// The read threw an error (the caller's own read will throw the same one).
        case failed
        case crashed(signal: Int32)
        case timedOut
    }

    /// Runs `read` in a forked child and reports how it ended.
    static func probe(_ read: () throws -> Void) -> Outcome {
        let child = fork()
        if child == 0 {
            // The child: report by exit status only, run no atexit handlers.
            let ok = (try? read()) != nil
            _exit(ok ? 0 : 1)
        }
        guard child > 0 else { return .failed }
        var status: Int32 = 0
        var waited: UInt32 = 0  // microseconds
        var pause: UInt32 = 50  // doubling to 10 ms: small files answer within a fraction of a millisecond
        while waitpid(child, &status, WNOHANG) == 0 {
            if Double(waited) >= timeoutSeconds * 1e6 {
                kill(child, SIGKILL)
                waitpid(child, &status, 0)
                return .timedOut
            }
            usleep(pause)
            waited += pause
            pause = Swift.min(pause * 2, 10_000)
        }
        let signal = status & 0x7F
        if signal != 0 { return .crashed(signal: signal) }
        return (status >> 8) & 0xFF == 0 ? .succeeded : .failed
    }
}
