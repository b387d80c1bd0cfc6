extension Op {
    /// The ONNX nodes (opset 21) that compute this op: `inputs` are the creators' value
    /// names, `shapes` their traced shapes (dimension 0 is the batch), `output` the result's
    /// name and `outputShape` its traced shape. Each case's mapping lives beside its forward
    /// and backward in `Ops/`; the file format is left to `IO`.
    public func exportNodes(
        inputs: [String], shapes: [[Int]], output: String, outputShape: [Int], context: inout ExportContext
    ) -> [ExportNode] {
        let site = ExportSite(inputs: inputs, shapes: shapes, output: output, outputShape: outputShape)
        switch self {
        case .add: return [ExportNode("Add", inputs, [output])]
        case .sub: return [ExportNode("Sub", inputs, [output])]
        case .mul: return [ExportNode("Mul", inputs, [output])]
        case .div: return [ExportNode("Div", inputs, [output])]
        case .neg: return [ExportNode("Neg", inputs, [output])]
        case .affine(let scale, let shift): return Tensor.exportAffine(scale: scale, shift: shift, site, &context)
        case .matmul(let transposeA, let transposeB): return Tensor.exportMatmul(transposeA, transposeB, site, &context)
        case .permute(let permutation): return [ExportNode("Transpose", inputs, [output], ["perm": .ints(permutation.axes)])]
        case .reshape: return Tensor.exportReshape(site, &context)
        case .sum(let dim, let keepDim): return [Tensor.exportReduction("ReduceSum", dim, keepDim, site, &context)]
        case .mean(let dim, let keepDim): return [Tensor.exportReduction("ReduceMean", dim, keepDim, site, &context)]
        case .max(let dim, let keepDim): return [Tensor.exportReduction("ReduceMax", dim, keepDim, site, &context)]
        case .min(let dim, let keepDim): return [Tensor.exportReduction("ReduceMin", dim, keepDim, site, &context)]
        case .expand(let dim, let copies): return Tensor.exportExpand(dim: dim, copies: copies, site, &context)
        case .sigmoid: return [ExportNode("Sigmoid", inputs, [output])]
        case .tanh: return [ExportNode("Tanh", inputs, [output])]
        case .relu: return [ExportNode("Relu", inputs, [output])]
        case .exp: return [ExportNode("Exp", inputs, [output])]
        case .log: return [ExportNode("Log", inputs, [output])]
        case .sqrt: return [ExportNode("Sqrt", inputs, [output])]
        case .erf: return [ExportNode("Erf", inputs, [output])]
        case .gelu(let approximate):
            return [ExportNode("Gelu", inputs, [output], ["approximate": .string(approximate ? "tanh" : "none")])]
        case .pow(let exponent):
            return [ExportNode("Pow", [inputs[0], context.scalar(exponent, hint: "exponent")], [output])]
        case .clamp(let low, let high): return Tensor.exportClamp(min: low, max: high, site, &context)
        case .compare(let comparison): return Tensor.exportComparison(comparison, site, &context)
        case .select: return Tensor.exportSelect(site, &context)
        case .gatherRows: return Tensor.exportGatherRows(site, &context)
        case .concat(let dim): return [ExportNode("Concat", inputs, [output], ["axis": .int(dim)])]
        case .slice(let dim, let range): return Tensor.exportSlice(dim: dim, range: range, site, &context)
        case .softmax(let dim): return [ExportNode("Softmax", inputs, [output], ["axis": .int(dim)])]
        case .logSoftmax(let dim): return [ExportNode("LogSoftmax", inputs, [output], ["axis": .int(dim)])]
        case .crossEntropy: return Tensor.exportCrossEntropy(site, &context)
        case .lstmGates: return Tensor.exportLSTMGates(site, &context)
        case .convolution(let window, let groups): return Tensor.exportConvolution(window: window, groups: groups, site, &context)
        case .maxPool(let window): return Tensor.exportPooling("MaxPool", window: window, countIncludePad: nil, site)
        case .averagePool(let window, let countIncludePad):
            return Tensor.exportPooling("AveragePool", window: window, countIncludePad: countIncludePad, site)
        case .batchNorm(let epsilon, let batchStatistics):
            return Tensor.exportBatchNorm(epsilon: epsilon, batchStatistics: batchStatistics, site, &context)
        case .layerNorm(let epsilon, let dims): return Tensor.exportLayerNorm(epsilon: epsilon, dims: dims, site)
        case .recurrence(let kind, let reverse): return Tensor.exportRecurrence(kind: kind, reverse: reverse, site, &context)
        // The function is kept with the result: `Tensor.exportNodes` exports it.
        case .custom: misuse("a custom function is exported through Tensor.exportNodes, which holds it")
        }
    }
}

/// Where an op is exported: its inputs' value names and traced shapes, its output's name and
/// traced shape (dimension 0 is the batch).
public struct ExportSite {
    public var inputs: [String]
    public var shapes: [[Int]]
    public var output: String
    public var outputShape: [Int]
}
