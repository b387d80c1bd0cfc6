import Core
import Foundation

/// A tensor input that cannot be read: the message names the input and what is wrong.
public struct TensorInputError: UserFacingError {
    public let message: String
    public var description: String { message }
}

/// Reads a tensor as `synapse predict --input` takes it: JSON (`[[0,1],[1,0]]`), a CSV file
/// (one row per line) or a `.npy` file (float32 or float64, C order). Every size is checked
/// before it sizes an allocation; every problem is a `TensorInputError`.
public enum TensorInput {
    /// The most scalars an input may hold (2³¹).
    static let largestCount = 1 << 31
    /// The deepest JSON nesting read (rank 32).
    static let deepestNesting = 32

    public static func parse(_ text: String) throws -> Tensor {
        if text.hasSuffix(".npy") { return try npy(text) }
        if text.hasSuffix(".csv") { return try csv(text) }
        guard let object = try? JSONSerialization.jsonObject(with: Data(text.utf8), options: [.fragmentsAllowed]) else {
            throw TensorInputError(message: "--input \(text.prefix(40)): not JSON numbers, a .csv or a .npy file")
        }
        var shape: [Int] = []
        var values: [Float] = []
        try flatten(object, depth: 0, shape: &shape, values: &values, text: text)
        // A number met before a deeper row was seen (`[[1, 2], [[3, 4], [5, 6]]]`) leaves
        // fewer values than the shape holds (found by fuzz-tensor-input).
        guard values.count == shape.reduce(1, *) else {
            throw TensorInputError(message: "--input \(text.prefix(40)): rows of different depths")
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
        guard depth <= deepestNesting else { throw TensorInputError(message: "--input \(text.prefix(40)): nested deeper than \(deepestNesting)") }
        if let number {
            guard depth == shape.count else { throw TensorInputError(message: "--input \(text.prefix(40)): rows of different depths") }
            values.append(number)
            return
        }
        guard let array = object as? [Any] else { throw TensorInputError(message: "--input \(text.prefix(40)): holds something that is not a number") }
        if depth == shape.count { shape.append(array.count) }
        guard depth < shape.count, shape[depth] == array.count else {
            throw TensorInputError(message: "--input \(text.prefix(40)): rows of different lengths")
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

    private static func npy(_ path: String) throws -> Tensor {
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
        let isFloat32 = header.contains("'<f4'")
        guard isFloat32 || header.contains("'<f8'"), header.contains("'fortran_order': False"),
              let open = header.firstIndex(of: "("), let close = header.firstIndex(of: ")") else {
            throw TensorInputError(message: "\(path): only little-endian float32/float64 arrays in C order are read")
        }
        guard open < close else { throw TensorInputError(message: "\(path): damaged .npy header") }
        let shape = header[header.index(after: open)..<close].split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
        let width = isFloat32 ? 4 : 8
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
        let values: [Float] = bytes[body...].withUnsafeBytes { raw in
            (0..<count).map { i in
                isFloat32 ? Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self)))
                    : Float(Double(bitPattern: UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: 8 * i, as: UInt64.self))))
            }
        }
        return Tensor(values, shape: shape)
    }

    /// A tensor as nested JSON arrays, each scalar with 9 significant digits (exact Float32).
    public static func json(_ tensor: Tensor) -> String {
        let values = tensor.scalars.map { String(format: "%.9g", $0) }
        func nest(_ dims: ArraySlice<Int>, _ offset: inout Int) -> String {
            guard let first = dims.first else {
                defer { offset += 1 }
                return values[offset]
            }
            return "[" + (0..<first).map { _ in nest(dims.dropFirst(), &offset) }.joined(separator: ", ") + "]"
        }
        var offset = 0
        return nest(tensor.shape[...], &offset)
    }
}
