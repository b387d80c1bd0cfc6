import Core
import Foundation

/// The rewrites an inference graph gets at load, in order, each where it cannot change what
/// the graph computes:
///
/// 1. **No-op removal** (`identity`): Identity; Dropout (evaluation mode, no mask read, no
///    training_mode input); Cast to the type its input already has (float32, and the integer
///    types Synapse computes exactly). Readers read the input instead. A no-op whose output
///    is a graph output stays.
/// 2. **Batch-norm folding** (`batch-norm-fold`): Conv → BatchNormalization, where only the
///    batch norm reads the convolution's output, becomes one Conv with
///    W′ = W·s and b′ = (b − mean)·s + B, s = scale / √(var + ε) (computed in Double; the
///    weights come from the graph as loaded).
/// 3. **Activation fusion** (`activation-fusion`): Relu, Clip (ReLU6), LeakyRelu, HardSwish
///    and SiLU (x · Sigmoid(x)) applied in place to the output of the Conv, ConvTranspose,
///    Gemm, MatMul, Add, Sub, Mul, Concat or BatchNormalization producing their input, when
///    nothing else reads that output.
///
/// Not yet: Reshape to the same shape (shapes are known only when the graph runs), folding
/// batch norm into Gemm, the decomposed LayerNorm/GELU/attention subgraphs.
struct InferencePasses {
    var steps: [InferenceStep]
    var fixed: [String: GraphValue]
    let outputs: Set<String>
    let file: String
    var rewrites: [String: Int] = [:]

    init(steps: [InferenceStep], fixed: [String: GraphValue], outputs: Set<String>, file: String) {
        self.steps = steps
        self.fixed = fixed
        self.outputs = outputs
        self.file = file
    }

    mutating func run() throws {
        removeNoOps()
        try foldBatchNorms()
        fuseActivations()
    }

    /// The steps reading each value.
    func readers() -> [String: [Int]] {
        var readers: [String: [Int]] = [:]
        for (index, step) in steps.enumerated() {
            for name in Set(step.inputs) where !name.isEmpty { readers[name, default: []].append(index) }
        }
        return readers
    }

    /// The step writing each value.
    func producers() -> [String: Int] {
        var producers: [String: Int] = [:]
        for (index, step) in steps.enumerated() {
            for name in step.outputs where !name.isEmpty { producers[name] = index }
        }
        return producers
    }

    /// Whether only `reader` reads `name` and it is no graph output.
    func onlyRead(_ name: String, by reader: Int, _ readers: [String: [Int]]) -> Bool {
        !outputs.contains(name) && readers[name] == [reader]
    }

    func fixedTensor(_ name: String) -> Tensor? {
        if case .tensor(let tensor)? = fixed[name] { return tensor }
        return nil
    }

    /// A fixed scalar input (a Clip bound), or `nil`.
    func fixedScalar(_ name: String) -> Float? {
        switch fixed[name] {
        case .tensor(let tensor)?: return tensor.count == 1 ? tensor.scalars[0] : nil
        case .integers(let values, _, _)?: return values.count == 1 ? Float(values[0]) : nil
        case nil: return nil
        }
    }

    // MARK: no-ops

    mutating func removeNoOps() {
        var renamed: [String: String] = [:]
        var kept: [InferenceStep] = []
        for step in steps {
            step.inputs = step.inputs.map { renamed[$0] ?? $0 }
            if let output = step.outputs.first, !outputs.contains(output), isNoOp(step) {
                renamed[output] = step.inputs[0]
                rewrites["identity", default: 0] += 1
                continue
            }
            kept.append(step)
        }
        steps = kept
    }

    func isNoOp(_ step: InferenceStep) -> Bool {
        guard case .node(let interpreter) = step.action, !step.inputs.isEmpty, !step.inputs[0].isEmpty else { return false }
        switch step.opType {
        case "Identity":
            return step.outputs.count == 1
        case "Dropout":
            // A mask that is read, or a training_mode input, keeps it.
            return step.outputs.dropFirst().allSatisfy(\.isEmpty) && step.inputs.count < 3
        case "Cast":
            guard step.outputs.count == 1, case .int(let code)? = interpreter.attributes["to"],
                  let target = ElementType(rawValue: code), let source = interpreter.declaredTypes.first ?? nil else { return false }
            let exact: Set<ElementType> = [.float32, .int64, .int32, .bool]
            return source == target && exact.contains(target)
        default:
            return false
        }
    }

    // MARK: batch norm

    mutating func foldBatchNorms() throws {
        // The maps are built once: a fold replaces the convolution in place (now writing the
        // batch norm's output) and marks the batch norm removed, so no index moves.
        var producers = producers()
        let readers = readers()
        var removed = IndexSet()
        for index in steps.indices {
            let norm = steps[index]
            guard norm.opType == "BatchNormalization", norm.inputs.count == 5, norm.outputs.dropFirst().allSatisfy(\.isEmpty),
                  (norm.interpreter.attributes["training_mode"].map { if case .int(0) = $0 { true } else { false } } ?? true),
                  let source = producers[norm.inputs[0]], !removed.contains(source), steps[source].opType == "Conv",
                  case .node(let convolution) = steps[source].action,
                  onlyRead(norm.inputs[0], by: index, readers) else { continue }
            let conv = steps[source]
            guard conv.inputs.count >= 2, let weight = fixedTensor(conv.inputs[1]), weight.shape.count >= 3 else { continue }
            let channels = weight.shape[0]
            let bias = conv.inputs.count > 2 && !conv.inputs[2].isEmpty ? fixedTensor(conv.inputs[2]) : nil
            if conv.inputs.count > 2 && !conv.inputs[2].isEmpty && bias == nil { continue }
            let parameters = norm.inputs[1...4].compactMap(fixedTensor)
            guard parameters.count == 4, parameters.allSatisfy({ $0.shape == [channels] }), bias.map({ $0.shape == [channels] }) ?? true else { continue }
            var epsilon: Float = 1e-5
            if case .float(let value)? = norm.interpreter.attributes["epsilon"] { epsilon = value }
            let (foldedWeight, foldedBias) = Self.foldedConvolution(
                weight: weight, bias: bias, scale: parameters[0], shift: parameters[1], mean: parameters[2], variance: parameters[3], epsilon: epsilon)
            let base = "synapse::folded::\(norm.outputs[0])"
            fixed[base + "::weight"] = .tensor(foldedWeight)
            fixed[base + "::bias"] = .tensor(foldedBias)
            var proto = convolution.node
            proto.input = [conv.inputs[0], base + "::weight", base + "::bias"]
            proto.output = [norm.outputs[0]]
            let folded = try NodeInterpreter(node: proto, label: convolution.label, file: file, opset: convolution.opset)
            let step = InferenceStep(folded)
            step.opType = "Conv+BatchNormalization"
            steps[source] = step
            producers[norm.outputs[0]] = source
            removed.insert(index)
            rewrites["batch-norm-fold", default: 0] += 1
        }
        steps = steps.indices.filter { !removed.contains($0) }.map { steps[$0] }
    }

    /// W′ = W·s and b′ = (b − mean)·s + B with s = scale / √(var + ε), each output channel's
    /// factor computed in Double and the weights scaled in one pass over their storage.
    static func foldedConvolution(
        weight: Tensor, bias: Tensor?, scale: Tensor, shift: Tensor, mean: Tensor, variance: Tensor, epsilon: Float
    ) -> (weight: Tensor, bias: Tensor) {
        let channels = weight.shape[0]
        let perChannel = weight.count / channels
        let (s, b, m, v) = (scale.scalars, shift.scalars, mean.scalars, variance.scalars)
        let original = bias?.scalars
        let factors = (0..<channels).map { Double(s[$0]) / (Double(v[$0]) + Double(epsilon)).squareRoot() }
        let foldedWeight = Tensor(shape: weight.shape, repeating: 0)
        weight.withUnsafeBufferPointer { w in
            foldedWeight.withUnsafeMutableBufferPointer { target in
                for o in 0..<channels {
                    let factor = factors[o]
                    for i in o * perChannel..<(o + 1) * perChannel { target[i] = Float(Double(w[i]) * factor) }
                }
            }
        }
        let foldedBias = Tensor((0..<channels).map { Float((Double(original?[$0] ?? 0) - Double(m[$0])) * factors[$0] + Double(b[$0])) }, shape: [channels])
        return (foldedWeight, foldedBias)
    }

    // MARK: activations

    static let fusableProducers: Set<String> = [
        "Conv", "Conv+BatchNormalization", "ConvTranspose", "Gemm", "MatMul", "Add", "Sub", "Mul", "Concat",
        // Batch norm that no convolution precedes (DenseNet's BN → ReLU → Conv).
        "BatchNormalization",
    ]
    /// Producers that may compute whole numbers: their fused activation falls back to the
    /// activation node as written when the output is not a float tensor.
    static let wholeNumberProducers: Set<String> = ["Add", "Sub", "Mul", "Concat"]

    /// The activation `step` applies to its first input, or `nil`.
    func activation(of step: InferenceStep) -> FusedActivation? {
        let attributes = step.interpreter.attributes
        switch step.opType {
        case "Relu": return .relu
        case "HardSwish": return .hardSwish
        case "LeakyRelu":
            if case .float(let alpha)? = attributes["alpha"] { return .leakyRelu(alpha: alpha) }
            return .leakyRelu(alpha: 0.01)
        case "Clip":
            var (low, high) = (-Float.infinity, Float.infinity)
            if step.interpreter.opset < 11 {
                if case .float(let value)? = attributes["min"] { low = value }
                if case .float(let value)? = attributes["max"] { high = value }
            } else {
                for (position, name) in step.inputs.enumerated().dropFirst() where !name.isEmpty {
                    guard let value = fixedScalar(name) else { return nil }
                    if position == 1 { low = value } else { high = value }
                }
            }
            return low.isNaN || high.isNaN ? nil : .clip(low: low, high: high)
        default: return nil
        }
    }

    mutating func fuseActivations() {
        // As in `foldBatchNorms`: the maps once, fused steps replaced in place, the removed
        // ones marked and dropped at the end.
        var producers = producers()
        var readers = readers()
        var removed = IndexSet()
        for index in steps.indices where !removed.contains(index) {
            let step = steps[index]
            guard let input = step.inputs.first, !input.isEmpty, let source = producers[input], !removed.contains(source),
                  Self.fusableProducers.contains(steps[source].opType), steps[source].outputs.count == 1,
                  case .node(let producer) = steps[source].action else { continue }
            var fused: (FusedActivation, output: String, removed: [Int])?
            if step.outputs.count == 1, let activation = activation(of: step), onlyRead(input, by: index, readers) {
                fused = (activation, step.outputs[0], [index])
            } else if step.opType == "Sigmoid", let sigmoid = step.outputs.first, let multiply = readers[sigmoid]?.first,
                      readers[sigmoid]?.count == 1, !outputs.contains(sigmoid), steps[multiply].opType == "Mul",
                      Set(steps[multiply].inputs) == [input, sigmoid], !outputs.contains(input),
                      Set(readers[input] ?? []) == [index, multiply] {
                fused = (.silu, steps[multiply].outputs[0], [index, multiply])
            }
            guard let (activation, output, removedSteps) = fused else { continue }
            // Whole-number Adds run the activation node as written.
            let wholeNumbers = Self.wholeNumberProducers.contains(steps[source].opType)
            let fallback = wholeNumbers && removedSteps.count == 1 ? step.interpreter : nil
            if wholeNumbers && fallback == nil { continue }
            steps[source].outputs = [output]
            steps[source].opType += "+\(activation)"
            steps[source].action = .activated(producer, activation, fallback: fallback)
            producers[output] = source
            readers[input] = nil
            removed.formUnion(IndexSet(removedSteps))
            rewrites["activation-fusion", default: 0] += 1
        }
        steps = steps.indices.filter { !removed.contains($0) }.map { steps[$0] }
    }
}
