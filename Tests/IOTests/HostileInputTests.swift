import Core
import Data
import Foundation
@testable import IO
import Testing

/// Files built to exhaust the reader: every claimed size is checked before it sizes an
/// allocation, long graphs are walked without recursion, cycles are found.
@Suite("Hostile graphs and inputs: typed errors, no huge allocation, no stack overflow")
struct HostileInputTests {
    let folder = temporaryFolder()

    func node(_ op: String, _ inputs: [String], _ output: String) -> Onnx_NodeProto { onnxNode(op, inputs, [output]) }

    func value(_ name: String, _ dims: [Int64?]) -> Onnx_ValueInfoProto { onnxValue(name, dims) }

    func model(_ nodes: [Onnx_NodeProto], initializers: [Onnx_TensorProto] = [], output: String) -> Onnx_ModelProto {
        onnxModel(nodes, initializers: initializers, inputs: [value("x", [nil, 2])], outputs: [value(output, [nil, 2])], opset: 21)
    }

    func load(_ model: Onnx_ModelProto) throws -> GraphModel {
        try ModelFile.load(onnxBytes: try model.serializedBytes(), path: folder + "/hostile.onnx")
    }

    @Test("an initializer that claims 10¹² elements is refused before anything is allocated")
    func hugeInitializer() throws {
        var tensor = Onnx_TensorProto()
        tensor.name = "w"
        tensor.dataType = 1
        tensor.dims = [1_000_000, 1_000_000]
        #expect(throws: ModelFileError.self) { try load(model([node("Add", ["x", "w"], "y")], initializers: [tensor], output: "y")) }
        tensor.dims = [Int64.max, 2]
        #expect(throws: ModelFileError.self) { try load(model([node("Add", ["x", "w"], "y")], initializers: [tensor], output: "y")) }
    }

    @Test("shape arithmetic that asks for 10¹² elements is an error naming the node")
    func hugeMadeValues() throws {
        let shape = ModelFile.inlineInt64s("shape", [1_000_000, 1_000_000], [2])
        for op in ["ConstantOfShape", "Expand"] {
            let inputs = op == "Expand" ? ["x", "shape"] : ["shape"]
            let graph = model([node(op, inputs, "big"), node("Add", ["x", "big"], "y")], initializers: [shape], output: "y")
            do {
                let loaded = try load(graph)
                _ = try loaded.run(["x": Tensor.zeros([1, 2])])
                Issue.record("\(op) of 10¹² elements ran")
            } catch let error as ModelFileError {
                #expect("\(error)".contains(op), "\(error)")
            }
        }
        let range = model([node("Range", ["zero", "limit", "one"], "r"), node("Add", ["x", "r"], "y")],
                          initializers: [ModelFile.inlineInt64s("zero", [0], []), ModelFile.inlineInt64s("limit", [1 << 40], []),
                                         ModelFile.inlineInt64s("one", [1], [])], output: "y")
        #expect(throws: ModelFileError.self) { try load(range) }
    }

    @Test("a chain of 100,000 nodes loads and runs without recursion")
    func longChain() throws {
        var nodes: [Onnx_NodeProto] = []
        var previous = "x"
        for index in 0..<100_000 {
            nodes.append(node(index % 2 == 0 ? "Relu" : "Neg", [previous], "v\(index)"))
            previous = "v\(index)"
        }
        let loaded = try load(model(nodes.reversed(), output: previous))
        let output = try loaded.run(["x": Tensor([[1, -2]])])[previous]!
        #expect(output.scalars == [0, 0])
    }

    @Test("an output computed only from constants (folded at load) is still an output")
    func foldedOutput() throws {
        let shape = ModelFile.inlineInt64s("shape", [1, 2], [2])
        var graph = model([node("ConstantOfShape", ["shape"], "zeros"), node("Relu", ["x"], "y")], initializers: [shape], output: "y")
        graph.graph.output.append(value("zeros", [1, 2]))
        let outputs = try load(graph).run(["x": Tensor([[1, -2]])])
        #expect(outputs["zeros"]?.scalars == [0, 0])
        #expect(outputs["y"]?.scalars == [1, 0])
    }

    @Test("a cycle is an error, however long")
    func cycle() throws {
        var nodes = (0..<1_000).map { node("Relu", ["c\(($0 + 1) % 1_000)"], "c\($0)") }
        nodes.append(node("Relu", ["c0"], "y"))
        do {
            _ = try load(model(nodes, output: "y"))
            Issue.record("a cyclic graph loaded")
        } catch let error as ModelFileError {
            #expect("\(error)".contains("cycle"))
        }
    }

    @Test("tensor inputs: huge .npy shapes, deep JSON, ragged rows are errors")
    func tensorInputs() throws {
        let header = "{'descr': '<f4', 'fortran_order': False, 'shape': (100000000000, 100000000000), }"
        var bytes: [UInt8] = [0x93] + Array("NUMPY".utf8) + [1, 0, UInt8(header.utf8.count), 0] + Array(header.utf8)
        bytes += [0, 0, 0, 0]
        let path = folder + "/huge.npy"
        #expect(FileBytes.write(bytes, to: path))
        #expect(throws: TensorInputError.self) { try TensorInput.parse(path) }
        let deep = String(repeating: "[", count: 1_000) + "1" + String(repeating: "]", count: 1_000)
        #expect(throws: TensorInputError.self) { try TensorInput.parse(deep) }
        #expect(throws: TensorInputError.self) { try TensorInput.parse("[[1, 2], [3]]") }
        #expect(throws: TensorInputError.self) { try TensorInput.parse("[[1, 2], 3]") }
        #expect(try TensorInput.parse("[[1, 2], [3, 4]]").shape == [2, 2])
        // Found by fuzz-tensor-input: rows that get deeper after a row of numbers.
        #expect(throws: TensorInputError.self) { try TensorInput.parse("[[0,0.5], [[0,0.5], [-2e21,\n0.5]]]") }
    }

    @Test("convolution, pooling and batch-norm nodes with impossible attributes are errors naming the node")
    func hostileWindows() throws {
        func attribute(_ name: String, ints: [Int64]? = nil, int: Int64? = nil, string: String? = nil) -> Onnx_AttributeProto {
            var a = Onnx_AttributeProto()
            a.name = name
            if let ints { a.ints = ints; a.type = .ints }
            if let int { a.i = int; a.type = .int }
            if let string { a.s = Data(string.utf8); a.type = .string }
            return a
        }
        let weight = ModelFile.inlineTensor("w", [Float](repeating: 0.5, count: 2 * 1 * 2 * 2), [2, 1, 2, 2])
        let cases: [(String, [Onnx_AttributeProto], [String])] = [
            ("Conv", [attribute("dilations", ints: [1 << 20, 1 << 20]), attribute("pads", ints: [1 << 20, 1 << 20, 1 << 20, 1 << 20])], ["x", "w"]),
            ("Conv", [attribute("group", int: 0)], ["x", "w"]),
            ("Conv", [attribute("group", int: 2)], ["x", "w"]),
            ("Conv", [attribute("strides", ints: [0, 1])], ["x", "w"]),
            ("Conv", [attribute("strides", ints: [1, 1, 1])], ["x", "w"]),
            ("Conv", [attribute("auto_pad", string: "SIDEWAYS")], ["x", "w"]),
            ("Conv", [attribute("pads", ints: [-1, 0, 0, 0])], ["x", "w"]),
            ("Conv", [attribute("kernel_shape", ints: [3, 3])], ["x", "w"]),
            ("MaxPool", [], ["x"]),
            ("MaxPool", [attribute("kernel_shape", ints: [2, 2]), attribute("pads", ints: [5, 5, 5, 5])], ["x"]),
            ("MaxPool", [attribute("kernel_shape", ints: [9, 9])], ["x"]),
            ("AveragePool", [attribute("kernel_shape", ints: [1, 1]), attribute("strides", ints: [1, 1]),
                             attribute("dilations", ints: [1 << 20, 1]), attribute("pads", ints: [1 << 19, 0, 1 << 19, 0])], ["x"]),
            ("BatchNormalization", [], ["x", "w", "w", "w", "w"]),
        ]
        for (op, attributes, inputs) in cases {
            var convolution = node(op, inputs, "y")
            convolution.attribute = attributes
            var graph = model([convolution], initializers: [weight], output: "y")
            graph.graph.input = [value("x", [nil, 1, 4, 4])]
            do {
                let loaded = try load(graph)
                _ = try loaded.run(["x": Tensor.zeros([2, 1, 4, 4])])
                Issue.record("\(op) with \(attributes.map(\.name)) ran")
            } catch let error as ModelFileError {
                #expect("\(error)".contains(op), "\(error)")
            }
        }
    }

    @Test("recurrent and normalisation nodes Synapse does not run are errors naming the node")
    func hostileRecurrentNodes() throws {
        func attribute(_ name: String, int: Int64? = nil, strings: [String]? = nil, float: Float? = nil) -> Onnx_AttributeProto {
            var a = Onnx_AttributeProto()
            a.name = name
            if let int { a.i = int; a.type = .int }
            if let strings { a.strings = strings.map { Data($0.utf8) }; a.type = .strings }
            if let float { a.f = float; a.type = .float }
            return a
        }
        func weights(_ gates: Int) -> [Onnx_TensorProto] {
            [ModelFile.inlineTensor("W", [Float](repeating: 0.1, count: gates * 2), [1, gates, 2]),
             ModelFile.inlineTensor("R", [Float](repeating: 0.1, count: gates), [1, gates, 1]),
             ModelFile.inlineTensor("B", [Float](repeating: 0, count: 2 * gates), [1, 2 * gates]),
             ModelFile.inlineInt64s("lengths", [3, 1], [2])]
        }
        let cases: [(String, [Onnx_AttributeProto], [String], Int)] = [
            ("LSTM", [attribute("clip", float: 3)], ["x", "W", "R"], 4),
            ("LSTM", [attribute("input_forget", int: 1)], ["x", "W", "R"], 4),
            ("LSTM", [], ["x", "W", "R", "B", "lengths"], 4),
            ("LSTM", [attribute("direction", strings: nil)], ["x", "R", "W"], 4),
            ("LSTM", [], ["x", "W", "R"], 3),
            ("GRU", [attribute("activations", strings: ["Relu", "Tanh"])], ["x", "W", "R"], 3),
            ("RNN", [attribute("activations", strings: ["Sigmoid"])], ["x", "W", "R"], 1),
            ("LayerNormalization", [attribute("axis", int: 7)], ["x", "W"], 1),
        ]
        for (op, attributes, inputs, gates) in cases {
            var recurrent = node(op, inputs, "y")
            recurrent.attribute = attributes.filter { $0.type != .undefined }
            var graph = model([recurrent], initializers: weights(gates), output: "y")
            graph.graph.input = [value("x", [3, nil, 2])]
            do {
                let loaded = try load(graph)
                _ = try loaded.run(["x": Tensor.zeros([3, 2, 2])])
                Issue.record("\(op) with \(attributes.map(\.name)) and inputs \(inputs) ran")
            } catch let error as ModelFileError {
                #expect("\(error)".contains(op), "\(error)")
            }
        }
    }
}
