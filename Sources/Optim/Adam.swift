import Core


/// Adam (Kingma and Ba) with PyTorch's update rule (`torch.optim.Adam`, amsgrad off):
///
///     t = t + 1
///     g = ∇p + λ·p
///     m = m + (1 − β₁)·(g − m)
///     v = β₂·v + (1 − β₂)·g²
///     p = p − (lr / (1 − β₁ᵗ)) · m / (√v / √(1 − β₂ᵗ) + ε)
///
/// State per parameter: `exp_avg` (m), `exp_avg_sq` (v) and `step` (t, a scalar tensor).
public final class Adam: AdamFamily {
    public let namedParameters: [(name: String, tensor: Tensor)]
    public var state: [String: [String: Tensor]] = [:]
    /// The step size lr.
    public var learningRate: Float
    /// The decay rates (β₁, β₂) of the moment estimates.
    public var betas: (Float, Float)
    /// ε, added to the denominator for stability.
    public var epsilon: Float
    /// L2 weight decay λ added to the gradient (0: none).
    public var weightDecay: Float

    /// An optimizer for named parameters (`model.namedParameters`).
    public init(
        parameters: [(name: String, tensor: Tensor)], learningRate: Float = 1e-3,
        betas: (Float, Float) = (0.9, 0.999), epsilon: Float = 1e-8, weightDecay: Float = 0
    ) {
        requireUniqueNames(parameters, optimizer: "Adam")
        namedParameters = parameters
        self.learningRate = learningRate
        self.betas = betas
        self.epsilon = epsilon
        self.weightDecay = weightDecay
    }

    /// An optimizer for parameters named by position (`"0"`, `"1"`, …).
    public convenience init(
        parameters: [Tensor], learningRate: Float = 1e-3, betas: (Float, Float) = (0.9, 0.999),
        epsilon: Float = 1e-8, weightDecay: Float = 0
    ) {
        self.init(
            parameters: namedByPosition(parameters), learningRate: learningRate, betas: betas,
            epsilon: epsilon, weightDecay: weightDecay)
    }

    public var kind: String { "Adam" }

    public func update(_ parameter: Tensor, named name: String, gradient: Tensor) {
        adamStep(self, parameter, named: name, gradient: gradient, learningRate: learningRate, betas: betas, epsilon: epsilon, l2: weightDecay)
    }
}
