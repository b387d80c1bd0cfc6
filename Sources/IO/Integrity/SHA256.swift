import CCrypto

/// SHA-256 (FIPS 180-4) through the system's libcrypto, for the checksums that tie a model's
/// `.onnx` to its `.h5` and seal every HDF5 file Synapse writes.
final class SHA256 {
    private let context: OpaquePointer

    init() {
        guard let context = EVP_MD_CTX_new(), EVP_DigestInit_ex(context, EVP_sha256(), nil) == 1 else {
            fatalError("SHA256: libcrypto could not start a SHA-256 digest")
        }
        self.context = context
    }

    deinit { EVP_MD_CTX_free(context) }

    /// Adds `count` bytes at `bytes`.
    func update(_ bytes: UnsafeRawPointer, count: Int) {
        guard count > 0 else { return }
        EVP_DigestUpdate(context, bytes, count)
    }

    /// Adds `bytes`.
    func update(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { update($0.baseAddress!, count: $0.count) }
    }

    /// The 32-byte digest (the hash can take no more input afterwards).
    func digest() -> [UInt8] {
        var result = [UInt8](repeating: 0, count: 32)
        var length: UInt32 = 0
        result.withUnsafeMutableBufferPointer { _ = EVP_DigestFinal_ex(context, $0.baseAddress, &length) }
        return result
    }

    /// The digest as 64 lowercase hexadecimal digits.
    func hexDigest() -> String {
        digest().map { String(format2: $0) }.joined()
    }
}
