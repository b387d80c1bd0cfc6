import Core

/// Version-1 files (Synapse 0.1) have no integrity record, and libhdf5 1.10 can crash or loop
/// forever on a damaged HDF5 file. Such a file is therefore read first in a child process:
/// if the child crashes, hangs past `timeout` or fails, the caller's process never hands the
/// file to libhdf5 and reports why instead. A whole file costs one extra read.
enum LegacyCheck {
    /// The child's exit status when the read threw an error (rather than crashing).
    static let typedFailureStatus: Int32 = 42

    /// How long the child may take for a file of `bytes` before it is killed and the file
    /// refused: 5 s plus 1 s per 50 MB (a whole 250 MB checkpoint reads in well under 1 s;
    /// libhdf5's loops on damaged files never end).
    static func timeoutSeconds(forFileOf bytes: UInt64) -> Double { 5 + Double(bytes) / 50e6 }

    /// Why the child's read of a file did not succeed.
    enum Outcome: Equatable {
        case succeeded
        /// The read threw an error (the caller's own read will throw the same one).
        case failed
        /// Killed by `signal` (or, negated, exited with a status other than the two expected).
        case crashed(signal: Int32)
        case timedOut
    }

    /// Runs `read` in a forked child and reports how it ended.
    static func probe(timeoutSeconds: Double, _ read: () throws -> Void) -> Outcome {
        let child = fork()
        if child == 0 {
            // The child: report by exit status only, run no atexit handlers.
            let ok = (try? read()) != nil
            _exit(ok ? 0 : typedFailureStatus)
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
        switch (status >> 8) & 0xFF {
        case 0: return .succeeded
        case typedFailureStatus: return .failed
        // Any other exit (an abort handler, a sanitizer's report) is a crash too.
        case let code: return .crashed(signal: -code)
        }
    }
}
