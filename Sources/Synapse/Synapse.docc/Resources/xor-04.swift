import Synapse

Random.seed(42)

let inputs = Tensor([[0, 0], [0, 1], [1, 0], [1, 1]])
let targets = Tensor([[0], [1], [1], [0]])

let model = Sequential(Linear(inputs: 2, outputs: 3), Tanh(), Linear(inputs: 3, outputs: 1), Sigmoid())
let optimizer = SGD(parameters: model.namedParameters, learningRate: 0.1)
let mse = MSELoss()

for epoch in 1...5_000 {
    optimizer.zeroGrad()
    let loss = mse(model(inputs), targets)
    loss.backward()
    optimizer.step()
    if epoch % 1_000 == 0 { print("epoch \(epoch): loss \(loss.scalar)") }
}
print(Tensor.withoutGradients { model(inputs) }.scalars)
