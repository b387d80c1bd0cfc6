import Core
import Foundation

/// A model file prepared for inference only: the graph rewritten at load (no-op nodes
/// removed, batch normalization folded into the convolution before it, activations fused
/// into the node producing their input; see `InferencePasses`), run without recording
/// autograd, each value released after its last reader. `synapse predict` and
/// `synapse benchmark` run models this way; fine-tuning runs the `GraphModel` as written.
///
///     let session = try ModelFile.loadForInference("resnet18.onnx")
///     let logits = try session.run(["input": .tensor(images)])["logits"]!
///
/// The folded weights are computed from the graph's weights when the session is made: a
/// session made before the weights change (training, `Checkpoint.load`) keeps computing
/// with the old ones in its folded nodes — make a new one then. `run` may be called from
/// several threads at once: it changes nothing but the graph's lock-guarded cache of shape
/// values (`ShapeValueCache`).
public final class InferenceGraph: @unchecked Sendable {
    /// The graph as loaded (its inputs, outputs and weights).
    public let graph: GraphModel
    /// What each step runs, in order: an ONNX op type, or fused ones joined by `+`
    /// (`Conv+BatchNormalization+Relu`).
    public var stepOpTypes: [String] { steps.map(\.opType) }
    /// How many times each rewrite applied, by name (`identity`, `batch-norm-fold`, …).
    public let rewrites: [String: Int]

    let steps: [InferenceStep]
    /// Constants, folded values and weights (the folded batch norms' new ones included).
    let fixed: [String: GraphValue]
    /// The values each step is the last reader of (or that nothing reads), dropped after it.
    let releases: [[String]]
    /// The leading steps that compute only from the inputs' shapes: the graph's, as written.
    var shapeStepCount: Int { graph.shapeNodeCount }

    /// Prepares `graph` (put in evaluation mode) for inference.
    public init(_ graph: GraphModel) throws {
        graph.eval()
        self.graph = graph
        var fixed = graph.constants.merging(graph.folded) { a, _ in a }
        for (name, tensor) in graph.namedState { fixed[name] = .tensor(tensor) }
        let shapeSteps = graph.nodes[..<graph.shapeNodeCount].map(InferenceStep.init)
        var passes = InferencePasses(
            steps: graph.nodes[graph.shapeNodeCount...].map(InferenceStep.init), fixed: fixed,
            outputs: Set(graph.outputNames), file: graph.file)
        try passes.run()
        steps = shapeSteps + passes.steps
        self.fixed = passes.fixed
        rewrites = passes.rewrites
        releases = Self.releases(steps, keeping: Set(graph.outputNames).union(passes.fixed.keys), shapeSteps: shapeSteps.count)
    }

    /// For each step, the values it reads or writes last, except graph outputs and fixed values.
    /// None goes before the last of the `shapeSteps` leading ones: the shape-value cache,
    /// which the graph as written shares, keeps all of theirs.
    static func releases(_ steps: [InferenceStep], keeping kept: Set<String>, shapeSteps: Int) -> [[String]] {
        var last: [String: Int] = [:]
        for (index, step) in steps.enumerated() {
            for name in step.inputs + step.outputs where !name.isEmpty && !kept.contains(name) { last[name] = index }
        }
        var releases = [[String]](repeating: [], count: steps.count)
        for (name, index) in last { releases[Swift.max(index, shapeSteps - 1)].append(name) }
        return releases
    }

    /// Runs the graph on named inputs in their own element types (as `GraphModel.run(values:)`);
    /// returns every graph output by name.
    public func run(_ feeds: [String: GraphValue]) throws -> [String: GraphValue] {
        try Tensor.withoutGradients { try PreparedWeights.withPreparedWeights {
            var values = fixed
            values.merge(try graph.preparedInputs(feeds)) { _, input in input }
            let shapes = graph.inputs.map { values[$0.name]!.shape }
            var first = 0
            if let known = graph.shapeValues.values(for: shapes) {
                values.merge(known) { a, _ in a }
                first = shapeStepCount
            }
            for index in first..<steps.count {
                let step = steps[index]
                let results = try step.run(step.inputs.map { $0.isEmpty ? nil : values[$0] })
                for (name, value) in zip(step.outputs, results) where !name.isEmpty { values[name] = value }
                if index + 1 == shapeStepCount { graph.shapeValues.remember(values, for: shapes) }
                for name in releases[index] { values[name] = nil }
            }
            return try graph.graphOutputs(values)
        } }
    }
}

/// One step of an inference graph: an ONNX node, or a node with an activation fused in.
struct InferenceStep {
    /// The values read and written (already renamed past removed no-ops).
    var inputs: [String]
    var outputs: [String]
    var opType: String
    var action: Action

    enum Action {
        case node(NodeInterpreter)
        /// The node's only output, then `activation` in place; `fallback` runs the activation
        /// node as written when the output is not a float tensor (whole-number arithmetic).
        case activated(NodeInterpreter, FusedActivation, fallback: NodeInterpreter?)
    }

    init(_ interpreter: NodeInterpreter) {
        inputs = interpreter.node.input
        outputs = interpreter.node.output
        opType = interpreter.node.opType
        action = .node(interpreter)
    }

    var interpreter: NodeInterpreter {
        switch action {
        case .node(let interpreter), .activated(let interpreter, _, _): return interpreter
        }
    }

    func run(_ values: [GraphValue?]) throws -> [GraphValue] {
        switch action {
        case .node(let interpreter):
            return try interpreter.run(values)
        case let .activated(interpreter, activation, fallback):
            let results = try interpreter.run(values)
            guard results.count == 1, case .tensor(let tensor) = results[0] else {
                guard let fallback else {
                    throw interpreter.fail("a fused \(activation) needs a float output")
                }
                return try fallback.run([results[0]])
            }
            return [.tensor(tensor.activateInPlace(activation) ? tensor : tensor.activated(activation))]
        }
    }
}

extension ModelFile {
    /// Loads a model file (as `load`) and prepares it for inference (`InferenceGraph`).
    public static func loadForInference(_ path: String) throws -> InferenceGraph {
        try InferenceGraph(try load(path))
    }
}
