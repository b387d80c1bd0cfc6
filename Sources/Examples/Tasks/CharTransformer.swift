import Synapse

/// A character-level Transformer language model, the recipe of the PyTorch reference
/// (`tools/bench/pytorch/char_transformer.py`): Embedding(V, 64) plus a learned position
/// Embedding(32, 64) → 2 pre-norm Transformer encoder layers (d 64, 4 heads, feed-forward 128,
/// GELU, no dropout, batch first) with a causal mask → LayerNorm(64) → Linear(64, V);
/// cross-entropy over all B·T tokens; Adam 2e-3. The data are char-lstm's: 32 contiguous
/// streams, iteration i reads chunk i mod chunks (inputs and the targets one character on).
public enum CharTransformer {
    public static let context = 32
    public static let width = 64

    /// The model, with PyTorch's names: `embed.weight`, `position.weight`,
    /// `encoder.layers.0.self_attn.in_proj_weight`, …, `norm.weight`, `head.bias`.
    public final class Model: Module, Layer {
        public let embed: Embedding
        public let position: Embedding
        public let encoder: TransformerEncoder
        public let norm: LayerNorm
        public let head: Linear

        public init(vocabulary: Int) {
            embed = Embedding(count: vocabulary, dimension: CharTransformer.width)
            position = Embedding(count: CharTransformer.context, dimension: CharTransformer.width)
            let layer = TransformerEncoderLayer(
                dModel: CharTransformer.width, heads: 4, feedforward: 128, dropout: 0, activation: .gelu, batchFirst: true, normFirst: true)
            encoder = TransformerEncoder(layer: layer, count: 2)
            norm = LayerNorm(CharTransformer.width)
            head = Linear(inputs: CharTransformer.width, outputs: vocabulary)
        }

        /// Character ids `[B, T]` (T ≤ 32) → next-character logits `[B, T, V]`; position t sees
        /// only positions ≤ t.
        public func forward(_ ids: Tensor) -> Tensor {
            let length = ids.shape[1]
            let positions = position(Tensor((0..<length).map(Float.init)))
            let h = encoder.forward(embed(ids) + positions, mask: nil, isCausal: true)
            return head(norm(h))
        }
    }

    /// What a training run leaves behind.
    public struct Outcome {
        public let model: Model
        public let corpus: CharLSTM.Corpus
        public let firstLoss: Float
        /// The mean loss of the last 20 iterations.
        public let finalLoss: Float
        public let trainingSeconds: Double
    }

    /// Trains from `seed`; `progress` gets (iteration, mean loss since the last report).
    public static func train(
        iterations: Int = 500, seed: UInt64 = Random.defaultSeed, learningRate: Float = 2e-3, reportEvery: Int = 50,
        progress: (Int, Float) -> Void = { _, _ in }
    ) throws -> Outcome {
        let training = try Random.withSeed(seed) { try CharTransformerTraining(learningRate: learningRate) }
        let run = try IterationRun(trainer: training.makeTrainer(), iterations: iterations, reportEvery: reportEvery, progress: progress)
        return Outcome(
            model: training.network, corpus: training.corpus, firstLoss: run.firstLoss, finalLoss: run.finalLoss,
            trainingSeconds: run.seconds)
    }

    /// `count` characters sampled one at a time after `prompt` (the last 32 characters are the
    /// context), from a generator of its own seeded with `seed`.
    public static func sample(_ model: Model, corpus: CharLSTM.Corpus, prompt: String, count: Int, seed: UInt64) -> String {
        var generator = RandomGenerator(seed: seed)
        var index = [Int](repeating: 0, count: 256)
        for (i, byte) in corpus.vocabulary.enumerated() { index[Int(byte)] = i }
        var ids = prompt.utf8.map { index[Int($0)] }
        var output: [UInt8] = []
        return Tensor.withoutGradients {
            model.withMode(training: false) {
                for _ in 0..<count {
                    let window = Array(ids.suffix(context))
                    let logits = model(Tensor(window.map(Float.init), shape: [1, window.count]))
                    let last = logits.slice(dim: 1, range: window.count - 1..<window.count).reshaped([-1])
                    let probabilities = last.softmax(dim: 0).scalars
                    var u = generator.nextUnitFloat()
                    var next = probabilities.count - 1
                    for (i, p) in probabilities.enumerated() {
                        if u < p { next = i; break }
                        u -= p
                    }
                    ids.append(next)
                    output.append(corpus.vocabulary[next])
                }
                return String(decoding: output, as: UTF8.self)
            }
        }
    }
}

/// The character Transformer as the ingredients of a `Trainer` (`synapse train
/// char-transformer`): batch k of an epoch is chunk k of every one of the 32 streams (ids
/// `[32, 32]`, targets one character on, flattened); nothing is carried between chunks.
final class CharTransformerTraining: EpochTraining {
    let corpus: CharLSTM.Corpus
    let network: CharTransformer.Model
    let optimizer: any Optimizer
    let batches: any BatchSource
    private let lossFunction = CrossEntropyLoss()

    init(learningRate: Float?) throws {
        let corpus = try CharLSTM.loadCorpus()
        self.corpus = corpus
        network = CharTransformer.Model(vocabulary: corpus.vocabulary.count)
        optimizer = Adam(parameters: network.namedParameters, learningRate: learningRate ?? 2e-3)
        let (batchSize, t) = (32, CharTransformer.context)
        let streamLength = corpus.ids.count / batchSize
        batches = IndexedBatches(batchesPerEpoch: (streamLength - 1) / t) { chunk in
            func ids(offset: Int) -> [Float] {
                (0..<batchSize).flatMap { stream in (0..<t).map { Float(corpus.ids[stream * streamLength + chunk * t + offset + $0]) } }
            }
            return (Tensor(ids(offset: 0), shape: [batchSize, t]), Tensor(ids(offset: 1)))
        }
    }

    var model: Module { network }

    /// Logits for every position, `[B · T, V]`.
    func forward(_ ids: Tensor) -> Tensor { network(ids).reshaped([-1, corpus.vocabulary.count]) }

    func loss(_ output: Tensor, _ target: Tensor) -> Tensor { lossFunction(output, target) }

    /// Character ids `input` `[N, 32]` → logits `output` `[N, 32, V]`.
    func traceGraph() throws -> TracedGraph {
        try TracedGraph.trace(network, exampleInput: Tensor((0..<64).map { Float($0 % corpus.vocabulary.count) }, shape: [2, 32]))
    }

    func report() -> String {
        "Sample:\nThe " + CharTransformer.sample(network, corpus: corpus, prompt: "The ", count: 200, seed: Random.defaultSeed)
    }
}
