import Core
import NN
import Optim
import SwiftProtobuf

/// How far training has come: the counters a checkpoint carries.
public struct TrainingProgress: Equatable, Sendable {
    /// Completed epochs.
    public var epoch: Int
    /// Completed optimizer steps.
    public var step: Int

    public init(epoch: Int = 0, step: Int = 0) {
        self.epoch = epoch
        self.step = step
    }
}

/// HDF5 checkpoints that carry training across runs bit-exactly: every parameter by its
/// dotted name, the optimizer's kind, hyper-parameters and per-parameter state, the epoch and
/// step counters, the random generator's state and user metadata. The layout is in
/// formats/FORMAT.md; h5py and h5dump read it as it is.
public enum Checkpoint {
    /// The value of the root attribute `format`.
    public static let formatName = "synapse-checkpoint"
    /// The layout version written, and the newest one read. Version 2 added the integrity
    /// record (the first 512 bytes); version 3 keeps training state (`/state/NAMESPACE`) apart
    /// from the user's metadata. Versions 1 and 2 are still read (see `LegacyCheck` and
    /// `CheckpointContents.legacyState`).
    public static let formatVersion: Int64 = 3

    /// Writes a checkpoint of `model` (and `optimizer`) to `path`, atomically: the previous
    /// file at `path` stays whole until the new one is complete and on disk.
    public static func save(
        to path: String, model: Module, optimizer: (any Optimizer)? = nil,
        progress: TrainingProgress = TrainingProgress(), metadata: [String: String] = [:],
        state: [String: [String: String]] = [:], randomState: RandomState? = Random.state, graph: TracedGraph? = nil
    ) throws {
        try save(
            to: path, model: model, optimizer: optimizer, progress: progress, metadata: metadata, state: state, randomState: randomState,
            graph: graph, legacyVersion1: false)
    }

    /// `save`, or with `legacyVersion1` a file as Synapse 0.1 wrote it (format version 1, no
    /// integrity record), which tests use to check that such files still load safely.
    static func save(
        to path: String, model: Module, optimizer: (any Optimizer)?, progress: TrainingProgress,
        metadata: [String: String], state: [String: [String: String]] = [:], randomState: RandomState?, graph: TracedGraph?,
        legacyVersion1: Bool
    ) throws {
        for namespace in state.keys where !isStorable(namespace) { throw CheckpointError.invalidName(file: path, name: namespace) }
        let graphBytes: [UInt8]? = try graph.map { try ModelFile.graphProto($0).serializedBytes() }
        let parameters = model.namedState
        for (name, _) in parameters where !isStorable(name) {
            throw CheckpointError.invalidName(file: path, name: name)
        }
        let stateBytes = optimizer.map { $0.state.values.reduce(0) { $0 + $1.values.reduce(0) { $0 + 4 * $1.count } } } ?? 0
        let sizeHint = parameters.reduce(1 << 16) { $0 + 4 * $1.tensor.count } + stateBytes + (graphBytes?.count ?? 0)
        do {
            try HDF5File.write(to: path, sealed: !legacyVersion1, sizeHint: sizeHint) { file in
                try file.setAttribute("format", string: formatName)
                try file.setAttribute("format_version", integer: legacyVersion1 ? 1 : formatVersion)
                try file.setAttribute("library_version", string: SynapseVersion.string)
                try file.setAttribute("epoch", integer: Int64(progress.epoch))
                try file.setAttribute("step", integer: Int64(progress.step))
                try file.writeWeights(parameters)
                if let optimizer { try write(optimizer, to: file) }
                if let randomState {
                    try file.writeUInt64s("/random", randomState.words)
                    try file.setAttribute("algorithm", string: "xoshiro256**", on: "/random")
                }
                if let graphBytes {
                    try file.writeBytes("/graph", graphBytes)
                    try file.setAttribute("format", string: "onnx ModelProto without parameter initializers", on: "/graph")
                }
                try file.createGroup("/metadata")
                for (key, value) in metadata.sorted(by: { $0.key < $1.key }) {
                    try file.setAttribute(key, string: value, on: "/metadata")
                }
                if !legacyVersion1 {
                    try file.createGroup("/state")
                    for (namespace, values) in state.sorted(by: { $0.key < $1.key }) {
                        try file.createGroup("/state/\(namespace)")
                        for (key, value) in values.sorted(by: { $0.key < $1.key }) {
                            try file.setAttribute(key, string: value, on: "/state/\(namespace)")
                        }
                    }
                }
            }
        } catch let failure as HDF5Failure {
            throw CheckpointError(failure)
        } catch let failure as AtomicWriteError {
            throw CheckpointError.notWritten(file: path, reason: failure.reason)
        }
    }

    /// Checks, before training starts, that a checkpoint can be written at `path` (its folder
    /// exists and takes new files), by creating and removing a probe file beside it.
    public static func checkWritable(_ path: String) throws {
        do {
            try AtomicFile.checkWritable(path)
        } catch {
            throw CheckpointError.notWritten(file: path, reason: error.reason)
        }
    }

    private static func write(_ optimizer: any Optimizer, to file: HDF5File) throws {
        try file.createGroup("/optimizer")
        try file.setAttribute("kind", string: optimizer.kind, on: "/optimizer")
        for (name, value) in optimizer.hyperparameters.sorted(by: { $0.key < $1.key }) {
            try file.setAttribute(name, double: value, on: "/optimizer")
        }
        for (name, slots) in optimizer.state.sorted(by: { $0.key < $1.key }) {
            try file.createGroup("/optimizer/\(name)")
            for (slot, tensor) in slots.sorted(by: { $0.key < $1.key }) {
                try tensor.withUnsafeBufferPointer {
                    try file.writeFloats("/optimizer/\(name)/\(slot)", shape: tensor.shape, $0)
                }
            }
        }
    }

    /// Whether `name` can be an HDF5 link name under `/weights`.
    static func isStorable(_ name: String) -> Bool {
        !name.isEmpty && !name.contains("/") && name != "." && name != ".."
    }
}
