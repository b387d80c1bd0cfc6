import Core

/// Anything with trainable tensors: layers, recurrent cells, whole models.
///
/// `namedParameters` gives each trainable tensor a stable dotted name, as PyTorch's
/// `state_dict` does (`0.weight`, `cell.w_ih.bias`); optimizers, checkpoints and model files
/// key tensors by these names, so a module lists them explicitly and in a fixed order.
public protocol Module: AnyObject {
    /// Every trainable tensor with its dotted name, in a fixed order.
    var namedParameters: [(name: String, tensor: Tensor)] { get }
}

extension Module {
    /// The trainable tensors, in the order of `namedParameters`.
    public var parameters: [Tensor] { namedParameters.map(\.tensor) }

    /// The parameters with every name prefixed by `prefix` and a dot: how a container names
    /// the parameters of what it contains (`w_ih.weight`, `0.bias`).
    public func namedParameters(prefixedWith prefix: String) -> [(name: String, tensor: Tensor)] {
        namedParameters.map { ("\(prefix).\($0.name)", $0.tensor) }
    }
}

/// A module that maps one tensor to one tensor.
public protocol Layer: Module {
    /// The layer's output for `input`.
    func forward(_ input: Tensor) -> Tensor
}

extension Layer {
    /// `layer(x)` is `layer.forward(x)`.
    public func callAsFunction(_ input: Tensor) -> Tensor { forward(input) }
}

/// A layer without parameters (activations): it lists none.
public protocol ParameterlessLayer: Layer {}

extension ParameterlessLayer {
    /// None.
    public var namedParameters: [(name: String, tensor: Tensor)] { [] }
}
