import Core

/// σ(x) = 1 / (1 + e⁻ˣ), elementwise.
public final class Sigmoid: ParameterlessLayer {
    public init() {}
    public func forward(_ input: Tensor) -> Tensor { input.sigmoid() }
}

/// tanh(x), elementwise.
public final class Tanh: ParameterlessLayer {
    public init() {}
    public func forward(_ input: Tensor) -> Tensor { input.tanh() }
}

/// max(x, 0), elementwise.
public final class ReLU: ParameterlessLayer {
    public init() {}
    public func forward(_ input: Tensor) -> Tensor { input.relu() }
}
