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

    /// Trains from `seed`; `progress` gets (epoch, mean minibatch loss of that epoch).
    public static func train(
        epochs: Int = 20, seed: UInt64 = Random.defaultSeed, learningRate: Float = 0.05,
        momentum: Float = 0.9, batchSize: Int = 32, progress: (Int, Float) -> Void = { _, _ in }
    ) throws -> Outcome {
        let training = try Random.withSeed(seed) {
            try DigitsTraining(optimizer: "sgd", learningRate: learningRate, momentum: momentum, batchSize: batchSize)
        }
        let clock = ContinuousClock()
        let start = clock.now
        for epoch in 1...max(epochs, 1) where epochs > 0 {
            progress(epoch, training.runEpoch { _, _ in })
        }
        let trainingSeconds = seconds(clock.now - start)
        return Outcome(
            model: training.network, testAccuracy: training.testAccuracy(), trainLoss: training.trainLoss(),
            trainingSeconds: trainingSeconds)
    }

    /// The fraction of rows whose largest logit is at the label.
    public static func accuracy(logits: Tensor, labels: Tensor) -> Float {
        let classes = logits.shape[1]
        let values = logits.scalars
        let truth = labels.scalars
        var correct = 0
        for row in 0..<labels.count {
            let scores = values[(row * classes)..<((row + 1) * classes)]
            let predicted = scores.indices.max { scores[$0] < scores[$1] }! - row * classes
            if Float(predicted) == truth[row] { correct += 1 }
        }
        return Float(correct) / Float(labels.count)
    }
}

/// A network on the digits (the MLP, or the CNN on 1×8×8 images) as an epoch-by-epoch run,
/// with minibatches in file order or reshuffled every epoch from the process's generator.
final class DigitsTraining: EpochTraining {
    let network: Sequential
    let optimizer: any Optimizer
    private let train: Digits.Split
    private let test: Digits.Split
    private let batchSize: Int
    private let shuffle: Bool
    private let fileOrderBatches: [(images: Tensor, labels: Tensor)]
    private let lossFunction = CrossEntropyLoss()

    /// `imageShape` is how the network reads one image: `[64]` for the MLP, `[1, 8, 8]` for a
    /// CNN.
    init(
        network: Sequential = Digits.makeModel(), imageShape: [Int] = [64], optimizer name: String?, learningRate: Float?,
        momentum: Float = 0.9, batchSize: Int = 32, shuffle: Bool = false
    ) throws {
        self.network = network
        func shaped(_ split: Digits.Split) -> Digits.Split {
            Digits.Split(images: split.images.reshaped([split.count] + imageShape), labels: split.labels)
        }
        train = shaped(try Digits.load("train"))
        test = shaped(try Digits.load("test"))
        optimizer = makeOptimizer(
            name, default: "sgd", for: network, sgdRate: 0.05, adamRate: 1e-3, momentum: momentum,
            learningRate: learningRate)
        self.batchSize = batchSize
        self.shuffle = shuffle
        let (images, labels) = (train.images, train.labels)
        fileOrderBatches = stride(from: 0, to: train.count, by: batchSize).map { start in
            let range = start..<min(start + batchSize, labels.count)
            return (images.slice(dim: 0, range: range), labels.slice(dim: 0, range: range))
        }
    }

    var model: Module { network }
    var stepsPerEpoch: Int { fileOrderBatches.count }

    /// This epoch's minibatches: file order, or a fresh permutation (Fisher–Yates on the
    /// process's generator) gathered row by row.
    private func batches() -> [(images: Tensor, labels: Tensor)] {
        guard shuffle else { return fileOrderBatches }
        var order = Array(0..<train.count)
        Random.withGenerator { generator in
            for i in stride(from: order.count - 1, to: 0, by: -1) {
                order.swapAt(i, Int(generator.next() % UInt64(i + 1)))
            }
        }
        let labels = train.labels.reshaped([-1, 1])
        let images = train.images.reshaped([train.count, -1])
        return stride(from: 0, to: order.count, by: batchSize).map { start in
            let rows = Tensor(order[start..<min(start + batchSize, order.count)].map(Float.init))
            let picked = images.gatherRows(rows)
            return (picked.reshaped([rows.count] + Array(train.images.shape.dropFirst())), labels.gatherRows(rows).reshaped([-1]))
        }
    }

    func runEpoch(_ stepDone: (Int, Float) -> Void) -> Float {
        var total: Float = 0
        let batches = batches()
        for (index, (images, labels)) in batches.enumerated() {
            optimizer.zeroGrad()
            let loss = lossFunction(network(images), labels)
            loss.backward()
            optimizer.step()
            total += loss.scalar
            stepDone(index + 1, loss.scalar)
        }
        return total / Float(batches.count)
    }

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
