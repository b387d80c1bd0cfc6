import Core

/// The record that makes every HDF5 file Synapse writes (format version 2) checkable without
/// libhdf5: the file's first 512 bytes are an HDF5 user block, which libhdf5, h5py and h5dump
/// skip, and Synapse fills it in after the HDF5 file is closed, before the file is renamed
/// into place. Layout (little-endian; see formats/FORMAT.md, "Integrity record"):
///
///     0..<12   "SYNAPSE-SEAL"
///     12..<16  record version (1)
///     16..<24  the file's length in bytes
///     24..<56  SHA-256 of the SHA-256 digests of each 4 MiB piece of bytes 512..<length
///     56..<88  SHA-256 of bytes 0..<56 (the record itself)
///     88..<512 zero
///
/// Readers check it first: libhdf5 1.10 can crash or loop on damaged files, so a file whose
/// bytes are not exactly those written never reaches it.
enum IntegrityRecord {
    /// The user block's size: libhdf5's smallest.
    static let size = 512
    static let magic = Array("SYNAPSE-SEAL".utf8)
    static let version: UInt32 = 1
    /// The first bytes of an HDF5 file without a user block (a version-1 Synapse file).
    static let hdf5Signature: [UInt8] = [0x89, 0x48, 0x44, 0x46, 0x0D, 0x0A, 0x1A, 0x0A]

    /// Why a file whose first bytes are neither the record's magic nor an HDF5 signature is refused.
    static let foreignFileReason =
        "not an HDF5 file Synapse wrote, or damaged: it starts with neither Synapse's integrity record nor an HDF5 signature"

    /// What a file's first bytes say it is.
    enum Kind: Equatable {
        /// A record that matches the file: the bytes are those written.
        case sealed
        /// An HDF5 file without a record (written by Synapse 0.1, format version 1).
        case unsealed
    }

    /// Writes the record into the first 512 bytes of `file`, the whole image of an HDF5
    /// file created with a 512-byte user block.
    static func seal(_ file: UnsafeMutableRawBufferPointer) {
        precondition(file.count >= size, "IntegrityRecord.seal: an image without its user block")
        let length = UInt64(file.count)
        let contents = FileBytes.pieceListSHA256(UnsafeRawBufferPointer(rebasing: file[size...]))
        var record = [UInt8](repeating: 0, count: size)
        record.replaceSubrange(0..<12, with: magic)
        record.replaceSubrange(12..<16, with: bytes(of: version))
        record.replaceSubrange(16..<24, with: bytes(of: length))
        record.replaceSubrange(24..<56, with: contents)
        let header = SHA256()
        header.update(Array(record[0..<56]))
        record.replaceSubrange(56..<88, with: header.digest())
        record.withUnsafeBytes { file.baseAddress!.copyMemory(from: $0.baseAddress!, byteCount: size) }
    }

    /// Checks a file's bytes, as read from `path` (the name messages give), before anything
    /// parses them. Throws `IntegrityFailure` when the file is not the one written (with
    /// where, when known).
    static func verify(_ file: UnsafeRawBufferPointer, path: String) throws -> Kind {
        let length = UInt64(file.count)
        let head = Array(file.prefix(size))
        if head.count >= 8 && Array(head[0..<8]) == hdf5Signature { return .unsealed }
        guard head.count >= 12, Array(head[0..<12]) == magic else {
            throw IntegrityFailure(file: path, reason: foreignFileReason)
        }
        guard head.count == size else {
            throw IntegrityFailure(file: path, reason: "damaged: truncated at byte \(length), inside its 512-byte integrity record")
        }
        let header = SHA256()
        header.update(Array(head[0..<56]))
        guard header.digest() == Array(head[56..<88]), head[88...].allSatisfy({ $0 == 0 }) else {
            throw IntegrityFailure(file: path, reason: "damaged: its integrity record (bytes 0..<512) does not match its own checksum")
        }
        let recordVersion = UInt32(littleEndianBytes: head[12..<16])
        guard recordVersion == version else {
            throw IntegrityFailure(file: path, reason: "an integrity record of version \(recordVersion); this Synapse reads version \(version)")
        }
        let written = UInt64(littleEndianBytes: head[16..<24])
        guard written == length else {
            throw IntegrityFailure(
                file: path,
                reason: written > length
                    ? "damaged: truncated at byte \(length) of \(written)"
                    : "damaged: \(length - written) bytes longer than the \(written) written")
        }
        guard FileBytes.pieceListSHA256(UnsafeRawBufferPointer(rebasing: file[size...])) == Array(head[24..<56]) else {
            throw IntegrityFailure(file: path, reason: "damaged: bytes 512..<\(length) do not match their SHA-256")
        }
        return .sealed
    }

    private static func bytes<T: FixedWidthInteger>(of value: T) -> [UInt8] {
        withUnsafeBytes(of: value.littleEndian) { Array($0) }
    }
}

/// A file is not the one Synapse wrote: damaged, truncated or foreign. Readers turn it into
/// their own error type (`CheckpointError.damaged`, `ModelFileError.invalid`).
struct IntegrityFailure: Error {
    let file: String
    let reason: String
}

extension FixedWidthInteger {
    /// The integer whose little-endian bytes are `bytes` (exactly its width).
    init(littleEndianBytes bytes: ArraySlice<UInt8>) {
        self = bytes.reversed().reduce(0) { $0 << 8 | Self($1) }
    }
}
