import ArgumentParser
import ExampleTasks
import Foundation
import Synapse

/// `swift run -c release char-lstm`: a character-level LSTM language model.
struct CharLSTMCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "char-lstm",
        abstract: "Train Embedding -> LSTMCell -> Linear on data/text/corpus.txt and sample from it.")

    @Option(help: "Training iterations (each: 32 streams x 32 characters).")
    var iterations = 1_000

    @Option(help: "Alias of --iterations, for symmetry with the other examples.")
    var epochs: Int?

    @Option(help: "Seed of the generator for the weights; the sample uses seed + 1.")
    var seed = Random.defaultSeed

    @Option(help: "Adam learning rate.")
    var learningRate: Float = 2e-3

    @Option(help: "Characters to sample after training.")
    var sampleLength = 200

    @Option(help: "Text the model reads before sampling.")
    var prompt = "The "

    @Flag(help: "Use PyTorch's fused LSTM layer (one op over each 32-character chunk) instead of the stepped LSTMCell.")
    var layer = false

    func validate() throws {
        guard (epochs ?? iterations) > 0 else { throw ValidationError("--iterations must be positive") }
        guard !prompt.isEmpty, prompt.allSatisfy(\.isASCII) else {
            throw ValidationError("--prompt must be non-empty ASCII text")
        }
    }

    func run() throws {
        let iterations = epochs ?? self.iterations
        let start = Date()
        let corpus = try CharLSTM.loadCorpus()
        guard prompt.utf8.allSatisfy({ corpus.vocabulary.contains($0) }) else {
            throw ValidationError("--prompt uses characters that are not in the corpus")
        }
        print("char-lstm: Embedding(\(corpus.vocabulary.count), 32) -> \(layer ? "LSTM" : "LSTMCell")(32, 128) -> Linear(128, \(corpus.vocabulary.count)), "
              + "32 x 32 characters per iteration, Adam lr \(learningRate), seed \(seed)")
        print(String(format: "Unigram entropy of the corpus: %.4f nats/char", corpus.unigramEntropy))
        let outcome = try CharLSTM.train(iterations: iterations, seed: seed, learningRate: learningRate, layer: layer) { iteration, loss in
            print(String(format: "Iteration %d, Loss: %.4f", iteration, loss))
        }
        print(String(format: "Loss: first iteration %.4f, last 20 iterations %.4f nats/char; unigram entropy %.4f (%.1f s)",
                     outcome.firstLoss, outcome.finalLoss, corpus.unigramEntropy, Date().timeIntervalSince(start)))
        let text = CharLSTM.sample(
            outcome.model, corpus: outcome.corpus, prompt: prompt, count: sampleLength, seed: seed &+ 1)
        print("Sample (seed \(seed &+ 1)):\n\(prompt)\(text)")
    }
}

runExample(CharLSTMCommand.self)
