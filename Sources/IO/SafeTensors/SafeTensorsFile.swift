import Core
import Foundation

/// A `.safetensors` file, the format Hugging Face ships weights in: an 8-byte little-endian
/// header length N, N bytes of JSON naming each tensor's `dtype`, `shape` and `data_offsets`
/// (begin and end within the data that follows; `__metadata__` holds strings), then the
/// tensors' bytes, little-endian and row-major.
///
/// Reading checks the format's own rules before any tensor is built: the header length fits
/// the file and is at most 100 MB, the header is a JSON object (space padding allowed), every
/// entry has a known dtype, a shape of non-negative sizes and offsets whose length is the
/// shape's element count times the dtype's size, the tensors do not overlap and together
/// cover the data exactly (no holes, nothing after). A file that breaks one is a
/// `SafeTensorsError` naming the file, the tensor or byte offset, and what was expected.
/// Tensors of every float, integer and bool dtype are read and converted to float32.
public struct SafeTensorsFile {
    /// One tensor: its name, its dtype as the file spells it (`F32`, `BF16`, `I64`) and its values as float32.
    public struct Entry {
        public var name: String
        public var dtype: String
        public var tensor: Tensor
    }

    /// The tensors in the order of their data in the file.
    public var entries: [Entry]
    /// The header's `__metadata__` (string to string).
    public var metadata: [String: String]

    /// The largest header read: the limit Hugging Face's own reader sets.
    public static let largestHeader = 100_000_000
    /// The largest file read (64 GiB).
    static let largestFile: UInt64 = 1 << 36

    /// Bytes per element of each dtype Synapse reads.
    static let elementSizes: [String: Int] = [
        "F64": 8, "F32": 4, "F16": 2, "BF16": 2, "I64": 8, "I32": 4, "I16": 2, "I8": 1, "U64": 8, "U32": 4, "U16": 2, "U8": 1, "BOOL": 1,
    ]

    public init(entries: [Entry], metadata: [String: String] = [:]) {
        (self.entries, self.metadata) = (entries, metadata)
    }

    /// Reads and checks the file at `path`.
    public init(contentsOf path: String) throws {
        let bytes: [UInt8]
        do {
            bytes = try FileBytes.readAll(path, limit: Self.largestFile, headLength: 8) { head in
                head.count < 8 ? "is \(head.count) bytes long, shorter than a safetensors header length (8 bytes)" : nil
            }
        } catch {
            throw SafeTensorsError(file: path, place: "the file", reason: error.reason)
        }
        try self.init(bytes: bytes, file: path)
    }

    /// Parses `bytes` (the whole file; `file` names it in errors).
    public init(bytes: [UInt8], file: String) throws {
        func fail(_ place: String, _ reason: String) -> SafeTensorsError { SafeTensorsError(file: file, place: place, reason: reason) }
        guard bytes.count >= 8 else { throw fail("the file", "is \(bytes.count) bytes long; a safetensors file starts with an 8-byte header length") }
        let length = bytes[0..<8].enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) }
        guard length <= UInt64(Self.largestHeader) else { throw fail("bytes 0-7", "give a header of \(length) bytes, more than the \(Self.largestHeader) allowed") }
        guard length <= UInt64(bytes.count - 8) else { throw fail("bytes 0-7", "give a header of \(length) bytes, but only \(bytes.count - 8) follow") }
        let headerEnd = 8 + Int(length)
        guard length >= 2, bytes[8] == UInt8(ascii: "{") else { throw fail("byte 8", "the header must be a JSON object starting with \"{\"") }
        let json: Any
        do {
            json = try JSONSerialization.jsonObject(with: Data(bytes[8..<headerEnd]), options: [])
        } catch {
            throw fail("the header (bytes 8-\(headerEnd - 1))", "is not valid JSON")
        }
        guard let header = json as? [String: Any] else { throw fail("the header", "must be a JSON object") }
        var metadata: [String: String] = [:]
        if let raw = header["__metadata__"] {
            guard let strings = raw as? [String: String] else { throw fail("__metadata__", "must map strings to strings") }
            metadata = strings
        }
        let dataCount = bytes.count - headerEnd
        var spans: [(name: String, dtype: String, shape: [Int], begin: Int, end: Int)] = []
        for (name, value) in header where name != "__metadata__" {
            let place = "tensor \"\(name)\""
            guard let info = value as? [String: Any], let dtype = info["dtype"] as? String,
                  let shapeNumbers = info["shape"] as? [NSNumber], let offsetNumbers = info["data_offsets"] as? [NSNumber] else {
                throw fail(place, "needs a dtype string, a shape list and a data_offsets pair")
            }
            guard let size = Self.elementSizes[dtype] else {
                throw fail(place, "dtype \(dtype) is not one Synapse reads (\(Self.elementSizes.keys.sorted().joined(separator: ", ")))")
            }
            let shape = shapeNumbers.map(\.int64Value)
            guard shape.allSatisfy({ $0 >= 0 && $0 < 1 << 40 }), let count = elementCount(shape.map { Int($0) }), count <= Int(Self.largestFile) else {
                throw fail(place, "shape \(shape) is negative or too large")
            }
            let offsets = offsetNumbers.map(\.int64Value)
            guard offsets.count == 2, offsets[0] >= 0, offsets[0] <= offsets[1], offsets[1] <= Int64(dataCount) else {
                throw fail(place, "data_offsets \(offsets) must be [begin, end] within the \(dataCount) data bytes")
            }
            guard Int(offsets[1] - offsets[0]) == count * size else {
                throw fail(place, "data_offsets \(offsets) hold \(offsets[1] - offsets[0]) bytes; \(dtype) of shape \(shape) needs \(count * size)")
            }
            spans.append((name, dtype, shape.map { Int($0) }, Int(offsets[0]), Int(offsets[1])))
        }
        spans.sort { ($0.begin, $0.end) < ($1.begin, $1.end) }
        var covered = 0
        for span in spans {
            guard span.begin == covered else {
                throw fail("tensor \"\(span.name)\"", span.begin < covered ? "its data (from byte \(span.begin)) overlaps the tensor before it, which ends at \(covered)" : "its data starts at byte \(span.begin), leaving a hole from \(covered)")
            }
            covered = span.end
        }
        guard covered == dataCount else { throw fail("the data", "has \(dataCount - covered) bytes after the last tensor (at \(covered))") }
        entries = spans.map { span in
            Entry(name: span.name, dtype: span.dtype, tensor: Tensor(Self.floats(bytes, at: headerEnd + span.begin, count: span.end - span.begin, dtype: span.dtype), shape: span.shape))
        }
        self.metadata = metadata
    }

    /// Little-endian values of `dtype` as float32.
    static func floats(_ bytes: [UInt8], at start: Int, count byteCount: Int, dtype: String) -> [Float] {
        bytes.withUnsafeBytes { raw in
            let base = raw.baseAddress! + start
            let n = byteCount / (elementSizes[dtype] ?? 1)
            func load<T: FixedWidthInteger>(_: T.Type, _ i: Int) -> T { T(littleEndian: base.loadUnaligned(fromByteOffset: i * MemoryLayout<T>.size, as: T.self)) }
            switch dtype {
            case "F32": return (0..<n).map { Float(bitPattern: load(UInt32.self, $0)) }
            case "F64": return (0..<n).map { Float(Double(bitPattern: load(UInt64.self, $0))) }
            case "F16": return (0..<n).map { Float(Float16(bitPattern: load(UInt16.self, $0))) }
            case "BF16": return (0..<n).map { Float(bitPattern: UInt32(load(UInt16.self, $0)) << 16) }
            case "I64": return (0..<n).map { Float(load(Int64.self, $0)) }
            case "I32": return (0..<n).map { Float(load(Int32.self, $0)) }
            case "I16": return (0..<n).map { Float(load(Int16.self, $0)) }
            case "I8": return (0..<n).map { Float(load(Int8.self, $0)) }
            case "U64": return (0..<n).map { Float(load(UInt64.self, $0)) }
            case "U32": return (0..<n).map { Float(load(UInt32.self, $0)) }
            case "U16": return (0..<n).map { Float(load(UInt16.self, $0)) }
            case "BOOL": return (0..<n).map { load(UInt8.self, $0) != 0 ? 1 : 0 }
            default: return (0..<n).map { Float(load(UInt8.self, $0)) }
            }
        }
    }

    /// The file's bytes: every tensor as F32 (or I64 where its dtype says so, for PyTorch's
    /// integer buffers), in the order given, the header padded with
    /// spaces to a multiple of 8 bytes (as Hugging Face's writer does, so the data is aligned).
    public func serialized() throws -> [UInt8] {
        var header: [String: Any] = [:]
        if !metadata.isEmpty { header["__metadata__"] = metadata }
        var offset = 0
        for entry in entries {
            guard header[entry.name] == nil else { throw SafeTensorsError(file: "", place: "tensor \"\(entry.name)\"", reason: "is named twice") }
            let dtype = entry.dtype == "I64" ? "I64" : "F32"
            let size = entry.tensor.count * (dtype == "I64" ? 8 : 4)
            header[entry.name] = ["dtype": dtype, "shape": entry.tensor.shape, "data_offsets": [offset, offset + size]] as [String: Any]
            offset += size
        }
        var json = Array(try JSONSerialization.data(withJSONObject: header, options: [.sortedKeys]))
        while (8 + json.count) % 8 != 0 { json.append(UInt8(ascii: " ")) }
        var bytes = [UInt8]()
        bytes.reserveCapacity(8 + json.count + offset)
        bytes += (0..<8).map { UInt8(truncatingIfNeeded: UInt64(json.count) >> (8 * UInt64($0))) }
        bytes += json
        for entry in entries {
            entry.tensor.withUnsafeBufferPointer { values in
                for value in values {
                    if entry.dtype == "I64" {
                        withUnsafeBytes(of: Int64(value.rounded()).littleEndian) { bytes += $0 }
                    } else {
                        withUnsafeBytes(of: value.bitPattern.littleEndian) { bytes += $0 }
                    }
                }
            }
        }
        return bytes
    }

    /// Writes the file at `path` atomically (the previous file, if any, stays whole on failure).
    public func write(to path: String) throws {
        let bytes: [UInt8]
        do {
            bytes = try serialized()
        } catch let error as SafeTensorsError {
            throw SafeTensorsError(file: path, place: error.place, reason: error.reason)
        }
        try AtomicFile.writeBytes(bytes, to: path)
    }
}

/// A `.safetensors` file that breaks the format's rules, or does not fit the model it is
/// loaded into: names the file, the place in it and what was expected.
public struct SafeTensorsError: UserFacingError, Equatable {
    public var file: String
    /// The tensor or byte range (`tensor "fc.weight"`, `bytes 0-7`).
    public var place: String
    public var reason: String

    public var description: String { "safetensors \(file): \(place): \(reason)" }
}
