import Core
import NN
import Testing
import TestSupport

#if canImport(Glibc)
import Glibc
#endif

@Suite("RNNCell and LSTMCell")
struct RecurrentCellTests {
    /// Three steps of a cell over a fixed input sequence, summing every output.
    static var sequence: [Tensor] { Random.withSeed(21) { (0..<3).map { _ in Tensor.uniform([2, 3], low: -1, high: 1) } } }

    @Test("RNNCell: every parameter's gradient over a 3-step unroll matches finite differences",
          arguments: [RNNCell.Activation.sigmoid, .tanh])
    func rnnGradients(activation: RNNCell.Activation) {
        let cell = Random.withSeed(4) { RNNCell(inputs: 3, hidden: 4, outputs: 2, activation: activation) }
        #expect(cell.namedParameters.map(\.name) == [
            "w_ih.weight", "w_ih.bias", "w_hh.weight", "w_hh.bias", "w_ho.weight", "w_ho.bias",
        ])
        expectGradientsMatchFiniteDifferences(cell.parameters) { _ in
            var hidden = cell.zeroHidden(batchSize: 2)
            var outputs: [Tensor] = []
            for x in Self.sequence {
                let step = cell.forward(x, hidden: hidden)
                hidden = step.hidden
                outputs.append(step.output)
            }
            return Tensor.concat(outputs, dim: 1)
        }
    }

    @Test("LSTMCell: every parameter's gradient over a 3-step unroll matches finite differences")
    func lstmGradients() {
        let cell = Random.withSeed(5) { LSTMCell(inputs: 3, hidden: 4, outputs: 2) }
        #expect(cell.namedParameters.map(\.name) == [
            "xf.weight", "xf.bias", "xi.weight", "xi.bias", "xo.weight", "xo.bias", "xc.weight", "xc.bias",
            "hf.weight", "hi.weight", "ho.weight", "hc.weight", "w_ho.weight",
        ])
        expectGradientsMatchFiniteDifferences(cell.parameters) { _ in
            var state = cell.zeroState(batchSize: 2)
            var outputs: [Tensor] = []
            for x in Self.sequence {
                let step = cell.forward(x, state: state)
                state = step.state
                outputs.append(step.output)
                outputs.append(step.state.cell)
            }
            return Tensor.concat(outputs, dim: 1)
        }
    }

    @Test("LSTMCell equals the original tutorial's formulas computed independently with plain loops")
    func lstmEquations() {
        let cell = Random.withSeed(6) { LSTMCell(inputs: 3, hidden: 4, outputs: 2) }
        let x = Random.withSeed(7) { Tensor.uniform([2, 3], low: -1, high: 1) }
        let h = Random.withSeed(8) { Tensor.uniform([2, 4], low: -1, high: 1) }
        let c = Random.withSeed(9) { Tensor.uniform([2, 4], low: -1, high: 1) }
        let step = cell.forward(x, state: (h, c))

        /// y = W·v (+ b) for one row v, in Double, W stored [out, in].
        func affine(_ layer: Linear, _ v: [Double]) -> [Double] {
            let w = layer.weight.scalars.map(Double.init)
            let b = layer.bias?.scalars.map(Double.init) ?? [Double](repeating: 0, count: layer.outputs)
            return (0..<layer.outputs).map { o in
                b[o] + (0..<layer.inputs).reduce(0.0) { $0 + w[o * layer.inputs + $1] * v[$1] }
            }
        }
        func sigmoid(_ v: [Double]) -> [Double] { v.map { 1 / (1 + exp(-$0)) } }
        func add(_ a: [Double], _ b: [Double]) -> [Double] { zip(a, b).map { $0 + $1 } }
        func mul(_ a: [Double], _ b: [Double]) -> [Double] { zip(a, b).map { $0 * $1 } }

        for row in 0..<2 {
            let xr = (0..<3).map { Double(x[row, $0]) }
            let hr = (0..<4).map { Double(h[row, $0]) }
            let cr = (0..<4).map { Double(c[row, $0]) }
            let f = sigmoid(add(affine(cell.xf, xr), affine(cell.hf, hr)))
            let i = sigmoid(add(affine(cell.xi, xr), affine(cell.hi, hr)))
            let o = sigmoid(add(affine(cell.xo, xr), affine(cell.ho, hr)))
            let g = add(affine(cell.xc, xr), affine(cell.hc, hr)).map { tanh($0) }
            let newCell = add(mul(f, cr), mul(i, g))
            let newHidden = mul(o, newCell.map { tanh($0) })
            let output = affine(cell.w_ho!, newHidden)
            #expect(close((0..<4).map { step.state.cell[row, $0] }, newCell.map(Float.init), tolerance: 1e-6))
            #expect(close((0..<4).map { step.state.hidden[row, $0] }, newHidden.map(Float.init), tolerance: 1e-6))
            #expect(close((0..<2).map { step.output[row, $0] }, output.map(Float.init), tolerance: 1e-6))
        }
    }

    @Test("a 1,000-step LSTM unroll runs backward without overflowing the stack")
    func longUnroll() {
        let cell = Random.withSeed(10) { LSTMCell(inputs: 2, hidden: 3, outputs: 1) }
        let x = Tensor.ones([1, 2])
        var state = cell.zeroState(batchSize: 1)
        var total = Tensor.zeros([1, 1])
        for _ in 0..<1_000 {
            let step = cell.forward(x, state: state)
            state = step.state
            total = total + step.output
        }
        total.sum().backward()
        let finite = cell.parameters.allSatisfy { $0.grad?.scalars.allSatisfy(\.isFinite) ?? false }
        #expect(finite)
    }
}
