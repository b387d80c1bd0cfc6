import Core

/// Cross-entropy of logits against integer class indices:
/// −log softmax(logits)[n, targetₙ], combined over the batch (mean by default).
///
/// The log-softmax subtracts each row's maximum first, so logits of any size give finite
/// losses and gradients.
public struct CrossEntropyLoss: Loss {
    /// How the per-example losses are combined.
    public var reduction: Reduction

    /// A cross-entropy loss whose per-example losses are combined by `reduction`.
    public init(reduction: Reduction = .mean) { self.reduction = reduction }

    /// Logits `[batch, classes]` and targets `[batch]` (whole numbers in `0..<classes`).
    public func shapeProblem(_ logits: Tensor, _ targets: Tensor) -> String? {
        logits.rank == 2 && targets.count == logits.shape[0] ? nil
            : "expects logits [batch, classes] and targets [batch], got \(describe(logits.shape)) and \(describe(targets.shape))"
    }

    /// The loss of each example.
    public func unreduced(_ logits: Tensor, _ targets: Tensor) -> Tensor { logits.crossEntropyRows(targets: targets) }
}
