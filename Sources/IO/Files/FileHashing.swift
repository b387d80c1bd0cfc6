import Core
import Dispatch

// The parts of file access that need IO: atomic writes and SHA-256 (libcrypto).
extension FileBytes {
    /// Writes `bytes` to `path` (replacing it, not atomically), with fsync. Tests use it to
    /// make damaged files; everything Synapse saves goes through `AtomicFile`.
    static func write(_ bytes: [UInt8], to path: String) -> Bool {
        (try? AtomicFile.writeBytes(bytes, to: path, reportAs: path)) != nil
    }

    /// SHA-256 of `bytes`, as hexadecimal digits.
    static func sha256Hex(_ bytes: UnsafeRawBufferPointer) -> String {
        let hash = SHA256()
        if let base = bytes.baseAddress { hash.update(base, count: bytes.count) }
        return hash.digest().map { String(format2: $0) }.joined()
    }

    /// The size of the pieces `pieceListSHA256` hashes separately.
    static let hashPieceSize = 4 << 20

    /// SHA-256 of the concatenated SHA-256 digests of each 4 MiB piece of `bytes` (the last
    /// piece may be shorter): the integrity record's content digest. The pieces are hashed on
    /// every core at once, so a 252 MB checkpoint costs ~0.1 s, not the ~0.17 s of one stream.
    static func pieceListSHA256(_ bytes: UnsafeRawBufferPointer) -> [UInt8] {
        let pieces = (bytes.count + hashPieceSize - 1) / hashPieceSize
        nonisolated(unsafe) let digests = UnsafeMutablePointer<UInt8>.allocate(capacity: max(pieces, 1) * 32)
        defer { digests.deallocate() }
        nonisolated(unsafe) let base = bytes.baseAddress
        let total = bytes.count
        DispatchQueue.concurrentPerform(iterations: pieces) { piece in
            let start = piece * hashPieceSize
            let hash = SHA256()
            hash.update(base! + start, count: min(hashPieceSize, total - start))
            let digest = hash.digest()
            for i in 0..<32 { digests[piece * 32 + i] = digest[i] }
        }
        let list = SHA256()
        list.update(digests, count: pieces * 32)
        return list.digest()
    }
}
