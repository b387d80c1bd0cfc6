import Core
import Testing

/// The operators added for real models, given the attributes and constant inputs a hostile or
/// broken file can hold: huge pads, repeats, scales, depths and strides, impossible Einsum
/// equations, indices out of range. Each is an `ImportError` naming the rule — never a crash,
/// a hang or an allocation without bound (`OpImport.largestMadeValue` caps what a node makes).
@Suite("Hostile attributes of the real-model operators")
struct HostileAttributeTests {
    static var x: GraphValue { GraphValue.tensor(Tensor((0..<12).map(Float.init), shape: [1, 1, 3, 4])) }
    static var matrix: GraphValue { GraphValue.tensor(Tensor((0..<6).map(Float.init), shape: [2, 3])) }
    static func ints(_ values: [Int], _ shape: [Int]? = nil) -> GraphValue { .integers(values, shape: shape ?? [values.count]) }
    static func floats(_ values: [Float]) -> GraphValue { .tensor(Tensor(values)) }
    static func uint8(_ values: [Int], _ shape: [Int]? = nil) -> GraphValue { .integers(values, shape: shape ?? [values.count], type: .uint8) }

    struct Case {
        var opType: String
        var inputs: [GraphValue?]
        var attributes: [String: NodeAttribute] = [:]
        var opset = 21
        var outputs = 1
        var expected: String
    }

    static var cases: [Case] { [
        Case(opType: "Pad", inputs: [x, ints([0, 0, 1 << 40, 0, 0, 0, 0, 0])], expected: "too large"),
        Case(opType: "Pad", inputs: [x, ints([0, 0, 0, 0, 0, 0, -9, 0])], expected: "crop"),
        Case(opType: "Pad", inputs: [.tensor(Tensor.zeros([2, 0])), ints([0, 1, 0, 1])], attributes: ["mode": .string("reflect")], expected: "empty"),
        Case(opType: "Resize", inputs: [x, nil, floats([1, 1, 1e5, 1e5])], expected: "too large"),
        Case(opType: "Resize", inputs: [x, nil, floats([1, 1, -2, 1])], expected: "positive factor"),
        Case(opType: "Upsample", inputs: [x, floats([1, 1, 5e5, 5e5])], opset: 9, expected: "too large"),
        Case(opType: "Einsum", inputs: [matrix, matrix], attributes: ["equation": .string("ab,bc->ad")], expected: "output label d is in no operand"),
        Case(opType: "Einsum", inputs: [matrix], attributes: ["equation": .string("abc->a")], expected: "3 labels for an operand of rank 2"),
        Case(opType: "Einsum", inputs: [matrix], attributes: ["equation": .string("a...b...->a")], expected: "more than one ellipsis"),
        Case(opType: "Einsum", inputs: [matrix], attributes: ["equation": .string("a1->a")], expected: "labels must be letters"),
        Case(opType: "Einsum", inputs: [matrix, matrix], attributes: ["equation": .string("ab,ab->a")], expected: ""),  // fine: a row-wise dot product
        Case(opType: "Einsum", inputs: [matrix, .tensor(Tensor.zeros([4, 3]))], attributes: ["equation": .string("ab,ab->a")], expected: "sizes 2 and 4"),
        Case(opType: "OneHot", inputs: [ints([1, 2]), ints([1 << 40], []), floats([0, 1])], expected: "depth must be one positive number"),
        Case(opType: "OneHot", inputs: [ints(Array(repeating: 1, count: 1 << 12)), ints([1 << 18], []), floats([0, 1])], expected: "too large"),
        Case(opType: "TopK", inputs: [matrix, ints([9])], outputs: 2, expected: "k must be one count in 0...3"),
        Case(opType: "Split", inputs: [matrix, ints([1, 1])], attributes: ["axis": .int(1)], outputs: 2, expected: "adding up to 3"),
        Case(opType: "GatherElements", inputs: [matrix, ints([0, 7, 1, 0, 0, 1], [2, 3])], attributes: ["axis": .int(1)], expected: "out of range"),
        Case(opType: "GatherND", inputs: [matrix, ints([0, 1, 2], [1, 3])], expected: "do not fit"),
        Case(opType: "ScatterND", inputs: [matrix, ints([5], [1, 1]), floats([1, 2, 3]).asTensor.reshaped([1, 3]).graphValue], expected: "out of range"),
        Case(opType: "ScatterElements", inputs: [matrix, ints([0, 0, 0], [1, 3]), .tensor(Tensor.zeros([1, 3]))], attributes: ["reduction": .string("max2")], expected: "reduction"),
        Case(opType: "ConvTranspose", inputs: [x, .tensor(Tensor.zeros([1, 1, 2, 2]))], attributes: ["strides": .ints([1 << 15, 1 << 15])], expected: "scalars, more than"),
        Case(opType: "ConvTranspose", inputs: [x, .tensor(Tensor.zeros([2, 1, 2, 2]))], expected: "for an input of 1 channels"),
        Case(opType: "CumSum", inputs: [matrix, ints([5], [])], expected: "axis 5 is out of range"),
        Case(opType: "SpaceToDepth", inputs: [x], attributes: ["blocksize": .int(0)], expected: "multiples of blocksize"),
        Case(opType: "DepthToSpace", inputs: [x], attributes: ["blocksize": .int(2)], expected: "multiple of blocksize²"),
        Case(opType: "Trilu", inputs: [floats([1, 2, 3])], expected: "at least two axes"),
        Case(opType: "LRN", inputs: [x], attributes: ["size": .int(0)], expected: "size in 1..."),
        Case(opType: "CenterCropPad", inputs: [x, ints([1, 1, 1 << 20, 1 << 20])], expected: "too large"),
        Case(opType: "EyeLike", inputs: [floats([1, 2])], expected: "must be a matrix"),
        Case(opType: "Mod", inputs: [ints([3, 4]), ints([0, 1])], expected: "division by zero"),
        Case(opType: "Attention", inputs: [.tensor(Tensor.zeros([1, 3, 4])), .tensor(Tensor.zeros([1, 3, 3])), .tensor(Tensor.zeros([1, 3, 3]))],
             attributes: ["q_num_heads": .int(2), "kv_num_heads": .int(2)], opset: 23, expected: "dividing their hidden sizes"),
        Case(opType: "ReverseSequence", inputs: [.tensor(Tensor.zeros([3, 2])), ints([4, 1])], expected: "a length in 0...3"),
        Case(opType: "Det", inputs: [matrix], expected: "not a batch of square matrices"),
        Case(opType: "Det", inputs: [.tensor(Tensor.zeros([65, 65]))], expected: "more than Det reads"),
        Case(opType: "MaxUnpool", inputs: [x, ints(Array(repeating: 0, count: 12), [1, 1, 3, 4]), ints([1, 1, 1 << 20, 1 << 20])],
             attributes: ["kernel_shape": .ints([2, 2])], opset: 22, expected: "scalars, more than"),
        Case(opType: "MaxUnpool", inputs: [x, ints(Array(repeating: 99, count: 12), [1, 1, 3, 4])], attributes: ["kernel_shape": .ints([2, 2])], opset: 22,
             expected: "index 99 is out of range"),
        Case(opType: "Col2Im", inputs: [.tensor(Tensor.zeros([1, 4, 5])), ints([3, 3]), ints([2, 2])], opset: 18, expected: "must be [N, C·4, 4]"),
        Case(opType: "Col2Im", inputs: [.tensor(Tensor.zeros([1, 1, 1])), ints([1 << 20, 1 << 20]), ints([1, 1])],
             attributes: ["strides": .ints([1 << 20, 1 << 20])], opset: 18, expected: "scalars, more than"),
        Case(opType: "TensorScatter", inputs: [.tensor(Tensor.zeros([2, 4, 2])), .tensor(Tensor.zeros([2, 2, 2])), ints([1, 3])], opset: 24,
             expected: "writes past the cache"),
        Case(opType: "TensorScatter", inputs: [.tensor(Tensor.zeros([2, 4, 2])), .tensor(Tensor.zeros([2, 2, 3]))], opset: 24, expected: "does not fit cache"),
        Case(opType: "SwiGLU", inputs: [matrix, floats([1, 2, 3])], opset: 28, expected: "must have one shape"),
        Case(opType: "NonMaxSuppression", inputs: [.tensor(Tensor.zeros([1, 3, 4])), .tensor(Tensor.zeros([1, 2, 4]))], opset: 11, expected: "must be [batch, boxes, 4]"),
        Case(opType: "DFT", inputs: [.tensor(Tensor.zeros([2, 4, 2])), ints([1 << 40], [])], opset: 20, expected: "outside 1...65536"),
        Case(opType: "DFT", inputs: [.tensor(Tensor.zeros([2, 4, 2])), nil, ints([-1], [])], opset: 20, expected: "real/imaginary axis"),
        Case(opType: "STFT", inputs: [.tensor(Tensor.zeros([1, 8, 1])), ints([0], [])], opset: 17, expected: "frame_step must be one positive"),
        Case(opType: "STFT", inputs: [.tensor(Tensor.zeros([1, 8, 1])), ints([2], []), nil, ints([9], [])], opset: 17, expected: "must be in 1...8"),
        Case(opType: "MelWeightMatrix", inputs: [ints([8], []), ints([16], []), ints([100], []), floats([0]), floats([1e6])], opset: 17, expected: "reach past the spectrum"),
        Case(opType: "GridSample", inputs: [x, .tensor(Tensor.zeros([1, 2, 2, 3]))], expected: "must be [N, C, D…] and [N, out…, 2]"),
        Case(opType: "GridSample", inputs: [.tensor(Tensor.zeros([1, 1 << 12, 1, 1])), .tensor(Tensor.zeros([1, 1 << 9, 1 << 8, 2]))], expected: "more than"),
        Case(opType: "AffineGrid", inputs: [.tensor(Tensor.zeros([1, 2, 3])), ints([1, 1, 1 << 20, 1 << 20])], opset: 20, expected: "scalars, more than"),
        Case(opType: "AffineGrid", inputs: [.tensor(Tensor.zeros([1, 3, 4])), ints([1, 1, 4, 4])], opset: 20, expected: "theta [1, 3, 4] must be [1, 2, 3]"),
        Case(opType: "BitCast", inputs: [ints([1, 2])], attributes: ["to": .int(6)], opset: 26, expected: "BitCast keeps the width"),
        Case(opType: "Conv", inputs: [.tensor(Tensor.zeros([1, 2, 3, 3, 3])), .tensor(Tensor.zeros([1, 3, 2, 2, 2]))], expected: "channels"),
        Case(opType: "Conv", inputs: [.tensor(Tensor.zeros([1, 1, 3, 40, 40])), .tensor(Tensor.zeros([1, 1, 2, 2, 2]))],
             attributes: ["pads": .ints([1 << 20, 0, 0, 1 << 20, 0, 0])], expected: "more than"),
        Case(opType: "QLinearMatMul", inputs: [uint8([1, 2, 3], [1, 3]), floats([1]), uint8([0]), uint8([1, 2], [2, 1]), floats([1]), uint8([0]), floats([1]), uint8([0])],
             expected: "do not multiply"),
        Case(opType: "ConvInteger", inputs: [.integers([Int](repeating: 1, count: 1 << 17), shape: [1, 1 << 17, 1, 1], type: .uint8),
                                             .integers([Int](repeating: 1, count: 1 << 17), shape: [1, 1 << 17, 1, 1], type: .uint8)], opset: 10,
             expected: "65,535"),
        Case(opType: "QLinearConv", inputs: [uint8([0, 1, 2, 3], [1, 1, 2, 2]), floats([1]), uint8([0]),
                                             uint8([1], [1, 1, 1, 1]), floats([1, 2]), uint8([0]), floats([1]), uint8([0])], opset: 10,
             expected: "w_scale must be one value or 1"),
    ] }
    static let caseCount = 57

    @Test("the table has every case") func count() { #expect(Self.cases.count == Self.caseCount) }

    @Test("each is an error naming the rule", arguments: 0..<caseCount)
    func refused(_ index: Int) {
        let sample = Self.cases[index]
        let node = ImportNode(opType: sample.opType, label: "n", attributes: sample.attributes, inputs: sample.inputs, opset: sample.opset, outputCount: sample.outputs)
        do {
            _ = try OpImport.run(node)
            #expect(sample.expected.isEmpty, "\(sample.opType) ran; expected an error containing \"\(sample.expected)\"")
        } catch let error as ImportError {
            #expect(!sample.expected.isEmpty && error.reason.contains(sample.expected), "\(error)")
        } catch {
            Issue.record("\(sample.opType): \(error)")
        }
    }
}

extension Tensor {
    var graphValue: GraphValue { .tensor(self) }
}
