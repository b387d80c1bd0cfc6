import Synapse

// Trains the XOR network of the original tutorial and saves a checkpoint that carries its graph, ready for
// `swift package --allow-writing-to-package-directory export-model xor.ckpt.h5 -o xor`.
Random.seed(42)
let inputs = Tensor([[0, 0], [0, 1], [1, 0], [1, 1]])
let targets = Tensor([[0], [1], [1], [0]])
let model = Sequential(Linear(inputs: 2, outputs: 3), Tanh(), Linear(inputs: 3, outputs: 1), Sigmoid())
let optimizer = SGD(parameters: model.namedParameters, learningRate: 0.1)
for _ in 0..<5_000 {
    optimizer.zeroGrad()
    MSELoss()(model(inputs), targets).backward()
    optimizer.step()
}
try Checkpoint.save(
    to: "xor.ckpt.h5", model: model, optimizer: optimizer, progress: TrainingProgress(epoch: 5_000, step: 5_000),
    graph: try TracedGraph.trace(model, exampleInput: inputs))
print("predictions:", Tensor.withoutGradients { model(inputs).scalars })
print("wrote xor.ckpt.h5")
