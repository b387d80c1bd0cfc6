import Core

/// Cross-entropy of logits against integer class indices:
/// −log softmax(logits)[n, targetₙ], combined over the batch (mean by default).
///
/// The log-softmax subtracts each row's maximum first, so logits of any size give finite
/// losses and gradients.
public struct CrossEntropyLoss {
    /// How the per-example losses are combined.
    public var reduction: Reduction

    public init(reduction: Reduction = .mean) { self.reduction = reduction }

    /// The loss of `logits` `[batch, classes]` against `targets` `[batch]` (whole numbers in
    /// `0..<classes`).
    public func callAsFunction(_ logits: Tensor, _ targets: Tensor) -> Tensor {
        require(
            logits.rank == 2 && targets.count == logits.shape[0],
            "CrossEntropyLoss: expects logits [batch, classes] and targets [batch], got "
                + "\(describe(logits.shape)) and \(describe(targets.shape))")
        let losses = logits.crossEntropyRows(targets: targets)
        return reduction.apply(losses)
    }
}
