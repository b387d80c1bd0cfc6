import Core
import Dispatch
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

    /// A tensor of `shape` whose float32 little-endian bytes are read from `path` at
    /// `offset` straight into its storage; `nil` when the file is shorter or unreadable.
    static func readTensor(_ path: String, offset: UInt64, shape: [Int]) -> Tensor? {
        let tensor = Tensor.uninitialized(shape)
        let byteCount = tensor.count * 4
        guard byteCount > 0 else { return tensor }
        let descriptor = open(path, O_RDONLY)
        guard descriptor >= 0 else { return nil }
        defer { close(descriptor) }
        let complete = tensor.withUnsafeMutableBufferPointer { buffer -> Bool in
            let base = UnsafeMutableRawPointer(buffer.baseAddress!)
            var done = 0
            while done < byteCount {
                let got = pread(descriptor, base + done, byteCount - done, off_t(offset) + off_t(done))
                guard got > 0 else { return false }
                done += got
            }
            return true
        }
        return complete ? tensor : nil
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

extension FileBytes {
    /// The size of the pieces `pieceListSHA256` hashes separately.
    static let hashPieceSize = 4 << 20

    /// SHA-256 of the concatenated SHA-256 digests of each 4 MiB piece of `path`'s bytes in
    /// `range` (the last piece may be shorter): the integrity record's content digest. The
    /// pieces are hashed on every core at once, so a 252 MB checkpoint costs ~0.1 s, not the
    /// ~0.17 s of one SHA-256 stream. `nil` when the file cannot be read that far.
    static func pieceListSHA256(_ path: String, range: Range<UInt64>) -> [UInt8]? {
        let descriptor = open(path, O_RDONLY)
        guard descriptor >= 0 else { return nil }
        defer { close(descriptor) }
        let length = range.upperBound - range.lowerBound
        let pieces = Int((length + UInt64(hashPieceSize) - 1) / UInt64(hashPieceSize))
        nonisolated(unsafe) let digests = UnsafeMutablePointer<UInt8>.allocate(capacity: max(pieces, 1) * 32)
        defer { digests.deallocate() }
        nonisolated(unsafe) let failed = UnsafeMutablePointer<Bool>.allocate(capacity: max(pieces, 1))
        failed.initialize(repeating: false, count: max(pieces, 1))
        defer { failed.deallocate() }
        DispatchQueue.concurrentPerform(iterations: pieces) { piece in
            let start = range.lowerBound + UInt64(piece) * UInt64(hashPieceSize)
            let count = Int(min(UInt64(hashPieceSize), range.upperBound - start))
            let buffer = UnsafeMutableRawPointer.allocate(byteCount: count, alignment: 64)
            defer { buffer.deallocate() }
            var done = 0
            while done < count {
                let got = pread(descriptor, buffer + done, count - done, off_t(start) + off_t(done))
                guard got > 0 else { failed[piece] = true; return }
                done += got
            }
            let hash = SHA256()
            hash.update(buffer, count: count)
            let digest = hash.digest()
            for i in 0..<32 { digests[piece * 32 + i] = digest[i] }
        }
        guard !(0..<pieces).contains(where: { failed[$0] }) else { return nil }
        let list = SHA256()
        list.update(digests, count: pieces * 32)
        return list.digest()
    }
}

extension String {
    /// Two lowercase hexadecimal digits.
    init(format2 byte: UInt8) {
        let digits = Array("0123456789abcdef")
        self = String([digits[Int(byte >> 4)], digits[Int(byte & 15)]])
    }
}
