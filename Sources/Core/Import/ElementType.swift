/// The element type of a value in an imported graph, with ONNX's `TensorProto.DataType`
/// codes. Float values compute as float32 (`Tensor`, the type autograd runs on); float16,
/// float64, bfloat16, the float8 types and float4 are converted at the edges (a `Cast` to one
/// rounds to its grid, as `MiniFloat` describes). float8e8m0, strings and complex types are
/// not read. Integer and bool values are whole numbers
/// (`GraphValue.integers`) that keep their type through the graph, so that an `int64` input of
/// token ids, a `bool` mask or a `Cast` to `int32` is what the model says it is.
public enum ElementType: Int, Sendable, CaseIterable {
    case float32 = 1
    case uint8 = 2
    case int8 = 3
    case uint16 = 4
    case int16 = 5
    case int32 = 6
    case int64 = 7
    case bool = 9
    case float16 = 10
    case float64 = 11
    case uint32 = 12
    case uint64 = 13
    case bfloat16 = 16
    case float8e4m3fn = 17
    case float8e4m3fnuz = 18
    case float8e5m2 = 19
    case float8e5m2fnuz = 20
    case uint4 = 21
    case int4 = 22
    case float4e2m1 = 23
    case uint2 = 25
    case int2 = 26

    /// The name ONNX and NumPy use (`int64`, `bool`).
    public var name: String { String(describing: self) }

    /// Whether values of this type are whole numbers (`GraphValue.integers`).
    public var isInteger: Bool { !isFloat }

    public var isFloat: Bool { [.float32, .float16, .float64, .bfloat16, .float8e4m3fn, .float8e4m3fnuz, .float8e5m2, .float8e5m2fnuz, .float4e2m1].contains(self) }

    /// `value` as this integer type holds it: wrapped to its width (two's complement), or 0/1
    /// for bool — ONNX's `Cast` between integer types.
    public func wrap(_ value: Int) -> Int {
        switch self {
        case .bool: value != 0 ? 1 : 0
        case .uint8: Int(UInt8(truncatingIfNeeded: value))
        case .int8: Int(Int8(truncatingIfNeeded: value))
        case .uint16: Int(UInt16(truncatingIfNeeded: value))
        case .int16: Int(Int16(truncatingIfNeeded: value))
        case .uint32: Int(UInt32(truncatingIfNeeded: value))
        case .int32: Int(Int32(truncatingIfNeeded: value))
        case .uint4: value & 0xF
        case .int4: (value & 0xF) >= 8 ? (value & 0xF) - 16 : value & 0xF
        case .uint2: value & 0x3
        case .int2: (value & 0x3) >= 2 ? (value & 0x3) - 4 : value & 0x3
        default: value
        }
    }

    /// The type of an arithmetic result of `a` and `b` (ONNX's ops take one type for both
    /// operands; where a graph mixes the whole-number types Synapse keeps, the wider wins).
    public static func promoted(_ a: ElementType, _ b: ElementType) -> ElementType {
        if a == b { return a }
        if a.isFloat || b.isFloat { return .float32 }
        let order: [ElementType] = [.bool, .uint8, .int8, .uint16, .int16, .uint32, .int32, .uint64, .int64]
        return (order.firstIndex(of: a) ?? 8) >= (order.firstIndex(of: b) ?? 8) ? a : b
    }
}
