import Core
/// Writes a file so that a crash at any instant leaves either the old file or the new one
/// whole: `write` fills a temporary file in the same folder, which is flushed to disk
/// (fsync) and renamed over `path`; the folder is synced so the rename itself survives.
enum AtomicFile {
    ///
    /// With `sealed`, the file (an HDF5 file with a user block, closed by the time `write`
    /// returns) gets its integrity record before it is synced and renamed. A successful write
    /// also removes temporary files of the same name left by processes that were killed
    /// mid-save (never one of a process still running).
    static func write(_ path: String, sealed: Bool = false, _ write: (_ temporaryPath: String) throws -> Void) throws {
        let (folder, name) = split(path)
        let temporary = "\(folder)/.\(name).tmp-\(getpid())"
        do {
            try write(temporary)
            if sealed { try IntegrityRecord.seal(temporary) }
            try sync(temporary, path: path)
            guard rename(temporary, path) == 0 else {
                throw AtomicWriteError(file: path, operation: "rename \(temporary) over it (\(errorText()))")
            }
        } catch {
            unlink(temporary)
            throw error
        }
        try? sync(folder, path: path)
        removeLeftovers(of: name, in: folder)
    }

    /// Deletes `.NAME.tmp-PID` files in `folder` whose process no longer exists.
    static func removeLeftovers(of name: String, in folder: String) {
        guard let directory = opendir(folder) else { return }
        defer { closedir(directory) }
        let prefix = ".\(name).tmp-"
        while let entry = readdir(directory) {
            let entryName = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            guard entryName.hasPrefix(prefix), let pid = Int32(entryName.dropFirst(prefix.count)), pid > 0,
                  pid != getpid(), kill(pid, 0) != 0, errno == ESRCH else { continue }
            unlink("\(folder)/\(entryName)")
        }
    }

    /// The folder (`.` when none) and the last component of `path`.
    static func split(_ path: String) -> (folder: String, name: String) {
        guard let slash = path.lastIndex(of: "/") else { return (".", path) }
        let folder = String(path[..<slash])
        return (folder.isEmpty ? "/" : folder, String(path[path.index(after: slash)...]))
    }

    private static func sync(_ target: String, path: String) throws {
        let descriptor = open(target, O_RDONLY)
        guard descriptor >= 0 else {
            throw AtomicWriteError(file: path, operation: "open \(target) to sync it (\(errorText()))")
        }
        defer { close(descriptor) }
        guard fsync(descriptor) == 0 else {
            throw AtomicWriteError(file: path, operation: "sync \(target) (\(errorText()))")
        }
    }

    private static func errorText() -> String { String(cString: strerror(errno)) }
}

/// A file could not be put in place: the operation that failed, for any kind of file
/// (checkpoints turn it into `CheckpointError.failed`; model files report it as it is).
public struct AtomicWriteError: Error, Equatable, CustomStringConvertible {
    public var file: String
    public var operation: String
    public var description: String { "cannot write \(file): \(operation) failed" }
}
