import Core
import Testing
import TestSupport

/// Every declared importer that is differentiable, run on a minimal node of its operator: the
/// gradients that flow back through the node to its float inputs match central finite
/// differences. (Values are checked against ONNX's own node tests by `make onnx-conformance`;
/// the walk over the declarations below fails when an importer has no sample.)
@Suite("Every differentiable importer's gradients")
struct ImporterGradientTests {
    struct Sample: Sendable {
        var opType: String
        /// Shapes of the float inputs (leaves checked by finite differences), then constants.
        var floats: [[Int]]
        var constants: [ConstantInput] = []
        var attributes: [String: Attr] = [:]
        var opset = 21
        var outputs = 1
        var positive = false
        /// The range of each float input's values, where the default (−1…1, or 0.5…1.5 when
        /// `positive`) does not suit the function (asin, acosh, a remainder's jumps).
        var ranges: [ClosedRange<Float>] = []
    }

    /// A constant input placed after the float inputs (or at `index`).
    struct ConstantInput: Sendable {
        var index: Int
        var values: [Int]
        var shape: [Int]
        var type: ElementType = .int64
        /// A float constant instead (not a leaf: no gradient is checked for it).
        var floats: [Float]? = nil
        /// An omitted optional input (ONNX's "").
        var absent = false
    }

    static func ints(_ index: Int, _ values: [Int], _ shape: [Int]? = nil) -> ConstantInput {
        ConstantInput(index: index, values: values, shape: shape ?? [values.count])
    }


    static let samples: [Sample] = [
        Sample(opType: "Add", floats: [[2, 3], [3]]), Sample(opType: "Sub", floats: [[2, 3], [2, 1]]),
        Sample(opType: "Mul", floats: [[2, 3], [2, 3]]), Sample(opType: "Div", floats: [[2, 3], [3]], positive: true),
        Sample(opType: "Neg", floats: [[4]]), Sample(opType: "Relu", floats: [[2, 3]]), Sample(opType: "Sigmoid", floats: [[2, 3]]),
        Sample(opType: "Tanh", floats: [[2, 3]]), Sample(opType: "Exp", floats: [[2, 3]]), Sample(opType: "Log", floats: [[2, 3]], positive: true),
        Sample(opType: "Sqrt", floats: [[2, 3]], positive: true), Sample(opType: "Erf", floats: [[2, 3]]),
        Sample(opType: "Gelu", floats: [[2, 3]], opset: 20), Sample(opType: "Pow", floats: [[2, 3], [3]], positive: true),
        Sample(opType: "Identity", floats: [[3]]), Sample(opType: "Dropout", floats: [[3]]),
        Sample(opType: "Softmax", floats: [[2, 4]]), Sample(opType: "LogSoftmax", floats: [[2, 4]], attributes: ["axis": .int(0)]),
        Sample(opType: "MatMul", floats: [[2, 3, 4], [4, 2]]), Sample(opType: "Gemm", floats: [[2, 3], [4, 3], [4]], attributes: ["transB": .int(1), "alpha": .float(0.5)]),
        Sample(opType: "Transpose", floats: [[2, 3, 4]], attributes: ["perm": .ints([2, 0, 1])]),
        Sample(opType: "Reshape", floats: [[2, 3]], constants: [ints(1, [3, 2])]), Sample(opType: "Flatten", floats: [[2, 3, 2]]),
        Sample(opType: "Squeeze", floats: [[2, 1, 3]], constants: [ints(1, [1])]), Sample(opType: "Unsqueeze", floats: [[2, 3]], constants: [ints(1, [0])]),
        Sample(opType: "Expand", floats: [[3, 1]], constants: [ints(1, [2, 3, 4])]), Sample(opType: "Tile", floats: [[2, 3]], constants: [ints(1, [2, 1])]),
        Sample(opType: "Concat", floats: [[2, 3], [2, 1]], attributes: ["axis": .int(1)]),
        Sample(opType: "Slice", floats: [[4, 3]], constants: [ints(1, [1]), ints(2, [3]), ints(3, [0])]),
        Sample(opType: "Gather", floats: [[4, 3]], constants: [ints(1, [2, 0, 2], [3])]),
        Sample(opType: "ReduceSum", floats: [[2, 3]], constants: [ints(1, [1])]), Sample(opType: "ReduceMean", floats: [[2, 3]], constants: [ints(1, [0])]),
        Sample(opType: "ReduceMax", floats: [[2, 3]], constants: [ints(1, [1])]), Sample(opType: "ReduceMin", floats: [[2, 3]], constants: [ints(1, [1])]),
        Sample(opType: "Clip", floats: [[2, 3]], constants: [
            ConstantInput(index: 1, values: [], shape: [], floats: [-0.3]), ConstantInput(index: 2, values: [], shape: [], floats: [0.4]),
        ]), Sample(opType: "Where", floats: [[2, 3], [2, 3]], constants: [ConstantInput(index: 0, values: [1, 0, 1, 0, 0, 1], shape: [2, 3], type: .bool)]),
        Sample(opType: "Conv", floats: [[1, 2, 4, 4], [3, 2, 3, 3], [3]], attributes: ["pads": .ints([1, 1, 1, 1])]),
        Sample(opType: "Conv", floats: [[1, 2, 4, 3, 3], [2, 1, 2, 2, 2], [2]],
               attributes: ["pads": .ints([1, 0, 1, 0, 1, 0]), "strides": .ints([2, 1, 1]), "group": .int(2)]),
        Sample(opType: "MaxPool", floats: [[1, 2, 4, 4]], attributes: ["kernel_shape": .ints([2, 2]), "strides": .ints([2, 2])]),
        Sample(opType: "AveragePool", floats: [[1, 2, 4, 4]], attributes: ["kernel_shape": .ints([3, 3]), "pads": .ints([1, 1, 1, 1])]),
        Sample(opType: "GlobalAveragePool", floats: [[2, 3, 2, 2]]), Sample(opType: "GlobalMaxPool", floats: [[2, 3, 2, 2]]),
        Sample(opType: "BatchNormalization", floats: [[3, 2, 2], [2], [2], [2], [2]], positive: true),
        Sample(opType: "BatchNormalization", floats: [[3, 2, 2], [2], [2], [2], [2]], attributes: ["training_mode": .int(1)], outputs: 3),
        Sample(opType: "LayerNormalization", floats: [[2, 5], [5], [5]], outputs: 3),
        // Class weights, ignore_index and a spatial axis: the composed path (and its log_prob output).
        Sample(opType: "SoftmaxCrossEntropyLoss", floats: [[3, 4, 2], [4]], constants: [ints(1, [1, 0, 3, 2, 2, 1], [3, 2])],
               attributes: ["ignore_index": .int(2)], outputs: 2, positive: true),
        Sample(opType: "NegativeLogLikelihoodLoss", floats: [[3, 4], [4]], constants: [ints(1, [1, 0, 3], [3])], attributes: ["reduction": .string("sum")]),
        Sample(opType: "LSTM", floats: [[2, 1, 3], [1, 8, 3], [1, 8, 2], [1, 16]], attributes: ["hidden_size": .int(2)], outputs: 3),
        Sample(opType: "GRU", floats: [[2, 1, 3], [1, 6, 3], [1, 6, 2], [1, 12]], attributes: ["hidden_size": .int(2), "linear_before_reset": .int(1)], outputs: 2),
        // The unrolled forms: GRU with linear_before_reset 0, LSTM with peepholes (P, input 7).
        Sample(opType: "GRU", floats: [[2, 1, 3], [1, 6, 3], [1, 6, 2], [1, 12]], attributes: ["hidden_size": .int(2)], outputs: 2),
        Sample(opType: "LSTM", floats: [[2, 1, 3], [1, 8, 3], [1, 8, 2], [1, 16], [1, 6]], constants: [
            ConstantInput(index: 4, values: [], shape: [], absent: true), ConstantInput(index: 5, values: [], shape: [], absent: true),
            ConstantInput(index: 6, values: [], shape: [], absent: true),
        ], attributes: ["hidden_size": .int(2)], outputs: 3),
        Sample(opType: "LeakyRelu", floats: [[2, 3]], attributes: ["alpha": .float(0.1)]), Sample(opType: "PRelu", floats: [[2, 3], [3]]),
        Sample(opType: "HardSigmoid", floats: [[2, 3]]), Sample(opType: "HardSwish", floats: [[2, 3]]), Sample(opType: "Elu", floats: [[2, 3]]),
        Sample(opType: "Selu", floats: [[2, 3]]), Sample(opType: "Celu", floats: [[2, 3]], attributes: ["alpha": .float(0.5)]),
        Sample(opType: "Softplus", floats: [[2, 3]]), Sample(opType: "Softsign", floats: [[2, 3]]), Sample(opType: "Mish", floats: [[2, 3]]),
        Sample(opType: "ThresholdedRelu", floats: [[2, 3]], attributes: ["alpha": .float(0.05)]),
        Sample(opType: "Shrink", floats: [[2, 3]], attributes: ["lambd": .float(0.05), "bias": .float(0.2)]),
        Sample(opType: "Abs", floats: [[2, 3]]), Sample(opType: "Reciprocal", floats: [[2, 3]], positive: true),
        Sample(opType: "Max", floats: [[2, 3], [3], [2, 1]]), Sample(opType: "Min", floats: [[2, 3], [2, 3]]),
        Sample(opType: "Sum", floats: [[2, 3], [3], [2, 3]]), Sample(opType: "Mean", floats: [[2, 3], [2, 3]]),
        Sample(opType: "RNN", floats: [[2, 1, 3], [1, 2, 3], [1, 2, 2], [1, 4]], attributes: ["hidden_size": .int(2)], outputs: 2),
        Sample(opType: "Sin", floats: [[2, 3]]), Sample(opType: "Cos", floats: [[2, 3]]), Sample(opType: "Tan", floats: [[2, 3]]),
        Sample(opType: "Asin", floats: [[2, 3]], ranges: [-0.8...0.8]), Sample(opType: "Acos", floats: [[2, 3]], ranges: [-0.8...0.8]),
        Sample(opType: "Atan", floats: [[2, 3]]), Sample(opType: "Sinh", floats: [[2, 3]]), Sample(opType: "Cosh", floats: [[2, 3]]),
        Sample(opType: "Asinh", floats: [[2, 3]]), Sample(opType: "Acosh", floats: [[2, 3]], ranges: [1.5...2.5]),
        Sample(opType: "Atanh", floats: [[2, 3]], ranges: [-0.8...0.8]),
        // x/y stays between 2 and 3, so no step crosses a jump of the remainder.
        Sample(opType: "Mod", floats: [[2, 3], [3]], attributes: ["fmod": .int(1)], ranges: [2.1...2.4, 0.95...1.0]),
        Sample(opType: "Split", floats: [[4, 3]], constants: [ints(1, [1, 3])], outputs: 2),
        Sample(opType: "Pad", floats: [[2, 3]], constants: [ints(1, [1, 2, 0, 1])], attributes: ["mode": .string("reflect")]),
        Sample(opType: "CenterCropPad", floats: [[3, 4]], constants: [ints(1, [2, 6])]),
        Sample(opType: "Trilu", floats: [[3, 4]], constants: [ints(1, [1], [])]),
        Sample(opType: "ReverseSequence", floats: [[3, 2, 2]], constants: [ints(1, [2, 3])]),
        Sample(opType: "DepthToSpace", floats: [[1, 8, 2, 2]], attributes: ["blocksize": .int(2), "mode": .string("CRD")]),
        Sample(opType: "SpaceToDepth", floats: [[1, 2, 4, 4]], attributes: ["blocksize": .int(2)]),
        Sample(opType: "GatherElements", floats: [[3, 3]], constants: [ints(1, [0, 2, 1, 1, 0, 0], [2, 3])]),
        Sample(opType: "GatherND", floats: [[2, 3, 2]], constants: [ints(1, [1, 0, 0, 2], [2, 2])]),
        Sample(opType: "ScatterElements", floats: [[3, 3], [2, 3]], constants: [ints(1, [1, 0, 2, 0, 2, 1], [2, 3])], attributes: ["axis": .int(0)]),
        Sample(opType: "ScatterND", floats: [[4, 3], [2, 3]], constants: [ints(1, [1, 3], [2, 1])], attributes: ["reduction": .string("add")]),
        Sample(opType: "OneHot", floats: [[2]], constants: [ints(0, [1, 0, 2], [3]), ints(1, [3], [])]),
        Sample(opType: "Compress", floats: [[3, 2]], constants: [ConstantInput(index: 1, values: [1, 0, 1], shape: [3], type: .bool)], attributes: ["axis": .int(0)]),
        Sample(opType: "TopK", floats: [[2, 4]], constants: [ints(1, [2], [1])], outputs: 2),
        Sample(opType: "ReduceProd", floats: [[2, 3]], constants: [ints(1, [1])], opset: 18), Sample(opType: "ReduceL1", floats: [[2, 3]], opset: 18),
        Sample(opType: "ReduceL2", floats: [[2, 3]], constants: [ints(1, [0])], opset: 18), Sample(opType: "ReduceSumSquare", floats: [[2, 3]], opset: 18),
        Sample(opType: "ReduceLogSum", floats: [[2, 3]], constants: [ints(1, [1])], opset: 18, positive: true),
        Sample(opType: "ReduceLogSumExp", floats: [[2, 3]], constants: [ints(1, [1])], opset: 18),
        Sample(opType: "InstanceNormalization", floats: [[2, 2, 3], [2], [2]]),
        Sample(opType: "GroupNormalization", floats: [[2, 4, 3], [4], [4]], attributes: ["num_groups": .int(2)]),
        Sample(opType: "RMSNormalization", floats: [[2, 5], [5]], opset: 23),
        Sample(opType: "MeanVarianceNormalization", floats: [[2, 3, 2]], attributes: ["axes": .ints([0, 2])]),
        Sample(opType: "LpNormalization", floats: [[2, 3]], attributes: ["axis": .int(1)]),
        Sample(opType: "LRN", floats: [[1, 4, 2]], attributes: ["size": .int(3), "alpha": .float(0.5)], positive: true),
        Sample(opType: "Einsum", floats: [[2, 3, 4], [2, 2, 4]], attributes: ["equation": .string("bij,bkj->bki")]),
        Sample(opType: "Resize", floats: [[1, 1, 2, 3]], constants: [
            ConstantInput(index: 1, values: [], shape: [], absent: true), ConstantInput(index: 2, values: [], shape: [4], floats: [1, 1, 2, 1.5]),
        ], attributes: ["mode": .string("cubic")]),
        Sample(opType: "Upsample", floats: [[1, 1, 2, 2]], constants: [ConstantInput(index: 1, values: [], shape: [4], floats: [1, 1, 2, 1.5])],
               attributes: ["mode": .string("linear")], opset: 9),
        Sample(opType: "ConvTranspose", floats: [[1, 2, 3, 3], [2, 3, 2, 2], [3]], attributes: ["strides": .ints([2, 2]), "pads": .ints([0, 1, 1, 0])]),
        // Grouped-query attention over 3-D inputs, causal, with a key/value cache.
        Sample(opType: "Attention", floats: [[1, 3, 4], [1, 3, 2], [1, 3, 2], [1, 1, 2, 2], [1, 1, 2, 2]],
               constants: [ConstantInput(index: 3, values: [], shape: [], absent: true)], attributes: ["q_num_heads": .int(2), "kv_num_heads": .int(1), "is_causal": .int(1)], opset: 23, outputs: 3),
        Sample(opType: "RotaryEmbedding", floats: [[1, 2, 3, 4], [3, 2], [3, 2]], constants: [ints(3, [0, 2, 1], [1, 3])], opset: 23),
        Sample(opType: "Swish", floats: [[2, 3]], attributes: ["alpha": .float(0.7)], opset: 24),
        Sample(opType: "LpPool", floats: [[1, 2, 4, 4]], attributes: ["kernel_shape": .ints([2, 2]), "p": .int(3)], opset: 22, positive: true),
        Sample(opType: "GlobalLpPool", floats: [[1, 2, 3, 3]], positive: true),
        Sample(opType: "Scatter", floats: [[3, 3], [2, 3]], constants: [ints(1, [1, 0, 2, 0, 2, 1], [2, 3])], opset: 10),
        // The gradient reaches the per-axis scale.
        Sample(opType: "DequantizeLinear", floats: [[3]], constants: [
            ConstantInput(index: 0, values: [3, 250, 7, 0, 128, 9], shape: [2, 3], type: .uint8), ConstantInput(index: 2, values: [1, 0, 2], shape: [3], type: .uint8),
        ], opset: 21),
        Sample(opType: "CumSum", floats: [[2, 3]], constants: [ints(1, [1], [])], attributes: ["exclusive": .int(1)]),
        Sample(opType: "CumProd", floats: [[2, 4]], constants: [ints(1, [1], [])], opset: 26),
        Sample(opType: "CumProd", floats: [[3, 2]], constants: [ints(1, [0], [])], attributes: ["exclusive": .int(1), "reverse": .int(1)], opset: 26),
        Sample(opType: "Det", floats: [[2, 3, 3]]),
        Sample(opType: "SwiGLU", floats: [[2, 3], [2, 3]], attributes: ["alpha": .float(1.5)], opset: 28),
        // A decode step: each batch row's update written after its own last valid position.
        Sample(opType: "TensorScatter", floats: [[2, 4, 2], [2, 1, 2]], constants: [ints(2, [1, 3])], opset: 24),
        Sample(opType: "MaxUnpool", floats: [[1, 1, 2, 2]], constants: [ints(1, [0, 3, 9, 14], [1, 1, 2, 2])],
               attributes: ["kernel_shape": .ints([2, 2]), "strides": .ints([2, 2])], opset: 22),
        Sample(opType: "Col2Im", floats: [[1, 4, 4]], constants: [ints(1, [3, 3]), ints(2, [2, 2])], opset: 18),
        // Gradients reach the input and the grid: linear with zero padding, cubic reflected at the borders.
        Sample(opType: "GridSample", floats: [[1, 2, 3, 4], [1, 2, 3, 2]], ranges: [-1...1, -0.9...0.9]),
        Sample(opType: "GridSample", floats: [[1, 1, 3, 3], [1, 2, 2, 2]], attributes: ["mode": .string("cubic"), "padding_mode": .string("reflection")],
               opset: 20, ranges: [-1...1, -1.3...1.3]),
        Sample(opType: "AffineGrid", floats: [[2, 2, 3]], constants: [ints(1, [2, 1, 3, 4])], opset: 20),
        Sample(opType: "Unique", floats: [[2, 3]], attributes: ["axis": .int(1), "sorted": .int(1)]),
        // A complex signal transformed along axis 1 with a cut, and a real one inverted one-sided.
        Sample(opType: "DFT", floats: [[2, 5, 3, 2]], constants: [ints(1, [4], []), ints(2, [1], [])], opset: 20),
        Sample(opType: "DFT", floats: [[2, 4, 2]], attributes: ["inverse": .int(1), "onesided": .int(1)], opset: 20),
        Sample(opType: "STFT", floats: [[2, 9, 1], [4]], constants: [ConstantInput(index: 1, values: [2], shape: [])], opset: 17),
    ]

    @Test("every differentiable declaration has a sample")
    func walk() {
        let differentiable = Set(OpImport.declarations.filter(\.differentiable).map(\.opType))
        let sampled = Set(Self.samples.map(\.opType))
        #expect(differentiable.subtracting(sampled).isEmpty, "no gradient sample for \(differentiable.subtracting(sampled).sorted())")
        #expect(sampled.subtracting(differentiable).isEmpty)
    }

    @Test("gradients through the importer match finite differences", arguments: samples.indices)
    func gradients(_ index: Int) throws {
        let sample = Self.samples[index]
        let opType = sample.opType
        let leaves = sample.floats.enumerated().map { index, shape in
            let range = index < sample.ranges.count ? sample.ranges[index] : sample.positive ? 0.5...1.5 : -1...1
            return parameter(shape, low: range.lowerBound, high: range.upperBound, seed: UInt64(index + 1))
        }
        var sampleAttributes = sample.attributes
        if opType == "ThresholdedRelu" || opType == "Shrink" {
            // A threshold halfway between two inputs' magnitudes: these functions jump there, and
            // no finite-difference step may cross it.
            let magnitudes = leaves[0].scalars.map(abs).sorted()
            sampleAttributes[opType == "Shrink" ? "lambd" : "alpha"] = .float((magnitudes[2] + magnitudes[3]) / 2)
        }
        let attributes = sampleAttributes.mapValues { value -> NodeAttribute in
            switch value {
            case .int(let v): .int(v)
            case .ints(let v): .ints(v)
            case .float(let v): .float(v)
            case .string(let v): .string(v)
            }
        }
        var constants = sample.constants
        if opType == "Clip" {
            // Bounds halfway between input values, so that no finite-difference step crosses a kink.
            let sorted = leaves[0].scalars.sorted()
            constants = [ConstantInput(index: 1, values: [], shape: [], floats: [(sorted[1] + sorted[2]) / 2]),
                         ConstantInput(index: 2, values: [], shape: [], floats: [(sorted[3] + sorted[4]) / 2])]
        }
        func run(_ tensors: [Tensor]) -> Tensor {
            var inputs: [GraphValue?] = tensors.map { .tensor($0) }
            for constant in constants.sorted(by: { $0.index < $1.index }) {
                let value: GraphValue? = constant.absent ? nil : constant.floats.map { GraphValue.tensor(Tensor($0, shape: constant.shape)) }
                    ?? GraphValue.integers(constant.values, shape: constant.shape, type: constant.type)
                if constant.index <= inputs.count { inputs.insert(value, at: constant.index) } else { inputs.append(value) }
            }
            let node = ImportNode(opType: opType, label: "n", attributes: attributes, inputs: inputs, opset: sample.opset, outputCount: sample.outputs)
            do {
                // Every output takes part, each with its own weight (the recurrences' states too).
                let outputs = try OpImport.run(node).map(\.asTensor)
                return outputs.count == 1 ? outputs[0] : Tensor.concat(outputs.map { $0.reshaped([-1]) }, dim: 0)
            } catch {
                Issue.record("\(opType): \(error)")
                return Tensor(scalar: 0)
            }
        }
        expectGradientsMatchFiniteDifferences(leaves, step: 1e-2, tolerance: 5e-3) { run($0) }
    }
}

extension ImporterGradientTests {
    enum Attr: Sendable {
        case int(Int)
        case ints([Int])
        case float(Float)
        case string(String)
    }
}
