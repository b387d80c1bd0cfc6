// ONNX's BitCast (opset 26): the bits of each element read as another type of the same
// width, little endian — float32 ↔ int32/uint32, float16/bfloat16 ↔ int16/uint16, the
// signed and unsigned integers of a width, bool ↔ uint8/int8. Float tensors hold float32,
// so a float64's bits are those of its float32 value (a file's float64 inputs are read as
// float32); 8- and 4-bit float types are refused by name.

extension ElementType {
    /// Bits BitCast reads and writes per element (bool: one byte).
    var storageBits: Int { self == .bool ? 8 : bitWidth }
}

/// The bit pattern of `value` held as `type`.
private func bitPattern(of value: Double, integer: Int, as type: ElementType) -> UInt64? {
    switch type {
    case .float32: return UInt64(Float(value).bitPattern)
    case .float16: return UInt64(Float16(Float(value)).bitPattern)
    case .bfloat16: return UInt64(Float(value).bitPattern >> 16)
    case .float64: return Double(Float(value)).bitPattern
    case _ where type.isInteger: return UInt64(truncatingIfNeeded: integer) & (type.storageBits == 64 ? ~0 : (1 << UInt64(type.storageBits)) - 1)
    default: return nil
    }
}

extension Tensor {
    static let bitCastImporters = [
        ImporterDeclaration("BitCast", opsets: 26...Int.max, reads: ["to"], differentiable: false) { node in
            let x = try node.value(0)
            let source = (node.declaredTypes.first ?? nil).flatMap { $0.isFloat == x.elementType.isFloat ? $0 : nil } ?? x.elementType
            guard let target = ElementType(rawValue: node.int("to", default: 0)) else { throw node.fail("to = \(node.int("to", default: 0)) is not a type Synapse reads") }
            guard source.storageBits == target.storageBits else {
                throw node.fail("\(source) has \(source.storageBits) bits and \(target) \(target.storageBits): BitCast keeps the width")
            }
            let supported: Set<ElementType> = [.float32, .float16, .bfloat16, .float64]
            for type in [source, target] where type.isFloat && !supported.contains(type) {
                throw node.fail("BitCast of \(type) is not implemented (float32, float16, bfloat16, float64 and the integers are)")
            }
            let floats: [Float] = x.elementType.isFloat ? x.asTensor.scalars : []
            let integers: [Int] = { if case .integers(let v, _, _) = x { return v } else { return [] } }()
            let count = x.shape.reduce(1, *)
            let bits = (0..<count).map { i in
                bitPattern(of: floats.isEmpty ? Double(integers[i]) : Double(floats[i]), integer: integers.isEmpty ? 0 : integers[i], as: source) ?? 0
            }
            switch target {
            case .float32: return [.tensor(Tensor(bits.map { Float(bitPattern: UInt32(truncatingIfNeeded: $0)) }, shape: x.shape))]
            case .float16: return [.tensor(Tensor(bits.map { Float(Float16(bitPattern: UInt16(truncatingIfNeeded: $0))) }, shape: x.shape))]
            case .bfloat16: return [.tensor(Tensor(bits.map { Float(bitPattern: UInt32(truncatingIfNeeded: $0) << 16) }, shape: x.shape))]
            case .float64: return [.tensor(Tensor(bits.map { Float(Double(bitPattern: $0)) }, shape: x.shape))]
            default: return [.integers(bits.map { target.wrap(Int(truncatingIfNeeded: $0)) }, shape: x.shape, type: target)]
            }
        },
    ]
}
