import Core
import Foundation
@testable import IO
import Testing

/// Every `Op` case is traced, exported, imported back and run: the values and the gradients
/// must agree, so an op whose export or import mapping is missing fails here even where the
/// compiler cannot see it.
@Suite("Every op round-trips through ONNX")
struct OpRoundTripTests {
    struct Sample {
        var inputs: [Tensor]
        var function: ([Tensor]) -> Tensor
    }

    static func uniform(_ shape: [Int], _ seed: UInt64, low: Float = -1, high: Float = 1) -> Tensor {
        Random.withSeed(seed) { Tensor.uniform(shape, low: low, high: high) }
    }

    /// Representative programs for each case; the exhaustive switch makes a new case without a
    /// sample a compile error.
    static func samples(_ kind: Op.Kind) -> [Sample] {
        let a23 = uniform([2, 3], 1), b3 = uniform([3], 2), a234 = uniform([2, 3, 4], 3)
        switch kind {
        case .add: return [Sample(inputs: [a23, b3]) { $0[0] + $0[1] }]
        case .sub: return [Sample(inputs: [a23, uniform([2, 1], 4)]) { $0[0] - $0[1] }]
        case .mul: return [Sample(inputs: [a234, uniform([3, 1], 5)]) { $0[0] * $0[1] }]
        case .div: return [Sample(inputs: [a23, uniform([3], 6, low: 0.5, high: 2)]) { $0[0] / $0[1] }]
        case .neg: return [Sample(inputs: [a23]) { -$0[0] }]
        case .affine: return [Sample(inputs: [a23]) { $0[0] * 2 + 1 }, Sample(inputs: [a23]) { 1 - $0[0] }]
        case .matmul:
            return [
                Sample(inputs: [a23, uniform([4, 3], 7)]) { $0[0].matmul($0[1], transposeB: true) },
                Sample(inputs: [uniform([3, 2], 8), uniform([3, 4], 9)]) { $0[0].matmul($0[1], transposeA: true) },
                Sample(inputs: [a234, uniform([4, 5], 10)]) { $0[0].matmul($0[1]) },
                Sample(inputs: [a234, uniform([2, 5, 4], 11)]) { $0[0].matmul($0[1], transposeB: true) },
                Sample(inputs: [uniform([2, 1, 4, 3], 12), uniform([3, 4, 5], 13)]) { $0[0].matmul($0[1], transposeA: true) },
            ]
        case .permute: return [Sample(inputs: [a234]) { $0[0].permuted([2, 0, 1]) }, Sample(inputs: [a234]) { $0[0].transposed(-1, 0) }]
        case .reshape: return [Sample(inputs: [a234]) { $0[0].reshaped([2, 12]) }, Sample(inputs: [a234]) { $0[0].unsqueezed(dim: 1).flattened(startDim: 1) }]
        case .sum: return [Sample(inputs: [a234]) { $0[0].sum(dim: -1, keepDim: true) }, Sample(inputs: [a23]) { $0[0].sum() }]
        case .mean: return [Sample(inputs: [a234]) { $0[0].mean(dim: 1) }, Sample(inputs: [a23]) { $0[0].mean() }]
        case .max: return [Sample(inputs: [a234]) { $0[0].max(dim: 1) }, Sample(inputs: [a23]) { $0[0].max(dim: -1, keepDim: true) }]
        case .min: return [Sample(inputs: [a234]) { $0[0].min(dim: 2) }]
        case .expand: return [Sample(inputs: [a23]) { $0[0].expand(dim: 1, copies: 3) }]
        case .sigmoid: return [Sample(inputs: [a23]) { $0[0].sigmoid() }]
        case .tanh: return [Sample(inputs: [a23]) { $0[0].tanh() }]
        case .relu: return [Sample(inputs: [a23]) { $0[0].relu() }]
        case .exp: return [Sample(inputs: [a23]) { $0[0].exp() }]
        case .log: return [Sample(inputs: [uniform([2, 3], 14, low: 0.5, high: 2)]) { $0[0].log() }]
        case .sqrt: return [Sample(inputs: [uniform([2, 3], 15, low: 0.5, high: 2)]) { $0[0].sqrt() }]
        case .erf: return [Sample(inputs: [a23]) { $0[0].erf() }]
        case .gelu: return [Sample(inputs: [a23]) { $0[0].gelu() }, Sample(inputs: [a23]) { $0[0].gelu(approximate: true) }]
        case .pow: return [Sample(inputs: [a23]) { $0[0].pow(3) }]
        case .clamp: return [Sample(inputs: [a23]) { $0[0].clamped(min: -0.5, max: 0.5) }, Sample(inputs: [a23]) { $0[0].clamped(min: 0) }]
        case .compare: return Comparison.allCases.map { c in Sample(inputs: [a23, b3]) { Tensor.compare($0[0], $0[1], c) } }
        case .select: return [Sample(inputs: [a23, b3]) { Tensor.select($0[0] .> $0[1], $0[0], $0[1]) }]
        case .gatherRows: return [Sample(inputs: [uniform([5, 3], 16), Tensor([0, 4, 2, 2], shape: [2, 2])]) { $0[0].gatherRows($0[1]) }]
        case .concat: return [Sample(inputs: [a23, uniform([2, 2], 17)]) { Tensor.concat([$0[0], $0[1]], dim: -1) }]
        case .slice: return [Sample(inputs: [a234]) { $0[0].slice(dim: -1, range: 1..<3) }]
        case .softmax: return [Sample(inputs: [a234]) { $0[0].softmax(dim: 1) }]
        case .logSoftmax: return [Sample(inputs: [a234]) { $0[0].logSoftmax(dim: -1) }]
        case .lstmGates:
            return [Sample(inputs: [uniform([2, 3], 18), uniform([2, 4], 19), uniform([2, 4], 20), uniform([16, 3], 21), uniform([16, 4], 22), uniform([16], 23)]) {
                Tensor.lstmGates(input: $0[0], hidden: $0[1], cell: $0[2], inputWeights: $0[3], hiddenWeights: $0[4], bias: $0[5])
            }]
        case .crossEntropy: return [Sample(inputs: [uniform([3, 4], 24), Tensor([0, 3, 1])]) { $0[0].crossEntropyRows(targets: $0[1]) }]
        case .convolution:
            let window = SlidingWindow(size: (3, 2), stride: (2, 1), dilation: (1, 2), padding: (1, 0, 0, 1))
            return [
                Sample(inputs: [uniform([2, 4, 5, 6], 25), uniform([6, 2, 3, 2], 26), uniform([6], 27)]) {
                    $0[0].conv2d(weight: $0[1], bias: $0[2], window: window, groups: 2)
                },
                Sample(inputs: [uniform([1, 3, 4, 4], 28), uniform([2, 3, 3, 3], 29)]) { $0[0].conv2d(weight: $0[1], padding: (1, 1)) },
            ]
        case .maxPool:
            return [Sample(inputs: [uniform([2, 3, 5, 6], 30)]) { $0[0].maxPool2d(kernelSize: (3, 3), stride: (2, 2), padding: (1, 1), ceilMode: true) },
                    Sample(inputs: [uniform([2, 3, 4, 6], 31)]) { $0[0].maxPool2d(kernelSize: (2, 2), dilation: (1, 2)) }]
        case .averagePool:
            return [Sample(inputs: [uniform([2, 3, 5, 6], 32)]) { $0[0].avgPool2d(kernelSize: (3, 2), stride: (2, 2), padding: (1, 1), countIncludePad: false) },
                    Sample(inputs: [uniform([2, 3, 5, 6], 33)]) { $0[0].avgPool2d(kernelSize: (2, 2), padding: (1, 1), ceilMode: true) },
                    Sample(inputs: [uniform([2, 3, 5, 6], 34)]) { $0[0].avgPool2d(kernelSize: (5, 6)) }]
        case .batchNorm:
            return [Sample(inputs: [uniform([3, 4, 2, 2], 35), uniform([4], 36), uniform([4], 37), uniform([4], 38), uniform([4], 39, low: 0.5, high: 2)]) {
                        $0[0].batchNorm(weight: $0[1], bias: $0[2], runningMean: $0[3], runningVar: $0[4], training: false)
                    },
                    Sample(inputs: [uniform([5, 4, 3], 40), uniform([4], 41), uniform([4], 42)]) { $0[0].batchNorm(weight: $0[1], bias: $0[2], training: true) }]
        case .recurrence:
            return RecurrentKind.allCases.enumerated().map { index, kind in
                let (size, width) = (3, kind.gates * 3)
                let state = [uniform([2, size], 50)] + (kind == .lstm ? [uniform([2, size], 51)] : [])
                let inputs = [uniform([4, 2, 5], 52)] + state + [uniform([width, 5], 53), uniform([width, size], 54), uniform([width], 55), uniform([width], 56)]
                return Sample(inputs: inputs) { t in
                    let w = kind == .lstm ? 3 : 2
                    return Tensor.recurrence(kind, input: t[0], hidden: t[1], cell: kind == .lstm ? t[2] : nil, inputWeights: t[w],
                                             hiddenWeights: t[w + 1], inputBias: t[w + 2], hiddenBias: t[w + 3], reverse: index % 2 == 1)
                }
            }
        case .custom: return [Sample(inputs: [a23]) { $0[0].apply(ScaledTanh(scale: 2)) }]
        case .layerNorm:
            return [Sample(inputs: [uniform([2, 3, 5], 43), uniform([5], 44), uniform([5], 45)]) { $0[0].layerNorm(normalizedShape: [5], weight: $0[1], bias: $0[2]) },
                    Sample(inputs: [uniform([2, 3, 4], 46), uniform([3, 4], 47), uniform([3, 4], 48)]) { $0[0].layerNorm(normalizedShape: [3, 4], weight: $0[1], bias: $0[2], epsilon: 1e-3) }]
        }
    }

    @Test("trace, export, import: values and gradients agree", arguments: Op.Kind.allCases)
    func roundTrip(_ kind: Op.Kind) throws {
        let folder = temporaryFolder()
        for (index, sample) in Self.samples(kind).enumerated() {
            let names = sample.inputs.indices.map { "x\($0)" }
            var recordedKinds: [Op.Kind] = []
            let graph = try TracedGraph.trace(parameters: [], inputs: Array(zip(names, sample.inputs))) { traced in
                let output = sample.function(traced)
                recordedKinds.append(output.creationOp!.kind)
                return [("output", output)]
            }
            #expect(recordedKinds == [kind] || kind == .reshape || kind == .permute, "\(kind) sample \(index) records \(recordedKinds)")
            let path = "\(folder)/\(kind)_\(index)"
            try ModelFile.save(graph, to: path)
            let model = try ModelFile.load(path + ".onnx")

            // The same inputs, fresh, into both: outputs and input gradients must agree.
            func run(_ body: ([Tensor]) throws -> Tensor) rethrows -> (output: [Float], gradients: [[Float]?]) {
                let leaves = sample.inputs.map { input -> Tensor in
                    let leaf = input.copy()
                    leaf.requiresGrad = true
                    return leaf
                }
                let output = try body(leaves)
                if output.requiresGrad {
                    let weights = Self.uniform(output.shape, 99)
                    (output * weights).sum().backward()
                }
                return (output.scalars, leaves.map { $0.grad?.scalars })
            }
            let expected = run(sample.function)
            let actual = try run { leaves in
                try model.run(Dictionary(uniqueKeysWithValues: zip(names, leaves)))["output"]!
            }
            #expect(close(expected.output, actual.output, tolerance: 1e-5), "\(kind) sample \(index): \(expected.output.prefix(6)) vs \(actual.output.prefix(6))")
            for (input, (e, a)) in zip(expected.gradients, actual.gradients).enumerated() {
                guard let e else { continue }
                #expect(a != nil && close(e, a!, tolerance: 1e-4), "\(kind) sample \(index) input \(input): gradient \(e.prefix(6)) vs \(a?.prefix(6) ?? [])")
            }
        }
    }
}

func close(_ a: [Float], _ b: [Float], tolerance: Float) -> Bool {
    a.count == b.count && zip(a, b).allSatisfy { abs($0 - $1) <= tolerance }
}

/// A custom function with its own backward and an ONNX mapping composed of standard nodes
/// (`scale · tanh(x)` as Tanh then Mul): imported back, the standard ops' gradients must be the
/// function's own.
struct ScaledTanh: DifferentiableFunction {
    var scale: Float
    var name: String { "ScaledTanh" }

    func forward(_ inputs: [Tensor]) -> Tensor { inputs[0].tanh() * scale }

    func backward(_ gradient: Tensor, inputs: [Tensor], output: Tensor) -> [Tensor?] {
        // d/dx s·tanh(x) = s·(1 − tanh²(x)) = s − output²/s
        [gradient * (scale - output * output / scale)]
    }

    func exportNodes(inputs: [String], output: String, context: inout ExportContext) -> [ExportNode]? {
        let tanh = context.freshName("tanh")
        return [ExportNode("Tanh", inputs, [tanh]), ExportNode("Mul", [tanh, context.scalar(scale, hint: "scale")], [output])]
    }
}
