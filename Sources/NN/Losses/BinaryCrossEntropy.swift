import Core

/// Binary cross-entropy of probabilities: −[t·log p + (1 − t)·log(1 − p)], combined by
/// `reduction`.
///
/// Probabilities of exactly 0 or 1 give an infinite loss; `BCEWithLogitsLoss` on the
/// logits before the sigmoid is the stable form.
public struct BCELoss: Loss {
    public var reduction: Reduction

    /// A binary cross-entropy on probabilities, combined by `reduction`.
    public init(reduction: Reduction = .mean) { self.reduction = reduction }

    /// The loss of each probability in `prediction` against its target in [0, 1].
    public func unreduced(_ prediction: Tensor, _ target: Tensor) -> Tensor {
        -(target * prediction.log() + (1 - target) * (1 - prediction).log())
    }
}

/// Binary cross-entropy on logits x: softplus(x) − t·x, which equals
/// −[t·log σ(x) + (1 − t)·log(1 − σ(x))] and stays finite for logits of any size.
///
/// softplus(x) = log(1 + eˣ) is taken as −logSoftmax([x, 0])₁ — the stable log-sum-exp —
/// so its gradient σ(x) is exact everywhere, including x = 0.
public struct BCEWithLogitsLoss: Loss {
    public var reduction: Reduction

    /// A binary cross-entropy on logits, combined by `reduction`.
    public init(reduction: Reduction = .mean) { self.reduction = reduction }

    /// The loss of each logit against its target in [0, 1].
    public func unreduced(_ logits: Tensor, _ target: Tensor) -> Tensor {
        let column = logits.reshaped([-1, 1])
        let pair = Tensor.concat([column, Tensor.zeros([logits.count, 1])], dim: 1)
        let softplus = -pair.logSoftmax(dim: 1).slice(dim: 1, range: 1..<2).reshaped(logits.shape)
        return softplus - target * logits
    }
}
