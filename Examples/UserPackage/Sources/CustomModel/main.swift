import Foundation
import Synapse

// A user's own model, declared without listing its parameters: Synapse finds them from the
// stored properties (hidden.weight, hidden.bias, head.1.weight, head.1.bias). It trains,
// checkpoints halfway, resumes in a fresh model from the checkpoint and must end bit for bit
// where an uninterrupted run ends; then the checkpoint is ready for
// `swift package --allow-writing-to-package-directory export-model custom.ckpt.h5 -o custom`.
final class Model: Module, Layer {
    let hidden = Linear(inputs: 3, outputs: 8)
    let head = Sequential(Tanh(), Linear(inputs: 8, outputs: 1))
    func forward(_ x: Tensor) -> Tensor { head(hidden(x)) }
}

// y = x₀ − 2·x₁ + x₂², on a fixed grid of 27 points.
let grid: [Float] = [-1, 0, 1]
let points = grid.flatMap { a in grid.flatMap { b in grid.map { c in [a, b, c] } } }
let inputs = Tensor(points)
let targets = Tensor(points.map { [$0[0] - 2 * $0[1] + $0[2] * $0[2]] })

func train(_ model: Model, _ optimizer: Adam, steps: Range<Int>, _ inputs: Tensor, _ targets: Tensor) -> Float {
    var loss: Float = 0
    for _ in steps {
        optimizer.zeroGrad()
        let value = MSELoss()(model(inputs), targets)
        value.backward()
        optimizer.step()
        loss = value.scalar
    }
    return loss
}

// Uninterrupted: 400 steps.
Random.seed(7)
let straight = Model()
let straightOptimizer = Adam(parameters: straight.namedParameters, learningRate: 0.01)
let straightLoss = train(straight, straightOptimizer, steps: 0..<400, inputs, targets)

// Interrupted: 200 steps, a checkpoint, a fresh model and optimizer resumed from it, 200 more.
Random.seed(7)
let first = Model()
let firstOptimizer = Adam(parameters: first.namedParameters, learningRate: 0.01)
_ = train(first, firstOptimizer, steps: 0..<200, inputs, targets)
try Checkpoint.save(to: "custom.ckpt.h5", model: first, optimizer: firstOptimizer, progress: TrainingProgress(epoch: 0, step: 200))
Random.seed(99)  // a different process state: the checkpoint must restore everything needed
let resumed = Model()
let resumedOptimizer = Adam(parameters: resumed.namedParameters, learningRate: 0.01)
let contents = try Checkpoint.load(from: "custom.ckpt.h5", into: resumed, optimizer: resumedOptimizer)
let resumedLoss = train(resumed, resumedOptimizer, steps: contents.progress.step..<400, inputs, targets)

let same = zip(straight.parameters, resumed.parameters).allSatisfy { $0.scalars == $1.scalars }
print("parameters:", resumed.namedParameters.map(\.name).joined(separator: ", "))
print("loss after 400 steps: \(straightLoss) uninterrupted, \(resumedLoss) resumed at step 200; bit-exact: \(same)")
guard same && straightLoss < 0.05 else {
    print("error: the resumed run differs from the uninterrupted one, or training did not converge")
    exit(1)
}
try Checkpoint.save(
    to: "custom.ckpt.h5", model: resumed, optimizer: resumedOptimizer, progress: TrainingProgress(epoch: 0, step: 400),
    graph: try TracedGraph.trace(resumed, exampleInput: inputs))
print("wrote custom.ckpt.h5")
