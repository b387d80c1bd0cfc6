import Core

/// A building block of a network: a function of a tensor with named parameters.
///
/// `namedParameters` gives each trainable tensor a stable dotted name, as PyTorch's
/// `state_dict` does (`0.weight`, `cell.w_ih.bias`); checkpoints and model files key
/// weights by these names, so a layer lists them explicitly and in a fixed order.
public protocol Layer: AnyObject {
    /// The layer's output for `input`.
    func forward(_ input: Tensor) -> Tensor
    /// Every trainable tensor with its dotted name, in a fixed order.
    var namedParameters: [(name: String, tensor: Tensor)] { get }
}

extension Layer {
    /// `layer(x)` is `layer.forward(x)`.
    public func callAsFunction(_ input: Tensor) -> Tensor { forward(input) }

    /// The trainable tensors, in the order of `namedParameters`.
    public var parameters: [Tensor] { namedParameters.map(\.tensor) }
}

/// A layer without parameters (activations): it lists none.
public protocol ParameterlessLayer: Layer {}

extension ParameterlessLayer {
    /// None.
    public var namedParameters: [(name: String, tensor: Tensor)] { [] }
}
