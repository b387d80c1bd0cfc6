import Core

/// A figure measured on a model's output against the targets, batch by batch, and averaged
/// over an epoch or a validation set as total / count (so the last, short batch weighs what its
/// examples weigh).
public struct Metric: Sendable {
    /// The name it is printed and logged under (`accuracy`; `val_accuracy` on validation data).
    public let name: String
    /// Whether larger is better (for early stopping on it).
    public let higherIsBetter: Bool
    /// (total, count) of one batch: `output`, `target` → e.g. (correct predictions, targets).
    public let measure: @Sendable (_ output: Tensor, _ target: Tensor) -> (total: Double, count: Int)

    /// A metric named `name` whose batch figure is `measure(output, target)` = (total, count).
    public init(name: String, higherIsBetter: Bool, measure: @escaping @Sendable (Tensor, Tensor) -> (total: Double, count: Int)) {
        (self.name, self.higherIsBetter, self.measure) = (name, higherIsBetter, measure)
    }

    /// The fraction of targets (class indices) at the position of their row's largest output:
    /// `output` `[N, C]` (or `[…, C]`, read as rows of C) and `target` with one index per row.
    /// The first of equal maxima counts, as `torch.argmax` picks it.
    public static let accuracy = Metric(name: "accuracy", higherIsBetter: true) { output, target in
        (Double(correctPredictions(logits: output, labels: target)), target.count)
    }

    /// How many rows of `logits` (`[…, C]`) have their largest value at `labels`' class index.
    public static func correctPredictions(logits: Tensor, labels: Tensor) -> Int {
        let classes = logits.shape.last ?? 1
        let values = logits.scalars
        let truth = labels.scalars
        require(values.count == truth.count * classes, "Metric.accuracy: \(truth.count) labels for \(values.count / Swift.max(classes, 1)) rows of outputs")
        var correct = 0
        for row in 0..<truth.count {
            var best = row * classes
            for column in (row * classes)..<((row + 1) * classes) where values[column] > values[best] { best = column }
            if best - row * classes == Int(truth[row]) { correct += 1 }
        }
        return correct
    }
}
