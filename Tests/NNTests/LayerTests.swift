import Core
import NN
import Testing
import TestSupport

@Suite("Layers and losses")
struct LayerTests {
    @Test("Linear computes x · Wᵀ + b with W stored [out, in]")
    func linearByHand() {
        let layer = Linear(inputs: 2, outputs: 3)
        layer.weight.replaceScalars(with: [1, 2, 3, 4, 5, 6])  // rows: outputs
        layer.bias!.replaceScalars(with: [0.5, -0.5, 1])
        let y = layer(Tensor([[1, 1], [2, 0]]))
        #expect(y.shape == [2, 3])
        #expect(y.scalars == [3.5, 6.5, 12, 2.5, 5.5, 11])
        #expect(layer.weight.shape == [3, 2] && layer.bias!.shape == [3])
    }

    @Test("Linear initialises as the seed: normal · √(2/inputs), bias zero")
    func linearInitialisation() {
        let layer = Random.withSeed(3) { Linear(inputs: 200, outputs: 100) }
        let w = layer.weight.scalars
        let mean = w.reduce(0, +) / Float(w.count)
        let std = (w.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Float(w.count)).squareRoot()
        #expect(abs(mean) < 0.01)
        #expect(abs(std - 0.1) < 0.005)
        let biasIsZero = layer.bias!.scalars.allSatisfy { $0 == 0 }
        #expect(biasIsZero)
        #expect(Linear(inputs: 3, outputs: 2, bias: false).namedParameters.map(\.name) == ["weight"])
    }

    @Test("Sequential names parameters by position, as PyTorch does, and nests")
    func sequentialNames() {
        let model = Sequential(Linear(inputs: 2, outputs: 3), Tanh(), Linear(inputs: 3, outputs: 1), Sigmoid())
        #expect(model.namedParameters.map(\.name) == ["0.weight", "0.bias", "2.weight", "2.bias"])
        #expect(model.parameters.count == 4)
        let nested = Sequential(Sequential(ReLU(), Linear(inputs: 2, outputs: 2)), Linear(inputs: 2, outputs: 1))
        #expect(nested.namedParameters.map(\.name) == ["0.1.weight", "0.1.bias", "1.weight", "1.bias"])
    }

    @Test("activation layers apply their functions")
    func activations() {
        let x = Tensor([-1, 0, 2])
        #expect(ReLU()(x).scalars == [0, 0, 2])
        #expect(Tanh()(x).scalars == x.tanh().scalars)
        #expect(Sigmoid()(x).scalars == x.sigmoid().scalars)
    }

    @Test("MSELoss: mean by default, sum on request, worked out by hand")
    func mse() {
        let prediction = Tensor([[1, 2], [3, 4]], requiresGrad: true)
        let target = Tensor([[0, 2], [5, 4]])
        #expect(MSELoss()(prediction, target).scalar == 1.25)  // (1 + 0 + 4 + 0) / 4
        #expect(MSELoss(reduction: .sum)(prediction, target).scalar == 5)
        MSELoss()(prediction, target).backward()
        // d/dp mean((p − t)²) = 2(p − t)/4.
        #expect(prediction.grad?.scalars == [0.5, 0, -1, 0])
    }
}

@Suite("Embedding and softmax layers")
struct EmbeddingSoftmaxTests {
    @Test("Embedding returns the rows named by indices; its gradient touches only those rows")
    func embedding() {
        let table = Random.withSeed(2) { Embedding(count: 6, dimension: 2) }
        let weights = table.weight.scalars
        let out = table(Tensor([[5, 0, 5]]))
        #expect(out.shape == [1, 3, 2])
        #expect(out.scalars == [weights[10], weights[11], weights[0], weights[1], weights[10], weights[11]])
        out.sum().backward()
        #expect(table.weight.grad?.scalars == [1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 2, 2])
        #expect(table.namedParameters.map(\.name) == ["weight"])
    }

    @Test("Softmax rows sum to one; LogSoftmax is its logarithm")
    func softmax() {
        let x = Tensor([[1, 2, 3], [0, 0, 0]])
        let p = Softmax(dim: 1)(x).scalars
        #expect(abs(p[0] + p[1] + p[2] - 1) < 1e-6)
        let third: Float = 1 / 3
        #expect(close(Array(p[3...]), [third, third, third], tolerance: 1e-6))
        #expect(close(LogSoftmax()(x).exp().scalars, p, tolerance: 1e-6))
    }
}
