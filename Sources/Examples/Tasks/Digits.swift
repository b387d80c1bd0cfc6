import Foundation
import Synapse

/// A multilayer perceptron (64-128-ReLU-10) on the UCI 8×8 handwritten digits: cross-entropy,
/// SGD with momentum, minibatches of 32 in file order (the rows were shuffled once when the
/// files were made), pixels scaled to [0, 1].
public enum Digits {
    /// Images (`[rows, 64]`, pixels / 16) and labels (`[rows]`, whole numbers 0…9).
    public struct Split {
        public let images: Tensor
        public let labels: Tensor
        public var count: Int { labels.count }
    }

    /// Reads `data/digits/NAME.csv`: a label, then 64 pixel values in 0…16, per line.
    public static func load(_ name: String) throws -> Split {
        let path = "digits/\(name).csv"
        var pixels: [Float] = []
        var labels: [Float] = []
        for (number, line) in try DataFiles.read(path).split(separator: "\n").enumerated() {
            let fields = line.split(separator: ",").compactMap { Float($0) }
            guard fields.count == 65, fields[0] >= 0, fields[0] <= 9 else {
                throw ExampleDataError.malformed(
                    path: DataFiles.root + "/" + path, line: number + 1, expected: "a label 0-9 and 64 pixel values")
            }
            labels.append(fields[0])
            pixels += fields[1...].map { $0 / 16 }
        }
        return Split(images: Tensor(pixels, shape: [labels.count, 64]), labels: Tensor(labels))
    }

    /// What a training run leaves behind.
    public struct Outcome {
        public let model: Sequential
        /// The fraction of test images classified correctly.
        public let testAccuracy: Float
        /// The mean cross-entropy over the training set after training.
        public let trainLoss: Float
        /// Wall-clock seconds of the training loop alone.
        public let trainingSeconds: Double
    }

    /// The network: Linear(64, 128) → ReLU → Linear(128, 10), weights from the generator in use.
    public static func makeModel() -> Sequential {
        Sequential(Linear(inputs: 64, outputs: 128), ReLU(), Linear(inputs: 128, outputs: 10))
    }

    /// Trains from `seed` with `Trainer`; `progress` gets (epoch, mean minibatch loss of that
    /// epoch).
    public static func train(
        epochs: Int = 20, seed: UInt64 = Random.defaultSeed, learningRate: Float = 0.05,
        momentum: Float = 0.9, batchSize: Int = 32, progress: (Int, Float) -> Void = { _, _ in }
    ) throws -> Outcome {
        try train(network: makeModel(), imageShape: [64], epochs: epochs, seed: seed, learningRate: learningRate, momentum: momentum,
                  batchSize: batchSize, progress: progress)
    }

    /// `network` (its weights drawn from `seed`) trained on images shaped `imageShape`.
    static func train(
        network: @autoclosure () -> Sequential, imageShape: [Int], epochs: Int, seed: UInt64, learningRate: Float, momentum: Float,
        batchSize: Int, progress: (Int, Float) -> Void
    ) throws -> Outcome {
        let settings = DigitsTraining.Settings(optimizer: "sgd", learningRate: learningRate, momentum: momentum, batchSize: batchSize, seed: seed)
        let training = try Random.withSeed(seed) { try DigitsTraining(network: network(), imageShape: imageShape, settings: settings) }
        let trainer = training.makeTrainer()
        let clock = ContinuousClock()
        let start = clock.now
        try withoutActuallyEscaping(progress) { progress in
            trainer.onEpoch = { progress($0.epoch, $0.loss) }
            defer { trainer.onEpoch = { _ in } }  // the trainer must not keep `progress`
            try trainer.fit(epochs: epochs)
        }
        let trainingSeconds = seconds(clock.now - start)
        return Outcome(
            model: training.network, testAccuracy: training.testAccuracy(), trainLoss: training.trainLoss(),
            trainingSeconds: trainingSeconds)
    }

    /// The fraction of rows whose largest logit is at the label.
    public static func accuracy(logits: Tensor, labels: Tensor) -> Float {
        Float(Metric.correctPredictions(logits: logits, labels: labels)) / Float(labels.count)
    }
}

/// A network on the digits (the MLP, or the CNN on 1×8×8 images) as the ingredients of a
/// `Trainer`: minibatches from a `DataLoader` in file order or reshuffled every epoch, accuracy
/// as a metric, and optionally the last rows of the training file held out for validation.
final class DigitsTraining: EpochTraining {
    /// How a run is set up (`nil` optimizer or learning rate: SGD at 0.05).
    struct Settings {
        var optimizer: String?
        var learningRate: Float?
        var momentum: Float = 0.9
        var batchSize = 32
        var shuffle = false
        var seed = Random.defaultSeed
        /// The fraction of the training rows, the last ones, kept for validation.
        var validationSplit = 0.0
    }

    let network: Sequential
    let optimizer: any Optimizer
    let batches: any BatchSource
    let validation: (any Dataset)?
    private let train: Digits.Split
    private let test: Digits.Split
    private let lossFunction = CrossEntropyLoss()

    /// `imageShape` is how the network reads one image: `[64]` for the MLP, `[1, 8, 8]` for a
    /// CNN.
    init(network: Sequential = Digits.makeModel(), imageShape: [Int] = [64], settings: Settings) throws {
        self.network = network
        func shaped(_ split: Digits.Split) -> Digits.Split {
            Digits.Split(images: split.images.reshaped([split.count] + imageShape), labels: split.labels)
        }
        train = shaped(try Digits.load("train"))
        test = shaped(try Digits.load("test"))
        optimizer = makeOptimizer(
            settings.optimizer, default: "sgd", for: network, sgdRate: 0.05, adamRate: 1e-3, momentum: settings.momentum,
            learningRate: settings.learningRate)
        let held = Int(Double(train.count) * settings.validationSplit)
        require(held >= 0 && held < train.count, "DigitsTraining: validationSplit \(settings.validationSplit) must be in [0, 1)")
        let kept = train.count - held
        let rows = TensorDataset(
            inputs: train.images.slice(dim: 0, range: 0..<kept), targets: train.labels.slice(dim: 0, range: 0..<kept))
        batches = DataLoader(rows, batchSize: settings.batchSize, shuffle: settings.shuffle, seed: settings.seed)
        validation = held == 0 ? nil : TensorDataset(
            inputs: train.images.slice(dim: 0, range: kept..<train.count), targets: train.labels.slice(dim: 0, range: kept..<train.count))
    }

    var model: Module { network }
    var metrics: [Metric] { [.accuracy] }

    func forward(_ input: Tensor) -> Tensor { network(input) }

    func loss(_ output: Tensor, _ target: Tensor) -> Tensor { lossFunction(output, target) }

    func traceGraph() throws -> TracedGraph {
        try TracedGraph.trace(network, exampleInput: test.images.slice(dim: 0, range: 0..<4))
    }

    func testAccuracy() -> Float {
        Tensor.withoutGradients { network.withMode(training: false) { Digits.accuracy(logits: network(test.images), labels: test.labels) } }
    }

    func trainLoss() -> Float {
        Tensor.withoutGradients { network.withMode(training: false) { lossFunction(network(train.images), train.labels).scalar } }
    }

    func report() -> String {
        "Train loss \(fixed(trainLoss(), 4)), test accuracy \(fixed(100 * testAccuracy(), 2))%"
    }
}
