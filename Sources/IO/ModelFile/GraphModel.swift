import Core
import Foundation
import NN

/// A loaded ONNX graph as a runnable, trainable layer: an interpreter over Synapse's op set.
/// Parameters are the float initializers, named as in the file; running it records a graph
/// like any other layer, so it trains. The running mean and variance that
/// `BatchNormalization` nodes read, and the scalar constants PyTorch's dynamo exporter lifts
/// into initializers, are buffers. A loaded graph starts in
/// evaluation mode — it computes what the file's graph computes (what onnxruntime computes);
/// after `train()` its `BatchNormalization` nodes use batch statistics and update the running
/// ones, as the PyTorch layers it came from would.
public final class GraphModel: Module, Layer {
    /// The float initializers that are trained, named as in the file.
    let parameterList: [(name: String, tensor: Tensor)]
    override public var namedParameters: [(name: String, tensor: Tensor)] { parameterList }
    /// The float initializers that are state but not trained (batch-norm statistics, an
    /// exporter's constants).
    let bufferList: [(name: String, tensor: Tensor)]
    override public var namedBuffers: [(name: String, tensor: Tensor)] { bufferList }
    /// All of them (running statistics; an ONNX graph holds no counters).
    override public var namedAveragedBuffers: [(name: String, tensor: Tensor)] { bufferList }
    /// Graph inputs (not initializers), in file order, with their declared shapes (`nil` for a
    /// symbolic dimension such as the batch).
    public let inputs: [(name: String, shape: [Int?])]
    /// Each input's element type, as the graph declares it (float32 when it does not say).
    public let inputTypes: [String: ElementType]
    /// Graph outputs, in file order.
    public let outputNames: [String]
    /// The nodes left to run, in an order where each value is computed before it is read,
    /// each ready to run (attributes converted at load).
    let nodes: [NodeInterpreter]
    /// The file's integer initializers.
    let constants: [String: GraphValue]
    /// Values computed once at load: every node that reads only constants.
    let folded: [String: GraphValue]
    /// How many leading entries of `nodes` compute only from the inputs' shapes
    /// (`Shape → Gather → Concat → …`); their results are kept per input shapes.
    var shapeNodeCount: Int { shapeValues.nodeCount }
    /// Those results for the input shapes seen so far.
    let shapeValues: ShapeValueCache
    let file: String
    /// The file's metadata_props.
    public internal(set) var metadata: [String: String] = [:]

    /// torch.export's kind of each initializer the file's value_info marks (`PARAMETER`,
    /// `BUFFER`, …), by name; empty for files from other exporters.
    static func exportedInputKinds(_ graph: Onnx_GraphProto) -> [String: String] {
        var kinds: [String: String] = [:]
        for info in graph.valueInfo + graph.input {
            if let kind = info.metadataProps.first(where: { $0.key == "pkg.torch.export.graph_signature.InputSpec.kind" }) { kinds[info.name] = kind.value }
        }
        return kinds
    }

    /// The op type of each node, in execution order.
    public var nodeOpTypes: [String] { nodes.map(\.node.opType) }

    init(
        _ graph: Onnx_GraphProto, parameters: [(name: String, tensor: Tensor)], constants: [String: GraphValue],
        file: String, folder: String, opset: Int = Int(ModelFile.opsetVersion)
    ) throws {
        // Initializers that feed an input a declaration calls state (BatchNormalization's
        // running statistics) are buffers.
        let statistics = Set(graph.node.flatMap { node in
            (OpImport.table[node.opType]?.stateInputs ?? []).compactMap { $0 < node.input.count ? node.input[$0] : nil }
        })
        // PyTorch's dynamo exporter lifts the constants of the code into initializers — GELU's
        // 0.044715, a Pow's exponent 3, a mask's fill value — beside the weights, and marks
        // some initializers with torch.export's kind (value_info metadata). Fine-tuning must not
        // move those constants (the exponent's gradient is log of a negative base: NaN), but the
        // marks are partial: weights it folded (a transposed Linear weight) or left unmarked are
        // weights all the same. So in such a file an unmarked scalar and a marked buffer are
        // buffers; every other float initializer is a parameter, as in any other file.
        let kinds = Self.exportedInputKinds(graph)
        let lifted = kinds.isEmpty ? [] : parameters.filter { kinds[$0.name] == "BUFFER" || (kinds[$0.name] == nil && $0.tensor.count <= 1) }.map(\.name)
        let frozen = statistics.union(lifted)
        self.parameterList = parameters.filter { !frozen.contains($0.name) }
        self.bufferList = parameters.filter { frozen.contains($0.name) }
        for (_, buffer) in bufferList { buffer.requiresGrad = false }
        self.constants = constants
        self.file = file
        let initializerNames = Set(parameters.map(\.name)).union(constants.keys)
        let graphInputs = graph.input.filter { !initializerNames.contains($0.name) }
        inputs = graphInputs.map { info in
            (info.name, info.type.tensorType.shape.dim.map { dimension -> Int? in
                if case .dimValue(let size)? = dimension.value { return Int(size) }
                return nil
            })
        }
        var types: [String: ElementType] = [:]
        for info in graphInputs {
            let code = Int(info.type.tensorType.elemType)
            guard code == 0 || ElementType(rawValue: code) != nil else {
                throw ModelFileError.unsupported(
                    file: file, node: "input \"\(info.name)\"", opType: "ValueInfo", reason: "element type \(code) (strings, bfloat16, float8 and complex types are not read)")
            }
            types[info.name] = ElementType(rawValue: code) ?? .float32
        }
        inputTypes = types
        outputNames = graph.output.map(\.name)
        guard !outputNames.isEmpty else {
            throw ModelFileError.invalid(file: file, place: "graph", problem: "has no outputs")
        }
        let order = try Self.sorted(graph.node, available: initializerNames.union(inputs.map(\.name)), file: file)
        for (index, node) in order.enumerated() {
            guard node.domain.isEmpty || node.domain == "ai.onnx" else {
                throw ModelFileError.unsupported(file: file, node: Self.label(node, index), opType: node.opType, reason: "domain \(node.domain) is not ai.onnx")
            }
            guard OpImport.table[node.opType] != nil else {
                throw ModelFileError.unsupported(
                    file: file, node: Self.label(node, index), opType: node.opType,
                    reason: "Synapse has no op for it (supported: \(OpImport.table.keys.sorted().joined(separator: ", ")))")
            }
        }
        // The element types the graph declares (graph inputs, initializers, value_info and
        // outputs, and what Cast and CastLike make), for the importers that need a value's
        // declared type rather than the float32 it computes in.
        var declared: [String: ElementType] = types
        for initializer in graph.initializer { declared[initializer.name] = ElementType(rawValue: Int(initializer.dataType)) }
        for info in graph.valueInfo + graph.output where info.type.tensorType.elemType != 0 {
            declared[info.name] = ElementType(rawValue: Int(info.type.tensorType.elemType))
        }
        for node in order where node.output.count == 1 {
            if node.opType == "Cast", let to = node.attribute.first(where: { $0.name == "to" }) {
                declared[node.output[0]] = ElementType(rawValue: Int(to.i))
            } else if node.opType == "CastLike", node.input.count > 1, let like = declared[node.input[1]] {
                declared[node.output[0]] = like
            }
        }
        // Fold what reads only constants; put first what reads only the inputs' shapes.
        var folded: [String: GraphValue] = [:]
        var shapeOnly: Set<String> = []
        let inputNames = Set(inputs.map(\.name))
        var shapeNodes: [NodeInterpreter] = []
        var rest: [NodeInterpreter] = []
        for (index, node) in order.enumerated() {
            let reads = node.input.filter { !$0.isEmpty }
            if reads.allSatisfy({ constants[$0] != nil || folded[$0] != nil }) {
                let interpreter = try NodeInterpreter(node: node, label: Self.label(node, index), file: file, opset: opset, declaredTypes: declared)
                let results = try interpreter.run(node.input.map { $0.isEmpty ? nil : constants[$0] ?? folded[$0] })
                for (name, value) in zip(node.output, results) where !name.isEmpty { folded[name] = value }
            } else if reads.allSatisfy({ constants[$0] != nil || folded[$0] != nil || shapeOnly.contains($0) })
                        || ((node.opType == "Shape" || node.opType == "Size") && inputNames.contains(reads.first ?? "")) {
                shapeOnly.formUnion(node.output)
                shapeNodes.append(try NodeInterpreter(node: node, label: Self.label(node, index), file: file, opset: opset, declaredTypes: declared))
            } else {
                rest.append(try NodeInterpreter(node: node, label: Self.label(node, index), file: file, opset: opset, declaredTypes: declared))
            }
        }
        self.folded = folded
        nodes = shapeNodes + rest
        shapeValues = ShapeValueCache(nodes: nodes[..<shapeNodes.count])
        let produced = Set(order.flatMap(\.output)).union(initializerNames).union(inputs.map(\.name))
        if let missing = outputNames.first(where: { !produced.contains($0) }) {
            throw ModelFileError.invalid(file: file, place: "graph output \"\(missing)\"", problem: "no node produces it")
        }
        super.init()
        eval()
    }

    static func label(_ node: Onnx_NodeProto, _ index: Int) -> String {
        node.name.isEmpty ? "#\(index)" : "\"\(node.name)\""
    }

    /// Kahn's algorithm: every input of every node must be available; a cycle or a dangling
    /// input is an error naming the node.
    static func sorted(_ nodes: [Onnx_NodeProto], available: Set<String>, file: String) throws -> [Onnx_NodeProto] {
        var producer: [String: Int] = [:]
        for (index, node) in nodes.enumerated() {
            for output in node.output where !output.isEmpty {
                guard producer[output] == nil, !available.contains(output) else {
                    throw ModelFileError.invalid(file: file, place: "node \(label(node, index))", problem: "value \"\(output)\" is written twice")
                }
                producer[output] = index
            }
        }
        var waiting = [Int](repeating: 0, count: nodes.count)
        var readers: [Int: [Int]] = [:]
        for (index, node) in nodes.enumerated() {
            for input in node.input where !input.isEmpty && !available.contains(input) {
                guard let source = producer[input] else {
                    throw ModelFileError.invalid(
                        file: file, place: "node \(label(node, index))",
                        problem: "input \"\(input)\" is no graph input, initializer or node output")
                }
                waiting[index] += 1
                readers[source, default: []].append(index)
            }
        }
        var ready = (0..<nodes.count).filter { waiting[$0] == 0 }
        var order: [Onnx_NodeProto] = []
        while let index = ready.popLast() {
            order.append(nodes[index])
            for reader in readers[index] ?? [] {
                waiting[reader] -= 1
                if waiting[reader] == 0 { ready.append(reader) }
            }
        }
        if order.count < nodes.count, let stuck = (0..<nodes.count).first(where: { waiting[$0] > 0 }) {
            throw ModelFileError.invalid(file: file, place: "node \(label(nodes[stuck], stuck))", problem: "is part of a cycle")
        }
        return order
    }

    /// Runs the graph on named float inputs; returns every graph output by name as a float
    /// tensor (whole-number outputs as whole-number floats). An input the graph declares of an
    /// integer or bool type takes a tensor of whole numbers (token ids, a mask). See
    /// `run(values:)` for values in their own types.
    public func run(_ feeds: [String: Tensor]) throws -> [String: Tensor] {
        try run(values: feeds.mapValues { .tensor($0) }).mapValues(\.asTensor)
    }

    /// Runs the graph on named inputs in their own element types (`inputTypes`); returns every
    /// graph output by name, in its type.
    public func run(values feeds: [String: GraphValue]) throws -> [String: GraphValue] {
        var values = constants.merging(folded) { a, _ in a }
        for (name, tensor) in namedState { values[name] = .tensor(tensor) }
        values.merge(try preparedInputs(feeds)) { _, input in input }
        let shapes = inputs.map { values[$0.name]!.shape }

        var first = 0
        if let known = shapeValues.values(for: shapes) {
            values.merge(known) { a, _ in a }
            first = shapeNodeCount
        }
        for index in first..<nodes.count {
            let interpreter = nodes[index]
            let node = interpreter.node
            let results = try interpreter.run(node.input.map { $0.isEmpty ? nil : values[$0] }, isTraining: isTraining)
            for (name, value) in zip(node.output, results) where !name.isEmpty { values[name] = value }
            if index + 1 == shapeNodeCount { shapeValues.remember(values, for: shapes) }
        }
        return try graphOutputs(values)
    }

    /// The graph's outputs among `values` (every value after the last node ran), by name.
    func graphOutputs(_ values: [String: GraphValue]) throws -> [String: GraphValue] {
        try graphOutputs { values[$0] }
    }

    /// `graphOutputs` with the values looked up by name through `value`.
    func graphOutputs(_ value: (String) -> GraphValue?) throws -> [String: GraphValue] {
        var outputs: [String: GraphValue] = [:]
        for name in outputNames {
            guard let value = value(name) else {
                throw ModelFileError.invalid(file: file, place: "graph output \"\(name)\"", problem: "no node produced it")
            }
            outputs[name] = value
        }
        return outputs
    }

    /// The graph's inputs from `feeds`, each checked against its declared shape and
    /// converted to its declared element type; every input must be given.
    func preparedInputs(_ feeds: [String: GraphValue]) throws -> [String: GraphValue] {
        var prepared: [String: GraphValue] = [:]
        for (name, shape) in inputs {
            guard let feed = feeds[name] else {
                throw ModelFileError.invalid(file: file, place: "input \"\(name)\"", problem: "no value was given for it")
            }
            let fits = feed.shape.count == shape.count && zip(feed.shape, shape).allSatisfy { $1 == nil || $0 == $1 }
            guard fits || shape.isEmpty else {
                throw ModelFileError.invalid(
                    file: file, place: "input \"\(name)\"",
                    problem: "got shape \(describe(feed.shape)), the graph expects [\(shape.map { $0.map(String.init) ?? "batch" }.joined(separator: ", "))]")
            }
            prepared[name] = try typed(feed, as: inputTypes[name] ?? .float32, input: name)
        }
        return prepared
    }

    /// `value` as input `name` of type `type` takes it: whole numbers for an integer or bool
    /// type (a float tensor of whole numbers converts; anything else is an error naming the
    /// input), a float tensor for a float type.
    private func typed(_ value: GraphValue, as type: ElementType, input name: String) throws -> GraphValue {
        if type.isFloat { return .tensor(value.asTensor) }
        switch value {
        case let .integers(values, shape, _): return .integers(values.map(type.wrap), shape: shape, type: type)
        case .tensor(let tensor):
            let scalars = tensor.scalars
            guard scalars.allSatisfy({ $0 == $0.rounded() && abs($0) <= 16_777_216 }) else {
                throw ModelFileError.invalid(
                    file: file, place: "input \"\(name)\"", problem: "the graph takes \(type.name); got values that are not whole numbers (or beyond 2^24 as floats: pass them as integers)")
            }
            return .integers(scalars.map { type.wrap(Int($0)) }, shape: tensor.shape, type: type)
        }
    }

    /// Runs a graph of one input and one output. Errors stop the program (use `run` to handle
    /// them).
    public func forward(_ input: Tensor) -> Tensor {
        guard inputs.count == 1 else { fatalError("GraphModel.forward: the graph has \(inputs.count) inputs; use run(_:)") }
        do {
            return try run([inputs[0].name: input])[outputNames[0]]!
        } catch {
            fatalError("\(error)")
        }
    }
}
