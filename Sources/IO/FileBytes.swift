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

    /// SHA-256 of `path`'s bytes, as hexadecimal digits.
    static func sha256(_ path: String) -> String? {
        guard let size = size(path) else { return nil }
        return sha256(path, range: 0..<size).map { $0.map { String(format2: $0) }.joined() }
    }

    /// SHA-256 of the bytes of `path` in `range`, read in 4 MiB pieces straight into
    /// libcrypto; `nil` when the file cannot be read that far.
    static func sha256(_ path: String, range: Range<UInt64>) -> [UInt8]? {
        let descriptor = open(path, O_RDONLY)
        guard descriptor >= 0 else { return nil }
        defer { close(descriptor) }
        let pieceSize = 4 << 20
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: pieceSize, alignment: 64)
        defer { buffer.deallocate() }
        let hash = SHA256()
        var offset = range.lowerBound
        while offset < range.upperBound {
            let wanted = Int(min(UInt64(pieceSize), range.upperBound - offset))
            let got = pread(descriptor, buffer, wanted, off_t(offset))
            guard got > 0 else { return nil }
            hash.update(buffer, count: got)
            offset += UInt64(got)
        }
        return hash.digest()
    }
}

extension String {
    /// Two lowercase hexadecimal digits.
    init(format2 byte: UInt8) {
        let digits = Array("0123456789abcdef")
        self = String([digits[Int(byte >> 4)], digits[Int(byte & 15)]])
    }
}
