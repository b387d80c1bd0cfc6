import Core
import Foundation
import SwiftProtobuf

extension ModelFile {
    /// The largest `.onnx` file read (the weights of a Synapse pair live in the `.h5`).
    static let protobufLimit: UInt64 = 1 << 31

    /// Loads a model: a Synapse pair (`NAME.onnx` + `NAME.h5`) or a self-contained ONNX file
    /// from another tool (weights in raw_data, float_data or external data). Everything from
    /// the file is checked before use; problems throw `ModelFileError` naming the place.
    ///
    /// - Returns: a runnable, trainable graph whose parameters are the float initializers.
    public static func load(_ path: String) throws -> GraphModel {
        guard let size = FileBytes.size(path) else {
            throw ModelFileError.unreadable(file: path, reason: "no such file")
        }
        guard size <= protobufLimit, let bytes = FileBytes.readAll(path, limit: protobufLimit) else {
            throw ModelFileError.unreadable(file: path, reason: "cannot read it (or it is over 2 GiB)")
        }
        return try load(onnxBytes: bytes, path: path)
    }

    /// Loads a model from the bytes of its `.onnx` file, which was read from `path` (used in
    /// messages, and to find a pair's `.h5` and external data beside it).
    public static func load(onnxBytes bytes: [UInt8], path: String) throws -> GraphModel {
        let model: Onnx_ModelProto
        do {
            model = try Onnx_ModelProto(serializedBytes: bytes)
        } catch {
            throw ModelFileError.invalid(file: path, place: "the file", problem: "not an ONNX model (protobuf: \(error))")
        }
        guard model.hasGraph, !model.graph.node.isEmpty || !model.graph.output.isEmpty else {
            throw ModelFileError.invalid(file: path, place: "the file", problem: "not an ONNX model (no graph)")
        }
        if let opset = model.opsetImport.first(where: { $0.domain.isEmpty || $0.domain == "ai.onnx" }), opset.version < 13 {
            throw ModelFileError.unsupported(
                file: path, node: "opset_import", opType: "ai.onnx", reason: "opset \(opset.version) is older than 13, the oldest read")
        }
        let folder = AtomicFile.split(path).folder
        try checkPair(model, path: path, folder: folder)
        var parameters: [(name: String, tensor: Tensor)] = []
        var constants: [String: GraphValue] = [:]
        for (index, initializer) in model.graph.initializer.enumerated() {
            let place = "initializer \(index) \"\(initializer.name)\""
            guard !initializer.name.isEmpty else {
                throw ModelFileError.invalid(file: path, place: place, problem: "has no name")
            }
            let value = try tensorValue(initializer, file: path, place: place, folder: folder)
            switch value {
            case .tensor(let tensor):
                tensor.requiresGrad = true
                parameters.append((initializer.name, tensor))
            case .integers:
                constants[initializer.name] = value
            }
        }
        let graph = try GraphModel(model.graph, parameters: parameters, constants: constants, file: path, folder: folder)
        graph.metadata = Dictionary(model.metadataProps.map { ($0.key, $0.value) }, uniquingKeysWith: { a, _ in a })
        return graph
    }

    /// A Synapse pair records its weight file's name, size and SHA-256; refuse a pair whose
    /// weight file changed since.
    static func checkPair(_ model: Onnx_ModelProto, path: String, folder: String) throws {
        let metadata = Dictionary(model.metadataProps.map { ($0.key, $0.value) }, uniquingKeysWith: { a, _ in a })
        if let version = metadata["synapse.format_version"], (Int(version) ?? Int.max) > formatVersion {
            throw ModelFileError.unsupported(
                file: path, node: "metadata", opType: "synapse.format_version",
                reason: "version \(version) is newer than this library reads (\(formatVersion))")
        }
        guard let weights = metadata["synapse.weights"] else { return }
        let weightsPath = try resolve(weights, folder: folder, file: path, place: "metadata synapse.weights")
        guard let size = FileBytes.size(weightsPath) else {
            throw ModelFileError.mismatchedPair(file: path, weights: weightsPath, reason: "it is missing")
        }
        if let expected = metadata["synapse.weights_size"], expected != "\(size)" {
            throw ModelFileError.mismatchedPair(file: path, weights: weightsPath, reason: "size \(size) bytes, expected \(expected)")
        }
        if let expected = metadata["synapse.weights_sha256"], expected != FileBytes.sha256(weightsPath) {
            throw ModelFileError.mismatchedPair(file: path, weights: weightsPath, reason: "its SHA-256 differs from the one recorded")
        }
    }

    /// An external-data location: relative, inside the model's folder.
    static func resolve(_ location: String, folder: String, file: String, place: String) throws -> String {
        guard !location.isEmpty, !location.hasPrefix("/"), !location.split(separator: "/").contains("..") else {
            throw ModelFileError.invalid(file: file, place: place, problem: "location \"\(location)\" must be a relative path inside the model's folder")
        }
        return folder + "/" + location
    }

    /// A TensorProto's contents, every length and offset checked first.
    static func tensorValue(_ proto: Onnx_TensorProto, file: String, place: String, folder: String) throws -> GraphValue {
        let shape = proto.dims.map { Int($0) }
        guard proto.dims.allSatisfy({ $0 >= 0 && $0 < Int64(1) << 31 }) else {
            throw ModelFileError.invalid(file: file, place: place, problem: "dims \(proto.dims) are negative or too large")
        }
        var count = 1
        for size in shape {
            let (product, overflow) = count.multipliedReportingOverflow(by: size)
            guard !overflow, product <= 1 << 31 else {
                throw ModelFileError.invalid(file: file, place: place, problem: "dims \(proto.dims) hold more than 2³¹ elements")
            }
            count = product
        }
        let type = Onnx_TensorProto.DataType(rawValue: Int(proto.dataType))
        let widths: [Onnx_TensorProto.DataType: Int] = [.float: 4, .int64: 8, .int32: 4, .bool: 1, .uint8: 1, .int8: 1]
        guard let type, let width = widths[type] else {
            throw ModelFileError.unsupported(
                file: file, node: place, opType: "TensorProto",
                reason: "data type \(proto.dataType) is not float32 (or an integer or bool type for shapes, indices and masks)")
        }
        var raw: [UInt8]?
        // Float data is moved in bulk straight into the tensor (little-endian on every
        // platform Synapse runs on), never element by element.
        var floats: Tensor?
        if proto.dataLocation == .external {
            let entries = Dictionary(proto.externalData.map { ($0.key, $0.value) }, uniquingKeysWith: { a, _ in a })
            guard let location = entries["location"] else {
                throw ModelFileError.invalid(file: file, place: place, problem: "external data without a location")
            }
            let path = try resolve(location, folder: folder, file: file, place: place)
            guard let offset = UInt64(entries["offset"] ?? "0"), let length = UInt64(entries["length"] ?? "\(count * width)") else {
                throw ModelFileError.invalid(file: file, place: place, problem: "external data offset or length is not a number")
            }
            guard length == UInt64(count * width) else {
                throw ModelFileError.invalid(
                    file: file, place: place, problem: "external data length \(length) does not hold \(count) elements of \(width) bytes")
            }
            guard let size = FileBytes.size(path) else {
                throw ModelFileError.invalid(file: file, place: place, problem: "external data file \(location) is missing")
            }
            guard offset <= size, length <= size - offset else {
                throw ModelFileError.invalid(
                    file: file, place: place, problem: "external data at offset \(offset), length \(length) lies beyond the end of \(location) (\(size) bytes)")
            }
            if type == .float {
                floats = FileBytes.readTensor(path, offset: offset, shape: shape)
                if floats == nil { throw ModelFileError.unreadable(file: path, reason: "cannot read \(length) bytes at \(offset)") }
            } else {
                raw = FileBytes.read(path, offset: offset, count: Int(length))
                if raw == nil { throw ModelFileError.unreadable(file: path, reason: "cannot read \(length) bytes at \(offset)") }
            }
        } else if !proto.rawData.isEmpty || count == 0 {
            guard proto.rawData.count == count * width else {
                throw ModelFileError.invalid(
                    file: file, place: place, problem: "raw_data has \(proto.rawData.count) bytes, the shape \(shape) needs \(count * width)")
            }
            if type == .float {
                let tensor = Tensor.uninitialized(shape)
                tensor.withUnsafeMutableBufferPointer { target in
                    proto.rawData.withUnsafeBytes { source in
                        if let base = target.baseAddress, let from = source.baseAddress { memcpy(base, from, count * width) }
                    }
                }
                floats = tensor
            } else {
                raw = [UInt8](proto.rawData)
            }
        }
        func littleEndianWords<W: FixedWidthInteger>(_: W.Type, _ bytes: [UInt8]) -> [W] {
            bytes.withUnsafeBytes { buffer in (0..<count).map { W(littleEndian: buffer.loadUnaligned(fromByteOffset: $0 * width, as: W.self)) } }
        }
        switch type {
        case .float:
            if let floats { return .tensor(floats) }
            let values: [Float]
            if let raw {
                values = littleEndianWords(UInt32.self, raw).map { Float(bitPattern: $0) }
            } else {
                guard proto.floatData.count == count else {
                    throw ModelFileError.invalid(
                        file: file, place: place, problem: "float_data has \(proto.floatData.count) values, the shape \(shape) needs \(count)")
                }
                values = proto.floatData
            }
            return .tensor(Tensor(values, shape: shape))
        default:
            var values: [Int]
            if let raw {
                switch type {
                case .int64: values = littleEndianWords(UInt64.self, raw).map { Int(Int64(bitPattern: $0)) }
                case .int32: values = littleEndianWords(UInt32.self, raw).map { Int(Int32(bitPattern: $0)) }
                case .int8: values = raw.map { Int(Int8(bitPattern: $0)) }
                default: values = raw.map { Int($0) }  // bool, uint8
                }
            } else {
                values = type == .int64 ? proto.int64Data.map { Int($0) } : proto.int32Data.map { Int($0) }
                guard values.count == count else {
                    throw ModelFileError.invalid(
                        file: file, place: place, problem: "holds \(values.count) integers, the shape \(shape) needs \(count)")
                }
            }
            return .integers(values, shape: shape)
        }
    }
}


extension ModelFile {
    /// Writes the model at `path` (already loaded as `loaded`, so checked) as a Synapse pair:
    /// the same graph, its float weights in `NAME.h5`, integer constants inline.
    public static func rewrite(_ path: String, loaded: GraphModel, to name: String, embed: Bool = false) throws {
        guard let bytes = FileBytes.readAll(path, limit: protobufLimit), var model = try? Onnx_ModelProto(serializedBytes: bytes) else {
            throw ModelFileError.unreadable(file: path, reason: "cannot read it again")
        }
        model.graph.initializer = loaded.constants.sorted { $0.key < $1.key }.compactMap { name, value in
            guard case let .integers(values, shape) = value else { return nil }
            return inlineInt64s(name, values, shape)
        }
        model.producerName = "synapse"
        model.producerVersion = SynapseVersion.string
        if model.irVersion > irVersion || model.irVersion < 3 { model.irVersion = irVersion }
        try write(model, parameters: loaded.namedState, to: name, embed: embed)
    }
}
