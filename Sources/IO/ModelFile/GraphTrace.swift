import Core
import NN

/// A model's computation as a graph: what one traced forward pass did, with its parameters
/// by name. `ModelFile` writes it as ONNX.
public struct TracedGraph {
    /// Graph inputs with their traced shapes; dimension 0 is the (symbolic) batch.
    public var inputs: [(name: String, shape: [Int])]
    /// Graph outputs with their traced shapes.
    public var outputs: [(name: String, shape: [Int])]
    /// The nodes, in an order where every value is written before it is read.
    public var nodes: [ExportNode]
    /// Constants the nodes read (shapes, axes, scalar factors, constant tensors).
    public var constants: [(name: String, value: ExportConstant)]
    /// The trainable tensors and buffers, by their dotted names (initializers of the graph).
    public var parameters: [(name: String, tensor: Tensor)]

    /// Traces `forward` once on `inputs`: every op it records becomes nodes (`Op.exportNodes`),
    /// every tensor of `parameters` an initializer of that name, every other leaf a constant.
    public static func trace(
        parameters: [(name: String, tensor: Tensor)], inputs: [(name: String, tensor: Tensor)],
        _ forward: ([Tensor]) -> [(name: String, tensor: Tensor)]
    ) throws -> TracedGraph {
        guard Tensor.isRecordingGradients else {
            throw ModelFileError.cannotExport(reason: "tracing needs gradient recording; call it outside withoutGradients")
        }
        // Copies that require gradients, so every op downstream of an input is recorded.
        let traced = inputs.map { input -> Tensor in
            let copy = input.tensor.copy()
            copy.requiresGrad = true
            return copy
        }
        let results = forward(traced)

        var names: [ObjectIdentifier: String] = [:]
        for (name, tensor) in parameters { names[ObjectIdentifier(tensor)] = name }
        for (input, tensor) in zip(inputs, traced) { names[ObjectIdentifier(tensor)] = input.name }
        var graph = TracedGraph(
            inputs: zip(inputs, traced).map { ($0.name, $1.shape) },
            outputs: results.map { ($0.name, $0.tensor.shape) }, nodes: [], constants: [], parameters: parameters)
        var context = ExportContext()
        var outputNames: [ObjectIdentifier: String] = [:]
        for (name, tensor) in results where outputNames[ObjectIdentifier(tensor)] == nil && names[ObjectIdentifier(tensor)] == nil {
            outputNames[ObjectIdentifier(tensor)] = name
        }

        // Post-order over creators, iteratively.
        var visited: Set<ObjectIdentifier> = []
        var stack: [(Tensor, Int)] = results.map { ($0.tensor, 0) }.reversed()
        var order: [Tensor] = []
        while let (tensor, next) = stack.last {
            if next == 0 && !visited.insert(ObjectIdentifier(tensor)).inserted {
                stack.removeLast()
                continue
            }
            if next < tensor.creators.count && names[ObjectIdentifier(tensor)] == nil {
                stack[stack.count - 1].1 += 1
                stack.append((tensor.creators[next], 0))
            } else {
                order.append(tensor)
                stack.removeLast()
            }
        }
        for tensor in order {
            let id = ObjectIdentifier(tensor)
            if names[id] != nil { continue }
            guard tensor.creationOp != nil else {
                names[id] = context.constant(.floats(tensor.scalars, shape: tensor.shape), hint: "constant")
                continue
            }
            if tensor.isGraphFreed {
                throw ModelFileError.cannotExport(reason: "part of the traced graph was freed by backward()")
            }
            let name = outputNames[id] ?? context.freshName("t")
            names[id] = name
            do {
                graph.nodes += try tensor.exportNodes(
                    inputs: tensor.creators.map { names[ObjectIdentifier($0)]! }, shapes: tensor.creators.map(\.shape), output: name,
                    context: &context)
            } catch let error as CustomFunctionExportError {
                throw ModelFileError.cannotExport(reason: "\(error)")
            }
        }
        // An output that is an input, a parameter, a constant or a second name for a value.
        for (name, tensor) in results where names[ObjectIdentifier(tensor)] != name {
            graph.nodes.append(ExportNode("Identity", [names[ObjectIdentifier(tensor)]!], [name]))
        }
        graph.constants = context.constants
        return graph
    }

    /// A layer's graph in evaluation mode (Dropout vanishes, BatchNorm uses its running
    /// statistics), as `torch.onnx.export` traces by default: input `input`, output `output`.
    /// The layer's modes are left as they were.
    public static func trace(_ layer: any Layer, exampleInput: Tensor) throws -> TracedGraph {
        try layer.withMode(training: false) {
            try trace(parameters: layer.namedState, inputs: [("input", exampleInput)]) { [("output", layer($0[0]))] }
        }
    }

    /// One call of a `Traceable` module (a recurrent cell and its state: an LSTM step has
    /// inputs `x`, `h`, `c` and outputs `y`, `h_out`, `c_out`), in evaluation mode.
    public static func trace(_ module: some Traceable, exampleInput: Tensor) throws -> TracedGraph {
        try module.withMode(training: false) {
            try trace(parameters: module.namedState, inputs: module.traceInputs(example: exampleInput)) { module.traceOutputs($0) }
        }
    }
}
