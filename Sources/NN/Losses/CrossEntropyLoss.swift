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
        let mask = oneHot(targets, classes: logits.shape[1], op: "CrossEntropyLoss")
        let picked = (logits.logSoftmax(dim: 1) * mask).sum(dim: 1)
        return -reduction.apply(picked)
    }
}

/// A `[batch, classes]` constant with a 1 at each row's class: multiplying by it picks one
/// log-probability per row with ops that already have gradients.
func oneHot(_ targets: Tensor, classes: Int, op: String) -> Tensor {
    let result = Tensor.zeros([targets.count, classes])
    let labels = targets.scalars
    result.withUnsafeMutableBufferPointer { buffer in
        for (row, label) in labels.enumerated() {
            require(
                label == label.rounded() && label >= 0 && label < Float(classes),
                "\(op): target \(label) at position \(row) is not a class index in 0..<\(classes)")
            buffer[row * classes + Int(label)] = 1
        }
    }
    return result
}
