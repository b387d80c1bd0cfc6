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
        let train = try load("train")
        let test = try load("test")
        let model = Random.withSeed(seed) { makeModel() }
        let optimizer = SGD(parameters: model.namedParameters, learningRate: learningRate, momentum: momentum)
        let lossFunction = CrossEntropyLoss()
        let batches = stride(from: 0, to: train.count, by: batchSize).map { start in
            let range = start..<min(start + batchSize, train.count)
            return (train.images.slice(dim: 0, range: range), train.labels.slice(dim: 0, range: range))
        }
        let clock = ContinuousClock()
        let start = clock.now
        for epoch in 1...max(epochs, 1) where epochs > 0 {
            var total: Float = 0
            for (images, labels) in batches {
                optimizer.zeroGrad()
                let loss = lossFunction(model(images), labels)
                loss.backward()
                optimizer.step()
                total += loss.scalar
            }
            progress(epoch, total / Float(batches.count))
        }
        let trainingSeconds = seconds(clock.now - start)
        return Tensor.withoutGradients {
            Outcome(
                model: model,
                testAccuracy: accuracy(logits: model(test.images), labels: test.labels),
                trainLoss: lossFunction(model(train.images), train.labels).scalar,
                trainingSeconds: trainingSeconds)
        }
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
