import Core

/// The original tutorial's long short-term memory cell.
///
///     f = σ(xf(x) + hf(h))     forget gate
///     i = σ(xi(x) + hi(h))     input gate
///     o = σ(xo(x) + ho(h))     output gate
///     g = tanh(xc(x) + hc(h))  candidate
///     c′ = f ⊙ c + i ⊙ g
///     h′ = o ⊙ tanh(c′)
///     y = w_ho(h′)
///
/// `xf xi xo xc` are `Linear(inputs, hidden)` with bias, `hf hi ho hc` are
/// `Linear(hidden, hidden)` without, `w_ho` is `Linear(hidden, outputs)` without; parameters
/// are named after them (`xf.weight`, `hc.weight`, `w_ho.weight`), as in the original tutorial.
/// A cell made without `outputs` has no `w_ho` and its output is h′ itself, for models that
/// apply their own head to the stacked hidden states.
public final class LSTMCell: Module {
    public let xf: Linear, xi: Linear, xo: Linear, xc: Linear
    public let hf: Linear, hi: Linear, ho: Linear, hc: Linear
    /// Hidden → output; `nil` for a cell made without `outputs`.
    public let w_ho: Linear?

    /// A cell reading `inputs` features, keeping `hidden` state, emitting `outputs` through
    /// `w_ho` (or h′ itself when `outputs` is `nil`).
    public init(inputs: Int, hidden: Int, outputs: Int?) {
        xf = Linear(inputs: inputs, outputs: hidden)
        xi = Linear(inputs: inputs, outputs: hidden)
        xo = Linear(inputs: inputs, outputs: hidden)
        xc = Linear(inputs: inputs, outputs: hidden)
        hf = Linear(inputs: hidden, outputs: hidden, bias: false)
        hi = Linear(inputs: hidden, outputs: hidden, bias: false)
        ho = Linear(inputs: hidden, outputs: hidden, bias: false)
        hc = Linear(inputs: hidden, outputs: hidden, bias: false)
        w_ho = outputs.map { Linear(inputs: hidden, outputs: $0, bias: false) }
    }

    /// The size of the hidden and cell states.
    public var hiddenSize: Int { hf.outputs }

    /// The eight weight matrices and four biases packed gate by gate (f, i, o, g) for the
    /// fused step, built with `concat` so gradients flow back to each parameter. Rebuilt when
    /// a parameter changes (the optimizer's step), when the graph that used it was freed by
    /// `backward()`, or when gradient recording was switched on or off; within one forward
    /// sequence every step shares it, so its gradient is summed once and split once.
    private var packed: (input: Tensor, hidden: Tensor, bias: Tensor, versions: [Int], recording: Bool)?

    private var packedParts: [Tensor] {
        [xf.weight, xi.weight, xo.weight, xc.weight, hf.weight, hi.weight, ho.weight, hc.weight,
         xf.bias!, xi.bias!, xo.bias!, xc.bias!]
    }

    private func packedWeights() -> (input: Tensor, hidden: Tensor, bias: Tensor) {
        let parts = packedParts
        let versions = parts.map(\.storageVersion)
        let recording = Tensor.isRecordingGradients
        if let packed, packed.versions == versions, packed.recording == recording,
           !packed.input.isGraphFreed, !packed.hidden.isGraphFreed, !packed.bias.isGraphFreed {
            return (packed.input, packed.hidden, packed.bias)
        }
        let input = Tensor.concat(Array(parts[0..<4]), dim: 0)
        let hidden = Tensor.concat(Array(parts[4..<8]), dim: 0)
        let bias = Tensor.concat(Array(parts[8..<12]), dim: 0)
        packed = (input, hidden, bias, versions, recording)
        return (input, hidden, bias)
    }

    /// One step: `input` `[batch, inputs]` and the state (hidden, cell), each
    /// `[batch, hidden]` → (output `[batch, outputs]`, the new state).
    public func forward(
        _ input: Tensor, state: (hidden: Tensor, cell: Tensor)
    ) -> (output: Tensor, state: (hidden: Tensor, cell: Tensor)) {
        let weights = packedWeights()
        let size = hiddenSize
        let both = Tensor.lstmGates(
            input: input, hidden: state.hidden, cell: state.cell,
            inputWeights: weights.input, hiddenWeights: weights.hidden, bias: weights.bias)
        let hidden = both.slice(dim: 1, range: 0..<size)
        let cell = both.slice(dim: 1, range: size..<(2 * size))
        return (w_ho.map { $0(hidden) } ?? hidden, (hidden, cell))
    }

    /// A zero (hidden, cell) state for `batchSize` sequences.
    public func zeroState(batchSize: Int) -> (hidden: Tensor, cell: Tensor) {
        (Tensor.zeros([batchSize, hiddenSize]), Tensor.zeros([batchSize, hiddenSize]))
    }

}
