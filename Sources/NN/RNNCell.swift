import Core

/// The original tutorial's recurrent cell: h′ = act(w_ih(x) + w_hh(h)), y = w_ho(h′).
///
/// `w_ih`, `w_hh` and `w_ho` are `Linear` layers with biases; parameters are named
/// `w_ih.weight`, `w_ih.bias`, `w_hh.weight`, … as in the original tutorial.
public final class RNNCell: Module {
    /// The nonlinearity applied to the new hidden state.
    public enum Activation: String, Sendable {
        /// The logistic sigmoid (the original tutorial's default).
        case sigmoid
        /// The hyperbolic tangent.
        case tanh
    }

    /// Input → hidden.
    public let w_ih: Linear
    /// Hidden → hidden.
    public let w_hh: Linear
    /// Hidden → output.
    public let w_ho: Linear
    /// The nonlinearity of the hidden state.
    public let activation: Activation

    /// A cell reading `inputs` features, keeping `hidden`, emitting `outputs`.
    public init(inputs: Int, hidden: Int, outputs: Int, activation: Activation = .sigmoid) {
        w_ih = Linear(inputs: inputs, outputs: hidden)
        w_hh = Linear(inputs: hidden, outputs: hidden)
        w_ho = Linear(inputs: hidden, outputs: outputs)
        self.activation = activation
    }

    /// The size of the hidden state.
    public var hiddenSize: Int { w_hh.outputs }

    /// One step: `input` `[batch, inputs]` and `hidden` `[batch, hidden]` →
    /// (output `[batch, outputs]`, new hidden `[batch, hidden]`).
    public func forward(_ input: Tensor, hidden: Tensor) -> (output: Tensor, hidden: Tensor) {
        let combined = w_ih(input) + w_hh(hidden)
        let newHidden = activation == .sigmoid ? combined.sigmoid() : combined.tanh()
        return (w_ho(newHidden), newHidden)
    }

    /// A zero hidden state for `batchSize` sequences.
    public func zeroHidden(batchSize: Int) -> Tensor {
        Tensor.zeros([batchSize, hiddenSize])
    }

}
