import Core

/// The seed's long short-term memory cell.
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
/// are named after them (`xf.weight`, `hc.weight`, `w_ho.weight`), as in the seed.
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

    /// One step: `input` `[batch, inputs]` and the state (hidden, cell), each
    /// `[batch, hidden]` → (output `[batch, outputs]`, the new state).
    public func forward(
        _ input: Tensor, state: (hidden: Tensor, cell: Tensor)
    ) -> (output: Tensor, state: (hidden: Tensor, cell: Tensor)) {
        let (h, c) = state
        let forget = (xf(input) + hf(h)).sigmoid()
        let inputGate = (xi(input) + hi(h)).sigmoid()
        let outputGate = (xo(input) + ho(h)).sigmoid()
        let candidate = (xc(input) + hc(h)).tanh()
        let cell = forget * c + inputGate * candidate
        let hidden = outputGate * cell.tanh()
        return (w_ho.map { $0(hidden) } ?? hidden, (hidden, cell))
    }

    /// A zero (hidden, cell) state for `batchSize` sequences.
    public func zeroState(batchSize: Int) -> (hidden: Tensor, cell: Tensor) {
        (Tensor.zeros([batchSize, hiddenSize]), Tensor.zeros([batchSize, hiddenSize]))
    }

    public var namedParameters: [(name: String, tensor: Tensor)] {
        var parts: [(String, Linear)] = [
            ("xf", xf), ("xi", xi), ("xo", xo), ("xc", xc), ("hf", hf), ("hi", hi), ("ho", ho), ("hc", hc),
        ]
        if let w_ho { parts.append(("w_ho", w_ho)) }
        return parts.flatMap { $0.1.namedParameters(prefixedWith: $0.0) }
    }
}
