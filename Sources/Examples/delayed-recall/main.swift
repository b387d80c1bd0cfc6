import ArgumentParser
import ExampleTasks
import Foundation
import Synapse

/// `swift run -c release delayed-recall`: RNNCell against LSTMCell on remembering k steps back.
struct DelayedRecallCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "delayed-recall",
        abstract: "Train RNNCell and LSTMCell to recall the symbol seen k steps back; print accuracy per k.")

    @Option(help: "Training iterations (batches of 32 sequences) per cell and delay.")
    var iterations = 3_000

    @Option(help: "Alias of --iterations, for symmetry with the other examples.")
    var epochs: Int?

    @Option(help: "Seed of the generators for weights and sequences.")
    var seed = Random.defaultSeed

    @Option(help: "Comma-separated delays k.")
    var delays = "5,10,20,40"

    @Option(help: "Alphabet size (chance accuracy is 1 / symbols).")
    var symbols = 8

    @Option(help: "Hidden size of both cells.")
    var hidden = 32

    @Option(help: "Adam learning rate.")
    var learningRate: Float = 0.003

    @Option(help: "Forget-gate bias of the third column's LSTM (the original tutorial initialises it to 0).")
    var forgetBias: Float = 2

    func parsedDelays() throws -> [Int] {
        let values = delays.split(separator: ",").map { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard !values.isEmpty, values.allSatisfy({ ($0 ?? 0) > 0 }) else {
            throw ValidationError("--delays must be positive integers separated by commas, got \(delays)")
        }
        return values.map { $0! }
    }

    func validate() throws {
        _ = try parsedDelays()
        guard (epochs ?? iterations) > 0, symbols > 1, hidden > 0 else {
            throw ValidationError("--iterations and --hidden must be positive and --symbols at least 2")
        }
    }

    func run() throws {
        let iterations = epochs ?? self.iterations
        print("delayed-recall: \(symbols) symbols (chance \(String(format: "%.1f", 100 / Double(symbols)))%), hidden \(hidden), "
              + "\(iterations) iterations of 32 sequences, Adam lr \(learningRate), clip 1, seed \(seed)")
        let biasColumn = "LSTM, forget bias \(forgetBias)"
        print("k     RNNCell  LSTMCell  \(biasColumn)  seconds")
        for delay in try parsedDelays() {
            let start = Date()
            let rnn = DelayedRecall.accuracy(cell: .rnn, delay: delay, symbols: symbols, hidden: hidden, iterations: iterations, learningRate: learningRate, seed: seed)
            let lstm = DelayedRecall.accuracy(
                cell: .lstm, delay: delay, symbols: symbols, hidden: hidden, iterations: iterations,
                learningRate: learningRate, seed: seed)
            let biased = DelayedRecall.accuracy(
                cell: .lstm, delay: delay, symbols: symbols, hidden: hidden, iterations: iterations,
                learningRate: learningRate, forgetBias: forgetBias, seed: seed)
            let accuracies = String(format: "%6.1f%%  %7.1f%%  ", 100 * rnn, 100 * lstm)
                + String(format: "%\(biasColumn.count - 1).1f%%", 100 * biased)
            print(String(format: "%-5d ", delay) + accuracies + String(format: "  %7.1f", Date().timeIntervalSince(start)))
        }
    }
}

runExample(DelayedRecallCommand.self)
