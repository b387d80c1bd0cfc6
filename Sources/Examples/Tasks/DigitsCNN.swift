import Foundation
import Synapse

/// A small convolutional network on the 8×8 digits, the recipe of the PyTorch reference
/// (`tools/bench/pytorch/cnn.py --variant digits`): Conv(1→16, 3×3, padding 1) → ReLU → MaxPool 2 →
/// Conv(16→32, 3×3, padding 1) → ReLU → MaxPool 2 → Flatten → Linear(128 → 10);
/// cross-entropy, SGD lr 0.05 momentum 0.9, minibatches of 32 in file order.
public enum DigitsCNN {
    /// The network, its weights drawn from the generator in use (PyTorch's initialisation).
    public static func makeModel() -> Sequential {
        Sequential(
            Conv2d(inputs: 1, outputs: 16, kernelSize: 3, padding: 1), ReLU(), MaxPool2d(kernelSize: 2),
            Conv2d(inputs: 16, outputs: 32, kernelSize: 3, padding: 1), ReLU(), MaxPool2d(kernelSize: 2),
            Flatten(), Linear(inputs: 128, outputs: 10))
    }

    /// The same network with batch norm after each convolution and dropout (0.25) before the
    /// classifier — `synapse train cnn-bn`, and the model the PyTorch round trip tests load:
    /// every layer has its `torch.nn` namesake's parameter and buffer names.
    public static func makeBatchNormModel() -> Sequential {
        Sequential(
            Conv2d(inputs: 1, outputs: 16, kernelSize: 3, padding: 1), BatchNorm2d(features: 16), ReLU(), MaxPool2d(kernelSize: 2),
            Conv2d(inputs: 16, outputs: 32, kernelSize: 3, padding: 1), BatchNorm2d(features: 32), ReLU(), MaxPool2d(kernelSize: 2),
            Dropout(0.25), Flatten(), Linear(inputs: 128, outputs: 10))
    }

    /// Trains from `seed`; `progress` gets (epoch, mean minibatch loss of that epoch).
    public static func train(
        epochs: Int = 20, seed: UInt64 = Random.defaultSeed, learningRate: Float = 0.05, momentum: Float = 0.9,
        batchSize: Int = 32, progress: (Int, Float) -> Void = { _, _ in }
    ) throws -> Digits.Outcome {
        try Digits.train(
            network: makeModel(), imageShape: [1, 8, 8], epochs: epochs, seed: seed, learningRate: learningRate, momentum: momentum,
            batchSize: batchSize, progress: progress)
    }
}

/// LeNet-5 on 28×28 images, the timing workload of `tools/bench/pytorch/cnn.py --variant lenet`:
/// Conv(1→6, 5) → ReLU → MaxPool 2 → Conv(6→16, 5) → ReLU → MaxPool 2 → Flatten →
/// Linear(256 → 120) → ReLU → Linear(120 → 84) → ReLU → Linear(84 → 10).
public enum LeNet {
    public static func makeModel() -> Sequential {
        Sequential(
            Conv2d(inputs: 1, outputs: 6, kernelSize: 5), ReLU(), MaxPool2d(kernelSize: 2),
            Conv2d(inputs: 6, outputs: 16, kernelSize: 5), ReLU(), MaxPool2d(kernelSize: 2),
            Flatten(), Linear(inputs: 256, outputs: 120), ReLU(), Linear(inputs: 120, outputs: 84), ReLU(),
            Linear(inputs: 84, outputs: 10))
    }

    /// Seconds for `steps` SGD steps (lr 0.01, momentum 0.9) on one fixed batch of 64 normal
    /// images with uniform labels, after 5 warm-up steps on a throwaway model.
    public static func timeTraining(steps: Int, seed: UInt64) -> Double {
        let (images, labels) = Random.withSeed(seed) {
            (Tensor.normal([64, 1, 28, 28]), Tensor((0..<64).map { _ in Float(Random.withGenerator { $0.next() % 10 }) }))
        }
        let loss = CrossEntropyLoss()
        func run(_ count: Int) -> Double {
            let model = Random.withSeed(seed) { makeModel() }
            let optimizer = SGD(parameters: model.namedParameters, learningRate: 0.01, momentum: 0.9)
            let clock = ContinuousClock()
            let start = clock.now
            for _ in 0..<count {
                optimizer.zeroGrad()
                loss(model(images), labels).backward()
                optimizer.step()
            }
            return seconds(clock.now - start)
        }
        _ = run(5)
        return run(steps)
    }
}
