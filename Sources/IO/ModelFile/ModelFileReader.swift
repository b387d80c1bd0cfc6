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
    /// Each file is opened once and read whole through that descriptor. A pair being replaced
    /// while it is read (its `.onnx` renamed over `path` between the two files' reads) is read
    /// again, so a reader racing `synapse export` gets the old model or the new one. Special
    /// files are refused from `fstat`, and a file whose first bytes cannot start an ONNX
    /// model is refused before it is read whole.
    ///
    /// - Returns: a runnable, trainable graph whose parameters are the float initializers.
    public static func load(_ path: String) throws -> GraphModel {
        var attempt = 0
        while true {
            attempt += 1
            let (bytes, identity) = try readONNX(path)
            do {
                return try load(onnxBytes: bytes, path: path)
            } catch ModelFileError.mismatchedPair(let file, let weights, let reason) {
                // Replaced since we read it: the new .onnx belongs to the new weights.
                guard attempt < 5, FileBytes.identity(path).map({ $0 != identity }) ?? false else {
                    throw ModelFileError.mismatchedPair(file: file, weights: weights, reason: reason)
                }
            }
        }
    }

    /// The bytes of the `.onnx` at `path` and the identity of the file they came from.
    static func readONNX(_ path: String) throws -> ([UInt8], FileIdentity) {
        do {
            return try FileBytes.readAllIdentified(path, limit: protobufLimit, headLength: 16) { head in
                ONNXSignature.problem(head).map { "not an ONNX model: \($0)" }
            }
        } catch {
            if error.isMissing { throw ModelFileError.unreadable(file: path, reason: "no such file") }
            throw ModelFileError.unreadable(file: path, reason: error.reason)
        }
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
        let opset = model.opsetImport.first(where: { $0.domain.isEmpty || $0.domain == "ai.onnx" }).map { Int($0.version) } ?? Int(ModelFile.opsetVersion)
        // Each importer declares the opsets it reads (13 and later unless the operator is the same
        // in older ones), so an older model loads when all its nodes are read at its opset.
        guard opset >= 1 else {
            throw ModelFileError.unsupported(file: path, node: "opset_import", opType: "ai.onnx", reason: "opset \(opset) does not exist")
        }
        let folder = AtomicFile.split(path).folder
        let external = ExternalData(folder: folder, file: path)
        try checkPair(model, path: path, external: external)
        var parameters: [(name: String, tensor: Tensor)] = []
        var constants: [String: GraphValue] = [:]
        for (index, initializer) in model.graph.initializer.enumerated() {
            let place = "initializer \(index) \"\(initializer.name)\""
            guard !initializer.name.isEmpty else {
                throw ModelFileError.invalid(file: path, place: place, problem: "has no name")
            }
            let value = try tensorValue(initializer, file: path, place: place, external: external)
            switch value {
            case .tensor(let tensor):
                tensor.requiresGrad = true
                parameters.append((initializer.name, tensor))
            case .integers:
                constants[initializer.name] = value
            }
        }
        let graph = try GraphModel(model.graph, parameters: parameters, constants: constants, file: path, folder: folder, opset: opset)
        graph.metadata = Dictionary(model.metadataProps.map { ($0.key, $0.value) }, uniquingKeysWith: { a, _ in a })
        return graph
    }

    /// A Synapse pair records its weight file's name, size and SHA-256; refuse a pair whose
    /// weight file changed since. The weights read here (from `NAME.h5`, or from the pending
    /// file of a replacement that was interrupted after its `.onnx` was in place) are the ones
    /// the initializers are then read from.
    static func checkPair(_ model: Onnx_ModelProto, path: String, external: ExternalData) throws {
        let metadata = Dictionary(model.metadataProps.map { ($0.key, $0.value) }, uniquingKeysWith: { a, _ in a })
        if let version = metadata["synapse.format_version"], (Int(version) ?? Int.max) > formatVersion {
            throw ModelFileError.unsupported(
                file: path, node: "metadata", opType: "synapse.format_version",
                reason: "version \(version) is newer than this library reads (\(formatVersion))")
        }
        guard let weights = metadata["synapse.weights"] else { return }
        let weightsPath = try resolve(weights, folder: external.folder, file: path, place: "metadata synapse.weights")
        func problem(_ image: FileImage) -> String? {
            if let expected = metadata["synapse.weights_size"], expected != "\(image.count)" {
                return "size \(image.count) bytes, expected \(expected)"
            }
            if let expected = metadata["synapse.weights_sha256"], expected != FileBytes.sha256Hex(image.contents) {
                return "its SHA-256 differs from the one recorded"
            }
            return nil
        }
        var found: (image: FileImage, problem: String?)?
        do {
            let image = try FileBytes.readImage(weightsPath, limit: 1 << 40)
            found = (image, problem(image))
        } catch where !error.isMissing {
            throw ModelFileError.mismatchedPair(file: path, weights: weightsPath, reason: error.reason)
        } catch {}
        if found?.problem == nil, let image = found?.image {
            external.images[weights] = image
            return
        }
        // An export between its commit (the .onnx) and its last rename (pending → .h5): the
        // weights are pending, or were renamed into place just now.
        if let digest = metadata["synapse.weights_sha256"] {
            for candidate in [pendingWeightsPath(weightsPath, sha256: digest), weightsPath] {
                if let image = try? FileBytes.readImage(candidate, limit: 1 << 40), problem(image) == nil {
                    external.images[weights] = image
                    return
                }
            }
        }
        throw ModelFileError.mismatchedPair(file: path, weights: weightsPath, reason: found?.problem ?? "it is missing")
    }

    /// An external-data location: relative, inside the model's folder.
    static func resolve(_ location: String, folder: String, file: String, place: String) throws -> String {
        guard !location.isEmpty, !location.hasPrefix("/"), !location.split(separator: "/").contains("..") else {
            throw ModelFileError.invalid(file: file, place: place, problem: "location \"\(location)\" must be a relative path inside the model's folder")
        }
        return folder + "/" + location
    }

    /// A TensorProto's contents, every length and offset checked first.
    static func tensorValue(_ proto: Onnx_TensorProto, file: String, place: String, external: ExternalData?) throws -> GraphValue {
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
        guard let elementType = ElementType(rawValue: Int(proto.dataType)) else {
            throw ModelFileError.unsupported(
                file: file, node: place, opType: "TensorProto",
                reason: "data type \(proto.dataType) is not one Synapse reads (float8e8m0, strings and complex types are not)")
        }
        let type = Onnx_TensorProto.DataType(rawValue: Int(proto.dataType))
        // Bytes per element (4- and 2-bit types are packed: their byte count is worked out below).
        let width = Swift.max(elementType.bitWidth / 8, 1)
        let byteCount = elementType.byteCount(count)
        var raw: [UInt8]?
        // Float data is moved in bulk straight into the tensor (little-endian on every
        // platform Synapse runs on), never element by element.
        var floats: Tensor?
        if proto.dataLocation == .external {
            let entries = Dictionary(proto.externalData.map { ($0.key, $0.value) }, uniquingKeysWith: { a, _ in a })
            guard let location = entries["location"] else {
                throw ModelFileError.invalid(file: file, place: place, problem: "external data without a location")
            }
            guard let external else {
                throw ModelFileError.invalid(file: file, place: place, problem: "external data is not allowed here")
            }
            guard let offset = UInt64(entries["offset"] ?? "0"), let length = UInt64(entries["length"] ?? "\(byteCount)") else {
                throw ModelFileError.invalid(file: file, place: place, problem: "external data offset or length is not a number")
            }
            guard length == UInt64(byteCount) else {
                throw ModelFileError.invalid(
                    file: file, place: place, problem: "external data length \(length) does not hold \(count) elements of \(elementType.name) (\(byteCount) bytes)")
            }
            let image = try external.image(location, place: place)
            let size = UInt64(image.count)
            guard offset <= size, length <= size - offset else {
                throw ModelFileError.invalid(
                    file: file, place: place, problem: "external data at offset \(offset), length \(length) lies beyond the end of \(location) (\(size) bytes)")
            }
            let bytes = UnsafeRawBufferPointer(rebasing: image.contents[Int(offset)..<Int(offset + length)])
            if type == .float {
                let tensor = Tensor.uninitialized(shape)
                tensor.withUnsafeMutableBufferPointer { target in
                    if let base = target.baseAddress, let from = bytes.baseAddress { UnsafeMutableRawPointer(base).copyMemory(from: from, byteCount: bytes.count) }
                }
                floats = tensor
            } else {
                raw = Array(bytes)
            }
        } else if !proto.rawData.isEmpty || count == 0 {
            guard proto.rawData.count == byteCount else {
                throw ModelFileError.invalid(
                    file: file, place: place, problem: "raw_data has \(proto.rawData.count) bytes, the shape \(shape) of \(elementType.name) needs \(byteCount)")
            }
            if type == .float {
                let tensor = Tensor.uninitialized(shape)
                tensor.withUnsafeMutableBufferPointer { target in
                    proto.rawData.withUnsafeBytes { source in
                        if let base = target.baseAddress, let from = source.baseAddress { UnsafeMutableRawPointer(base).copyMemory(from: from, byteCount: count * width) }
                    }
                }
                floats = tensor
            } else {
                raw = [UInt8](proto.rawData)
            }
        }
        if type == .float, floats == nil, raw == nil {
            guard proto.floatData.count == count else {
                throw ModelFileError.invalid(
                    file: file, place: place, problem: "float_data has \(proto.floatData.count) values, the shape \(shape) needs \(count)")
            }
            return .tensor(Tensor(proto.floatData, shape: shape))
        }
        if let floats { return .tensor(floats) }
        // Without raw_data: ONNX keeps doubles in double_data, uint32/uint64 in uint64_data,
        // int64 in int64_data, and every narrower type (their bits, packed for 4- and 2-bit
        // types) in int32_data.
        let bytes: [UInt8]
        if let raw {
            bytes = raw
        } else {
            let words: [UInt64]
            switch elementType {
            case .float64: words = proto.doubleData.map(\.bitPattern)
            case .uint32, .uint64: words = proto.uint64Data
            case .int64: words = proto.int64Data.map { UInt64(bitPattern: $0) }
            default: words = proto.int32Data.map { UInt64(UInt32(bitPattern: $0)) }
            }
            let perWord = elementType.bitWidth <= 4 ? 8 / Swift.max(elementType.bitWidth, 1) : 1
            let expected = elementType.bitWidth <= 4 && elementType != .bool ? (count + perWord - 1) / perWord : count
            guard words.count == expected else {
                throw ModelFileError.invalid(file: file, place: place, problem: "holds \(words.count) values, the shape \(shape) of \(elementType.name) needs \(expected)")
            }
            bytes = words.flatMap { word -> [UInt8] in
                let size = elementType.bitWidth <= 8 ? 1 : elementType.bitWidth / 8
                return (0..<size).map { UInt8(truncatingIfNeeded: word >> (8 * UInt64($0))) }
            }
        }
        switch elementType.decode(Array(bytes.prefix(byteCount)), count: count) {
        case .floats(let values)?: return .tensor(Tensor(values, shape: shape))
        case .integers(let values)?: return .integers(values, shape: shape, type: elementType)
        case nil:
            throw ModelFileError.invalid(file: file, place: place, problem: "holds \(bytes.count) bytes, the shape \(shape) of \(elementType.name) needs \(byteCount)")
        }
    }
}


extension ModelFile {
    /// Writes the model at `path` (already loaded as `loaded`, so checked) as a Synapse pair:
    /// the same graph, its float weights in `NAME.h5`, integer constants inline.
    public static func rewrite(_ path: String, loaded: GraphModel, to name: String, embed: Bool = false) throws {
        guard let bytes = try? readONNX(path).0, var model = try? Onnx_ModelProto(serializedBytes: bytes) else {
            throw ModelFileError.unreadable(file: path, reason: "cannot read it again")
        }
        model.graph.initializer = loaded.constants.sorted { $0.key < $1.key }.compactMap { name, value in
            guard case let .integers(values, shape, type) = value else { return nil }
            return inlineIntegers(name, values, shape, type: type)
        }
        model.producerName = "synapse"
        model.producerVersion = SynapseVersion.string
        if model.irVersion > irVersion || model.irVersion < 3 { model.irVersion = irVersion }
        try write(model, parameters: loaded.namedState, to: name, embed: embed)
    }
}

/// The files a model's external data lives in, each read once, whole, through one descriptor.
final class ExternalData {
    let folder: String
    let file: String
    /// Location (as the model writes it) → the file's bytes.
    var images: [String: FileImage] = [:]

    init(folder: String, file: String) {
        (self.folder, self.file) = (folder, file)
    }

    /// The bytes of the external-data file at `location`, read on first use.
    func image(_ location: String, place: String) throws -> FileImage {
        if let image = images[location] { return image }
        let path = try ModelFile.resolve(location, folder: folder, file: file, place: place)
        do {
            let image = try FileBytes.readImage(path, limit: 1 << 40)
            images[location] = image
            return image
        } catch {
            if error.isMissing {
                throw ModelFileError.invalid(file: file, place: place, problem: "external data file \(location) is missing")
            }
            throw ModelFileError.unreadable(file: path, reason: error.reason)
        }
    }
}

/// The first bytes of every ONNX model: a ModelProto's first field. Protobuf writers emit
/// fields in number order, and every exporter starts with `ir_version` (field 1, a varint:
/// byte 0x08); a file that starts with any other byte that is no ModelProto field tag cannot
/// be a model, and is refused before it is read whole (a 2 GiB file of something else).
enum ONNXSignature {
    /// ModelProto's field tags (field number << 3 | wire type), one byte each (fields 1–14).
    static let firstByteTags: Set<UInt8> = [
        0x08, 0x12, 0x1A, 0x22, 0x28, 0x32, 0x3A, 0x42, 0x72,
    ]

    /// Why `head` cannot start an ONNX model, or `nil`.
    static func problem(_ head: [UInt8]) -> String? {
        guard let first = head.first else { return "the file is empty" }
        if head.starts(with: IntegrityRecord.magic) || head.starts(with: IntegrityRecord.hdf5Signature) {
            return "it is an HDF5 file (a checkpoint or a weight file?)"
        }
        // Fields 20 (training_info), 25 (functions) and 26 (configuration) take two-byte tags.
        if (first == 0xA2 || first == 0xCA || first == 0xD2) && head.count > 1 && head[1] == 0x01 { return nil }
        guard firstByteTags.contains(first) else {
            return "it starts with byte 0x\(String(format2: first)), which no ONNX ModelProto field starts with"
        }
        return nil
    }
}
