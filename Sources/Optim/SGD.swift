import Core


/// Stochastic gradient descent with momentum, Nesterov momentum and weight decay, with
/// PyTorch's update rule (`torch.optim.SGD`, dampening 0):
///
///     d = ∇p + λ·p
///     b = d                      (first step)
///     b = μ·b + d                (later steps)
///     d = d + μ·b  (Nesterov)   or   d = b
///     p = p − lr·d
///
/// The momentum buffer is kept in `state[name]["momentum_buffer"]`.
public final class SGD: ParameterwiseOptimizer, DeclaredOptimizer {
    public let namedParameters: [(name: String, tensor: Tensor)]
    public var state: [String: [String: Tensor]] = [:]
    /// The step size lr.
    public var learningRate: Float
    /// The momentum μ (0: none).
    public var momentum: Float
    /// The L2 weight decay λ (0: none).
    public var weightDecay: Float
    /// Whether to use Nesterov momentum.
    public var nesterov: Bool

    /// An optimizer for named parameters (`model.namedParameters`).
    public init(
        parameters: [(name: String, tensor: Tensor)], learningRate: Float, momentum: Float = 0,
        weightDecay: Float = 0, nesterov: Bool = false
    ) {
        requireUniqueNames(parameters, optimizer: "SGD")
        require(!nesterov || momentum > 0, "SGD: Nesterov momentum needs a momentum above zero")
        namedParameters = parameters
        self.learningRate = learningRate
        self.momentum = momentum
        self.weightDecay = weightDecay
        self.nesterov = nesterov
    }

    /// An optimizer for parameters named by position (`"0"`, `"1"`, …).
    public convenience init(
        parameters: [Tensor], learningRate: Float, momentum: Float = 0, weightDecay: Float = 0,
        nesterov: Bool = false
    ) {
        self.init(
            parameters: namedByPosition(parameters), learningRate: learningRate, momentum: momentum,
            weightDecay: weightDecay, nesterov: nesterov)
    }

    public var kind: String { "SGD" }

    public static var hyperparameterTable: [Hyperparameter<SGD>] {
        [.init("learning_rate", \.learningRate), .init("momentum", \.momentum), .init("weight_decay", \.weightDecay), .init("nesterov", \.nesterov)]
    }

    public static var slots: [StateSlot] { [StateSlot("momentum_buffer")] }

    public var cycledMomentum: Float? {
        get { momentum }
        set { if let newValue { momentum = newValue } }
    }

    public func update(_ parameter: Tensor, named name: String, gradient: Tensor) {
        let (rate, mu, decay, nesterov) = (learningRate, momentum, weightDecay, nesterov)
        do {
            let buffer = mu != 0 ? slot("momentum_buffer", of: name, like: parameter) : nil
            parameter.withUnsafeMutableBufferPointer { p in
                gradient.withUnsafeBufferPointer { g in
                    guard let buffer else {
                        Threads.forEachPiece(of: p.count) { piece in
                            for i in piece { p[i] -= rate * (g[i] + decay * p[i]) }
                        }
                        return
                    }
                    let firstStep = buffer.isNew
                    buffer.tensor.withUnsafeMutableBufferPointer { b in
                        Threads.forEachPiece(of: p.count) { piece in
                            for i in piece {
                                var d = g[i] + decay * p[i]
                                b[i] = firstStep ? d : mu * b[i] + d
                                d = nesterov ? d + mu * b[i] : b[i]
                                p[i] -= rate * d
                            }
                        }
                    }
                }
            }
        }
    }
}
