import Synapse

/// The original tutorial's first network: Linear(2, 3) → Tanh → Linear(3, 1) → Sigmoid learning XOR
/// with mean squared error and plain SGD on the full batch of four examples.
public enum XOR {
    /// The four inputs, one per row.
    public static var inputs: Tensor { Tensor([[0, 0], [0, 1], [1, 0], [1, 1]]) }
    /// Their XOR, `[4, 1]`.
    public static var targets: Tensor { Tensor([[0], [1], [1], [0]]) }

    /// Epochs the example trains by default. The original tutorial trains 1,000; from the original tutorial's
    /// initialisation (normal · √(2/inputs)) at learning rate 0.1 the loss is then still on
    /// its plateau (PyTorch's own run of this network sits at 0.23 after 1,000 epochs), so
    /// the example trains longer, as its output and the README say.
    public static let defaultEpochs = 5_000

    /// What a training run leaves behind.
    public struct Outcome {
        /// The trained network.
        public let model: Sequential
        /// The loss after the last epoch's forward pass.
        public let finalLoss: Float
        /// The network's outputs for `inputs`, in order.
        public let predictions: [Float]
        /// Wall-clock seconds of the training loop alone.
        public let trainingSeconds: Double
    }

    /// The original tutorial's network with fresh weights from the generator in use.
    public static func makeModel() -> Sequential {
        Sequential(Linear(inputs: 2, outputs: 3), Tanh(), Linear(inputs: 3, outputs: 1), Sigmoid())
    }

    /// Trains a new network from `seed`; `progress` is called with (epoch, loss) every
    /// `reportEvery` epochs, counting from 1.
    public static func train(
        epochs: Int = defaultEpochs, learningRate: Float = 0.1, seed: UInt64 = Random.defaultSeed,
        reportEvery: Int = 100, progress: (Int, Float) -> Void = { _, _ in }
    ) -> Outcome {
        let training = Random.withSeed(seed) { XORTraining(optimizer: nil, learningRate: learningRate) }
        let trainer = training.makeTrainer()
        var loss: Float = .nan
        let clock = ContinuousClock()
        let start = clock.now
        withoutActuallyEscaping(progress) { progress in
            trainer.onEpoch = { summary in
                loss = summary.loss
                if summary.epoch % reportEvery == 0 || summary.epoch == epochs { progress(summary.epoch, summary.loss) }
            }
            defer { trainer.onEpoch = { _ in } }  // the trainer must not keep `progress`
            try! trainer.fit(epochs: epochs)  // no checkpoint and callbacks that do not throw: nothing can fail
        }
        let trainingSeconds = seconds(clock.now - start)
        return Outcome(
            model: training.network, finalLoss: loss, predictions: training.predictions(), trainingSeconds: trainingSeconds)
    }
}

/// XOR as the ingredients of a `Trainer`: one epoch is one full-batch step.
final class XORTraining: EpochTraining {
    let network = XOR.makeModel()
    let optimizer: any Optimizer
    let batches: any BatchSource
    private let inputs = XOR.inputs
    private let targets = XOR.targets
    private let lossFunction = MSELoss()

    init(optimizer name: String?, learningRate: Float?) {
        optimizer = makeOptimizer(
            name, default: "sgd", for: network, sgdRate: 0.1, adamRate: 0.01, momentum: 0, learningRate: learningRate)
        batches = IndexedBatches.fullBatch(input: inputs, target: targets)
    }

    var model: Module { network }

    func forward(_ input: Tensor) -> Tensor { network(input) }

    func loss(_ output: Tensor, _ target: Tensor) -> Tensor { lossFunction(output, target) }

    func traceGraph() throws -> TracedGraph {
        try TracedGraph.trace(network, exampleInput: inputs)
    }

    func predictions() -> [Float] {
        Tensor.withoutGradients { network(inputs).scalars }
    }

    func report() -> String {
        let x = inputs.scalars
        return zip(predictions(), targets.scalars).enumerated().map { row, pair in
            "Input: [\(Int(x[2 * row])) \(Int(x[2 * row + 1]))] -> Predicted: \(fixed(pair.0, 4)), Actual: \(Int(pair.1))"
        }.joined(separator: "\n")
    }
}

/// `value` with exactly `digits` decimals, without Foundation.
public func fixed(_ value: Float, _ digits: Int) -> String {
    guard value.isFinite else { return "\(value)" }
    var scale = 1.0
    for _ in 0..<digits { scale *= 10 }
    let scaled = (Double(value) * scale).rounded()
    let sign = scaled < 0 ? "-" : ""
    let magnitude = Int(abs(scaled))
    let fraction = String(magnitude % Int(scale))
    return "\(sign)\(magnitude / Int(scale))." + String(repeating: "0", count: digits - fraction.count) + fraction
}

/// A duration in seconds.
func seconds(_ duration: Duration) -> Double {
    let (whole, attoseconds) = duration.components
    return Double(whole) + Double(attoseconds) * 1e-18
}
