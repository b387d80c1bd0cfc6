import ArgumentParser
import ExampleTasks
import Foundation
import Synapse

/// `swift run -c release digits`: an MLP on the 8×8 handwritten digits.
struct DigitsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "digits", abstract: "Train a 64-128-ReLU-10 MLP on the UCI 8x8 digits and print its test accuracy.")

    @OptionGroup var options: DigitsOptions

    func run() throws {
        try options.run("digits", network: "64-128-ReLU-10") { o, progress in
            try Digits.train(epochs: o.epochs, seed: o.seed, learningRate: o.learningRate, momentum: o.momentum, progress: progress)
        }
    }
}

runExample(DigitsCommand.self)
