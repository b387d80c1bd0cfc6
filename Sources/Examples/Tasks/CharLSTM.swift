import Synapse

/// A character-level language model: Embedding(V, 32) → LSTMCell(32, 128) stepped over 32
/// characters → Linear(128, V) on the stacked hidden states, cross-entropy, Adam, truncated
/// backpropagation through time (the state is carried, detached, from one chunk to the next).
///
/// The data layout follows tools/bench/pytorch/char_lstm.py (the team's reference workload): the corpus cut into 32 contiguous
/// streams, iteration i reads chunk i mod chunks of each, the state resets at chunk 0.
public enum CharLSTM {
    /// The corpus as class indices, with the vocabulary (sorted distinct bytes).
    public struct Corpus {
        public let vocabulary: [UInt8]
        public let ids: [Int]

        /// The entropy (nats per character) of the corpus' character frequencies: the loss of
        /// the best model that ignores context.
        public var unigramEntropy: Float {
            var counts = [Int](repeating: 0, count: vocabulary.count)
            for id in ids { counts[id] += 1 }
            let total = Double(ids.count)
            return Float(counts.filter { $0 > 0 }.reduce(0.0) { $0 - Double($1) / total * log(Double($1) / total) })
        }
    }

    /// Reads data/text/corpus.txt.
    public static func loadCorpus() throws -> Corpus {
        let bytes = Array(try DataFiles.read("text/corpus.txt").utf8)
        let vocabulary = Array(Set(bytes)).sorted()
        var index = [Int](repeating: 0, count: 256)
        for (i, byte) in vocabulary.enumerated() { index[Int(byte)] = i }
        return Corpus(vocabulary: vocabulary, ids: bytes.map { index[Int($0)] })
    }

    /// Embedding → LSTMCell → Linear, with parameters `embed.weight`, `cell.xf.weight`, …,
    /// `head.weight`, `head.bias`; or, with `layer`, Embedding → PyTorch's `LSTM` layer (one
    /// fused op over the whole chunk) → Linear, with `lstm.weight_ih_l0`, … instead of `cell.…`.
    public final class Model: Module {
        public let embed: Embedding
        /// The original tutorial's cell, stepped in a loop (without `layer`).
        public let cell: LSTMCell?
        /// The fused sequence layer (with `layer`).
        public let lstm: LSTM?
        public let head: Linear
        public let hidden: Int

        public init(vocabulary: Int, embedding: Int = 32, hidden: Int = 128, layer: Bool = false) {
            embed = Embedding(count: vocabulary, dimension: embedding)
            cell = layer ? nil : LSTMCell(inputs: embedding, hidden: hidden, outputs: nil)
            lstm = layer ? LSTM(inputs: embedding, hidden: hidden) : nil
            head = Linear(inputs: hidden, outputs: vocabulary)
            self.hidden = hidden
        }

        /// A zero state for `batchSize` streams: hidden and cell `[batchSize, hidden]`.
        public func zeroState(batchSize: Int) -> (hidden: Tensor, cell: Tensor) {
            (Tensor.zeros([batchSize, hidden]), Tensor.zeros([batchSize, hidden]))
        }

        /// Runs over `inputs` (one `[batch]` tensor of ids per time step) from `state`;
        /// returns logits `[steps · batch, V]` (time-major rows) and the last state.
        public func forward(
            _ inputs: [Tensor], state: (hidden: Tensor, cell: Tensor)
        ) -> (logits: Tensor, state: (hidden: Tensor, cell: Tensor)) {
            if let lstm {
                let ids = Tensor.concat(inputs.map { $0.reshaped([1, -1]) }, dim: 0)
                let (output, last) = lstm.forward(embed(ids), state: (state.hidden.unsqueezed(dim: 0), state.cell.unsqueezed(dim: 0)))
                return (head(output.reshaped([-1, hidden])), (last.hidden.squeezed(dim: 0), last.cell.squeezed(dim: 0)))
            }
            var state = state
            var hiddens: [Tensor] = []
            for ids in inputs {
                state = cell!.forward(embed(ids), state: state).state
                hiddens.append(state.hidden)
            }
            return (head(Tensor.concat(hiddens, dim: 0)), state)
        }
    }

    /// What a training run leaves behind.
    public struct Outcome {
        public let model: Model
        public let corpus: Corpus
        /// The loss of the first iteration (about ln V for an untrained model).
        public let firstLoss: Float
        /// The mean loss of the last 20 iterations.
        public let finalLoss: Float
        /// Wall-clock seconds of the training loop alone.
        public let trainingSeconds: Double
    }

    /// Trains from `seed`; `progress` gets (iteration, mean loss since the last report).
    public static func train(
        iterations: Int = 1_000, seed: UInt64 = Random.defaultSeed, batchSize: Int = 32, steps: Int = 32,
        learningRate: Float = 2e-3, layer: Bool = false, reportEvery: Int = 100, progress: (Int, Float) -> Void = { _, _ in }
    ) throws -> Outcome {
        let training = try Random.withSeed(seed) {
            try CharLSTMTraining(learningRate: learningRate, batchSize: batchSize, steps: steps, layer: layer)
        }
        let run = try IterationRun(trainer: training.makeTrainer(), iterations: iterations, reportEvery: reportEvery, progress: progress)
        return Outcome(
            model: training.network, corpus: training.corpus, firstLoss: run.firstLoss, finalLoss: run.finalLoss,
            trainingSeconds: run.seconds)
    }

    /// `count` characters drawn one at a time from the model's softmax after reading `prompt`,
    /// with a generator of its own seeded with `seed`.
    public static func sample(
        _ model: Model, corpus: Corpus, prompt: String, count: Int, seed: UInt64, temperature: Float = 1
    ) -> String {
        var generator = RandomGenerator(seed: seed)
        var index = [Int](repeating: 0, count: 256)
        for (i, byte) in corpus.vocabulary.enumerated() { index[Int(byte)] = i }
        return Tensor.withoutGradients {
            var state = model.zeroState(batchSize: 1)
            var output: [UInt8] = []
            var logits = Tensor.zeros([1, corpus.vocabulary.count])
            for byte in prompt.utf8 {
                (logits, state) = model.forward([Tensor([Float(index[Int(byte)])])], state: state)
            }
            for _ in 0..<count {
                let probabilities = (logits * (1 / temperature)).logSoftmax(dim: 1).exp().scalars
                var u = generator.nextUnitFloat()
                var next = probabilities.count - 1
                for (i, p) in probabilities.enumerated() {
                    if u < p { next = i; break }
                    u -= p
                }
                output.append(corpus.vocabulary[next])
                (logits, state) = model.forward([Tensor([Float(next)])], state: state)
            }
            return String(decoding: output, as: UTF8.self)
        }
    }
}

/// The character model as the ingredients of a `Trainer`: batch k of an epoch is chunk k of
/// every one of the 32 streams (ids `[steps, B]`, time-major; targets the ids one character on,
/// `[steps · B]`). The state is carried, detached, from one chunk to the next and reset at
/// chunk 0, so an epoch starts from a zero state — and a checkpoint mid-epoch would lack the
/// carried state: this run resumes at epoch boundaries only.
final class CharLSTMTraining: EpochTraining {
    let corpus: CharLSTM.Corpus
    let network: CharLSTM.Model
    let optimizer: any Optimizer
    private let chunks: IndexedBatches
    private let batchSize: Int
    private let steps: Int
    private var state: (hidden: Tensor, cell: Tensor)
    private let lossFunction = CrossEntropyLoss()

    init(learningRate: Float?, batchSize: Int = 32, steps: Int = 32, layer: Bool = false) throws {
        let corpus = try CharLSTM.loadCorpus()
        self.corpus = corpus
        network = CharLSTM.Model(vocabulary: corpus.vocabulary.count, layer: layer)
        optimizer = Adam(parameters: network.namedParameters, learningRate: learningRate ?? 2e-3)
        self.batchSize = batchSize
        self.steps = steps
        let streamLength = corpus.ids.count / batchSize
        chunks = IndexedBatches(batchesPerEpoch: (streamLength - 1) / steps) { chunk in
            func ids(at offset: Int) -> [Float] {
                (0..<batchSize).map { Float(corpus.ids[$0 * streamLength + chunk * steps + offset]) }
            }
            return (Tensor((0..<steps).flatMap { ids(at: $0) }, shape: [steps, batchSize]), Tensor((1...steps).flatMap { ids(at: $0) }))
        }
        state = network.zeroState(batchSize: batchSize)
    }

    var model: Module { network }
    var batches: any BatchSource { chunks }
    var resumesMidEpoch: Bool { false }

    /// Over one chunk from the carried state (zero at chunk 0); keeps the last state, detached.
    func forward(_ ids: Tensor) -> Tensor {
        if chunks.position.batch == 1 { state = network.zeroState(batchSize: batchSize) }
        let inputs = (0..<ids.shape[0]).map { ids.slice(dim: 0, range: $0..<$0 + 1).reshaped([-1]) }
        let (logits, last) = network.forward(inputs, state: state)
        state = (last.hidden.detached(), last.cell.detached())
        return logits
    }

    func loss(_ output: Tensor, _ target: Tensor) -> Tensor { lossFunction(output, target) }

    /// One step: a batch of character ids `x` `[B]` and the state `h`, `c` → next-character
    /// logits `y` `[B, V]` and the new state.
    func traceGraph() throws -> TracedGraph {
        let state = network.zeroState(batchSize: 2)
        if network.lstm != nil {
            // The layer: ids `x` `[T, B]` (time-major) → logits `y` `[T·B, V]` and the last state.
            return try TracedGraph.trace(
                parameters: network.namedParameters, inputs: [("x", Tensor([1, 2, 3, 4, 5, 6, 7, 8], shape: [4, 2])), ("h", state.hidden), ("c", state.cell)]
            ) { inputs in
                let ids = (0..<inputs[0].shape[0]).map { inputs[0].slice(dim: 0, range: $0..<$0 + 1).reshaped([-1]) }
                let (logits, last) = network.forward(ids, state: (inputs[1], inputs[2]))
                return [("y", logits), ("h_out", last.hidden), ("c_out", last.cell)]
            }
        }
        return try TracedGraph.trace(
            parameters: network.namedParameters, inputs: [("x", Tensor([1, 2])), ("h", state.hidden), ("c", state.cell)]
        ) { inputs in
            let step = network.cell!.forward(network.embed(inputs[0]), state: (inputs[1], inputs[2]))
            return [("y", network.head(step.output)), ("h_out", step.state.hidden), ("c_out", step.state.cell)]
        }
    }

    func report() -> String {
        let sample = CharLSTM.sample(network, corpus: corpus, prompt: "The ", count: 200, seed: Random.defaultSeed)
        return "Unigram entropy \(fixed(corpus.unigramEntropy, 4)) nats/char. Sample:\nThe \(sample)"
    }
}
