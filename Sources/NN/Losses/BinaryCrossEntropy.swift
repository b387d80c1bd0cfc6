import Core

/// Binary cross-entropy of probabilities: −[t·log p + (1 − t)·log(1 − p)], combined by
/// `reduction`.
///
/// Probabilities of exactly 0 or 1 give an infinite loss; `BCEWithLogitsLoss` on the
/// logits before the sigmoid is the stable form.
public struct BCELoss {
    public var reduction: Reduction

    public init(reduction: Reduction = .mean) { self.reduction = reduction }

    /// The loss of probabilities `prediction` against targets in [0, 1] of the same shape.
    public func callAsFunction(_ prediction: Tensor, _ target: Tensor) -> Tensor {
        require(
            prediction.shape == target.shape,
            "BCELoss: prediction shape \(describe(prediction.shape)) differs from target shape \(describe(target.shape))")
        let perElement = target * prediction.log() + (1 - target) * (1 - prediction).log()
        return -reduction.apply(perElement)
    }
}

/// Binary cross-entropy on logits x: softplus(x) − t·x, which equals
/// −[t·log σ(x) + (1 − t)·log(1 − σ(x))] and stays finite for logits of any size.
///
/// softplus(x) = log(1 + eˣ) is taken as −logSoftmax([x, 0])₁ — the stable log-sum-exp —
/// so its gradient σ(x) is exact everywhere, including x = 0.
public struct BCEWithLogitsLoss {
    public var reduction: Reduction

    public init(reduction: Reduction = .mean) { self.reduction = reduction }

    /// The loss of `logits` against targets in [0, 1] of the same shape.
    public func callAsFunction(_ logits: Tensor, _ target: Tensor) -> Tensor {
        require(
            logits.shape == target.shape,
            "BCEWithLogitsLoss: logits shape \(describe(logits.shape)) differs from target shape \(describe(target.shape))")
        let column = logits.reshaped([-1, 1])
        let pair = Tensor.concat([column, Tensor.zeros([logits.count, 1])], dim: 1)
        let softplus = -pair.logSoftmax(dim: 1).slice(dim: 1, range: 1..<2).reshaped(logits.shape)
        return reduction.apply(softplus - target * logits)
    }
}
