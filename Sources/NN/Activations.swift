import Core

/// σ(x) = 1 / (1 + e⁻ˣ), elementwise.
public final class Sigmoid: Module, Layer {
    public func forward(_ input: Tensor) -> Tensor { input.sigmoid() }
}

/// tanh(x), elementwise.
public final class Tanh: Module, Layer {
    public func forward(_ input: Tensor) -> Tensor { input.tanh() }
}

/// max(x, 0), elementwise.
public final class ReLU: Module, Layer {
    public func forward(_ input: Tensor) -> Tensor { input.relu() }
}

/// softmax along `dim`: e^xᵢ / Σⱼ e^xⱼ, computed as the exponential of `logSoftmax`.
public final class Softmax: Module, Layer {
    /// The dimension that sums to one.
    public let dim: Int
    /// Softmax along `dim` (negative counts from the end); any shape in, the same out.
    public init(dim: Int = -1) { self.dim = dim }
    public func forward(_ input: Tensor) -> Tensor { input.logSoftmax(dim: resolved(dim, input)).exp() }
}

/// log softmax along `dim`, computed stably.
public final class LogSoftmax: Module, Layer {
    /// The dimension normalised over.
    public let dim: Int
    /// Log softmax along `dim` (negative counts from the end); any shape in, the same out.
    public init(dim: Int = -1) { self.dim = dim }
    public func forward(_ input: Tensor) -> Tensor { input.logSoftmax(dim: resolved(dim, input)) }
}

/// A dimension counted from the end when negative, as PyTorch counts `dim=-1`.
func resolved(_ dim: Int, _ input: Tensor) -> Int {
    dim < 0 ? input.rank + dim : dim
}

/// The Gaussian error linear unit x · Φ(x), PyTorch's `nn.GELU`: exact (with erf) or, with
/// `approximate: .tanh`, 0.5 · x · (1 + tanh(√(2/π) · (x + 0.044715 · x³))).
public final class GELU: Module, Layer {
    public enum Approximation: String, Sendable { case none, tanh }
    public let approximate: Approximation
    /// GELU, exact (`.none`, PyTorch's default) or in its tanh approximation.
    public init(approximate: Approximation = .none) { self.approximate = approximate }
    public func forward(_ input: Tensor) -> Tensor { input.gelu(approximate: approximate == .tanh) }
}
