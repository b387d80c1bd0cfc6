import Core
import Foundation
import Testing
import TestSupport

/// The sequence ops: the fused recurrence (LSTM, GRU, RNN; both directions) over several
/// steps and layer norm, against finite differences and values worked out by hand.
@Suite("Recurrence and layer norm ops")
struct SequenceOpTests {
    @Test("recurrence gradients match finite differences", arguments: RecurrentKind.allCases, [false, true])
    func recurrenceGradients(kind: RecurrentKind, reverse: Bool) {
        let (steps, batch, inputs, size) = (3, 2, 3, 2)
        let width = kind.gates * size
        let x = parameter([steps, batch, inputs], seed: 1)
        let h0 = parameter([batch, size], seed: 2)
        let c0 = kind == .lstm ? parameter([batch, size], seed: 3) : nil
        let weights = [parameter([width, inputs], seed: 4), parameter([width, size], seed: 5),
                       parameter([width], seed: 6), parameter([width], seed: 7)]
        let leaves = [x, h0] + (c0.map { [$0] } ?? []) + weights
        expectGradientsMatchFiniteDifferences(leaves, tolerance: 5e-3) { t in
            let state = kind == .lstm ? 3 : 2
            return Tensor.recurrence(
                kind, input: t[0], hidden: t[1], cell: kind == .lstm ? t[2] : nil, inputWeights: t[state], hiddenWeights: t[state + 1],
                inputBias: t[state + 2], hiddenBias: t[state + 3], reverse: reverse)
        }
    }

    @Test("an RNN step by hand; reverse runs the steps from the end")
    func recurrenceValues() {
        // h′ = tanh(w·x + u·h + b): one unit, weights 1, 0.5, biases 0.
        let x = Tensor([1, 0, -1], shape: [3, 1, 1])
        let h0 = Tensor([0], shape: [1, 1])
        let (w, u, zero) = (Tensor([[1]]), Tensor([[0.5]]), Tensor([0]))
        let forward = Tensor.recurrence(.rnnTanh, input: x, hidden: h0, inputWeights: w, hiddenWeights: u, inputBias: zero, hiddenBias: zero)
        let h1 = Float(1).tanhValue, h2 = (0.5 * h1).tanhValue, h3 = (-1 + 0.5 * h2).tanhValue
        #expect(close(forward.scalars, [h1, h2, h3]))
        let backward = Tensor.recurrence(.rnnTanh, input: x, hidden: h0, inputWeights: w, hiddenWeights: u, inputBias: zero, hiddenBias: zero, reverse: true)
        let r3 = Float(-1).tanhValue, r2 = (0.5 * r3).tanhValue, r1 = (1 + 0.5 * r2).tanhValue
        #expect(close(backward.scalars, [r1, r2, r3]))
        // An LSTM with zero weights and bias: gates 0.5, g = 0, so c halves and h = 0.5·tanh(c).
        let lstm = Tensor.recurrence(
            .lstm, input: Tensor([0, 0], shape: [2, 1, 1]), hidden: Tensor([[0]]), cell: Tensor([[1]]),
            inputWeights: Tensor.zeros([4, 1]), hiddenWeights: Tensor.zeros([4, 1]), inputBias: Tensor.zeros([4]), hiddenBias: Tensor.zeros([4]))
        #expect(close(lstm.scalars, [0.5 * Float(0.5).tanhValue, 0.5 * Float(0.25).tanhValue, 0.25]))
    }

    @Test("layer norm gradients match finite differences over one and two trailing dimensions", arguments: [[3, 5], [2, 3, 4]])
    func layerNormGradients(shape: [Int]) {
        let normalized = Array(shape.suffix(shape.count == 2 ? 1 : 2))
        let x = parameter(shape, seed: 9)
        let w = parameter(normalized, seed: 10)
        let b = parameter(normalized, seed: 11)
        expectGradientsMatchFiniteDifferences([x, w, b], tolerance: 5e-3) {
            $0[0].layerNorm(normalizedShape: normalized, weight: $0[1], bias: $0[2])
        }
        // Rows 1, 2, 3, 6 and 0, 0, 0, 4: mean 3 and 1, biased variance 3.5 and 3.
        let y = Tensor([1, 2, 3, 6, 0, 0, 0, 4], shape: [2, 4]).layerNorm(normalizedShape: [4], epsilon: 0)
        let (s, t) = (1 / Float(3.5).squareRoot(), 1 / Float(3).squareRoot())
        #expect(close(y.scalars, [-2 * s, -s, 0, 3 * s, -t, -t, -t, 3 * t]))
    }

}

extension Float {
    var tanhValue: Float { Float(Foundation.tanh(Double(self))) }
}
