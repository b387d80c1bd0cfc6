import Core
import Foundation
@testable import IO
import Testing

/// Each inference rewrite on a graph where it applies and on one where it must not (a value
/// with another reader, a graph output in the middle), with the rewritten graph's outputs
/// against the graph as written (`GraphModel.run`) within 1e-5.
@Suite("Inference graph rewrites")
struct InferencePassTests {
    let folder = temporaryFolder()

    func node(_ op: String, _ inputs: [String], _ outputs: [String], _ attributes: [Onnx_AttributeProto] = []) -> Onnx_NodeProto {
        onnxNode(op, inputs, outputs, attributes)
    }

    func ints(_ name: String, _ values: [Int64]) -> Onnx_AttributeProto {
        var a = Onnx_AttributeProto()
        a.name = name
        a.ints = values
        a.type = .ints
        return a
    }

    func float(_ name: String, _ value: Float) -> Onnx_AttributeProto {
        var a = Onnx_AttributeProto()
        a.name = name
        a.f = value
        a.type = .float
        return a
    }

    /// Random initializers of a 3×3 convolution (2 → 4 channels) and a batch norm of 4.
    func weights(seed: UInt64) -> [Onnx_TensorProto] {
        let values = Random.withSeed(seed) { Tensor.normal([4 * 2 * 9 + 4 * 5]).scalars }
        func slice(_ start: Int, _ count: Int) -> [Float] { Array(values[start..<(start + count)]) }
        return [
            ModelFile.inlineTensor("w", slice(0, 72), [4, 2, 3, 3]),
            ModelFile.inlineTensor("b", slice(72, 4), [4]),
            ModelFile.inlineTensor("scale", slice(76, 4).map { 1 + abs($0) }, [4]),
            ModelFile.inlineTensor("shift", slice(80, 4), [4]),
            ModelFile.inlineTensor("mean", slice(84, 4), [4]),
            ModelFile.inlineTensor("variance", slice(88, 4).map { 0.5 + abs($0) }, [4]),
            ModelFile.inlineTensor("zero", [0], []),
            ModelFile.inlineTensor("six", [6], []),
        ]
    }

    /// Loads the graph, runs it as written and rewritten on the same input, and returns the
    /// inference graph after checking that every output agrees.
    func check(_ nodes: [Onnx_NodeProto], outputs: [String], seed: UInt64 = 1) throws -> InferenceGraph {
        let model = onnxModel(nodes, initializers: weights(seed: seed), inputs: [onnxValue("x", [2, 2, 5, 5])],
                              outputs: outputs.map { onnxValue($0, []) }, opset: 17)
        let graph = try ModelFile.load(onnxBytes: try model.serializedBytes(), path: folder + "/passes.onnx")
        let session = try InferenceGraph(graph)
        let x = Random.withSeed(seed + 7) { Tensor.normal([2, 2, 5, 5]) }
        let written = try Tensor.withoutGradients { try graph.run(["x": x]) }
        let rewritten = try session.run(["x": .tensor(x)])
        for name in outputs {
            let (a, b) = (written[name]!.scalars, rewritten[name]!.asTensor.scalars)
            #expect(a.count == b.count)
            let scale = max(a.map(abs).max() ?? 1, 1)
            let worst = zip(a, b).map { abs($0 - $1) }.max() ?? 0
            #expect(worst <= 1e-5 * scale, "output \(name): largest difference \(worst)")
        }
        return session
    }

    var conv: [Onnx_AttributeProto] { [ints("pads", [1, 1, 1, 1])] }

    @Test("Conv → BatchNormalization → Relu becomes one step")
    func foldsAndFuses() throws {
        let session = try check([
            node("Conv", ["x", "w", "b"], ["y"], conv),
            node("BatchNormalization", ["y", "scale", "shift", "mean", "variance"], ["z"], [float("epsilon", 1e-3)]),
            node("Relu", ["z"], ["out"]),
        ], outputs: ["out"])
        #expect(session.stepOpTypes == ["Conv+BatchNormalization+Relu"])
        #expect(session.rewrites == ["batch-norm-fold": 1, "activation-fusion": 1])
    }

    @Test("a convolution without bias folds too; Clip(0, 6) fuses as ReLU6")
    func foldsWithoutBias() throws {
        let session = try check([
            node("Conv", ["x", "w"], ["y"], conv),
            node("BatchNormalization", ["y", "scale", "shift", "mean", "variance"], ["z"]),
            node("Clip", ["z", "zero", "six"], ["out"]),
        ], outputs: ["out"])
        #expect(session.stepOpTypes == ["Conv+BatchNormalization+Clip"])
    }

    @Test("a convolution output that is also a graph output, or read elsewhere, is not folded or fused")
    func sharedValuesStay() throws {
        let graphOutput = try check([
            node("Conv", ["x", "w", "b"], ["y"], conv),
            node("BatchNormalization", ["y", "scale", "shift", "mean", "variance"], ["z"]),
            node("Relu", ["z"], ["out"]),
        ], outputs: ["out", "y"])
        #expect(graphOutput.stepOpTypes == ["Conv", "BatchNormalization+Relu"] || graphOutput.stepOpTypes == ["Conv", "BatchNormalization", "Relu"])
        #expect(graphOutput.rewrites["batch-norm-fold"] == nil)
        let twoReaders = try check([
            node("Conv", ["x", "w", "b"], ["y"], conv),
            node("Relu", ["y"], ["r"]),
            node("Add", ["r", "y"], ["out"]),
        ], outputs: ["out"])
        #expect(twoReaders.stepOpTypes == ["Conv", "Relu", "Add"])
        #expect(twoReaders.rewrites.isEmpty)
    }

    @Test("x · Sigmoid(x) after a convolution fuses as SiLU; a sigmoid read twice does not")
    func silu() throws {
        let fused = try check([
            node("Conv", ["x", "w", "b"], ["y"], conv),
            node("Sigmoid", ["y"], ["s"]),
            node("Mul", ["y", "s"], ["out"]),
        ], outputs: ["out"])
        #expect(fused.stepOpTypes == ["Conv+SiLU"])
        let shared = try check([
            node("Conv", ["x", "w", "b"], ["y"], conv),
            node("Sigmoid", ["y"], ["s"]),
            node("Mul", ["y", "s"], ["m"]),
            node("Add", ["m", "s"], ["out"]),
        ], outputs: ["out"])
        #expect(shared.stepOpTypes == ["Conv", "Sigmoid", "Mul", "Add"])
    }

    @Test("residual Add → Relu fuses; Identity and Dropout go unless they are graph outputs")
    func addAndNoOps() throws {
        let session = try check([
            node("Identity", ["x"], ["i"]),
            node("Conv", ["i", "w", "b"], ["y"], conv),
            node("Dropout", ["y"], ["d"]),
            node("Conv", ["x", "w", "b"], ["y2"], conv),
            node("Add", ["d", "y2"], ["sum"]),
            node("Relu", ["sum"], ["r"]),
            node("Identity", ["r"], ["out"]),
        ], outputs: ["out"])
        #expect(session.rewrites["identity"] == 2)
        #expect(session.stepOpTypes.filter { $0 == "Identity" }.count == 1)  // the graph output's
        #expect(session.stepOpTypes.contains("Add+Relu"))
        #expect(!session.stepOpTypes.contains("Dropout"))
    }

    @Test("a batch norm that follows no convolution takes the ReLU after it, and so does a Concat")
    func batchNormAndConcatTakeActivations() throws {
        var axis = Onnx_AttributeProto()
        axis.name = "axis"
        axis.i = 1
        axis.type = .int
        let session = try check([
            node("Conv", ["x", "w", "b"], ["y"], conv),
            node("Relu", ["y"], ["r"]),
            node("BatchNormalization", ["r", "scale", "shift", "mean", "variance"], ["n"]),
            node("Relu", ["n"], ["m"]),
            node("Concat", ["m", "m"], ["c"], [axis]),
            node("Relu", ["c"], ["out"]),
        ], outputs: ["out"])
        #expect(session.stepOpTypes == ["Conv+Relu", "BatchNormalization+Relu", "Concat+Relu"])
    }

    @Test("each intermediate value is released after its last reader")
    func releases() throws {
        let session = try check([
            node("Conv", ["x", "w", "b"], ["y"], conv),
            node("Relu", ["y"], ["r"]),
            node("Conv", ["x", "w", "b"], ["y2"], conv),
            node("Mul", ["r", "y2"], ["out"]),
        ], outputs: ["out"])
        // After fusion: Conv+Relu → r, Conv → y2, Mul; r and y2 go after the Mul, x after the second Conv.
        let mul = session.stepOpTypes.firstIndex(of: "Mul")!
        #expect(Set(session.releases[mul]) == ["r", "y2"])
        #expect(session.releases.joined().contains("x"))
        #expect(!session.releases.joined().contains("out") && !session.releases.joined().contains("w"))
    }
}
