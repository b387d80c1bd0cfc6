import Core
/// Plain file access for model files, without Foundation.
enum FileBytes {
    /// The size of `path` in bytes, or `nil` when it cannot be read.
    static func size(_ path: String) -> UInt64? {
        var info = stat()
        guard stat(path, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else { return nil }
        return UInt64(info.st_size)
    }

    /// `count` bytes of `path` from `offset`; `nil` when the file is shorter or unreadable.
    static func read(_ path: String, offset: UInt64 = 0, count: Int) -> [UInt8]? {
        guard let file = fopen(path, "rb") else { return nil }
        defer { fclose(file) }
        guard fseeko(file, off_t(offset), SEEK_SET) == 0 else { return nil }
        var bytes = [UInt8](repeating: 0, count: count)
        let got = bytes.withUnsafeMutableBytes { fread($0.baseAddress, 1, count, file) }
        return got == count ? bytes : nil
    }

    /// The whole of `path`, refusing files above `limit` bytes.
    static func readAll(_ path: String, limit: UInt64) -> [UInt8]? {
        guard let size = size(path), size <= limit else { return nil }
        return read(path, count: Int(size))
    }

    /// Writes `bytes` to `path` (replacing it), with fsync.
    static func write(_ bytes: [UInt8], to path: String) -> Bool {
        guard let file = fopen(path, "wb") else { return false }
        let written = bytes.withUnsafeBytes { fwrite($0.baseAddress, 1, bytes.count, file) }
        let flushed = fflush(file) == 0 && fsync(fileno(file)) == 0
        return fclose(file) == 0 && written == bytes.count && flushed
    }

    /// SHA-256 of `path`'s bytes, read in 1 MiB pieces.
    static func sha256(_ path: String) -> String? {
        guard let file = fopen(path, "rb") else { return nil }
        defer { fclose(file) }
        var hash = SHA256()
        var chunk = [UInt8](repeating: 0, count: 1 << 20)
        while true {
            let got = chunk.withUnsafeMutableBytes { fread($0.baseAddress, 1, 1 << 20, file) }
            if got > 0 { hash.update(chunk[0..<got]) }
            if got < 1 << 20 { break }
        }
        return ferror(file) == 0 ? hash.hexDigest() : nil
    }
}
