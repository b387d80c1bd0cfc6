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
        let (batch, classes) = (logits.shape[0], logits.shape[1])
        let positions = flatPositions(targets, classes: classes)
        let logProbabilities = logits.logSoftmax(dim: 1)
        let picked: Tensor
        if batch * classes < 1 << 24 {
            // Gather the one log-probability per row from the flattened [batch·classes, 1]
            // view: no [batch, classes] mask to build, multiply and sum.
            picked = logProbabilities.reshaped([batch * classes, 1])
                .gatherRows(Tensor(positions.map(Float.init)))
        } else {
            // Positions beyond 2²⁴ are not exact in Float32: multiply by a one-hot mask.
            let mask = Tensor.zeros([batch, classes])
            mask.withUnsafeMutableBufferPointer { buffer in for position in positions { buffer[position] = 1 } }
            picked = (logProbabilities * mask).sum(dim: 1)
        }
        return -reduction.apply(picked)
    }
}

/// The flat index `row · classes + target` of each row's target class.
func flatPositions(_ targets: Tensor, classes: Int) -> [Int] {
    targets.scalars.enumerated().map { row, label in
        require(
            label == label.rounded() && label >= 0 && label < Float(classes),
            "CrossEntropyLoss: target \(label) at position \(row) is not a class index in 0..<\(classes)")
        return row * classes + Int(label)
    }
}
