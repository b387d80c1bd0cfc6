import CHDF5
import Core
import Foundation

/// One open HDF5 identifier, closed when the handle goes away.
final class HDF5Handle {
    let id: hid_t
    private let close: (hid_t) -> herr_t

    init(_ id: hid_t, _ close: @escaping (hid_t) -> herr_t, _ file: String, _ object: String, _ operation: String) throws {
        guard id >= 0 else { throw HDF5Failure(file: file, object: object, operation: operation) }
        self.id = id
        self.close = close
    }

    deinit { _ = close(id) }
}

/// Throws unless `status` (an HDF5 return value) is non-negative.
func check(_ status: herr_t, _ file: String, _ object: String, _ operation: String) throws {
    guard status >= 0 else { throw HDF5Failure(file: file, object: object, operation: operation) }
}

extension HDF5File {
    /// The `/weights` group: one contiguous float32 dataset per tensor, named by its dotted
    /// name, in its shape. Checkpoints and model weight files both write their tensors here.
    func writeWeights(_ tensors: [(name: String, tensor: Tensor)]) throws {
        try createGroup("/weights")
        for (name, tensor) in tensors {
            try tensor.withUnsafeBufferPointer { try writeFloats("/weights/\(name)", shape: tensor.shape, $0) }
        }
    }
}

/// Debian's libhdf5 is built without thread safety: two threads inside it at once can corrupt
/// its state (seen as spurious "could not open the file" when tests save and load in
/// parallel). Every use of a file — create, write, close, open, read — runs under this one
/// process-wide lock; the version-1 pre-check forks while holding it, so its child never
/// starts with libhdf5 half-way through another thread's call.
enum HDF5Lock {
    private static let lock = NSRecursiveLock()

    static func run<T>(_ body: () throws -> T) rethrows -> T {
        lock.lock()
        defer { lock.unlock() }
        return try body()
    }
}
