import Core

/// A fully connected layer: y = x · Wᵀ + b.
///
/// `weight` is `[outputs, inputs]` and `bias` `[outputs]`, PyTorch's layout, so a weight
/// file loads into `torch.nn.Linear` as it is. The product reads `W` transposed through
/// sgemm's flag, without copying it.
public final class Linear: Module, Layer {
    override public var settingsDescription: String { "inputs: \(inputs), outputs: \(outputs), bias: \(bias != nil)" }

    /// `[outputs, inputs]`.
    public let weight: Tensor
    /// `[outputs]`, or `nil` for a layer made with `bias: false`.
    public let bias: Tensor?

    /// A layer from `inputs` to `outputs` features, initialised as in the original tutorial: weights
    /// normal · √(2 / inputs), bias zero.
    public init(inputs: Int, outputs: Int, bias: Bool = true) {
        require(inputs > 0 && outputs > 0, "Linear: sizes must be positive, got \(inputs) → \(outputs)")
        weight = Tensor.normal(
            [outputs, inputs], standardDeviation: (2 / Float(inputs)).squareRoot(), requiresGrad: true)
        self.bias = bias ? Tensor.zeros([outputs], requiresGrad: true) : nil
    }

    /// The number of input features.
    public var inputs: Int { weight.shape[1] }
    /// The number of output features.
    public var outputs: Int { weight.shape[0] }

    /// `input` `[..., inputs]` → `[..., outputs]`: any leading dimensions (batch, time) are
    /// kept, as in PyTorch; all rows go through one sgemm.
    public func forward(_ input: Tensor) -> Tensor {
        require(
            input.rank >= 1 && input.shape[input.rank - 1] == inputs,
            "Linear: expects input of shape [..., \(inputs)], got \(describe(input.shape))")
        let product = input.matmul(weight, transposeB: true)
        return bias.map { product + $0 } ?? product
    }
}
