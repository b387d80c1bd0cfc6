import Synapse

/// The original tutorial's claim made visible: recall the symbol seen k steps back.
///
/// Each sequence is k + 1 random symbols (one-hot, from an alphabet of `symbols`); after
/// reading the last one the model must name the first. Every symbol in between is a random
/// distractor from the same alphabet, so only a memory that survives k steps beats chance
/// (1 / symbols). Both cells are the original tutorial's, with the same hidden size; the answer is the
/// cell's output after the last step, trained with cross-entropy and Adam, gradients clipped
/// to norm 1 for both. `forgetBias` sets the LSTM's forget-gate bias after the original tutorial's
/// initialisation (which makes it 0); a positive bias keeps the cell's memory open from the
/// start (Gers et al. 2000; Jozefowicz et al. 2015).
public enum DelayedRecall {
    /// Which recurrent cell to train.
    public enum Cell: String, CaseIterable, Sendable {
        case rnn = "RNNCell"
        case lstm = "LSTMCell"
    }

    /// A batch: one `[batch, symbols]` one-hot tensor per step, and the answers `[batch]`.
    static func batch(
        size: Int, delay: Int, symbols: Int, using generator: inout RandomGenerator
    ) -> (steps: [Tensor], answers: Tensor) {
        let sequence = (0...delay).map { _ in (0..<size).map { _ in Int(generator.next() % UInt64(symbols)) } }
        let steps = sequence.map { column in
            let oneHot = Tensor.zeros([size, symbols])
            oneHot.withUnsafeMutableBufferPointer { buffer in
                for (row, symbol) in column.enumerated() { buffer[row * symbols + symbol] = 1 }
            }
            return oneHot
        }
        return (steps, Tensor(sequence[0].map(Float.init)))
    }

    /// Trains a fresh `cell` for `delay` with a `Trainer` (one "epoch" of `iterations` fresh
    /// batches) and returns its accuracy on 1,000 new sequences.
    public static func accuracy(
        cell kind: Cell, delay: Int, symbols: Int = 8, hidden: Int = 32, iterations: Int = 3_000,
        batchSize: Int = 32, learningRate: Float = 0.003, forgetBias: Float = 0,
        seed: UInt64 = Random.defaultSeed
    ) -> Float {
        var generator = RandomGenerator(seed: seed &+ UInt64(delay))
        let recurrent: Module
        let step: ([Tensor]) -> Tensor
        switch kind {
        case .rnn:
            let cell = Random.withSeed(seed) { RNNCell(inputs: symbols, hidden: hidden, outputs: symbols, activation: .tanh) }
            recurrent = cell
            step = { inputs in
                var state = cell.zeroHidden(batchSize: inputs[0].shape[0])
                var output = state
                for x in inputs { (output, state) = cell.forward(x, hidden: state) }
                return output
            }
        case .lstm:
            let cell = Random.withSeed(seed) { LSTMCell(inputs: symbols, hidden: hidden, outputs: symbols) }
            cell.xf.bias!.replaceScalars(with: [Float](repeating: forgetBias, count: hidden))
            recurrent = cell
            step = { inputs in
                var state = cell.zeroState(batchSize: inputs[0].shape[0])
                var output = state.hidden
                for x in inputs { (output, state) = cell.forward(x, state: state) }
                return output
            }
        }
        // A batch's steps stacked as `[k + 1, batch, symbols]`; the forward pass unstacks them.
        func unstacked(_ sequence: Tensor) -> [Tensor] {
            (0..<sequence.shape[0]).map { sequence.slice(dim: 0, range: $0..<$0 + 1).squeezed(dim: 0) }
        }
        let batches = IndexedBatches(batchesPerEpoch: max(1, iterations)) { _ in
            let (inputs, answers) = batch(size: batchSize, delay: delay, symbols: symbols, using: &generator)
            return (Tensor.concat(inputs.map { $0.unsqueezed(dim: 0) }, dim: 0), answers)
        }
        let lossFunction = CrossEntropyLoss()
        let trainer = Trainer(
            model: recurrent, forward: { step(unstacked($0)) }, optimizer: Adam(parameters: recurrent.namedParameters, learningRate: learningRate),
            loss: { lossFunction($0, $1) }, data: batches)
        trainer.clipGradientNorm = 1
        try! trainer.fit(epochs: iterations > 0 ? 1 : 0)  // no checkpoint, no callbacks: nothing can throw
        let (inputs, answers) = batch(size: 1_000, delay: delay, symbols: symbols, using: &generator)
        return Tensor.withoutGradients { Digits.accuracy(logits: step(inputs), labels: answers) }
    }
}
