import Core
import Testing

/// bfloat16, the float8 types, float4 and the 4- and 2-bit integers: decoding their bytes
/// (worked out by hand) and rounding to their grids (the values ml_dtypes, ONNX's reference,
/// gives for the same inputs).
@Suite("Narrow element types")
struct NarrowTypeTests {
    /// Equal, NaN equal to NaN and the sign of zero compared.
    func same(_ a: [Float], _ b: [Float]) -> Bool {
        a.count == b.count && zip(a, b).allSatisfy { ($0.isNaN && $1.isNaN) || ($0 == $1 && $0.sign == $1.sign) }
    }

    @Test("rounding to each grid: nearest, ties to the even code; past the largest value NaN or infinity unless saturating")
    func rounding() {
        let e4m3 = [Float(448), 460, 464, 470, 1e6, .infinity, -1e-7, 1e-7, 0.0009765625, 0.001].map { MiniFloat.e4m3fn.rounded($0, saturate: false) }
        #expect(same(e4m3, [448, 448, 448, .nan, .nan, .nan, -0.0, 0, 0, 0.001953125]))
        #expect(same([Float(1e6), -.infinity, .nan].map { MiniFloat.e4m3fn.rounded($0) }, [448, -448, .nan]))
        let e5m2 = [Float(57344), 60000, 61440, 1e6, .infinity].map { MiniFloat.e5m2.rounded($0, saturate: false) }
        #expect(same(e5m2, [57344, 57344, .infinity, .infinity, .infinity]))
        let fnuz = [Float(240), 247, 248, 1e6, .infinity, -1e-7, -0.0].map { MiniFloat.e4m3fnuz.rounded($0, saturate: false) }
        #expect(same(fnuz, [240, 240, .nan, .nan, .nan, 0, 0]))
        let e2m1 = [Float(0.25), 0.75, 1.25, 2.5, 5, 0.01, -0.0, 1e-7, 9, -.infinity].map { MiniFloat.e2m1.rounded($0) }
        #expect(same(e2m1, [0, 1, 1, 2, 4, 0, -0.0, 0, 6, -6]))
        let bf16 = [Float(0.47892547), 1.00390625, 1.01171875, 3.4e38, -2.5e-39].map(\.roundedToBFloat16)
        #expect(same(bf16, [0.478515625, 1, 1.015625, .infinity, -2.4795583962657627e-39]))
    }

    @Test("bytes decode as the format says: float8 codes, packed nibbles and pairs low bits first, bfloat16's upper halves")
    func decoding() {
        // 0x7E is E4M3FN's largest (1.75 · 2⁸), 0x7F its NaN, 0x80 its −0, 0x01 its smallest (2⁻⁹).
        guard case .floats(let e4m3)? = ElementType.float8e4m3fn.decode([0x7E, 0x7F, 0x80, 0x01], count: 4) else { Issue.record("e4m3"); return }
        #expect(same(e4m3, [448, .nan, -0.0, 0.001953125]))
        // 0x80 is E5M2FNUZ's NaN; 0x7C is E5M2's infinity.
        guard case .floats(let fnuz)? = ElementType.float8e5m2fnuz.decode([0x80, 0x40], count: 2),
              case .floats(let e5m2)? = ElementType.float8e5m2.decode([0x7C, 0xC0], count: 2) else { Issue.record("e5m2"); return }
        #expect(same(fnuz, [.nan, 1]) && same(e5m2, [.infinity, -2]))
        guard case .integers(let int4)? = ElementType.int4.decode([0x21, 0xF3], count: 4),
              case .integers(let uint4)? = ElementType.uint4.decode([0x21, 0x0F], count: 3),
              case .integers(let uint2)? = ElementType.uint2.decode([0b1110_0100], count: 4),
              case .integers(let int2)? = ElementType.int2.decode([0b1110_0100], count: 4) else { Issue.record("packed"); return }
        #expect(int4 == [1, 2, 3, -1] && uint4 == [1, 2, 15] && uint2 == [0, 1, 2, 3] && int2 == [0, 1, -2, -1])
        guard case .floats(let e2m1)? = ElementType.float4e2m1.decode([0x71, 0x0F], count: 3),
              case .floats(let bf16)? = ElementType.bfloat16.decode([0x80, 0x3F, 0x40, 0xC0], count: 2) else { Issue.record("e2m1"); return }
        #expect(same(e2m1, [0.5, 6, -6]) && same(bf16, [1, -3]))
        #expect(ElementType.int4.decode([0x21], count: 3) == nil, "3 nibbles need 2 bytes")
    }

    @Test("Cast to a narrow type rounds (or, for 4- and 2-bit integers, gives 0 out of range), and CastLike reads the target's declared type")
    func cast() throws {
        let x = GraphValue.tensor(Tensor([0.47892547, 1e6, -9, 7.9, 2.5]))
        func cast(_ type: ElementType, saturate: Int = 1) throws -> GraphValue {
            try OpImport.run(ImportNode(opType: "Cast", label: "n", attributes: ["to": .int(type.rawValue), "saturate": .int(saturate)], inputs: [x], opset: 21)).first!
        }
        #expect(same(try cast(.float8e4m3fn).asTensor.scalars, [0.46875, 448, -9, 8, 2.5]))
        #expect(same(try cast(.float8e4m3fn, saturate: 0).asTensor.scalars, [0.46875, .nan, -9, 8, 2.5]))
        guard case .integers(let int4, _, let type) = try cast(.int4) else { Issue.record("int4"); return }
        #expect(int4 == [0, 0, 0, 7, 2] && type == .int4)
        var like = ImportNode(opType: "CastLike", label: "n", attributes: [:], inputs: [x, .tensor(Tensor([0]))], opset: 21)
        like.declaredTypes = [nil, .bfloat16]
        #expect(same(try OpImport.run(like).first!.asTensor.scalars, [0.478515625, 999424, -9, 7.90625, 2.5]))
    }
}
