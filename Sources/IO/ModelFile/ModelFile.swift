import Core
import NN
import Foundation
import SwiftProtobuf

/// The model file: `NAME.onnx`, a real ONNX model (IR 10, opset 21) whose initializers point
/// with ONNX external data into `NAME.h5`, an HDF5 file holding each weight as a float32
/// dataset under `/weights`, by name. onnxruntime runs the `.onnx` as it is; h5py reads the
/// weights by name. See formats/FORMAT.md.
public enum ModelFile {
    /// The ONNX IR version written.
    public static let irVersion: Int64 = 10
    /// The ai.onnx opset written.
    public static let opsetVersion: Int64 = 21
    /// `format` attribute of the weights file and value of the `synapse.format` metadata.
    public static let formatName = "synapse-model"
    /// The layout version written, and the newest read.
    public static let formatVersion = 1
    /// Weight datasets start at multiples of this many bytes.
    static let alignment = 64

    /// `base` without a trailing `.onnx` or `.h5`.
    public static func baseName(_ path: String) -> String {
        for suffix in [".onnx", ".h5"] where path.hasSuffix(suffix) { return String(path.dropLast(suffix.count)) }
        return path
    }

    /// Writes `graph` as `NAME.onnx` + `NAME.h5` (or, with `embed`, one self-contained
    /// `NAME.onnx` with the weights inside as raw_data). Both files are written atomically,
    /// the weights first.
    public static func save(_ graph: TracedGraph, to name: String, embed: Bool = false) throws {
        try write(graphProto(graph), parameters: graph.parameters, to: name, embed: embed)
    }

    /// The model without its parameters' data: nodes, inputs, outputs, constants. This is
    /// what a checkpoint carries (`/graph`) so that it alone is enough to export.
    /// Constants become `Constant` nodes, so that the initializers are exactly the
    /// parameters.
    public static func graphProto(_ graph: TracedGraph) -> Onnx_ModelProto {
        var model = modelProto(graph, initializers: [], metadata: [])
        let constants = graph.constants.map { name, value in
            var tensor: Onnx_TensorProto
            switch value {
            case let .floats(values, shape): tensor = inlineTensor(name, values, shape)
            case let .int64s(values, shape): tensor = inlineInt64s(name, values, shape)
            }
            var attribute = Onnx_AttributeProto()
            attribute.name = "value"
            attribute.type = .tensor
            attribute.t = tensor
            var node = Onnx_NodeProto()
            node.name = "Constant_\(name)"
            node.opType = "Constant"
            node.output = [name]
            node.attribute = [attribute]
            return node
        }
        model.graph.node = constants + model.graph.node
        return model
    }

    /// Writes `model` (a graph proto without parameter initializers) with `parameters` added
    /// as initializers: external data into `NAME.h5`, or raw_data with `embed`.
    ///
    /// A pair is replaced as a pair. The new weights are written first under a hidden name
    /// that carries their digest (`.NAME.h5.pending-<16 hex digits of their SHA-256>`), then
    /// `NAME.onnx` is replaced (the commit point), then the pending file is renamed over
    /// `NAME.h5`. Killed before the commit, the old pair is untouched; killed after it, the
    /// new `.onnx` names weights that are still pending, and `load` finds them by their
    /// digest. Either way one whole pair loads (formats/FORMAT.md, "Replacing a pair").
    public static func write(
        _ model: Onnx_ModelProto, parameters: [(name: String, tensor: Tensor)], to name: String, embed: Bool = false
    ) throws {
        let base = baseName(name)
        let onnxPath = base + ".onnx"
        let metadata = [("synapse.format", formatName), ("synapse.format_version", "\(formatVersion)")]
        /// The model's bytes with `initializers` and `extra` metadata.
        func onnxBytes(_ initializers: [Onnx_TensorProto], _ extra: [(String, String)]) throws -> [UInt8] {
            var model = model
            model.graph.initializer = initializers + model.graph.initializer.filter { constant in
                !parameters.contains { $0.name == constant.name }
            }
            model.metadataProps = (metadata + extra).map { entry($0.0, $0.1) }
            return try model.serializedBytes()
        }
        if embed {
            let bytes = try onnxBytes(parameters.map { inlineTensor($0.name, $0.tensor.scalars, $0.tensor.shape) }, [])
            do throws(AtomicWriteError) {
                try AtomicFile.writeBytes(bytes, to: onnxPath)
            } catch {
                throw ModelFileError.notWritten(file: error.file, reason: error.reason)
            }
            return
        }
        let weightsPath = base + ".h5"
        let location = AtomicFile.split(weightsPath).name
        // The weights are written from the memory libhdf5 built them in, then the .onnx that
        // records their digest (the commit point), then they are renamed into place.
        let pending = try withWeightsImage(parameters, for: weightsPath) { image, offsets throws -> String in
            let checksum = FileBytes.sha256Hex(image)
            let initializers = parameters.map { name, tensor in
                guard let offset = offsets[name], tensor.count > 0 else {
                    return inlineTensor(name, tensor.scalars, tensor.shape)
                }
                var proto = Onnx_TensorProto()
                proto.name = name
                proto.dims = tensor.shape.map(Int64.init)
                proto.dataType = Int32(Onnx_TensorProto.DataType.float.rawValue)
                proto.dataLocation = .external
                proto.externalData = [
                    entry("location", location), entry("offset", "\(offset)"), entry("length", "\(4 * tensor.count)"),
                ]
                return proto
            }
            let bytes = try onnxBytes(
                initializers, [("synapse.weights", location), ("synapse.weights_size", "\(image.count)"), ("synapse.weights_sha256", checksum)])
            let pending = pendingWeightsPath(weightsPath, sha256: checksum)
            do throws(AtomicWriteError) {
                try AtomicFile.write(image, to: pending, reportAs: weightsPath)
                do throws(AtomicWriteError) {
                    try AtomicFile.writeBytes(bytes, to: onnxPath)
                } catch {
                    unlink(pending)
                    throw error
                }
            } catch {
                throw ModelFileError.notWritten(file: error.file, reason: error.reason)
            }
            return pending
        }
        guard AtomicFile.move(pending, over: weightsPath) else {
            // NAME.onnx is already the new model and loads from the pending file by its digest.
            throw ModelFileError.notWritten(
                file: weightsPath, reason: "cannot rename \(pending) over it (\(AtomicFile.systemReason(errno))); \(onnxPath) loads from it as it is")
        }
        removeStalePending(of: weightsPath)
    }

    /// Checks, before work that ends in writing the model `name`, that its folder exists and
    /// takes new files (a probe file is created and removed).
    public static func checkWritable(_ name: String) throws {
        let path = baseName(name) + ".onnx"
        do {
            try AtomicFile.checkWritable(path)
        } catch {
            throw ModelFileError.notWritten(file: path, reason: error.reason)
        }
    }

    /// Where a pair's new weights wait until their `.onnx` is in place: `.NAME.h5.pending-`
    /// and the first 16 hexadecimal digits of their SHA-256, beside `NAME.h5`.
    static func pendingWeightsPath(_ weightsPath: String, sha256: String) -> String {
        let (folder, name) = AtomicFile.split(weightsPath)
        return "\(folder)/.\(name).pending-\(sha256.prefix(16))"
    }

    /// Removes pending weight files of `weightsPath` left by writes killed mid-way (once a
    /// write has completed, no `.onnx` names them), and their temporary files.
    static func removeStalePending(of weightsPath: String) {
        let (folder, name) = AtomicFile.split(weightsPath)
        guard let directory = opendir(folder) else { return }
        defer { closedir(directory) }
        let prefix = ".\(name).pending-"
        var pending: [String] = []
        while let entry = readdir(directory) {
            let entryName = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            if entryName.hasPrefix(prefix) {
                unlink("\(folder)/\(entryName)")
            } else if entryName.hasPrefix("." + prefix), let tmp = entryName.range(of: ".tmp-") {
                pending.append(String(entryName[entryName.index(after: entryName.startIndex)..<tmp.lowerBound]))
            }
        }
        for name in Set(pending) { AtomicFile.removeLeftovers(of: name, in: folder) }
    }

    /// Traces `layer` on `exampleInput` and writes it (see `save(_:to:embed:)`).
    public static func save(_ layer: any Layer, exampleInput: Tensor, to name: String, embed: Bool = false) throws {
        try save(try TracedGraph.trace(layer, exampleInput: exampleInput), to: name, embed: embed)
    }

    /// Builds the weights file in memory and calls `body` with its bytes (sealed) and each
    /// dataset's byte offset in them.
    static func withWeightsImage<R>(
        _ parameters: [(name: String, tensor: Tensor)], for path: String, _ body: (UnsafeRawBufferPointer, [String: UInt64]) throws -> R
    ) throws -> R {
        for (name, _) in parameters where !Checkpoint.isStorable(name) {
            throw ModelFileError.cannotExport(reason: "parameter name \"\(name)\" cannot be a dataset name")
        }
        do {
            return try HDF5Lock.run {
                let sizeHint = parameters.reduce(1 << 16) { $0 + 4 * $1.tensor.count + alignment }
                let file = try HDF5File.create(for: path, alignment: alignment, sizeHint: sizeHint)
                try file.setAttribute("format", string: formatName)
                try file.setAttribute("format_version", integer: Int64(formatVersion))
                try file.setAttribute("library_version", string: SynapseVersion.string)
                try file.writeWeights(parameters)
                var offsets: [String: UInt64] = [:]
                for (name, tensor) in parameters where tensor.count > 0 {
                    offsets[name] = try file.datasetOffset("/weights/\(name)")
                }
                return try file.withImage { try body($0, offsets) }
            }
        } catch let failure as HDF5Failure {
            throw ModelFileError.invalid(file: failure.file, place: failure.object, problem: "could not \(failure.operation)")
        }
    }

    static func entry(_ key: String, _ value: String) -> Onnx_StringStringEntryProto {
        var entry = Onnx_StringStringEntryProto()
        entry.key = key
        entry.value = value
        return entry
    }

    /// A float tensor with its little-endian bytes in raw_data.
    static func inlineTensor(_ name: String, _ values: [Float], _ shape: [Int]) -> Onnx_TensorProto {
        var proto = Onnx_TensorProto()
        proto.name = name
        proto.dims = shape.map(Int64.init)
        proto.dataType = Int32(Onnx_TensorProto.DataType.float.rawValue)
        var bytes = [UInt8]()
        bytes.reserveCapacity(4 * values.count)
        for value in values { withUnsafeBytes(of: value.bitPattern.littleEndian) { bytes += $0 } }
        proto.rawData = Data(bytes)
        return proto
    }

    static func inlineInt64s(_ name: String, _ values: [Int], _ shape: [Int]) -> Onnx_TensorProto {
        inlineIntegers(name, values, shape, type: .int64)
    }

    /// Whole numbers of `type` (int64 in `int64_data`, the other types as little-endian bytes
    /// of their width in `raw_data`).
    static func inlineIntegers(_ name: String, _ values: [Int], _ shape: [Int], type: ElementType) -> Onnx_TensorProto {
        var proto = Onnx_TensorProto()
        proto.name = name
        proto.dims = shape.map(Int64.init)
        proto.dataType = Int32(type.rawValue)
        switch type {
        case .int64, .uint64: proto.int64Data = values.map(Int64.init)
        default:
            let width = [ElementType.int32: 4, .uint32: 4, .int16: 2, .uint16: 2][type] ?? 1
            var bytes = [UInt8]()
            bytes.reserveCapacity(width * values.count)
            for value in values { withUnsafeBytes(of: Int64(value).littleEndian) { bytes += $0.prefix(width) } }
            proto.rawData = Data(bytes)
        }
        return proto
    }

    static func modelProto(_ graph: TracedGraph, initializers: [Onnx_TensorProto], metadata: [(String, String)]) -> Onnx_ModelProto {
        let batch = graph.inputs.first?.shape.first
        func valueInfo(_ name: String, _ shape: [Int]) -> Onnx_ValueInfoProto {
            var info = Onnx_ValueInfoProto()
            info.name = name
            var type = Onnx_TypeProto.Tensor()
            type.elemType = Int32(Onnx_TensorProto.DataType.float.rawValue)
            type.shape.dim = shape.enumerated().map { index, size in
                var dimension = Onnx_TensorShapeProto.Dimension()
                if index == 0 && size == batch { dimension.dimParam = "batch" } else { dimension.dimValue = Int64(size) }
                return dimension
            }
            info.type.tensorType = type
            return info
        }
        var proto = Onnx_GraphProto()
        proto.name = "synapse"
        proto.input = graph.inputs.map { valueInfo($0.name, $0.shape) }
        proto.output = graph.outputs.map { valueInfo($0.name, $0.shape) }
        proto.initializer = initializers
        proto.node = graph.nodes.enumerated().map { index, node in
            var nodeProto = Onnx_NodeProto()
            nodeProto.name = "\(node.opType)_\(index)"
            nodeProto.opType = node.opType
            nodeProto.input = node.inputs
            nodeProto.output = node.outputs
            nodeProto.attribute = node.attributes.sorted { $0.key < $1.key }.map { name, value in
                var attribute = Onnx_AttributeProto()
                attribute.name = name
                switch value {
                case .int(let i):
                    attribute.type = .int
                    attribute.i = Int64(i)
                case .ints(let values):
                    attribute.type = .ints
                    attribute.ints = values.map(Int64.init)
                case .float(let f):
                    attribute.type = .float
                    attribute.f = f
                case .string(let text):
                    attribute.type = .string
                    attribute.s = Data(text.utf8)
                case .strings(let texts):
                    attribute.type = .strings
                    attribute.strings = texts.map { Data($0.utf8) }
                }
                return attribute
            }
            return nodeProto
        }
        var model = Onnx_ModelProto()
        model.irVersion = irVersion
        var opset = Onnx_OperatorSetIdProto()
        opset.domain = ""
        opset.version = opsetVersion
        model.opsetImport = [opset]
        model.producerName = "synapse"
        model.producerVersion = SynapseVersion.string
        model.graph = proto
        model.metadataProps = metadata.map { entry($0.0, $0.1) }
        return model
    }
}
