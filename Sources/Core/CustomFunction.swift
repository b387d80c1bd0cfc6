/// A differentiable function with its own forward and backward, defined outside Synapse
/// (PyTorch's `torch.autograd.Function`, MLX's `custom_function`, JAX's `custom_vjp`): a
/// straight-through estimator, a gradient-reversal layer, a fused kernel of a user's own.
///
/// `forward` computes the output from the input values; it runs without recording a graph,
/// so it may use any op, loop or kernel. `backward` receives d(loss)/d(output) and returns
/// d(loss)/d(input) for each input, in order (`nil` for an input that needs none, such as
/// integer indices). The inputs and the output are there to use: what PyTorch's
/// `ctx.save_for_backward` keeps. `Tensor.apply(_:_:)` records the call in the graph like any
/// op, so `backward()` reaches the inputs through it.
///
/// A function exports to ONNX when `exportNodes` returns nodes — a composition of standard
/// ONNX nodes, or one node in a domain of its own — and tracing a graph that uses a function
/// without a mapping fails with an error naming the function.
///
///     struct GradientReversal: DifferentiableFunction {
///         var scale: Float
///         var name: String { "GradientReversal" }
///         func forward(_ inputs: [Tensor]) -> Tensor { inputs[0].detached() }
///         func backward(_ gradient: Tensor, inputs: [Tensor], output: Tensor) -> [Tensor?] { [gradient * -scale] }
///         func exportNodes(inputs: [String], output: String, context: inout ExportContext) -> [ExportNode]? {
///             [ExportNode("Identity", inputs, [output])]
///         }
///     }
///     let y = Tensor.apply(GradientReversal(scale: 1), [x])
///
/// Composition first: a function that existing ops can express needs none of this (its
/// gradient and export come with the ops); a custom function is for a gradient that is not the
/// forward's, or a kernel the ops cannot express.
public protocol DifferentiableFunction: Sendable {
    /// How messages and graphs name the function (`StraightThroughSign`).
    var name: String { get }
    /// The output for `inputs`, computed without a graph.
    func forward(_ inputs: [Tensor]) -> Tensor
    /// d(loss)/d(input) for each input (`nil`: none), given d(loss)/d(output) (`gradient`,
    /// shaped like `output`). Each gradient must have its input's shape.
    func backward(_ gradient: Tensor, inputs: [Tensor], output: Tensor) -> [Tensor?]
    /// The ONNX nodes that compute the function from the inputs' value names into `output`,
    /// or `nil` when it has no ONNX form (the default).
    func exportNodes(inputs: [String], output: String, context: inout ExportContext) -> [ExportNode]?
}

extension DifferentiableFunction {
    public func exportNodes(inputs: [String], output: String, context: inout ExportContext) -> [ExportNode]? { nil }
}

/// The function a `.custom` result was made by, kept with the result (so that `Op` itself
/// stays a plain value).
final class CustomFunctionRecord {
    let function: any DifferentiableFunction

    init(_ function: any DifferentiableFunction) { self.function = function }
}

/// A graph that uses a custom function without an ONNX mapping was exported.
public struct CustomFunctionExportError: UserFacingError, Equatable {
    /// The function's name.
    public var function: String

    public init(function: String) { self.function = function }

    public var description: String {
        "custom function \(function) has no ONNX mapping (give it exportNodes(inputs:output:context:)), so the graph cannot be exported"
    }
}

extension Tensor {
    /// `function` applied to `inputs`, recorded in the graph (when one is being recorded and an
    /// input requires gradients) so that `backward()` runs the function's own backward.
    public static func apply(_ function: some DifferentiableFunction, _ inputs: [Tensor]) -> Tensor {
        let value = Tensor.withoutGradients { function.forward(inputs) }
        let result = Tensor(storage: value.storage, shape: value.shape)
        let recorded = result.recorded(.custom, inputs)
        if recorded.creationOp != nil { recorded.customFunction = CustomFunctionRecord(function) }
        return recorded
    }

    /// `function` applied to this tensor alone.
    public func apply(_ function: some DifferentiableFunction) -> Tensor { Tensor.apply(function, [self]) }

    /// The custom function's gradients for the creators, checked against their shapes.
    func customBackward(_ gradient: Tensor) -> [Tensor?] {
        guard let function = customFunction?.function else { misuse("a .custom result without its function") }
        let gradients = function.backward(gradient, inputs: creators, output: self)
        require(gradients.count == creators.count,
                "\(function.name).backward returned \(gradients.count) gradients for \(creators.count) inputs")
        for (index, (gradient, input)) in zip(gradients, creators).enumerated() {
            if let gradient {
                require(gradient.shape == input.shape,
                        "\(function.name).backward: the gradient of input \(index) has shape \(describe(gradient.shape)), the input \(describe(input.shape))")
            }
        }
        return gradients
    }

    /// The ONNX nodes that compute this tensor from its creators (named `inputs`, shaped
    /// `shapes`) into `output`: its op's mapping, or its custom function's.
    public func exportNodes(inputs: [String], shapes: [[Int]], output: String, context: inout ExportContext) throws -> [ExportNode] {
        guard let op = creationOp else { return [] }
        guard op == .custom else {
            return op.exportNodes(inputs: inputs, shapes: shapes, output: output, outputShape: shape, context: &context)
        }
        guard let function = customFunction?.function else { misuse("a .custom result without its function") }
        guard let nodes = function.exportNodes(inputs: inputs, output: output, context: &context) else {
            throw CustomFunctionExportError(function: function.name)
        }
        return nodes
    }
}
