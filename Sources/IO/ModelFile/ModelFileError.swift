import Core
/// Why a model file could not be written, read or run. Each names the file, the place in it
/// (a node, an initializer, an offset) and what was expected.
public enum ModelFileError: UserFacingError, Equatable {
    /// The file is missing, unreadable, or not what its name says.
    case unreadable(file: String, reason: String)
    /// Something in the file is malformed or inconsistent.
    case invalid(file: String, place: String, problem: String)
    /// A node Synapse cannot run: its op type or an attribute is not supported.
    case unsupported(file: String, node: String, opType: String, reason: String)
    /// The weights file no longer matches the graph that points into it.
    case mismatchedPair(file: String, weights: String, reason: String)
    /// A file of the model could not be saved (no space left, no permission, no such folder):
    /// the system's reason. The previous model at that name still loads.
    case notWritten(file: String, reason: String)
    /// The model cannot be traced or written.
    case cannotExport(reason: String)

    public var description: String {
        switch self {
        case let .unreadable(file, reason): "model \(file): \(reason)"
        case let .invalid(file, place, problem): "model \(file): \(place): \(problem)"
        case let .unsupported(file, node, opType, reason): "model \(file): node \(node) (\(opType)): \(reason)"
        case let .mismatchedPair(file, weights, reason):
            "model \(file): its weight file \(weights) does not belong to it (\(reason)); export the model again"
        case let .notWritten(file, reason): "model \(file): cannot be saved: \(reason)"
        case let .cannotExport(reason): "cannot export the model: \(reason)"
        }
    }
}
