import Core

/// Layers applied one after another; parameters are named by position, as PyTorch's
/// `nn.Sequential` names them (`0.weight`, `2.bias`; nested: `0.1.weight`).
public final class Sequential: Module, Layer {
    /// The layers, in order.
    public let layers: [any Layer]

    /// A network of `layers`, applied in order.
    public init(_ layers: [any Layer]) { self.layers = layers }

    /// A network of `layers`, applied in order.
    public convenience init(_ layers: any Layer...) { self.init(layers) }

    public func forward(_ input: Tensor) -> Tensor {
        layers.reduce(input) { $1.forward($0) }
    }

    /// The layers, named by position.
    override public var members: [(name: String, member: ModuleMember)] {
        layers.enumerated().map { ("\($0.offset)", .module($0.element)) }
    }
}
