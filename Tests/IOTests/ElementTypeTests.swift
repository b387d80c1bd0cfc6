import Core
import Testing

/// Values keep their element types through imported graphs: ONNX's Cast rules (truncation
/// toward zero, wrapping to the target's width, bool as non-zero), comparisons that give bool,
/// and arithmetic on whole numbers that keeps the (promoted) type.
@Suite("Element types in imported graphs")
struct ElementTypeTests {
    func run(_ opType: String, _ inputs: [GraphValue], _ attributes: [String: NodeAttribute] = [:]) throws -> GraphValue {
        try OpImport.run(ImportNode(opType: opType, label: "n", attributes: attributes, inputs: inputs, opset: 17)).first!
    }

    @Test("Cast: float constants truncate toward zero, integers wrap to the target's width, bool is non-zero")
    func cast() throws {
        let floats = GraphValue.tensor(Tensor([-2.7, 2.7, 300, -129]))
        guard case let .integers(int32, _, type) = try run("Cast", [floats], ["to": .int(6)]) else { Issue.record("not integers"); return }
        #expect(int32 == [-2, 2, 300, -129] && type == .int32)
        guard case let .integers(int8, _, _) = try run("Cast", [.integers([300, -129, 127, 256], shape: [4])], ["to": .int(3)]) else { return }
        #expect(int8 == [44, 127, 127, 0])
        guard case let .integers(bools, _, boolType) = try run("Cast", [floats], ["to": .int(9)]) else { return }
        #expect(bools == [1, 1, 1, 1] && boolType == .bool)
        #expect(try run("Cast", [.integers([3], shape: [1], type: .int32)], ["to": .int(1)]).elementType == .float32)
        #expect(throws: ImportError.self) { try run("Cast", [floats], ["to": .int(8)]) }  // strings
    }

    @Test("comparisons and Not on whole numbers give bool; arithmetic keeps the promoted type")
    func types() throws {
        let a = GraphValue.integers([1, 2, 3], shape: [3], type: .int32)
        let b = GraphValue.integers([2, 2, 2], shape: [3], type: .int64)
        #expect(try run("Less", [a, b]).elementType == .bool)
        guard case let .integers(less, _, _) = try run("Less", [a, b]) else { return }
        #expect(less == [1, 0, 0])
        #expect(try run("Not", [.integers([1, 0], shape: [2], type: .bool)]).elementType == .bool)
        #expect(try run("Add", [a, b]).elementType == .int64)
        #expect(try run("Mul", [a, a]).elementType == .int32)
        #expect(ElementType.promoted(.bool, .uint8) == .uint8 && ElementType.promoted(.int8, .float32) == .float32)
    }
}
