import Core
import NN
import Testing
import TestSupport

#if canImport(Glibc)
import Glibc
#endif

@Suite("Cross-entropy and binary cross-entropy")
struct LossTests {
    @Test("cross-entropy of one row worked out by hand")
    func crossEntropyByHand() {
        // logits [1, 2, 3], class 2: −log(e³ / (e + e² + e³)) = log(1 + e⁻¹ + e⁻²).
        let loss = CrossEntropyLoss()(Tensor([[1, 2, 3]]), Tensor([2])).scalar
        #expect(abs(loss - Float(log(1 + exp(-1.0) + exp(-2.0)))) < 1e-6)
    }

    @Test("cross-entropy and its gradient equal PyTorch's, finite for logits of ±1000")
    func crossEntropyAgainstPyTorch() {
        let logits = Tensor(PyTorchLossFixtures.crossEntropyLogits, shape: [4, 3], requiresGrad: true)
        let loss = CrossEntropyLoss()(logits, Tensor(PyTorchLossFixtures.crossEntropyTargets))
        #expect(abs(loss.scalar - PyTorchLossFixtures.crossEntropyLoss) < 1e-3)
        loss.backward()
        #expect(close(logits.grad!.scalars, PyTorchLossFixtures.crossEntropyGradient, tolerance: 1e-6))
        let huge = CrossEntropyLoss()(Tensor([[1000, -1000], [-1000, 1000]]), Tensor([0, 1])).scalar
        #expect(huge == 0)
        let wrong = CrossEntropyLoss(reduction: .sum)(Tensor([[1000, -1000]]), Tensor([1])).scalar
        #expect(wrong == 2000)
    }

    @Test("cross-entropy matches finite differences")
    func crossEntropyGradient() {
        expectGradientsMatchFiniteDifferences([parameter([4, 5], low: -2, high: 2)]) {
            CrossEntropyLoss()($0[0], Tensor([0, 4, 2, 2]))
        }
    }

    @Test("BCEWithLogitsLoss equals PyTorch's, including logits of ±30 and 0")
    func bceWithLogits() {
        let logits = Tensor(PyTorchLossFixtures.bceLogits, requiresGrad: true)
        let loss = BCEWithLogitsLoss()(logits, Tensor(PyTorchLossFixtures.bceTargets))
        #expect(abs(loss.scalar - PyTorchLossFixtures.bceWithLogitsLoss) < 1e-5)
        loss.backward()
        #expect(close(logits.grad!.scalars, PyTorchLossFixtures.bceWithLogitsGradient, tolerance: 1e-6))
        let extreme = BCEWithLogitsLoss()(Tensor([1000, -1000]), Tensor([0, 1])).scalar
        #expect(extreme == 1000)
    }

    @Test("BCELoss on probabilities equals PyTorch's")
    func bce() {
        let p = Tensor(PyTorchLossFixtures.bceProbabilities, requiresGrad: true)
        let loss = BCELoss()(p, Tensor(PyTorchLossFixtures.bceProbabilityTargets))
        #expect(abs(loss.scalar - PyTorchLossFixtures.bceLoss) < 1e-6)
        loss.backward()
        #expect(close(p.grad!.scalars, PyTorchLossFixtures.bceGradient, tolerance: 1e-6))
    }
}
