import Foundation
import Synapse

Random.seed(1)
// images.npy: float32 [N, 1, 8, 8] in [0, 1]; labels.npy: the digit of each, [N].
let digits = try TensorDataset(inputsFile: "images.npy", targetsFile: "labels.npy")
let loader = DataLoader(digits, batchSize: 32, shuffle: true, seed: 1)

let model = Sequential(
    Conv2d(inputs: 1, outputs: 16, kernelSize: 3, padding: 1), ReLU(), MaxPool2d(kernelSize: 2),
    Conv2d(inputs: 16, outputs: 32, kernelSize: 3, padding: 1), ReLU(), MaxPool2d(kernelSize: 2),
    Flatten(), Linear(inputs: 128, outputs: 10))

let trainer = Trainer(
    model: model, optimizer: SGD(parameters: model.namedParameters, learningRate: 0.05, momentum: 0.9),
    loss: { CrossEntropyLoss()($0, $1) }, data: loader, checkpoint: "digits.ckpt.h5", checkpointEverySteps: 100)
trainer.metrics = [.accuracy]
trainer.display = ProgressDisplay(epochs: 20, stepsPerEpoch: loader.batchesPerEpoch)
if FileManager.default.fileExists(atPath: "digits.ckpt.h5") { try trainer.resume() }
try trainer.fit(epochs: 20)

let sample = Tensor.withoutGradients { digits.batch([0, 1, 2, 3]).input }
try ModelFile.save(model, exampleInput: sample, to: "digits")
