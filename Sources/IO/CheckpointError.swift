import Core

/// Why a checkpoint could not be written or used. Each names the file, the place in it and
/// what was expected, e.g. `checkpoint xor.ckpt.h5: /weights/0.weight has shape [3, 4], the
/// model expects [3, 2]`.
public enum CheckpointError: UserFacingError, Equatable {
    /// The file is missing, unreadable or not HDF5.
    case unreadable(file: String, reason: String)
    /// An HDF5 file that is not a Synapse checkpoint.
    case wrongFormat(file: String, found: String)
    /// A checkpoint of a format version this library cannot read.
    case unsupportedVersion(file: String, found: Int64, supported: Int64)
    /// Something the model or optimizer needs is absent.
    case missing(file: String, object: String, expected: String)
    /// Something the model or optimizer has no place for.
    case unexpected(file: String, object: String, reason: String)
    /// A tensor whose shape differs from the model's.
    case shapeMismatch(file: String, object: String, found: [Int], expected: [Int])
    /// A dataset or attribute of the wrong type.
    case typeMismatch(file: String, object: String, found: String, expected: String)
    /// A parameter name that cannot be a dataset name.
    case invalidName(file: String, name: String)
    /// HDF5 or the file system refused an operation.
    case failed(file: String, object: String, operation: String)
    /// The file could not be saved (no space left, no permission, no such folder): the system's
    /// reason. The previous file at that path, if any, is unchanged.
    case notWritten(file: String, reason: String)
    /// The file is not the one written: its integrity record does not match (where, when
    /// known), or, for a version-1 file without one, libhdf5 could not read it safely.
    case damaged(file: String, reason: String)

    public var description: String {
        switch self {
        case let .unreadable(file, reason):
            "checkpoint \(file): \(reason)"
        case let .wrongFormat(file, found):
            "checkpoint \(file): not a Synapse checkpoint (format attribute \(found), expected \"\(Checkpoint.formatName)\")"
        case let .unsupportedVersion(file, found, supported):
            "checkpoint \(file): format version \(found) is not supported (this library reads up to \(supported))"
        case let .missing(file, object, expected):
            "checkpoint \(file): \(object) is missing (expected \(expected))"
        case let .unexpected(file, object, reason):
            "checkpoint \(file): \(object) \(reason)"
        case let .shapeMismatch(file, object, found, expected):
            "checkpoint \(file): \(object) has shape \(describe(found)), the model expects \(describe(expected))"
        case let .typeMismatch(file, object, found, expected):
            "checkpoint \(file): \(object) holds \(found), expected \(expected)"
        case let .invalidName(file, name):
            "checkpoint \(file): parameter name \"\(name)\" cannot be stored (names must be non-empty and contain no \"/\")"
        case let .damaged(file, reason):
            "checkpoint \(file): \(reason)"
        case let .notWritten(file, reason):
            "checkpoint \(file): cannot be saved: \(reason)"
        case let .failed(file, object, operation):
            "checkpoint \(file): could not \(operation) at \(object)"
        }
    }
}

extension CheckpointError {
    /// The checkpoint error for a failed HDF5 call.
    init(_ failure: HDF5Failure) {
        self = .failed(file: failure.file, object: failure.object, operation: failure.operation)
    }
}
