import Core

/// AdamW (Loshchilov and Hutter) with PyTorch's update rule (`torch.optim.AdamW`, amsgrad
/// off): Adam with the weight decay decoupled from the gradient:
///
///     t = t + 1
///     p = p − lr·λ·p
///     m = m + (1 − β₁)·(∇p − m)
///     v = β₂·v + (1 − β₂)·∇p²
///     p = p − (lr / (1 − β₁ᵗ)) · m / (√v / √(1 − β₂ᵗ) + ε)
///
/// State per parameter: `exp_avg`, `exp_avg_sq` and `step`, as `Adam`.
public final class AdamW: AdamFamily {
    public let namedParameters: [(name: String, tensor: Tensor)]
    public var state: [String: [String: Tensor]] = [:]
    public var learningRate: Float
    public var betas: (Float, Float)
    public var epsilon: Float
    /// λ, applied to the parameter itself before the Adam step (PyTorch's default 0.01).
    public var weightDecay: Float

    /// - Parameters:
    ///   - parameters: The tensors to update, by name (`model.namedParameters`).
    ///   - learningRate: lr.
    ///   - betas: (β₁, β₂), the decay rates of the moment estimates.
    ///   - epsilon: ε in the denominator.
    ///   - weightDecay: λ, decoupled (applied to the parameter, not the gradient).
    ///
    ///     let optimizer = AdamW(parameters: model.namedParameters, learningRate: 3e-4)
    public init(
        parameters: [(name: String, tensor: Tensor)], learningRate: Float = 1e-3, betas: (Float, Float) = (0.9, 0.999),
        epsilon: Float = 1e-8, weightDecay: Float = 0.01
    ) {
        requireUniqueNames(parameters, optimizer: "AdamW")
        namedParameters = parameters
        (self.learningRate, self.betas, self.epsilon, self.weightDecay) = (learningRate, betas, epsilon, weightDecay)
    }

    public var kind: String { "AdamW" }

    public func update(_ parameter: Tensor, named name: String, gradient: Tensor) {
        let decay = 1 - learningRate * weightDecay
        parameter.withUnsafeMutableBufferPointer { p in
            for i in p.indices { p[i] *= decay }
        }
        adamStep(self, parameter, named: name, gradient: gradient, learningRate: learningRate, betas: betas, epsilon: epsilon, l2: 0)
    }
}

/// Adam and AdamW: the same hyper-parameters and state slots, written once.
public protocol AdamFamily: ParameterwiseOptimizer, DeclaredOptimizer {
    var learningRate: Float { get set }
    var betas: (Float, Float) { get set }
    var epsilon: Float { get set }
    var weightDecay: Float { get set }
}

extension AdamFamily {
    public static var hyperparameterTable: [Hyperparameter<Self>] {
        [.init("learning_rate", \.learningRate), .init("beta1", \.betas.0), .init("beta2", \.betas.1), .init("epsilon", \.epsilon),
         .init("weight_decay", \.weightDecay)]
    }

    public static var slots: [StateSlot] { [StateSlot("exp_avg"), StateSlot("exp_avg_sq"), StateSlot("step", .scalar)] }

    /// β₁, which `OneCycleLR` cycles.
    public var cycledMomentum: Float? {
        get { betas.0 }
        set { if let newValue { betas.0 = newValue } }
    }
}

/// The Adam moment update and step shared by `Adam` (with `l2` added to the gradient) and
/// `AdamW` (decay applied before, `l2` = 0); the slots are `exp_avg`, `exp_avg_sq`, `step`.
func adamStep(
    _ optimizer: some ParameterwiseOptimizer, _ parameter: Tensor, named name: String, gradient: Tensor, learningRate: Float,
    betas: (Float, Float), epsilon: Float, l2: Float
) {
    let (beta1, beta2) = betas
    let m = optimizer.slot("exp_avg", of: name, like: parameter).tensor
    let v = optimizer.slot("exp_avg_sq", of: name, like: parameter).tensor
    let stepTensor = optimizer.state[name]?["step"] ?? Tensor(scalar: 0)
    optimizer.state[name, default: [:]]["step"] = stepTensor
    let t = stepTensor.withUnsafeMutableBufferPointer { step in
        step[0] += 1
        return Double(step[0])
    }
    // As PyTorch: bias corrections in double precision, applied as Float32 scalars.
    let stepSize = Float(Double(learningRate) / (1 - Glibc.pow(Double(beta1), t)))
    let correction2Root = Float((1 - Glibc.pow(Double(beta2), t)).squareRoot())
    let (weight1, weight2) = (1 - beta1, 1 - beta2)
    parameter.withUnsafeMutableBufferPointer { p in
        gradient.withUnsafeBufferPointer { g in
            m.withUnsafeMutableBufferPointer { m in
                v.withUnsafeMutableBufferPointer { v in
                    Threads.forEachPiece(of: p.count) { piece in
                        for i in piece {
                            let gi = g[i] + l2 * p[i]
                            m[i] = m[i] + weight1 * (gi - m[i])
                            v[i] = v[i] * beta2 + weight2 * gi * gi
                            let denominator = v[i].squareRoot() / correction2Root + epsilon
                            p[i] = p[i] - stepSize * (m[i] / denominator)
                        }
                    }
                }
            }
        }
    }
}
