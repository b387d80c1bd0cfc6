import Core
import NN
import Testing
import TestSupport

/// LSTM (2 layers, bidirectional), GRU (2 layers, batch first), RNN (ReLU, bidirectional) and
/// GRUCell against PyTorch (tools/fixtures/sequence_fixtures.py): PyTorch's state dict loads
/// by name; outputs, final states and gradients agree.
@Suite("Recurrent layers against PyTorch")
struct RecurrentLayerTests {
    typealias F = PyTorchSequenceFixtures

    func load(_ state: [String: [Float]], into module: Module, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(Set(module.namedState.map(\.name)) == Set(state.keys), sourceLocation: sourceLocation)
        for (name, tensor) in module.namedState { tensor.replaceScalars(with: state[name] ?? tensor.scalars) }
    }

    func parameter(_ module: Module, _ name: String) -> Tensor { module.namedParameters.first { $0.name == name }!.tensor }

    /// Checks the joined outputs, the upstream-driven gradients of `leaves` and of three weights.
    func expectMatches(
        _ joined: Tensor, output: [Float], upstream: [Float], leaves: [(Tensor, [Float])], weights: [(Tensor, [Float])],
        sourceLocation: SourceLocation = #_sourceLocation
    ) {
        #expect(close(joined.scalars, output, tolerance: 1e-5), "output", sourceLocation: sourceLocation)
        joined.backward(gradient: Tensor(upstream, shape: joined.shape))
        for (index, (leaf, expected)) in leaves.enumerated() {
            #expect(close(leaf.grad?.scalars ?? [], expected, tolerance: 1e-5), "leaf \(index)", sourceLocation: sourceLocation)
        }
        for (index, (weight, expected)) in weights.enumerated() {
            #expect(close(weight.grad?.scalars ?? [], expected, tolerance: 1e-4), "weight \(index)", sourceLocation: sourceLocation)
        }
    }

    @Test("LSTM: 2 layers, bidirectional, from a given state")
    func lstm() {
        let lstm = LSTM(inputs: 3, hidden: 4, layers: 2, bidirectional: true)
        #expect(lstm.namedParameters.map(\.name).prefix(5) == ["weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0", "weight_ih_l0_reverse"])
        load(F.lstmState, into: lstm)
        let x = Tensor(F.lstmInput, shape: [5, 2, 3], requiresGrad: true)
        let h = Tensor(F.lstmInitialHidden, shape: [4, 2, 4], requiresGrad: true)
        let c = Tensor(F.lstmInitialCell, shape: [4, 2, 4], requiresGrad: true)
        let (y, state) = lstm.forward(x, state: (h, c))
        #expect(y.shape == [5, 2, 8] && state.hidden.shape == [4, 2, 4])
        let joined = Tensor.concat([y.flattened(), state.hidden.flattened(), state.cell.flattened()], dim: 0)
        expectMatches(joined, output: F.lstmOutput, upstream: F.lstmUpstream,
                      leaves: [(x, F.lstmInputGradient), (h, F.lstmHiddenGradient), (c, F.lstmCellGradient)],
                      weights: [(parameter(lstm, "weight_ih_l0"), F.lstmGradient_weight_ih_l0), (parameter(lstm, "bias_hh_l0"), F.lstmGradient_bias_hh_l0),
                                (parameter(lstm, "weight_hh_l1_reverse"), F.lstmGradient_weight_hh_l1_reverse)])
    }

    @Test("GRU: 2 layers, batch first")
    func gru() {
        let gru = GRU(inputs: 3, hidden: 4, layers: 2, batchFirst: true)
        load(F.gruState, into: gru)
        let x = Tensor(F.gruInput, shape: [2, 5, 3], requiresGrad: true)
        let h = Tensor(F.gruInitialHidden, shape: [2, 2, 4], requiresGrad: true)
        let (y, state) = gru.forward(x, state: h)
        #expect(y.shape == [2, 5, 4])
        expectMatches(Tensor.concat([y.flattened(), state.flattened()], dim: 0), output: F.gruOutput, upstream: F.gruUpstream,
                      leaves: [(x, F.gruInputGradient), (h, F.gruHiddenGradient)],
                      weights: [(parameter(gru, "weight_ih_l0"), F.gruGradient_weight_ih_l0), (parameter(gru, "bias_hh_l0"), F.gruGradient_bias_hh_l0)])
    }

    @Test("RNN: ReLU, bidirectional, from zeros")
    func rnn() {
        let rnn = RNN(inputs: 3, hidden: 4, nonlinearity: .relu, bidirectional: true)
        load(F.rnnState, into: rnn)
        let x = Tensor(F.rnnInput, shape: [5, 2, 3], requiresGrad: true)
        let (y, state) = rnn.forward(x, state: nil)
        expectMatches(Tensor.concat([y.flattened(), state.flattened()], dim: 0), output: F.rnnOutput, upstream: F.rnnUpstream,
                      leaves: [(x, F.rnnInputGradient)],
                      weights: [(parameter(rnn, "weight_ih_l0"), F.rnnGradient_weight_ih_l0), (parameter(rnn, "bias_hh_l0"), F.rnnGradient_bias_hh_l0)])
        #expect(close(rnn(x).scalars, y.scalars), "forward(_:) is the output from a zero state")
    }

    @Test("GRUCell: one step")
    func gruCell() {
        let cell = GRUCell(inputs: 3, hidden: 4)
        #expect(cell.namedParameters.map(\.name) == ["weight_ih", "weight_hh", "bias_ih", "bias_hh"])
        load(F.gruCellState, into: cell)
        let x = Tensor(F.gruCellInput, shape: [2, 3], requiresGrad: true)
        let h = Tensor(F.gruCellHidden, shape: [2, 4], requiresGrad: true)
        expectMatches(cell.forward(x, hidden: h), output: F.gruCellOutput, upstream: F.gruCellUpstream,
                      leaves: [(x, F.gruCellInputGradient), (h, F.gruCellHiddenGradient)], weights: [])
    }

    @Test("dropout between layers only in training; LSTM layer inside Sequential")
    func dropoutAndSequential() {
        let lstm = Random.withSeed(1) { LSTM(inputs: 2, hidden: 3, layers: 2, dropout: 0.5) }
        let x = Random.withSeed(2) { Tensor.uniform([4, 1, 2]) }
        lstm.eval()
        let a = lstm(x).scalars
        #expect(lstm(x).scalars == a)
        lstm.train()
        #expect(Random.withSeed(3) { lstm(x) }.scalars != a)
        let model = Random.withSeed(4) { Sequential(LSTM(inputs: 2, hidden: 3, batchFirst: true), Linear(inputs: 3, outputs: 1)) }
        #expect(model(x.transposed(0, 1)).shape == [1, 4, 1])
    }
}
