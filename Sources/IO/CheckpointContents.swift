import Core
import SwiftProtobuf

/// Everything a checkpoint file holds, read and checked against the format (not yet against
/// any model).
public struct CheckpointContents {
    /// The file's format version.
    public var formatVersion: Int64
    /// The Synapse version that wrote it.
    public var libraryVersion: String
    /// The weights by dotted name, in name order.
    public var weights: [(name: String, tensor: Tensor)]
    /// The optimizer's record, when one was saved.
    public var optimizer: OptimizerRecord?
    /// The training counters.
    public var progress: TrainingProgress
    /// The random generator's state, when one was saved.
    public var randomState: RandomState?
    /// User metadata.
    public var metadata: [String: String]
    /// Training state by namespace (`data`, `schedule`, `early_stop`, `epoch`; see
    /// `Resumable`): format version 3 keeps it in `/state`; older files kept it among the
    /// metadata, from which it is read into here (`legacyState`).
    public var state: [String: [String: String]] = [:]
    /// The model's traced graph (an ONNX model without parameter initializers), when saved.
    public var graph: Onnx_ModelProto?

    /// An optimizer as saved: its kind, hyper-parameters and per-parameter state.
    public struct OptimizerRecord {
        public var kind: String
        public var hyperparameters: [String: Double]
        /// Parameter name → slot name → tensor.
        public var state: [String: [String: Tensor]]
    }

    /// Reads and checks the checkpoint at `path`. The file is opened once and read whole;
    /// its integrity record is verified before libhdf5 sees a byte, and libhdf5 then parses
    /// those same bytes in memory, so a checkpoint renamed over `path` mid-read (a running
    /// `synapse train` saving) yields the old file or the new one, never a false "damaged". A
    /// version-1 file (which has no record) is parsed in a child process first, so that a
    /// damaged one cannot take this process down. FIFOs, devices and folders are refused
    /// before a byte is read.
    public init(contentsOf path: String) throws {
        let image: FileImage
        do {
            // A file that starts with neither the integrity record nor an HDF5 signature is
            // refused from its first bytes, before a large foreign file is read whole.
            image = try FileBytes.readImage(path, limit: 1 << 40, headLength: 12) { head in
                head.starts(with: IntegrityRecord.magic) || head.starts(with: IntegrityRecord.hdf5Signature)
                    ? nil : IntegrityRecord.foreignFileReason
            }
        } catch {
            throw CheckpointError.unreadable(file: path, reason: error.reason)
        }
        let kind: IntegrityRecord.Kind
        do {
            kind = try IntegrityRecord.verify(image.contents, path: path)
        } catch let failure as IntegrityFailure {
            throw CheckpointError.damaged(file: path, reason: failure.reason)
        }
        self = try HDF5Lock.run { try CheckpointContents(checked: image, path: path, kind: kind) }
    }

    private init(checked image: FileImage, path: String, kind: IntegrityRecord.Kind) throws {
        if kind == .unsealed {
            HDF5File.prepare()
            let timeout = LegacyCheck.timeoutSeconds(forFileOf: UInt64(image.count))
            switch LegacyCheck.probe(timeoutSeconds: timeout, { _ = try CheckpointContents(reading: image, path: path, expectSealed: false) }) {
            case .succeeded, .failed: break  // a failure is reported by the read below
            case .crashed(let signal):
                throw CheckpointError.damaged(
                    file: path,
                    reason: "damaged: it has no integrity record (format version 1) and libhdf5 crashed reading it ("
                        + (signal > 0 ? "signal \(signal))" : "exit status \(-signal))"))
            case .timedOut:
                throw CheckpointError.damaged(
                    file: path, reason: "damaged: it has no integrity record (format version 1) and libhdf5 did not finish reading it in \(Int(timeout)) s")
            }
        }
        do {
            try self.init(reading: image, path: path, expectSealed: kind == .sealed)
        } catch let failure as HDF5Failure {
            throw CheckpointError(failure)
        }
    }

    private init(reading image: FileImage, path: String, expectSealed: Bool) throws {
        let file = try HDF5File.open(image: image, for: path)
        guard case .string(let format)? = try file.attribute("format") else {
            let found = try file.attribute("format").map { "\($0)" } ?? "absent"
            throw CheckpointError.wrongFormat(file: path, found: found)
        }
        guard format == Checkpoint.formatName else {
            throw CheckpointError.wrongFormat(file: path, found: "\"\(format)\"")
        }
        formatVersion = try integerAttribute(file, "format_version", of: "/")
        guard formatVersion >= 1 && formatVersion <= Checkpoint.formatVersion else {
            throw CheckpointError.unsupportedVersion(file: path, found: formatVersion, supported: Checkpoint.formatVersion)
        }
        guard expectSealed == (formatVersion >= 2) else {
            throw CheckpointError.damaged(
                file: path, reason: expectSealed
                    ? "damaged: format version \(formatVersion) files have no integrity record, this one has"
                    : "damaged: format version \(formatVersion) files start with an integrity record, this one has none")
        }
        if case .string(let version)? = try file.attribute("library_version") {
            libraryVersion = version
        } else {
            libraryVersion = "unknown"
        }
        progress = TrainingProgress(
            epoch: Int(try integerAttribute(file, "epoch", of: "/")),
            step: Int(try integerAttribute(file, "step", of: "/")))

        guard file.isGroup("/weights") else {
            throw CheckpointError.missing(file: path, object: "/weights", expected: "a group of float32 weights")
        }
        weights = try file.children(of: "/weights").map { ($0, try readTensor(file, "/weights/\($0)")) }

        if file.exists("/optimizer") {
            guard case .string(let kind)? = try file.attribute("kind", of: "/optimizer") else {
                throw CheckpointError.missing(file: path, object: "/optimizer attribute kind", expected: "the optimizer's name")
            }
            var hyperparameters: [String: Double] = [:]
            for name in try file.attributeNames(of: "/optimizer") where name != "kind" {
                switch try file.attribute(name, of: "/optimizer") {
                case .double(let value)?: hyperparameters[name] = value
                case .integer(let value)?: hyperparameters[name] = Double(value)
                default:
                    throw CheckpointError.typeMismatch(
                        file: path, object: "/optimizer attribute \(name)", found: "a non-number", expected: "a number")
                }
            }
            var state: [String: [String: Tensor]] = [:]
            for name in try file.children(of: "/optimizer") {
                for slot in try file.children(of: "/optimizer/\(name)") {
                    state[name, default: [:]][slot] = try readTensor(file, "/optimizer/\(name)/\(slot)")
                }
            }
            optimizer = OptimizerRecord(kind: kind, hyperparameters: hyperparameters, state: state)
        }

        if file.exists("/random") {
            let (shape, type) = try file.datasetInfo("/random")
            guard type == "uint64" || type == "int64" else {
                throw CheckpointError.typeMismatch(file: path, object: "/random", found: type, expected: "uint64")
            }
            guard shape == [4] else {
                throw CheckpointError.shapeMismatch(file: path, object: "/random", found: shape, expected: [4])
            }
            let words = try file.readUInt64s("/random", count: 4)
            guard words.contains(where: { $0 != 0 }) else {
                throw CheckpointError.unexpected(file: path, object: "/random", reason: "is all zeros, which no generator state can be")
            }
            randomState = RandomState(words: words)
        }

        if file.exists("/graph") {
            let (shape, type) = try file.datasetInfo("/graph")
            guard type == "uint8", shape.count == 1 else {
                throw CheckpointError.typeMismatch(file: path, object: "/graph", found: type, expected: "uint8 bytes")
            }
            do {
                graph = try Onnx_ModelProto(serializedBytes: try file.readBytes("/graph", count: shape[0]))
            } catch is HDF5Failure {
                throw CheckpointError.failed(file: path, object: "/graph", operation: "read")
            } catch {
                throw CheckpointError.unexpected(file: path, object: "/graph", reason: "is not a valid ONNX model (\(error))")
            }
        }

        metadata = [:]
        if file.exists("/metadata") {
            for key in try file.attributeNames(of: "/metadata") {
                guard case .string(let value)? = try file.attribute(key, of: "/metadata") else {
                    throw CheckpointError.typeMismatch(
                        file: path, object: "/metadata attribute \(key)", found: "a non-string", expected: "a string")
                }
                metadata[key] = value
            }
        }
        if formatVersion >= 3 {
            // No /state: a checkpoint without training state (a model and optimizer saved by hand).
            for namespace in file.isGroup("/state") ? try file.children(of: "/state") : [] {
                var values: [String: String] = [:]
                for key in try file.attributeNames(of: "/state/\(namespace)") {
                    guard case .string(let value)? = try file.attribute(key, of: "/state/\(namespace)") else {
                        throw CheckpointError.typeMismatch(
                            file: path, object: "/state/\(namespace) attribute \(key)", found: "a non-string", expected: "a string")
                    }
                    values[key] = value
                }
                state[namespace] = values
            }
        } else {
            (metadata, state) = Self.legacyState(metadata)
        }
    }

    /// Format versions 1 and 2 kept the Trainer's state among the metadata: `data_epoch`,
    /// `data_batch`, `scheduler_state`, `early_stop_best`, `early_stop_since` and `epoch_*`
    /// (the running sums of the epoch under way). Returns the metadata without them and the
    /// state by namespace, as version 3 writes it.
    static func legacyState(_ flat: [String: String]) -> (metadata: [String: String], state: [String: [String: String]]) {
        var metadata = flat
        var state: [String: [String: String]] = [:]
        func move(_ key: String, to namespace: String, as name: String) {
            if let value = metadata.removeValue(forKey: key) { state[namespace, default: [:]][name] = value }
        }
        move("data_epoch", to: "data", as: "epoch")
        move("data_batch", to: "data", as: "batch")
        move("scheduler_state", to: "schedule", as: "state")
        move("early_stop_best", to: "early_stop", as: "best")
        move("early_stop_since", to: "early_stop", as: "since")
        for key in metadata.keys where key.hasPrefix("epoch_") { move(key, to: "epoch", as: String(key.dropFirst("epoch_".count))) }
        return (metadata, state)
    }
}

private func integerAttribute(_ file: HDF5File, _ name: String, of object: String) throws -> Int64 {
    switch try file.attribute(name, of: object) {
    case .integer(let value)?: return value
    case nil:
        throw CheckpointError.missing(file: file.path, object: "\(object) attribute \(name)", expected: "an integer")
    case let other?:
        throw CheckpointError.typeMismatch(
            file: file.path, object: "\(object) attribute \(name)", found: "\(other)", expected: "an integer")
    }
}

/// Reads a float32 dataset as a tensor of its shape.
private func readTensor(_ file: HDF5File, _ object: String) throws -> Tensor {
    let (shape, type) = try file.datasetInfo(object)
    guard type == "float32" else {
        throw CheckpointError.typeMismatch(file: file.path, object: object, found: type, expected: "float32")
    }
    return try file.readTensor(object, shape: shape)
}

