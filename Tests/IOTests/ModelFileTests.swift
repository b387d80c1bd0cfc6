import Core
import Foundation
@testable import IO
import NN
import Optim
import Testing

@Suite("Model files")
struct ModelFileTests {
    let folder = temporaryFolder()

    /// Exports `layer`, loads the file back and compares outputs on `input`.
    func roundTrip(_ layer: any Layer, input: Tensor, name: String, embed: Bool = false) throws -> GraphModel {
        try ModelFile.save(layer, exampleInput: input, to: folder + "/" + name, embed: embed)
        let loaded = try ModelFile.load(folder + "/" + name + ".onnx")
        let expected = Tensor.withoutGradients { layer(input).scalars }
        let actual = Tensor.withoutGradients { loaded(input).scalars }
        #expect(close(expected, actual, 1e-6), "\(name): \(expected.prefix(4)) vs \(actual.prefix(4))")
        #expect(loaded.namedParameters.map(\.name) == layer.namedParameters.map(\.name))
        return loaded
    }

    func close(_ a: [Float], _ b: [Float], _ tolerance: Float) -> Bool {
        a.count == b.count && zip(a, b).allSatisfy { abs($0 - $1) <= tolerance }
    }

    @Test("XOR and digits MLPs: export then import give the same outputs, for another batch size too")
    func mlps() throws {
        let xor = Random.withSeed(1) { Sequential(Linear(inputs: 2, outputs: 3), Tanh(), Linear(inputs: 3, outputs: 1), Sigmoid()) }
        _ = try roundTrip(xor, input: Tensor([[0, 0], [0, 1], [1, 0], [1, 1]]), name: "xor")
        let digits = Random.withSeed(2) { Sequential(Linear(inputs: 64, outputs: 128), ReLU(), Linear(inputs: 128, outputs: 10), LogSoftmax()) }
        let loaded = try roundTrip(digits, input: Random.withSeed(3) { Tensor.uniform([5, 64]) }, name: "digits")
        let other = Random.withSeed(4) { Tensor.uniform([9, 64]) }
        #expect(close(Tensor.withoutGradients { digits(other).scalars }, Tensor.withoutGradients { loaded(other).scalars }, 1e-6))
        _ = try roundTrip(digits, input: other, name: "digits_embedded", embed: true)
        #expect(!FileManager.default.fileExists(atPath: folder + "/digits_embedded.h5"))
    }

    @Test("one LSTM step exports and imports with the same outputs and state")
    func lstmStep() throws {
        let cell = Random.withSeed(5) { LSTMCell(inputs: 3, hidden: 4, outputs: 2) }
        let x = Random.withSeed(6) { Tensor.uniform([2, 3], low: -1, high: 1) }
        let h = Random.withSeed(7) { Tensor.uniform([2, 4], low: -1, high: 1) }
        let c = Random.withSeed(8) { Tensor.uniform([2, 4], low: -1, high: 1) }
        try ModelFile.save(try TracedGraph.trace(cell, exampleInput: x), to: folder + "/lstm")
        let loaded = try ModelFile.load(folder + "/lstm.onnx")
        let expected = Tensor.withoutGradients { cell.forward(x, state: (h, c)) }
        let outputs = try Tensor.withoutGradients { try loaded.run(["x": x, "h": h, "c": c]) }
        #expect(close(outputs["y"]!.scalars, expected.output.scalars, 1e-6))
        #expect(close(outputs["h_out"]!.scalars, expected.state.hidden.scalars, 1e-6))
        #expect(close(outputs["c_out"]!.scalars, expected.state.cell.scalars, 1e-6))
    }

    @Test("a loaded graph trains: gradients reach its parameters")
    func trainable() throws {
        let model = Random.withSeed(9) { Sequential(Linear(inputs: 2, outputs: 2), Tanh(), Linear(inputs: 2, outputs: 1)) }
        let loaded = try roundTrip(model, input: Tensor([[1, 2]]), name: "trainable")
        let optimizer = SGD(parameters: loaded.namedParameters, learningRate: 0.1)
        let before = MSELoss()(loaded(Tensor([[1, 2]])), Tensor([[0.5]])).scalar
        for _ in 0..<20 {
            optimizer.zeroGrad()
            MSELoss()(loaded(Tensor([[1, 2]])), Tensor([[0.5]])).backward()
            optimizer.step()
        }
        #expect(MSELoss()(loaded(Tensor([[1, 2]])), Tensor([[0.5]])).scalar < before / 10)
    }

    // MARK: Bad files

    func expectError(_ path: String, _ text: String, sourceLocation: SourceLocation = #_sourceLocation) {
        do {
            _ = try ModelFile.load(path)
            Issue.record("loading \(path) succeeded", sourceLocation: sourceLocation)
        } catch {
            #expect("\(error)".contains(text), "error was: \(error)", sourceLocation: sourceLocation)
        }
    }

    /// A small valid pair, returned as (onnx path, parsed proto).
    func pair(_ name: String) throws -> (String, Onnx_ModelProto) {
        let model = Random.withSeed(1) { Sequential(Linear(inputs: 2, outputs: 3), Tanh()) }
        try ModelFile.save(model, exampleInput: Tensor([[0, 1]]), to: folder + "/" + name)
        let path = folder + "/" + name + ".onnx"
        return (path, try Onnx_ModelProto(serializedBytes: try FileBytes.readAll(path, limit: 1 << 20)))
    }

    func write(_ proto: Onnx_ModelProto, _ name: String) throws -> String {
        let path = folder + "/" + name
        #expect(FileBytes.write(try proto.serializedBytes(), to: path))
        return path
    }

    @Test("missing, random, truncated files")
    func unreadable() throws {
        expectError(folder + "/none.onnx", "model \(folder)/none.onnx: no such file")
        var generator = RandomGenerator(seed: 3)
        let noise = folder + "/noise.onnx"
        _ = FileBytes.write((0..<3000).map { _ in UInt8(truncatingIfNeeded: generator.next()) }, to: noise)
        expectError(noise, "not an ONNX model")
        let (path, _) = try pair("cut")
        let bytes = try FileBytes.readAll(path, limit: 1 << 20)
        _ = FileBytes.write(Array(bytes.prefix(bytes.count / 2)), to: path)
        expectError(path, "not an ONNX model")
    }

    @Test("a weight file changed after export is refused")
    func mismatchedPair() throws {
        let (path, _) = try pair("changed")
        let weights = folder + "/changed.h5"
        var bytes = try FileBytes.readAll(weights, limit: 1 << 24)
        bytes[bytes.count - 1] ^= 0xFF
        _ = FileBytes.write(bytes, to: weights)
        expectError(path, "its weight file \(folder)/changed.h5 does not belong to it (its SHA-256 differs")
    }

    @Test("external data beyond the end of the file, or outside the folder")
    func badExternalData() throws {
        var (_, proto) = try pair("offsets")
        proto.metadataProps = []
        proto.graph.initializer[0].externalData[1].value = "99999999"
        expectError(try write(proto, "offset.onnx"), "lies beyond the end of offsets.h5")
        proto.graph.initializer[0].externalData[0].value = "../../etc/passwd"
        expectError(try write(proto, "escape.onnx"), "must be a relative path inside the model's folder")
    }

    @Test("shapes that disagree with the data, a dtype Synapse does not read")
    func badTensors() throws {
        var (_, proto) = try pair("tensors")
        proto.metadataProps = []
        var raw = ModelFile.inlineTensor("0.weight", [1, 2, 3], [3, 1])
        raw.dims = [3, 2]
        proto.graph.initializer[0] = raw
        expectError(try write(proto, "short.onnx"), "raw_data has 12 bytes, the shape [3, 2] of float32 needs 24")
        proto.graph.initializer[0].dataType = 11
        expectError(try write(proto, "double.onnx"), "raw_data has 12 bytes, the shape [3, 2] of float64 needs 48")
        proto.graph.initializer[0].dataType = 8
        expectError(try write(proto, "string.onnx"), "data type 8 is not one Synapse reads")
        proto.graph.initializer[0].dims = [-1, 2]
        expectError(try write(proto, "negative.onnx"), "are negative or too large")
    }

    @Test("a missing input, a cycle, an unsupported op")
    func badGraphs() throws {
        var (_, proto) = try pair("graphs")
        let nodes = proto.graph.node
        proto.graph.node[nodes.count - 1].input[0] = "nowhere"
        expectError(try write(proto, "dangling.onnx"), "input \"nowhere\" is no graph input, initializer or node output")
        proto.graph.node = nodes
        let last = nodes.count - 1
        proto.graph.node[0].input[0] = proto.graph.node[last].output[0]
        proto.graph.node[last].input[0] = proto.graph.node[0].output[0]
        expectError(try write(proto, "cycle.onnx"), "is part of a cycle")
        proto.graph.node = nodes
        proto.graph.node[last].opType = "TfIdfVectorizer"
        expectError(try write(proto, "tfidf.onnx"), "(TfIdfVectorizer): Synapse has no op for it")
    }

    @Test("a foreign model whose weights do not fit its input fails with an error, not a crash")
    func runtimeShapes() throws {
        let (path, _) = try pair("shapes")
        let model = try ModelFile.load(path)
        #expect(throws: ModelFileError.self) { try model.run(["input": Tensor.zeros([2, 5])]) }
    }
}
