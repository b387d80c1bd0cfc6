import Core

/// A module that is not one tensor in, one tensor out — a recurrent cell with its state — and
/// says how a graph of one call is traced: its inputs named and made from an example of the
/// first, and its outputs named. `TracedGraph.trace(_:exampleInput:)` traces any `Traceable`,
/// so the exporter knows no cell by type.
public protocol Traceable: Module {
    /// The graph's inputs, named, for an example of the first (`x`, then the state: `h`, `c`).
    func traceInputs(example: Tensor) -> [(name: String, tensor: Tensor)]
    /// The graph's outputs, named, computed from `inputs` (in the order of `traceInputs`).
    func traceOutputs(_ inputs: [Tensor]) -> [(name: String, tensor: Tensor)]
}

extension LSTMCell: Traceable {
    /// `x`, `h`, `c` (a zero state); one step's outputs `y`, `h_out`, `c_out`.
    public func traceInputs(example: Tensor) -> [(name: String, tensor: Tensor)] {
        let state = zeroState(batchSize: example.shape[0])
        return [("x", example), ("h", state.hidden), ("c", state.cell)]
    }

    public func traceOutputs(_ inputs: [Tensor]) -> [(name: String, tensor: Tensor)] {
        let step = forward(inputs[0], state: (inputs[1], inputs[2]))
        return [("y", step.output), ("h_out", step.state.hidden), ("c_out", step.state.cell)]
    }
}

extension RNNCell: Traceable {
    /// `x`, `h` (a zero state); one step's outputs `y`, `h_out`.
    public func traceInputs(example: Tensor) -> [(name: String, tensor: Tensor)] {
        [("x", example), ("h", zeroHidden(batchSize: example.shape[0]))]
    }

    public func traceOutputs(_ inputs: [Tensor]) -> [(name: String, tensor: Tensor)] {
        let step = forward(inputs[0], hidden: inputs[1])
        return [("y", step.output), ("h_out", step.hidden)]
    }
}
