import Core
import Foundation

/// A tensor input that cannot be read: the message names the input and what is wrong.
public struct TensorInputError: UserFacingError {
    public let message: String
    public var description: String { message }
}

/// Reads an array as programs take them (`synapse predict --input`, `TensorDataset(inputsFile:)`):
/// JSON (`[[0,1],[1,0]]`), a CSV file (one row per line) or a `.npy` file (every numeric dtype
/// and bool, C order). The file is opened once and special files are refused; every size is
/// checked before it sizes an allocation; every problem is a `TensorInputError` whose message
/// names the input (a program adds its flag's name).
public enum TensorInput {
    /// The most scalars an input may hold (2³¹).
    static let largestCount = 1 << 31
    /// The deepest JSON nesting read (rank 32).
    static let deepestNesting = 32

    public static func parse(_ text: String) throws -> Tensor {
        if text.hasSuffix(".npy") { return try npy(text) }
        if text.hasSuffix(".csv") { return try csv(text) }
        guard let object = try? JSONSerialization.jsonObject(with: Data(text.utf8), options: [.fragmentsAllowed]) else {
            throw TensorInputError(message: "\(text.prefix(40)): not JSON numbers, a .csv or a .npy file")
        }
        var shape: [Int] = []
        var values: [Float] = []
        try flatten(object, depth: 0, shape: &shape, values: &values, text: text)
        // A number met before a deeper row was seen (`[[1, 2], [[3, 4], [5, 6]]]`) leaves
        // fewer values than the shape holds (found by fuzz-tensor-input).
        guard values.count == shape.reduce(1, *) else {
            throw TensorInputError(message: "\(text.prefix(40)): rows of different depths")
        }
        return Tensor(values, shape: shape)
    }

    private static func flatten(_ object: Any, depth: Int, shape: inout [Int], values: inout [Float], text: String) throws {
        let number: Float? = switch object {
        case let value as Int: Float(value)
        case let value as Double: Float(value)
        case let value as NSNumber where !(object is Bool): value.floatValue
        default: nil
        }
        guard depth <= deepestNesting else { throw TensorInputError(message: "\(text.prefix(40)): nested deeper than \(deepestNesting)") }
        if let number {
            guard depth == shape.count else { throw TensorInputError(message: "\(text.prefix(40)): rows of different depths") }
            values.append(number)
            return
        }
        guard let array = object as? [Any] else { throw TensorInputError(message: "\(text.prefix(40)): holds something that is not a number") }
        if depth == shape.count { shape.append(array.count) }
        guard depth < shape.count, shape[depth] == array.count else {
            throw TensorInputError(message: "\(text.prefix(40)): rows of different lengths")
        }
        for element in array { try flatten(element, depth: depth + 1, shape: &shape, values: &values, text: text) }
    }

    /// The largest input file read: 2³¹ float64 values and a header.
    static let largestFile: UInt64 = (1 << 34) + (1 << 20)

    /// The whole of an input file (one open; special files and files over 16 GiB refused).
    private static func read(_ path: String) throws -> [UInt8] {
        do {
            return try FileBytes.readAll(path, limit: largestFile)
        } catch {
            throw TensorInputError(message: "\(path): \(error.reason)")
        }
    }

    private static func csv(_ path: String) throws -> Tensor {
        // Read with Synapse's own file access: Foundation's String(contentsOfFile:) leaks the
        // buffer of an empty file (seen by LeakSanitizer under fuzz-tensor-input).
        let bytes = try read(path)
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw TensorInputError(message: "\(path): not UTF-8 text")
        }
        let rows = try text.split(separator: "\n").enumerated().map { number, line in
            try line.split(separator: ",").map { field -> Float in
                guard let value = Float(field.trimmingCharacters(in: .whitespaces)) else {
                    throw TensorInputError(message: "\(path):\(number + 1): \"\(field)\" is not a number")
                }
                return value
            }
        }
        guard let width = rows.first?.count, rows.allSatisfy({ $0.count == width }) else {
            throw TensorInputError(message: "\(path): rows of different lengths")
        }
        return Tensor(rows.flatMap { $0 }, shape: [rows.count, width])
    }

    private static func npy(_ path: String) throws -> Tensor { try npyValue(path).asTensor }

    /// The dtypes read from `.npy` (little-endian or single-byte, C order): NumPy's code, the
    /// element type, the width in bytes.
    static let npyTypes: [(code: String, type: ElementType, width: Int)] = [
        ("<f4", .float32, 4), ("<f8", .float64, 8), ("<f2", .float16, 2), ("<i8", .int64, 8), ("<i4", .int32, 4),
        ("<i2", .int16, 2), ("|i1", .int8, 1), ("|u1", .uint8, 1), ("<u2", .uint16, 2), ("<u4", .uint32, 4), ("<u8", .uint64, 8),
        ("|b1", .bool, 1),
    ]

    /// A `.npy` file in its own element type: float16/float32/float64 as a float tensor, every
    /// integer type and bool as whole numbers of that type (token ids saved as int64, a mask
    /// as bool). Sizes are checked before anything is allocated.
    public static func npyValue(_ path: String) throws -> GraphValue {
        let bytes = try read(path)
        guard bytes.count >= 10, bytes[0] == 0x93, Array(bytes[1...5]) == Array("NUMPY".utf8) else {
            throw TensorInputError(message: "\(path): not a .npy file")
        }
        let major = bytes[6]
        let headerLength = major == 1 ? Int(bytes[8]) | Int(bytes[9]) << 8
            : bytes.count >= 12 ? Int(bytes[8]) | Int(bytes[9]) << 8 | Int(bytes[10]) << 16 | Int(bytes[11]) << 24 : -1
        let start = major == 1 ? 10 : 12
        guard headerLength >= 0, start + headerLength <= bytes.count,
              let header = String(bytes: bytes[start..<(start + headerLength)], encoding: .ascii) else {
            throw TensorInputError(message: "\(path): damaged .npy header")
        }
        guard let dtype = npyTypes.first(where: { header.contains("'\($0.code)'") || ($0.width == 1 && header.contains("'<\($0.code.dropFirst())'")) }) else {
            throw TensorInputError(message: "\(path): its dtype is not one read (little-endian float16/32/64, int8–64, uint8–64 or bool)")
        }
        guard header.contains("'fortran_order': False"), let open = header.firstIndex(of: "("), let close = header.firstIndex(of: ")") else {
            throw TensorInputError(message: "\(path): only arrays in C order are read")
        }
        guard open < close else { throw TensorInputError(message: "\(path): damaged .npy header") }
        let shape = header[header.index(after: open)..<close].split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
        let width = dtype.width
        let body = start + headerLength
        var count = 1
        for size in shape {
            let (product, overflow) = count.multipliedReportingOverflow(by: size)
            guard size >= 0, !overflow, product <= largestCount else {
                throw TensorInputError(message: "\(path): the shape \(shape) is negative or holds more than 2³¹ values")
            }
            count = product
        }
        guard shape.count <= deepestNesting, bytes.count - body == count * width else {
            throw TensorInputError(message: "\(path): holds \(bytes.count - body) bytes of data, the shape \(shape) needs \(count * width)")
        }
        return bytes[body...].withUnsafeBytes { raw -> GraphValue in
            func word<W: FixedWidthInteger>(_: W.Type, _ i: Int) -> W { W(littleEndian: raw.loadUnaligned(fromByteOffset: width * i, as: W.self)) }
            switch dtype.type {
            case .float32: return .tensor(Tensor((0..<count).map { Float(bitPattern: word(UInt32.self, $0)) }, shape: shape))
            case .float64: return .tensor(Tensor((0..<count).map { Float(Double(bitPattern: word(UInt64.self, $0))) }, shape: shape))
            case .float16: return .tensor(Tensor((0..<count).map { Float(Float16(bitPattern: word(UInt16.self, $0))) }, shape: shape))
            default:
                let values: [Int] = (0..<count).map { i in
                    switch dtype.type {
                    case .int64: Int(word(Int64.self, i))
                    case .uint64: Int(truncatingIfNeeded: word(UInt64.self, i))
                    case .int32: Int(word(Int32.self, i))
                    case .uint32: Int(word(UInt32.self, i))
                    case .int16: Int(word(Int16.self, i))
                    case .uint16: Int(word(UInt16.self, i))
                    case .int8: Int(Int8(bitPattern: raw[i]))
                    case .bool: raw[i] != 0 ? 1 : 0
                    default: Int(raw[i])  // uint8
                    }
                }
                return .integers(values, shape: shape, type: dtype.type)
            }
        }
    }

    /// An input as `--input` takes it, in its own element type: a `.npy` file keeps its dtype;
    /// JSON and CSV give float tensors.
    public static func parseValue(_ text: String) throws -> GraphValue {
        text.hasSuffix(".npy") ? try npyValue(text) : .tensor(try parse(text))
    }

    /// A value as nested JSON arrays: floats with 9 significant digits (exact Float32), whole
    /// numbers as integers, bool as `true`/`false`.
    ///
    /// An empty value (a size of 0) prints as `{"shape": [0, 3], "dtype": "float32", "values": []}`:
    /// nested arrays cannot keep the sizes after a 0 (`[]` is every shape `[0, …]`).
    public static func json(_ value: GraphValue) -> String {
        if value.shape.contains(0) {
            return "{\"shape\": [\(value.shape.map(String.init).joined(separator: ", "))], \"dtype\": \"\(value.elementType.name)\", \"values\": []}"
        }
        switch value {
        case .tensor(let tensor): return json(tensor)
        case let .integers(values, shape, type):
            return nested(values.map { type == .bool ? ($0 != 0 ? "true" : "false") : "\($0)" }, shape: shape)
        }
    }

    /// `texts` (row-major) as nested JSON arrays of `shape`.
    static func nested(_ texts: [String], shape: [Int]) -> String {
        func nest(_ dims: ArraySlice<Int>, _ offset: inout Int) -> String {
            guard let first = dims.first else {
                defer { offset += 1 }
                return texts[offset]
            }
            return "[" + (0..<first).map { _ in nest(dims.dropFirst(), &offset) }.joined(separator: ", ") + "]"
        }
        var offset = 0
        return nest(shape[...], &offset)
    }

    /// A tensor as nested JSON arrays, each scalar with 9 significant digits (exact Float32);
    /// NaN and the infinities as `NaN`, `Infinity` and `-Infinity`, the spelling JavaScript,
    /// Python's `json` and NumPy read back (JSON itself has no word for them).
    public static func json(_ tensor: Tensor) -> String {
        nested(tensor.scalars.map { $0.isNaN ? "NaN" : $0.isInfinite ? ($0 < 0 ? "-Infinity" : "Infinity") : String(format: "%.9g", $0) }, shape: tensor.shape)
    }
}
