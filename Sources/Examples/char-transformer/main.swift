import ArgumentParser
import ExampleTasks
import Foundation
import Synapse

/// `swift run -c release char-transformer`: a character-level Transformer language model.
struct CharTransformerCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "char-transformer",
        abstract: "Train a 2-layer pre-norm causal Transformer on data/text/corpus.txt and sample from it.")

    @Option(help: "Training iterations (each: 32 streams x 32 characters).")
    var iterations = 500

    @Option(help: "Seed of the generator for the weights; the sample uses seed + 1.")
    var seed = Random.defaultSeed

    @Option(help: "Adam learning rate.")
    var learningRate: Float = 2e-3

    @Option(help: "Characters to sample after training.")
    var sampleLength = 200

    @Option(help: "Text the model reads before sampling.")
    var prompt = "The "

    func validate() throws {
        guard iterations > 0 else { throw ValidationError("--iterations must be positive") }
        guard !prompt.isEmpty, prompt.allSatisfy(\.isASCII) else { throw ValidationError("--prompt must be non-empty ASCII text") }
    }

    func run() throws {
        let start = Date()
        let corpus = try CharLSTM.loadCorpus()
        guard prompt.utf8.allSatisfy({ corpus.vocabulary.contains($0) }) else {
            throw ValidationError("--prompt uses characters that are not in the corpus")
        }
        print("char-transformer: Embedding(\(corpus.vocabulary.count), 64) + positions -> 2 x pre-norm encoder layer (d 64, 4 heads, "
              + "ff 128, GELU, causal) -> LayerNorm -> Linear(64, \(corpus.vocabulary.count)), 32 x 32 characters per iteration, "
              + "Adam lr \(learningRate), seed \(seed)")
        let outcome = try CharTransformer.train(iterations: iterations, seed: seed, learningRate: learningRate) { iteration, loss in
            print(String(format: "Iteration %d, Loss: %.4f", iteration, loss))
        }
        print(String(format: "Loss: first iteration %.4f, last 20 iterations %.4f nats/char; unigram entropy %.4f (%.1f s)",
                     outcome.firstLoss, outcome.finalLoss, corpus.unigramEntropy, Date().timeIntervalSince(start)))
        let text = CharTransformer.sample(outcome.model, corpus: outcome.corpus, prompt: prompt, count: sampleLength, seed: seed &+ 1)
        print("Sample (seed \(seed &+ 1)):\n\(prompt)\(text)")
    }
}

runExample(CharTransformerCommand.self)
