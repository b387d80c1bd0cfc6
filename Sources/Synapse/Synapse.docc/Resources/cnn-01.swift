import Foundation
import Synapse

Random.seed(1)
// images.npy: float32 [N, 1, 8, 8] in [0, 1]; labels.npy: the digit of each, [N].
let digits = try TensorDataset(inputsFile: "images.npy", targetsFile: "labels.npy")
let loader = DataLoader(digits, batchSize: 32, shuffle: true, seed: 1)
