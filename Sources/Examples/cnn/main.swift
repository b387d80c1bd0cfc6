import ArgumentParser
import ExampleTasks
import Foundation
import Synapse

/// `swift run -c release cnn`: a convolutional network on the 8×8 handwritten digits.
struct CNNCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cnn", abstract: "Train a two-layer CNN on the UCI 8x8 digits and print its test accuracy.")

    @OptionGroup var options: DigitsOptions

    func run() throws {
        try options.run("cnn", network: "Conv(1,16,3,p1)-ReLU-MaxPool2-Conv(16,32,3,p1)-ReLU-MaxPool2-Flatten-Linear(128,10)") { o, progress in
            try DigitsCNN.train(epochs: o.epochs, seed: o.seed, learningRate: o.learningRate, momentum: o.momentum, progress: progress)
        }
    }
}

runExample(CNNCommand.self)
