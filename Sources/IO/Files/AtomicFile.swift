import Core

/// Writes a file so that a crash, a full disk or any other failure at any instant leaves
/// either the old file or the new one whole, and no temporary file behind.
///
/// Every writer builds the whole file in memory first (an HDF5 file through libhdf5's core
/// driver, a protobuf, a record), then hands the bytes here: they go to a temporary file in
/// the same folder with checked `write` calls, are flushed to disk (`fsync`) and renamed over
/// `path`, and the folder is synced so that the rename itself survives a power cut. libhdf5
/// never owns a file on disk, so a write that fails half way (no space left) leaves libhdf5's
/// state clean: before this, a failed flush left a half-closed file in libhdf5 that crashed the
/// process at exit (`H5F__close_cb` from `H5_term_library`).
enum AtomicFile {
    /// Writes `bytes` to `path` atomically; `reportAs` is the name errors give (the user's
    /// path, never the temporary file's). A successful write also removes temporary files of
    /// the same name left by processes that were killed mid-save (never one of a process
    /// still running).
    static func write(_ bytes: UnsafeRawBufferPointer, to path: String, reportAs: String? = nil) throws(AtomicWriteError) {
        let report = reportAs ?? path
        let (folder, name) = split(path)
        let temporary = "\(folder)/.\(name).tmp-\(getpid())"
        let descriptor = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { throw AtomicWriteError(file: report, reason: creationFailure(errno, folder: folder)) }
        do throws(AtomicWriteError) {
            var done = 0
            while done < bytes.count {
                let wrote = Glibc.write(descriptor, bytes.baseAddress! + done, bytes.count - done)
                if wrote < 0 && errno == EINTR { continue }
                guard wrote > 0 else {
                    throw AtomicWriteError(
                        file: report,
                        reason: "\(systemReason(wrote < 0 ? errno : ENOSPC)) (wrote \(UInt64(done).grouped) of \(UInt64(bytes.count).grouped) bytes)")
                }
                done += wrote
            }
            guard fsync(descriptor) == 0 else {
                throw AtomicWriteError(file: report, reason: "\(systemReason(errno)) (while flushing \(UInt64(bytes.count).grouped) bytes to disk)")
            }
            let closed = close(descriptor)
            guard closed == 0 else { throw AtomicWriteError(file: report, reason: systemReason(errno)) }
        } catch {
            close(descriptor)
            unlink(temporary)
            throw error
        }
        guard rename(temporary, path) == 0 else {
            let reason = systemReason(errno)
            unlink(temporary)
            throw AtomicWriteError(file: report, reason: "cannot rename the new file into place (\(reason))")
        }
        syncFolder(folder)
        removeLeftovers(of: name, in: folder)
    }

    /// `write(_:to:reportAs:)` for an array.
    static func writeBytes(_ bytes: [UInt8], to path: String, reportAs: String? = nil) throws(AtomicWriteError) {
        var failure: AtomicWriteError?
        bytes.withUnsafeBytes { buffer in
            do throws(AtomicWriteError) { try write(buffer, to: path, reportAs: reportAs) } catch { failure = error }
        }
        if let failure { throw failure }
    }

    /// Checks that a file can be created at `path` — the folder exists, is writable, and is not
    /// on a read-only file system — by creating and removing a probe file beside it. Training
    /// calls it before the first step, so a bad checkpoint location is found in a second, not
    /// at the first save hours later.
    static func checkWritable(_ path: String, reportAs: String? = nil) throws(AtomicWriteError) {
        let (folder, name) = split(path)
        let probe = "\(folder)/.\(name).probe-\(getpid())"
        let descriptor = open(probe, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { throw AtomicWriteError(file: reportAs ?? path, reason: creationFailure(errno, folder: folder)) }
        close(descriptor)
        unlink(probe)
    }

    /// Renames `source` over `target` and syncs the folder; `false` when the rename failed.
    static func move(_ source: String, over target: String) -> Bool {
        guard rename(source, target) == 0 else { return false }
        syncFolder(split(target).folder)
        return true
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

    private static func syncFolder(_ folder: String) {
        let descriptor = open(folder, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { return }
        _ = fsync(descriptor)
        close(descriptor)
    }

    /// Why a file could not be created in `folder`, from `open`'s error number.
    private static func creationFailure(_ code: Int32, folder: String) -> String {
        switch code {
        case ENOENT where access(folder, F_OK) != 0: "folder \(folder) does not exist"
        case ENOTDIR: "\(folder) is not a folder"
        case EACCES, EPERM: "no permission to create files in folder \(folder)"
        case EROFS: "folder \(folder) is on a read-only file system"
        default: "cannot create a file in folder \(folder) (\(systemReason(code)))"
        }
    }

    /// The system's words for `code`, starting lowercase: `no space left on device`.
    static func systemReason(_ code: Int32) -> String {
        let text = String(cString: strerror(code))
        return text.prefix(1).lowercased() + text.dropFirst()
    }
}

/// A file could not be put in place: which file (the user's name for it) and why, in the
/// system's words where the system said no (`no space left on device (wrote 61,440 of 96,112
/// bytes)`). The previous file at that path, if any, is unchanged and no temporary file is
/// left. Checkpoints report it as `CheckpointError.notWritten`, model files as
/// `ModelFileError.notWritten`.
public struct AtomicWriteError: UserFacingError, Equatable {
    public var file: String
    public var reason: String
    public var description: String { "cannot write \(file): \(reason)" }
}
