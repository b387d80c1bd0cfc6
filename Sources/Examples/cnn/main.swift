import ArgumentParser
import ExampleTasks
import Foundation
import Synapse

/// `swift run -c release cnn`: a convolutional network on the 8×8 handwritten digits.
struct CNNCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cnn",
        abstract: "Train a two-layer CNN on the UCI 8x8 digits and print its test accuracy.")

    @Option(help: "Passes over the 1,500 training images.")
    var epochs = 20

    @Option(help: "Seed of the random generator that initialises the weights.")
    var seed = Random.defaultSeed

    @Option(help: "SGD learning rate.")
    var learningRate: Float = 0.05

    @Option(help: "SGD momentum.")
    var momentum: Float = 0.9

    func validate() throws {
        guard epochs > 0 else { throw ValidationError("--epochs must be positive, got \(epochs)") }
    }

    func run() throws {
        print("cnn: Conv(1,16,3,p1)-ReLU-MaxPool2-Conv(16,32,3,p1)-ReLU-MaxPool2-Flatten-Linear(128,10), cross-entropy, SGD lr \(learningRate) momentum \(momentum), batch 32, seed \(seed)")
        let start = Date()
        let outcome = try DigitsCNN.train(
            epochs: epochs, seed: seed, learningRate: learningRate, momentum: momentum
        ) { epoch, loss in
            print("Epoch \(epoch), Loss: \(String(format: "%.4f", loss))")
        }
        print(String(format: "Train loss %.4f, test accuracy %.2f%% (%.1f s)",
                     outcome.trainLoss, 100 * outcome.testAccuracy, Date().timeIntervalSince(start)))
    }
}

do {
    var command = try CNNCommand.parseAsRoot()
    try command.run()
} catch let error as ExampleDataError {
    FileHandle.standardError.write(Data("cnn: \(error)\n".utf8))
    exit(1)
} catch {
    CNNCommand.exit(withError: error)
}
