import Core
import Foundation
import IO
import Testing

/// An attribute value for a test's arguments (NodeAttribute holds tensors, so it is not Sendable).
enum Attr: Sendable {
    case int(Int)
    case string(String)
}

/// The declared importers: the table is consistent with ONNX's schemas, FORMAT.md's table is
/// the one the declarations make, and a node that breaks a rule is refused before its importer
/// runs, naming the rule.
@Suite("Declared ONNX importers")
struct ImporterDeclarationTests {
    @Test("every op type is declared once, has ONNX's schema, and reads only attributes ONNX defines")
    func tableIsConsistent() {
        let types = OpImport.declarations.map(\.opType)
        #expect(Set(types).count == types.count, "declared twice: \(Dictionary(grouping: types, by: { $0 }).filter { $1.count > 1 }.keys.sorted())")
        for declaration in OpImport.declarations {
            let schemas = ONNXSchema.standard[declaration.opType] ?? []
            #expect(ONNXSchema.schema(declaration.opType, opset: declaration.opsets.lowerBound) != nil,
                    "\(declaration.opType): no ONNX schema at opset \(declaration.opsets.lowerBound) (run make onnx-schemas)")
            let known = Set(schemas.flatMap(\.attributes.keys))
            #expect(declaration.reads.isSubset(of: known), "\(declaration.opType) reads \(declaration.reads.subtracting(known).sorted()), which ONNX does not define")
            let widest = schemas.map(\.inputs.upperBound).max() ?? 0
            #expect(declaration.stateInputs.allSatisfy { $0 < widest }, "\(declaration.opType): state inputs beyond its inputs")
        }
    }

    @Test("formats/FORMAT.md holds the table the declarations make (make op-table writes it)")
    func formatTableIsCurrent() throws {
        let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../formats/FORMAT.md").path
        let text = try String(contentsOfFile: path, encoding: .utf8)
        let updated = try #require(OpImport.updatingOperatorTable(in: text), "FORMAT.md lost its op-table markers")
        #expect(updated == text, "FORMAT.md's operator table is stale: run make op-table")
    }

    func node(_ opType: String, inputs: [GraphValue?], attributes: [String: NodeAttribute] = [:], opset: Int = 17, outputs: Int = 1) -> ImportNode {
        ImportNode(opType: opType, label: "\"n\"", attributes: attributes, inputs: inputs, opset: opset, outputCount: outputs)
    }

    @Test("a node that breaks a rule is refused before its importer runs, naming the rule", arguments: [
        ("Relu", 2, [:], 17, 1, "it has 2 inputs; Relu takes 1 at opset 17"),
        ("Add", 1, [:], 17, 1, "input 1 is required"),
        ("Relu", 1, [:], 17, 2, "it has 2 outputs; Relu gives 1 at opset 17"),
        ("Softmax", 1, ["dim": Attr.int(1)], 17, 1, "attribute dim is not an attribute of Softmax at opset 17 (it has axis)"),
        ("Softmax", 1, ["axis": Attr.string("last")], 17, 1, "attribute axis must be an integer"),
        ("LayerNormalization", 2, ["stash_type": Attr.int(0)], 17, 1, "attribute stash_type = 0 is not supported (Synapse reads only its default, 1)"),
        ("Cast", 1, [:], 17, 1, "attribute to is required"),
        ("Relu", 1, [:], 12, 1, "opset 12 is outside the opsets Synapse reads for Relu (13 and later)"),
        ("Relu", 1, [:], 17, 1, ""),
     ] as [(String, Int, [String: Attr], Int, Int, String)])
    func rules(opType: String, inputCount: Int, given: [String: Attr], opset: Int, outputs: Int, expected: String) throws {
        let attributes = given.mapValues { value -> NodeAttribute in
            switch value {
            case .int(let v): .int(v)
            case .string(let v): .string(v)
            }
        }
        let x = GraphValue.tensor(Tensor([1, -2, 3]))
        let imported = node(opType, inputs: Array(repeating: x, count: inputCount), attributes: attributes, opset: opset, outputs: outputs)
        guard !expected.isEmpty else {
            #expect(try OpImport.run(imported).first?.asTensor.scalars == [1, 0, 3])
            return
        }
        #expect {
            try OpImport.run(imported)
        } throws: { error in
            (error as? ImportError)?.reason == expected
        }
    }

    @Test("absent attributes read the schema's default")
    func defaults() throws {
        // Softmax's axis defaults to -1 at opset 13 and later: over the last dimension.
        let x = Tensor([1, 2, 3, 1, 2, 3], shape: [2, 3])
        let result = try OpImport.run(node("Softmax", inputs: [.tensor(x)])).first!.asTensor
        let expected = x.softmax(dim: 1)
        #expect(result.scalars == expected.scalars)
    }

    @Test("BatchNormalization's running statistics are declared state: they load as buffers")
    func stateInputs() {
        #expect(OpImport.table["BatchNormalization"]?.stateInputs == [3, 4])
    }

    @Test("inputs of an element type ONNX does not allow there are refused, naming the types it takes")
    func elementTypes() throws {
        let ids = GraphValue.integers([1, 4, 9], shape: [3], type: .int64)
        #expect {
            try OpImport.run(node("Sqrt", inputs: [ids]))
        } throws: { error in
            (error as? ImportError)?.reason == "input 0 is int64; it takes bfloat16, float16, float32, float64"
        }
        // Gather takes integer indices (and float32 stands in for a float16 or float64 table).
        let table = GraphValue.tensor(Tensor([1, 2, 3, 4, 5, 6], shape: [3, 2]))
        #expect(try OpImport.run(node("Gather", inputs: [table, .integers([2, 0], shape: [2], type: .int32)])).first?.asTensor.scalars == [5, 6, 1, 2])
        #expect(throws: ImportError.self) { try OpImport.run(node("Gather", inputs: [table, .integers([1], shape: [1], type: .bool)])) }
    }
}
