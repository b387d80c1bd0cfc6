import ArgumentParser
import Foundation
import Synapse

/// The options and the report shared by the digits examples (`digits`, `cnn`): the same
/// recipe around a different network.
public struct DigitsOptions: ParsableArguments {
    @Option(help: "Passes over the 1,500 training images.")
    public var epochs = 20

    @Option(help: "Seed of the random generator that initialises the weights.")
    public var seed = Random.defaultSeed

    @Option(help: "SGD learning rate.")
    public var learningRate: Float = 0.05

    @Option(help: "SGD momentum.")
    public var momentum: Float = 0.9

    public init() {}

    public func validate() throws {
        guard epochs > 0 else { throw ValidationError("--epochs must be positive, got \(epochs)") }
    }

    /// Prints `network` and the recipe, the loss per epoch from `train` (given these options
    /// and a progress callback), then the train loss, test accuracy and wall time.
    public func run(
        _ example: String, network: String,
        train: (DigitsOptions, _ progress: (Int, Float) -> Void) throws -> Digits.Outcome
    ) throws {
        print("\(example): \(network), cross-entropy, SGD lr \(learningRate) momentum \(momentum), batch 32, seed \(seed)")
        let start = Date()
        let outcome = try train(self) { epoch, loss in
            print("Epoch \(epoch), Loss: \(String(format: "%.4f", loss))")
        }
        print(String(format: "Train loss %.4f, test accuracy %.2f%% (%.1f s)",
                     outcome.trainLoss, 100 * outcome.testAccuracy, Date().timeIntervalSince(start)))
    }
}
