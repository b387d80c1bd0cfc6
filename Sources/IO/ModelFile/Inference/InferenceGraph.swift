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
    /// The values each step is the last reader of (or that nothing reads), dropped after it.
    let releases: [[String]]
    /// The leading steps that compute only from the inputs' shapes: the graph's, as written.
    var shapeStepCount: Int { graph.shapeNodeCount }
    /// Where each value lives while the graph runs: one slot per name, so that a step finds its
    /// inputs by index instead of hashing their names.
    let values: ValueSlots

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
        rewrites = passes.rewrites
        releases = Self.releases(steps, keeping: Set(graph.outputNames).union(passes.fixed.keys), shapeSteps: shapeSteps.count)
        values = ValueSlots(
            steps: steps, releases: releases, fixed: passes.fixed, inputs: graph.inputs.map(\.name), outputs: graph.outputNames,
            shapeValues: graph.shapeValues.names)
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
    /// returns every graph output by name. With a `profile`, each step's time is added to it.
    public func run(_ feeds: [String: GraphValue], profile: InferenceProfile? = nil) throws -> [String: GraphValue] {
        let runStart = profile == nil ? 0 : DispatchTime.now().uptimeNanoseconds
        defer { if let profile { profile.finishRun(nanoseconds: DispatchTime.now().uptimeNanoseconds - runStart) } }
        return try Tensor.withoutGradients { try PreparedWeights.withPreparedWeights {
            var table = values.fixed
            for (name, value) in try graph.preparedInputs(feeds) { table[values.slot[name]!] = value }
            let shapes = values.inputs.map { table[$0]!.shape }
            var first = 0
            if let known = graph.shapeValues.orderedValues(for: shapes) {
                for (slot, value) in zip(values.shapeValueSlots, known) where slot >= 0 && table[slot] == nil { table[slot] = value }
                first = shapeStepCount
            }
            for index in first..<steps.count {
                let stepStart = profile == nil ? 0 : DispatchTime.now().uptimeNanoseconds
                let inputs = values.reads[index].map { $0 < 0 ? nil : table[$0] }
                let results = try steps[index].run(inputs)
                if let profile {
                    profile.record(step: index, steps[index].opType, inputs: inputs, nanoseconds: DispatchTime.now().uptimeNanoseconds - stepStart)
                }
                for (slot, value) in zip(values.writes[index], results) where slot >= 0 { table[slot] = value }
                if index + 1 == shapeStepCount { graph.shapeValues.remember({ values.slot[$0].flatMap { table[$0] } }, for: shapes) }
                for slot in values.releases[index] { table[slot] = nil }
            }
            return try graph.graphOutputs { values.slot[$0].flatMap { table[$0] } }
        } }
    }
}

/// The value table of an `InferenceGraph`: a slot for every value name, the slots each step
/// reads (−1 for an omitted input), writes and releases, and the fixed values in theirs.
struct ValueSlots {
    let slot: [String: Int]
    let reads: [[Int]]
    let writes: [[Int]]
    let releases: [[Int]]
    /// The table before a run: the fixed values (constants, folded values and weights, the
    /// folded batch norms' new ones included) in their slots, the rest empty.
    let fixed: [GraphValue?]
    /// The graph inputs' slots, in the graph's order.
    let inputs: [Int]
    /// The slot of each value the shape-value cache keeps, in its order (−1: no step reads it).
    let shapeValueSlots: [Int]

    init(steps: [InferenceStep], releases: [[String]], fixed: [String: GraphValue], inputs: [String], outputs: [String], shapeValues: [String]) {
        var slot: [String: Int] = [:]
        func index(_ name: String) -> Int {
            guard !name.isEmpty else { return -1 }
            if let known = slot[name] { return known }
            slot[name] = slot.count
            return slot.count - 1
        }
        self.inputs = inputs.map(index)
        for name in outputs { _ = index(name) }
        reads = steps.map { $0.inputs.map(index) }
        writes = steps.map { $0.outputs.map(index) }
        self.releases = releases.map { $0.map(index) }
        var table = [GraphValue?](repeating: nil, count: slot.count)
        for (name, value) in fixed { if let at = slot[name] { table[at] = value } }
        self.fixed = table
        self.slot = slot
        shapeValueSlots = shapeValues.map { slot[$0] ?? -1 }
    }
}

/// One step of an inference graph: an ONNX node, or a node with an activation fused in. A
/// class, so that running a step does not copy it (the passes rewrite steps in place).
final class InferenceStep {
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
            // A convolution applies it in its kernels, to each piece of output still in cache.
            if interpreter.appliesFusedActivation { return try interpreter.run(values, fusing: activation) }
            let results = try interpreter.run(values)
            guard results.count == 1, case .tensor(let tensor) = results[0] else {
                guard let fallback else {
                    throw interpreter.fail("a fused \(activation) needs a float output")
                }
                return try fallback.run([results[0]])
            }
            return [.tensor(tensor.activatedInPlaceIfUnshared(activation))]
        }
    }
}

extension ModelFile {
    /// Loads a model file (as `load`) and prepares it for inference (`InferenceGraph`).
    public static func loadForInference(_ path: String) throws -> InferenceGraph {
        try InferenceGraph(try load(path))
    }
}
