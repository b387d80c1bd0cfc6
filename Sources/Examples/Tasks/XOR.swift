import Synapse

/// The seed's first network: Linear(2, 3) → Tanh → Linear(3, 1) → Sigmoid learning XOR
/// with mean squared error and plain SGD on the full batch of four examples.
public enum XOR {
    /// The four inputs, one per row.
    public static var inputs: Tensor { Tensor([[0, 0], [0, 1], [1, 0], [1, 1]]) }
    /// Their XOR, `[4, 1]`.
    public static var targets: Tensor { Tensor([[0], [1], [1], [0]]) }

    /// Epochs the example trains by default. The seed trains 1,000; from the seed's
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

    /// The seed's network with fresh weights from the generator in use.
    public static func makeModel() -> Sequential {
        Sequential(Linear(inputs: 2, outputs: 3), Tanh(), Linear(inputs: 3, outputs: 1), Sigmoid())
    }

    /// Trains a new network from `seed`; `progress` is called with (epoch, loss) every
    /// `reportEvery` epochs, counting from 1.
    public static func train(
        epochs: Int = defaultEpochs, learningRate: Float = 0.1, seed: UInt64 = Random.defaultSeed,
        reportEvery: Int = 100, progress: (Int, Float) -> Void = { _, _ in }
    ) -> Outcome {
        let model = Random.withSeed(seed) { makeModel() }
        let optimizer = SGD(parameters: model.namedParameters, learningRate: learningRate)
        let lossFunction = MSELoss()
        let (inputs, targets) = (inputs, targets)
        var loss: Float = .nan
        let clock = ContinuousClock()
        let start = clock.now
        for epoch in 1...max(epochs, 1) where epochs > 0 {
            optimizer.zeroGrad()
            let lossTensor = lossFunction(model(inputs), targets)
            lossTensor.backward()
            optimizer.step()
            if epoch % reportEvery == 0 || epoch == epochs {
                loss = lossTensor.scalar
                progress(epoch, loss)
            }
        }
        let trainingSeconds = seconds(clock.now - start)
        let predictions = Tensor.withoutGradients { model(inputs).scalars }
        return Outcome(model: model, finalLoss: loss, predictions: predictions, trainingSeconds: trainingSeconds)
    }
}

/// A duration in seconds.
func seconds(_ duration: Duration) -> Double {
    let (whole, attoseconds) = duration.components
    return Double(whole) + Double(attoseconds) * 1e-18
}
