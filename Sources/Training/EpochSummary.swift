/// What one epoch of a `Trainer` measured.
public struct EpochSummary: Sendable {
    /// The epoch, counting from 1.
    public let epoch: Int
    /// The mean loss of the epoch's optimizer steps (in training mode).
    public let loss: Float
    /// The learning rate the epoch's first step used.
    public let learningRate: Double
    /// The trainer's metrics over the epoch's batches, by name (in training mode, as the
    /// steps computed them).
    public let metrics: [String: Float]
    /// The loss on the validation data after the epoch (evaluation mode), if there is any.
    public let validationLoss: Float?
    /// The metrics on the validation data, by name.
    public let validationMetrics: [String: Float]

    /// The figures besides the loss, in print order: `accuracy …`, `val_loss`, `val_accuracy …`.
    public var figures: [(name: String, value: Float)] {
        metrics.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
            + (validationLoss.map { [("val_loss", $0)] } ?? [])
            + validationMetrics.sorted { $0.key < $1.key }.map { ("val_" + $0.key, $0.value) }
    }

    /// A figure by the name `figures` uses (`loss`, `val_loss`, `accuracy`, `val_accuracy`, …).
    public func figure(_ name: String) -> Float? {
        name == "loss" ? loss : figures.first { $0.name == name }?.value
    }
}
