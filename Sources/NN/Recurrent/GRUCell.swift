import Core

/// One GRU step, PyTorch's `nn.GRUCell`: r, z = σ(W x + b + U h + c) for their blocks,
/// n = tanh(W_n x + b_n + r ⊙ (U_n h + c_n)), h′ = (1 − z) ⊙ n + z ⊙ h. Parameters `weight_ih`
/// `[3·hidden, inputs]`, `weight_hh` `[3·hidden, hidden]`, `bias_ih`, `bias_hh` `[3·hidden]`
/// (blocks r, z, n), uniform in ±1/√hidden. It runs the fused `recurrence` op for one step.
public final class GRUCell: Module, Layer {
    @Key public private(set) var inputWeights: Tensor
    @Key public private(set) var hiddenWeights: Tensor
    @Key public private(set) var inputBias: Tensor?
    @Key public private(set) var hiddenBias: Tensor?
    public let hidden: Int

    /// One GRU step, PyTorch's `nn.GRUCell`.
    ///
    /// - Parameters:
    ///   - inputs: Features of the input `[N, inputs]`.
    ///   - hidden: Features of the state `[N, hidden]`.
    ///   - bias: Whether to learn `bias_ih` and `bias_hh`.
    ///
    /// `weight_ih` `[3·hidden, inputs]`, `weight_hh` `[3·hidden, hidden]` (gate blocks r, z, n)
    /// and the biases are drawn from U(−1/√hidden, 1/√hidden).
    public init(inputs: Int, hidden: Int, bias: Bool = true) {
        require(inputs > 0 && hidden > 0, "GRUCell: inputs \(inputs) and hidden \(hidden) must be positive")
        let bound = 1 / Float(hidden).squareRoot()
        func uniform(_ shape: [Int]) -> Tensor { Tensor.uniform(shape, low: -bound, high: bound, requiresGrad: true) }
        _inputWeights = Key(wrappedValue: uniform([3 * hidden, inputs]), "weight_ih")
        _hiddenWeights = Key(wrappedValue: uniform([3 * hidden, hidden]), "weight_hh")
        _inputBias = Key(wrappedValue: bias ? uniform([3 * hidden]) : nil, "bias_ih")
        _hiddenBias = Key(wrappedValue: bias ? uniform([3 * hidden]) : nil, "bias_hh")
        self.hidden = hidden
    }

    /// h′ from a zero state.
    public func forward(_ input: Tensor) -> Tensor { forward(input, hidden: nil) }

    /// h′ `[N, hidden]` from `input` `[N, inputs]` and `hidden` (zeros when `nil`).
    public func forward(_ input: Tensor, hidden state: Tensor?) -> Tensor {
        require(input.rank == 2 && input.shape[1] == inputWeights.shape[1], "GRUCell: expects input [N, \(inputWeights.shape[1])], got \(describe(input.shape))")
        let zeros = Tensor.zeros([3 * hidden])
        return Tensor.recurrence(
            .gru, input: input.unsqueezed(dim: 0), hidden: state ?? Tensor.zeros([input.shape[0], hidden]), inputWeights: inputWeights,
            hiddenWeights: hiddenWeights, inputBias: inputBias ?? zeros, hiddenBias: hiddenBias ?? zeros
        ).squeezed(dim: 0)
    }
}
