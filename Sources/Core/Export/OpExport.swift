extension Op {
    /// The ONNX nodes (opset 21) that compute this op: `inputs` are the creators' value
    /// names, `shapes` their traced shapes (dimension 0 is the batch), `output` the result's
    /// name and `outputShape` its traced shape. Every case maps exactly; the file format is
    /// left to `IO`.
    public func exportNodes(
        inputs: [String], shapes: [[Int]], output: String, outputShape: [Int], context: inout ExportContext
    ) -> [ExportNode] {
        switch self {
        case .add: return [ExportNode("Add", inputs, [output])]
        case .sub: return [ExportNode("Sub", inputs, [output])]
        case .mul: return [ExportNode("Mul", inputs, [output])]
        case .div: return [ExportNode("Div", inputs, [output])]
        case .neg: return [ExportNode("Neg", inputs, [output])]
        case .affine(let scale, let shift):
            if shift == 0 {
                return [ExportNode("Mul", [inputs[0], context.scalar(scale, hint: "scale")], [output])]
            }
            if scale == 1 {
                return [ExportNode("Add", [inputs[0], context.scalar(shift, hint: "shift")], [output])]
            }
            let scaled = context.freshName("scaled")
            return [
                ExportNode("Mul", [inputs[0], context.scalar(scale, hint: "scale")], [scaled]),
                ExportNode("Add", [scaled, context.scalar(shift, hint: "shift")], [output]),
            ]
        case .matmul(let transposeA, let transposeB):
            return [ExportNode("Gemm", inputs, [output], ["transA": .int(transposeA ? 1 : 0), "transB": .int(transposeB ? 1 : 0)])]
        case .transpose:
            return [ExportNode("Transpose", inputs, [output], ["perm": .ints([1, 0])])]
        case .reshape:
            // A kept leading (batch) dimension is written as 0, "copy it", so the graph runs
            // for any batch size.
            var target = outputShape
            if let first = shapes[0].first, target.first == first { target[0] = 0 }
            return [ExportNode("Reshape", [inputs[0], context.int64s(target, hint: "shape")], [output])]
        case .sum(let dim, let keepDim):
            return [reduction("ReduceSum", dim: dim, keepDim: keepDim, inputs[0], output, &context)]
        case .mean(let dim, let keepDim):
            return [reduction("ReduceMean", dim: dim, keepDim: keepDim, inputs[0], output, &context)]
        case .expand(let dim, let copies):
            let unsqueezed = context.freshName("unsqueezed")
            var repeats = [Int](repeating: 1, count: shapes[0].count + 1)
            repeats[dim] = copies
            return [
                ExportNode("Unsqueeze", [inputs[0], context.int64s([dim], hint: "axes")], [unsqueezed]),
                ExportNode("Tile", [unsqueezed, context.int64s(repeats, hint: "repeats")], [output]),
            ]
        case .sigmoid: return [ExportNode("Sigmoid", inputs, [output])]
        case .tanh: return [ExportNode("Tanh", inputs, [output])]
        case .relu: return [ExportNode("Relu", inputs, [output])]
        case .exp: return [ExportNode("Exp", inputs, [output])]
        case .log: return [ExportNode("Log", inputs, [output])]
        case .pow(let exponent):
            return [ExportNode("Pow", [inputs[0], context.scalar(exponent, hint: "exponent")], [output])]
        case .gatherRows:
            // Indices travel as whole-number floats; ONNX's Gather wants integers.
            let indices = context.freshName("indices")
            return [
                ExportNode("Cast", [inputs[1]], [indices], ["to": .int(7)]),
                ExportNode("Gather", [inputs[0], indices], [output], ["axis": .int(0)]),
            ]
        case .concat(let dim):
            return [ExportNode("Concat", inputs, [output], ["axis": .int(dim)])]
        case .slice(let dim, let range):
            return [ExportNode("Slice", [
                inputs[0], context.int64s([range.lowerBound], hint: "starts"),
                context.int64s([range.upperBound], hint: "ends"), context.int64s([dim], hint: "axes"),
            ], [output])]
        case .logSoftmax(let dim):
            return [ExportNode("LogSoftmax", inputs, [output], ["axis": .int(dim)])]
        case .crossEntropy:
            let labels = context.freshName("labels")
            return [
                ExportNode("Cast", [inputs[1]], [labels], ["to": .int(7)]),
                ExportNode("SoftmaxCrossEntropyLoss", [inputs[0], labels], [output], ["reduction": .string("none")]),
            ]
        case .lstmGates:
            return lstmGateNodes(inputs: inputs, hidden: shapes[1][1], output: output, context: &context)
        }
    }

    private func reduction(
        _ opType: String, dim: Int?, keepDim: Bool, _ input: String, _ output: String, _ context: inout ExportContext
    ) -> ExportNode {
        guard let dim else { return ExportNode(opType, [input], [output], ["keepdims": .int(0)]) }
        return ExportNode(opType, [input, context.int64s([dim], hint: "axes")], [output], ["keepdims": .int(keepDim ? 1 : 0)])
    }

    /// The fused LSTM step as elementwise ONNX ops over the same packed weights:
    /// Gemm(x, Wx, b) + Gemm(h, Wh), four Slices, σ/tanh, c′ = f·c + i·g, h′ = o·tanh c′,
    /// Concat(h′, c′).
    private func lstmGateNodes(inputs: [String], hidden: Int, output: String, context: inout ExportContext) -> [ExportNode] {
        let (x, h, c, wx, wh, b) = (inputs[0], inputs[1], inputs[2], inputs[3], inputs[4], inputs[5])
        let fromInput = context.freshName("gates_x")
        let fromHidden = context.freshName("gates_h")
        let gates = context.freshName("gates")
        var nodes = [
            ExportNode("Gemm", [x, wx, b], [fromInput], ["transB": .int(1)]),
            ExportNode("Gemm", [h, wh], [fromHidden], ["transB": .int(1)]),
            ExportNode("Add", [fromInput, fromHidden], [gates]),
        ]
        let axes = context.int64s([1], hint: "axes")
        var activated: [String] = []
        for (k, function) in ["Sigmoid", "Sigmoid", "Sigmoid", "Tanh"].enumerated() {
            let part = context.freshName("gate")
            let value = context.freshName("gate_act")
            nodes.append(ExportNode("Slice", [
                gates, context.int64s([k * hidden], hint: "starts"), context.int64s([(k + 1) * hidden], hint: "ends"), axes,
            ], [part]))
            nodes.append(ExportNode(function, [part], [value]))
            activated.append(value)
        }
        let (f, i, o, g) = (activated[0], activated[1], activated[2], activated[3])
        let kept = context.freshName("kept")
        let added = context.freshName("added")
        let newCell = context.freshName("cell")
        let squashed = context.freshName("cell_tanh")
        let newHidden = context.freshName("hidden")
        nodes += [
            ExportNode("Mul", [f, c], [kept]),
            ExportNode("Mul", [i, g], [added]),
            ExportNode("Add", [kept, added], [newCell]),
            ExportNode("Tanh", [newCell], [squashed]),
            ExportNode("Mul", [o, squashed], [newHidden]),
            ExportNode("Concat", [newHidden, newCell], [output], ["axis": .int(1)]),
        ]
        return nodes
    }
}
