import Core

/// RMSprop with PyTorch's update rule (`torch.optim.RMSprop`):
///
///     g = ∇p + λ·p
///     s = α·s + (1 − α)·g²
///     centered: ḡ = ḡ + (1 − α)·(g − ḡ);  d = √(s − ḡ²) + ε,   otherwise d = √s + ε
///     momentum μ > 0: b = μ·b + g / d;  p = p − lr·b,   otherwise p = p − lr·g / d
///
/// State per parameter: `square_avg` (s), `grad_avg` (ḡ, centered only), `momentum_buffer`
/// (b, with momentum only) and `step`.
public final class RMSprop: ParameterwiseOptimizer, DeclaredOptimizer {
    public let namedParameters: [(name: String, tensor: Tensor)]
    public var state: [String: [String: Tensor]] = [:]
    public var learningRate: Float
    /// α, the smoothing constant of the squared-gradient average.
    public var alpha: Float
    public var epsilon: Float
    public var weightDecay: Float
    public var momentum: Float
    /// Normalise by the estimated variance instead of the second moment.
    public var centered: Bool

    /// - Parameters:
    ///   - parameters: The tensors to update, by name (`model.namedParameters`).
    ///   - learningRate: lr.
    ///   - alpha: α, the smoothing of the squared-gradient average.
    ///   - epsilon: ε in the denominator.
    ///   - weightDecay: λ, added to the gradient as λ·p.
    ///   - momentum: μ (0: none).
    ///   - centered: Normalise by the variance estimate (keeps `grad_avg`).
    public init(
        parameters: [(name: String, tensor: Tensor)], learningRate: Float = 1e-2, alpha: Float = 0.99, epsilon: Float = 1e-8,
        weightDecay: Float = 0, momentum: Float = 0, centered: Bool = false
    ) {
        requireUniqueNames(parameters, optimizer: "RMSprop")
        namedParameters = parameters
        (self.learningRate, self.alpha, self.epsilon, self.weightDecay, self.momentum, self.centered) =
            (learningRate, alpha, epsilon, weightDecay, momentum, centered)
    }

    public var kind: String { "RMSprop" }

    public static var hyperparameterTable: [Hyperparameter<RMSprop>] {
        [.init("learning_rate", \.learningRate), .init("alpha", \.alpha), .init("epsilon", \.epsilon), .init("weight_decay", \.weightDecay),
         .init("momentum", \.momentum), .init("centered", \.centered)]
    }

    public static var slots: [StateSlot] {
        [StateSlot("square_avg"), StateSlot("grad_avg"), StateSlot("momentum_buffer"), StateSlot("step", .scalar)]
    }

    public var cycledMomentum: Float? {
        get { momentum }
        set { if let newValue { momentum = newValue } }
    }

    public func update(_ parameter: Tensor, named name: String, gradient: Tensor) {
        let (rate, alpha, epsilon, decay, momentum) = (learningRate, alpha, epsilon, weightDecay, momentum)
        let stepTensor = state[name]?["step"] ?? Tensor(scalar: 0)
        state[name, default: [:]]["step"] = stepTensor
        stepTensor.withUnsafeMutableBufferPointer { $0[0] += 1 }
        let square = slot("square_avg", of: name, like: parameter).tensor
        let average = centered ? slot("grad_avg", of: name, like: parameter).tensor : nil
        let buffer = momentum > 0 ? slot("momentum_buffer", of: name, like: parameter).tensor : nil
        parameter.withUnsafeMutableBufferPointer { p in
            gradient.withUnsafeBufferPointer { g in
                square.withUnsafeMutableBufferPointer { s in
                    withPointer(average) { a in
                        withPointer(buffer) { b in
                            for i in p.indices {
                                let gi = g[i] + decay * p[i]
                                s[i] = s[i] * alpha + (1 - alpha) * gi * gi
                                var denominator = s[i].squareRoot() + epsilon
                                if let a {
                                    a[i] = a[i] + (1 - alpha) * (gi - a[i])
                                    denominator = (s[i] - a[i] * a[i]).squareRoot() + epsilon
                                }
                                if let b {
                                    b[i] = b[i] * momentum + gi / denominator
                                    p[i] -= rate * b[i]
                                } else {
                                    p[i] -= rate * (gi / denominator)
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// Runs `body` with the scalars of `tensor`, or with `nil` when there is no tensor.
func withPointer<R>(_ tensor: Tensor?, _ body: (UnsafeMutablePointer<Float>?) -> R) -> R {
    guard let tensor else { return body(nil) }
    return tensor.withUnsafeMutableBufferPointer { body($0.baseAddress) }
}
