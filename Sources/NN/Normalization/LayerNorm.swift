import Core

/// Layer normalisation over the trailing `normalizedShape` dimensions, PyTorch's
/// `nn.LayerNorm`:
///
///     y = (x − E[x]) / √(Var[x] + eps) · weight + bias
///
/// with E and the biased Var over those dimensions for each leading index. `weight` (ones) and
/// `bias` (zeros) have `normalizedShape` and exist when `elementwiseAffine`; one fused op
/// computes it.
public final class LayerNorm: Module, Layer {
    override public var settingsDescription: String { "\(normalizedShape), eps: \(eps), elementwiseAffine: \(weight != nil)" }

    /// `normalizedShape`, or `nil` without `elementwiseAffine`.
    public let weight: Tensor?
    /// `normalizedShape`, or `nil` without `elementwiseAffine` or with `bias: false`.
    public let bias: Tensor?
    public let normalizedShape: [Int]
    public let eps: Float

    /// Layer normalisation over the last dimensions: y = (x − mean) / √(var + eps) · weight + bias,
    /// the statistics taken over `normalizedShape`.
    ///
    /// - Parameters:
    ///   - normalizedShape: The trailing shape normalised over (`[dModel]` for a Transformer).
    ///   - eps: Added to the variance.
    ///   - elementwiseAffine: Whether to learn `weight` (ones) and `bias` (zeros) of that shape.
    ///   - bias: Whether to learn the bias (with `elementwiseAffine`).
    public init(_ normalizedShape: [Int], eps: Float = 1e-5, elementwiseAffine: Bool = true, bias: Bool = true) {
        require(!normalizedShape.isEmpty && normalizedShape.allSatisfy { $0 > 0 }, "LayerNorm: shape \(describe(normalizedShape)) must be non-empty and positive")
        (self.normalizedShape, self.eps) = (normalizedShape, eps)
        weight = elementwiseAffine ? Tensor.ones(normalizedShape, requiresGrad: true) : nil
        self.bias = elementwiseAffine && bias ? Tensor.zeros(normalizedShape, requiresGrad: true) : nil
    }

    /// Normalises over the last dimension, of size `features`.
    public convenience init(_ features: Int, eps: Float = 1e-5, elementwiseAffine: Bool = true) {
        self.init([features], eps: eps, elementwiseAffine: elementwiseAffine)
    }

    public func forward(_ input: Tensor) -> Tensor {
        require(
            input.rank >= normalizedShape.count && Array(input.shape.suffix(normalizedShape.count)) == normalizedShape,
            "LayerNorm: expects input [..., \(normalizedShape.map(String.init).joined(separator: ", "))], got \(describe(input.shape))")
        return input.layerNorm(normalizedShape: normalizedShape, weight: weight, bias: bias, epsilon: eps)
    }
}
