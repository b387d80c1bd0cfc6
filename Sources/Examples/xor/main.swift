import ArgumentParser
import ExampleTasks
import Synapse

/// `swift run -c release xor`: trains the original tutorial's XOR network and prints its predictions.
struct XORCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "xor", abstract: "Train the original tutorial's 2-3-1 network on XOR and print its predictions.")

    @Option(help: "Full-batch epochs to train.")
    var epochs = XOR.defaultEpochs

    @Option(help: "Seed of the random generator that initialises the weights.")
    var seed = Random.defaultSeed

    @Option(help: "SGD learning rate.")
    var learningRate: Float = 0.1

    func validate() throws {
        guard epochs > 0 else { throw ValidationError("--epochs must be positive, got \(epochs)") }
        guard learningRate > 0, learningRate.isFinite else {
            throw ValidationError("--learning-rate must be a positive number, got \(learningRate)")
        }
    }

    func run() {
        print("XOR: Linear(2,3)-Tanh-Linear(3,1)-Sigmoid, MSE, SGD lr \(learningRate), seed \(seed)")
        if epochs > 1_000 {
            print("Training \(epochs) epochs: after the original tutorial's 1,000 the loss is still on its plateau.")
        }
        let outcome = XOR.train(epochs: epochs, learningRate: learningRate, seed: seed) { epoch, loss in
            print("Epoch \(epoch), Loss: \(fixed(loss, 6))")
        }
        let inputs = XOR.inputs.scalars
        let targets = XOR.targets.scalars
        for row in 0..<4 {
            let input = "[\(Int(inputs[2 * row])) \(Int(inputs[2 * row + 1]))]"
            print("Input: \(input) -> Predicted: \(fixed(outcome.predictions[row], 4)), Actual: \(Int(targets[row]))")
        }
    }
}

runExample(XORCommand.self)
