import Core

/// The body of `LSTM`, `GRU` and `RNN` (PyTorch's `RNNBase`): `layers` stacked layers over a
/// whole sequence, each direction one fused `recurrence` op (the input projection of all
/// steps is one sgemm; only the recurrent product runs per step).
///
/// Parameters per layer `k` and direction, PyTorch's names and layouts: `weight_ih_lk`
/// `[G·hidden, in]` (in = `inputs` for layer 0, `hidden · directions` above), `weight_hh_lk`
/// `[G·hidden, hidden]`, `bias_ih_lk`, `bias_hh_lk` `[G·hidden]`, with `_reverse` appended for
/// the backward direction; G gate blocks in PyTorch's order (LSTM i, f, g, o; GRU r, z, n).
/// All are initialised uniform in ±1/√hidden, as PyTorch does.
public class RecurrentLayer: Module, Layer {
    override public var settingsDescription: String {
        "inputs: \(inputs), hidden: \(hidden), layers: \(layers), bias: \(hasBias), batchFirst: \(batchFirst), dropout: \(dropout), bidirectional: \(bidirectional)"
    }

    public let kind: RecurrentKind
    public let inputs: Int
    public let hidden: Int
    public let layers: Int
    public let batchFirst: Bool
    public let bidirectional: Bool
    /// Dropout on the outputs of every layer but the last, in training mode.
    public let dropout: Float
    /// The parameters by name, in PyTorch's order.
    let weights: [(name: String, tensor: Tensor)]
    let hasBias: Bool

    init(kind: RecurrentKind, inputs: Int, hidden: Int, layers: Int, bias: Bool, batchFirst: Bool, dropout: Float, bidirectional: Bool) {
        let name = "\(kind == .lstm ? "LSTM" : kind == .gru ? "GRU" : "RNN")"
        require(inputs > 0 && hidden > 0 && layers > 0, "\(name): inputs \(inputs), hidden \(hidden) and layers \(layers) must be positive")
        require(dropout >= 0 && dropout < 1, "\(name): dropout must be in [0, 1), got \(dropout)")
        (self.kind, self.inputs, self.hidden, self.layers, self.batchFirst) = (kind, inputs, hidden, layers, batchFirst)
        (self.bidirectional, self.dropout, self.hasBias) = (bidirectional, dropout, bias)
        let bound = 1 / Float(hidden).squareRoot()
        let width = kind.gates * hidden
        var weights: [(String, Tensor)] = []
        for layer in 0..<layers {
            for direction in 0..<(bidirectional ? 2 : 1) {
                let suffix = "_l\(layer)" + (direction == 1 ? "_reverse" : "")
                let layerInputs = layer == 0 ? inputs : hidden * (bidirectional ? 2 : 1)
                func uniform(_ shape: [Int]) -> Tensor { Tensor.uniform(shape, low: -bound, high: bound, requiresGrad: true) }
                weights += [("weight_ih" + suffix, uniform([width, layerInputs])), ("weight_hh" + suffix, uniform([width, hidden]))]
                if bias { weights += [("bias_ih" + suffix, uniform([width])), ("bias_hh" + suffix, uniform([width]))] }
            }
        }
        self.weights = weights
    }

    override public var members: [(name: String, member: ModuleMember)] {
        weights.map { ($0.name, .parameter($0.tensor)) }
    }

    var directions: Int { bidirectional ? 2 : 1 }

    /// The output sequence from a zero state: `[T, N, directions·hidden]` (`[N, T, …]` with
    /// `batchFirst`).
    public func forward(_ input: Tensor) -> Tensor { run(input, hidden: nil, cell: nil).output }

    /// Runs every layer and direction; `hidden`/`cell` are `[layers·directions, N, hidden]`
    /// (zeros when `nil`). Returns the last layer's outputs and each layer-direction's final
    /// hidden (and cell) state.
    func run(_ input: Tensor, hidden h0: Tensor?, cell c0: Tensor?) -> (output: Tensor, hidden: Tensor, cell: Tensor?) {
        require(input.rank == 3 && input.shape[2] == inputs,
                "\(type(of: self)): expects input [\(batchFirst ? "N, T" : "T, N"), \(inputs)], got \(describe(input.shape))")
        let x = batchFirst ? input.transposed(0, 1) : input
        let (steps, batch) = (x.shape[0], x.shape[1])
        let stateShape = [layers * directions, batch, hidden]
        for (name, state) in [("hidden", h0), ("cell", c0)] {
            if let state { require(state.shape == stateShape, "\(type(of: self)): \(name) state must be \(describe(stateShape)), got \(describe(state.shape))") }
        }
        let width = kind.gates * hidden
        var layerInput = x
        var finalHidden: [Tensor] = []
        var finalCell: [Tensor] = []
        let perDirection = hasBias ? 4 : 2
        for layer in 0..<layers {
            var outputs: [Tensor] = []
            for direction in 0..<directions {
                let index = layer * directions + direction
                let w = weights[(index * perDirection)..<((index + 1) * perDirection)].map(\.tensor)
                let state = { (t: Tensor?) in t.map { $0.slice(dim: 0, range: index..<index + 1).squeezed(dim: 0) } ?? Tensor.zeros([batch, self.hidden]) }
                let result = Tensor.recurrence(
                    kind, input: layerInput, hidden: state(h0), cell: kind == .lstm ? state(c0) : nil, inputWeights: w[0], hiddenWeights: w[1],
                    inputBias: hasBias ? w[2] : Tensor.zeros([width]), hiddenBias: hasBias ? w[3] : Tensor.zeros([width]), reverse: direction == 1)
                outputs.append(result.slice(dim: 0, range: 0..<steps))
                let last = direction == 1 ? 0 : steps - 1
                finalHidden.append(result.slice(dim: 0, range: last..<last + 1))
                if kind == .lstm { finalCell.append(result.slice(dim: 0, range: steps..<steps + 1)) }
            }
            layerInput = outputs.count == 1 ? outputs[0] : Tensor.concat(outputs, dim: 2)
            if layer + 1 < layers && isTraining && dropout > 0 { layerInput = layerInput * dropoutMask(layerInput.shape, p: dropout) }
        }
        let join = { (states: [Tensor]) in states.count == 1 ? states[0] : Tensor.concat(states, dim: 0) }
        return (batchFirst ? layerInput.transposed(0, 1) : layerInput, join(finalHidden), finalCell.isEmpty ? nil : join(finalCell))
    }
}

/// A multi-layer LSTM over a sequence, PyTorch's `nn.LSTM`: per step
///
///     i, f, o = σ(W_i x + b_i + U_i h + c_i), …;  g = tanh(W_g x + b_g + U_g h + c_g)
///     c′ = f ⊙ c + i ⊙ g;  h′ = o ⊙ tanh(c′)
///
/// (gate blocks i, f, g, o in `weight_ih_lk` / `weight_hh_lk`). See `RecurrentLayer` for
/// names, layouts and initialisation.
public final class LSTM: RecurrentLayer {
    /// A multi-layer LSTM.
    ///
    /// - Parameters:
    ///   - inputs: Features of each step's input (PyTorch's `input_size`).
    ///   - hidden: Features of the hidden state (`hidden_size`).
    ///   - layers: Stacked layers (`num_layers`); layer k > 0 reads layer k − 1's output.
    ///   - bias: Whether to learn the biases `bias_ih_lk` and `bias_hh_lk`.
    ///   - batchFirst: Input and output are `[N, T, features]` instead of `[T, N, features]`.
    ///   - dropout: Dropout probability on each layer's output but the last, while training.
    ///   - bidirectional: Also run every layer backwards in time (`…_reverse` weights); the
    ///     output then concatenates both directions, `2 · hidden` features.
    ///
    /// Shapes: input `[T, N, inputs]` (or `[N, T, inputs]`), output `[T, N, directions · hidden]`,
    /// state `[layers · directions, N, hidden]`. Weights and biases are drawn from
    /// U(−1/√hidden, 1/√hidden), as PyTorch does.
    ///
    ///     let lstm = LSTM(inputs: 8, hidden: 16, layers: 2)
    ///     let (output, (h, c)) = lstm.forward(Tensor.zeros([5, 3, 8]), state: nil)   // output [5, 3, 16]
    public init(inputs: Int, hidden: Int, layers: Int = 1, bias: Bool = true, batchFirst: Bool = false, dropout: Float = 0, bidirectional: Bool = false) {
        super.init(kind: .lstm, inputs: inputs, hidden: hidden, layers: layers, bias: bias, batchFirst: batchFirst, dropout: dropout, bidirectional: bidirectional)
    }

    /// The output sequence and the final state, from `state` (`[layers·directions, N, hidden]`
    /// each; zeros when `nil`).
    public func forward(_ input: Tensor, state: (hidden: Tensor, cell: Tensor)?) -> (output: Tensor, state: (hidden: Tensor, cell: Tensor)) {
        let result = run(input, hidden: state?.hidden, cell: state?.cell)
        return (result.output, (result.hidden, result.cell!))
    }
}

/// A multi-layer GRU over a sequence, PyTorch's `nn.GRU`: per step
///
///     r, z = σ(W x + b + U h + c) for their blocks
///     n = tanh(W_n x + b_n + r ⊙ (U_n h + c_n));  h′ = (1 − z) ⊙ n + z ⊙ h
///
/// (gate blocks r, z, n). See `RecurrentLayer` for names, layouts and initialisation.
public final class GRU: RecurrentLayer {
    /// A multi-layer GRU.
    ///
    /// - Parameters:
    ///   - inputs: Features of each step's input (PyTorch's `input_size`).
    ///   - hidden: Features of the hidden state (`hidden_size`).
    ///   - layers: Stacked layers (`num_layers`); layer k > 0 reads layer k − 1's output.
    ///   - bias: Whether to learn the biases `bias_ih_lk` and `bias_hh_lk`.
    ///   - batchFirst: Input and output are `[N, T, features]` instead of `[T, N, features]`.
    ///   - dropout: Dropout probability on each layer's output but the last, while training.
    ///   - bidirectional: Also run every layer backwards in time (`…_reverse` weights); the
    ///     output then concatenates both directions, `2 · hidden` features.
    ///
    /// Shapes: input `[T, N, inputs]` (or `[N, T, inputs]`), output `[T, N, directions · hidden]`,
    /// state `[layers · directions, N, hidden]`. Weights and biases are drawn from
    /// U(−1/√hidden, 1/√hidden), as PyTorch does.
    ///
    ///     let gru = GRU(inputs: 8, hidden: 16, batchFirst: true)
    ///     let (output, h) = gru.forward(Tensor.zeros([3, 5, 8]), state: nil)   // output [3, 5, 16]
    public init(inputs: Int, hidden: Int, layers: Int = 1, bias: Bool = true, batchFirst: Bool = false, dropout: Float = 0, bidirectional: Bool = false) {
        super.init(kind: .gru, inputs: inputs, hidden: hidden, layers: layers, bias: bias, batchFirst: batchFirst, dropout: dropout, bidirectional: bidirectional)
    }

    /// The output sequence and the final hidden state, from `state`
    /// (`[layers·directions, N, hidden]`; zeros when `nil`).
    public func forward(_ input: Tensor, state: Tensor?) -> (output: Tensor, state: Tensor) {
        let result = run(input, hidden: state, cell: nil)
        return (result.output, result.hidden)
    }
}

/// A multi-layer Elman RNN over a sequence, PyTorch's `nn.RNN`:
/// h′ = act(W x + b + U h + c) with act tanh or ReLU. See `RecurrentLayer`.
public final class RNN: RecurrentLayer {
    public enum Nonlinearity: String, Sendable { case tanh, relu }

    /// A multi-layer Elman RNN.
    ///
    /// - Parameters:
    ///   - inputs: Features of each step's input (PyTorch's `input_size`).
    ///   - hidden: Features of the hidden state (`hidden_size`).
    ///   - layers: Stacked layers (`num_layers`); layer k > 0 reads layer k − 1's output.
    ///   - nonlinearity: tanh (PyTorch's default) or ReLU.
    ///   - bias: Whether to learn the biases `bias_ih_lk` and `bias_hh_lk`.
    ///   - batchFirst: Input and output are `[N, T, features]` instead of `[T, N, features]`.
    ///   - dropout: Dropout probability on each layer's output but the last, while training.
    ///   - bidirectional: Also run every layer backwards in time (`…_reverse` weights); the
    ///     output then concatenates both directions, `2 · hidden` features.
    ///
    /// Shapes: input `[T, N, inputs]` (or `[N, T, inputs]`), output `[T, N, directions · hidden]`,
    /// state `[layers · directions, N, hidden]`. Weights and biases are drawn from
    /// U(−1/√hidden, 1/√hidden), as PyTorch does.
    public init(
        inputs: Int, hidden: Int, layers: Int = 1, nonlinearity: Nonlinearity = .tanh, bias: Bool = true, batchFirst: Bool = false,
        dropout: Float = 0, bidirectional: Bool = false
    ) {
        super.init(kind: nonlinearity == .tanh ? .rnnTanh : .rnnRelu, inputs: inputs, hidden: hidden, layers: layers, bias: bias,
                   batchFirst: batchFirst, dropout: dropout, bidirectional: bidirectional)
    }

    /// The output sequence and the final hidden state, from `state` (zeros when `nil`).
    public func forward(_ input: Tensor, state: Tensor?) -> (output: Tensor, state: Tensor) {
        let result = run(input, hidden: state, cell: nil)
        return (result.output, result.hidden)
    }
}
