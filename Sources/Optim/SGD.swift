import Core

/// Stochastic gradient descent: p ← p − lr · ∇p.
public final class SGD: Optimizer {
    public let parameters: [Tensor]
    /// The step size.
    public var learningRate: Float

    /// An optimizer for `parameters` with step size `learningRate`.
    public init(parameters: [Tensor], learningRate: Float) {
        self.parameters = parameters
        self.learningRate = learningRate
    }

    /// Updates every parameter that has a gradient, in place, recording no graph.
    public func step() {
        Tensor.withoutGradients {
            for parameter in parameters {
                guard let gradient = parameter.grad else { continue }
                let rate = learningRate
                parameter.withUnsafeMutableBufferPointer { p in
                    gradient.withUnsafeBufferPointer { g in
                        for i in p.indices { p[i] -= rate * g[i] }
                    }
                }
            }
        }
    }
}
