@testable import Core
import Foundation
@testable import IO
import Testing

/// An activation fused into a convolution is applied by the convolution's kernels, to each
/// piece of output while it is in cache (`ImporterDeclaration.appliesFusedActivation`): on
/// every algorithm (depthwise, 1×1, Winograd, im2col + sgemm) and for every activation the
/// graph rewrites fuse, the outputs agree with the graph as written.
@Suite("Activations in convolution epilogues")
struct ConvolutionEpilogueTests {
    let folder = temporaryFolder()

    struct Kind: CustomStringConvertible, Sendable {
        let description: String
        let weight: [Int]
        let attributes: [String: [Int64]]
        let winograd: Bool?
    }

    static let kinds = [
        Kind(description: "depthwise", weight: [4, 1, 3, 3], attributes: ["group": [4], "pads": [1, 1, 1, 1]], winograd: nil),
        Kind(description: "pointwise", weight: [6, 4, 1, 1], attributes: [:], winograd: nil),
        Kind(description: "winograd", weight: [6, 4, 3, 3], attributes: ["pads": [1, 1, 1, 1]], winograd: true),
        Kind(description: "im2col", weight: [6, 4, 3, 3], attributes: ["pads": [1, 1, 1, 1], "strides": [2, 2]], winograd: false),
    ]

    /// The activation nodes after the convolution's output `y`, ending in `out`, and the name
    /// the fused step takes.
    static let activations: [(nodes: [Onnx_NodeProto], name: String)] = [
        ([onnxNode("Relu", ["y"], ["out"])], "Relu"),
        ([onnxNode("Clip", ["y", "low", "high"], ["out"])], "Clip"),
        ([onnxNode("LeakyRelu", ["y"], ["out"])], "LeakyRelu"),
        ([onnxNode("HardSwish", ["y"], ["out"])], "HardSwish"),
        ([onnxNode("Sigmoid", ["y"], ["s"]), onnxNode("Mul", ["y", "s"], ["out"])], "SiLU"),
    ]

    func attribute(_ name: String, _ values: [Int64]) -> Onnx_AttributeProto {
        var a = Onnx_AttributeProto()
        a.name = name
        if name == "group" { a.i = values[0]; a.type = .int } else { a.ints = values; a.type = .ints }
        return a
    }

    @Test("each activation on each convolution algorithm", arguments: kinds)
    func fusedActivations(kind: Kind) throws {
        // The convolution's importer applies the activation; the step does not apply it again.
        #expect(OpImport.table["Conv"]!.appliesFusedActivation)
        let count = kind.weight.reduce(1, *)
        let (w, b) = Random.withSeed(3) { (Tensor.normal([count]).scalars, Tensor.normal([kind.weight[0]]).scalars) }
        let x = Random.withSeed(4) { Tensor.normal([2, 4, 9, 9]) }
        for (activationNodes, name) in Self.activations {
            let conv = onnxNode("Conv", ["x", "w", "b"], ["y"], kind.attributes.sorted { $0.key < $1.key }.map { attribute($0.key, $0.value) })
            let model = onnxModel(
                [conv] + activationNodes,
                initializers: [ModelFile.inlineTensor("w", w, kind.weight), ModelFile.inlineTensor("b", b, [kind.weight[0]]),
                               ModelFile.inlineTensor("low", [-2], []), ModelFile.inlineTensor("high", [3], [])],
                inputs: [onnxValue("x", [2, 4, 9, 9])], outputs: [onnxValue("out", [])], opset: 17)
            let graph = try ModelFile.load(onnxBytes: try model.serializedBytes(), path: folder + "/epilogue.onnx")
            let session = try InferenceGraph(graph)
            #expect(session.stepOpTypes == ["Conv+\(name)"], "\(kind) \(name)")
            try ConvolutionPlan.$forcesWinograd.withValue(kind.winograd) {
                let written = try Tensor.withoutGradients { try graph.run(["x": x]) }["out"]!.scalars
                let fused = try session.run(["x": .tensor(x)])["out"]!.asTensor.scalars
                #expect(written.count == fused.count)
                let worst = zip(written, fused).map { abs($0 - $1) }.max() ?? 0
                #expect(worst <= 1e-5, "\(kind) \(name): largest difference \(worst)")
                #expect(written.contains { $0 != 0 } && Set(written).count > written.count / 5, "\(kind) \(name): degenerate output")
            }
        }
    }
}
