import Core
import Optim
import Testing
import TestSupport

@Suite("SGD")
struct SGDTests {
    @Test("a step is p − lr · grad, in place, for parameters with a gradient")
    func step() {
        let w = Tensor([1, 2], requiresGrad: true)
        let untouched = Tensor([5], requiresGrad: true)
        let optimizer = SGD(parameters: [w, untouched], learningRate: 0.5)
        (w * w).sum().backward()  // grad = 2w = [2, 4]
        optimizer.step()
        #expect(w.scalars == [0, 0])
        #expect(untouched.scalars == [5])
        #expect(w.creators.isEmpty && w.creationOp == nil)
    }

    @Test("zeroGrad clears gradients so the next backward starts from zero")
    func zeroGrad() {
        let w = Tensor([3], requiresGrad: true)
        let optimizer = SGD(parameters: [w], learningRate: 0.1)
        (w * 2).sum().backward()
        (w * 2).sum().backward()
        #expect(w.grad?.scalars == [4])
        optimizer.zeroGrad()
        #expect(w.grad == nil)
        (w * 2).sum().backward()
        #expect(w.grad?.scalars == [2])
    }

    @Test("three steps on f(w) = Σ w² worked out by hand")
    func threeSteps() {
        // w ← w − 0.1 · 2w = 0.8 w each step.
        let w = Tensor([1, -2], requiresGrad: true)
        let optimizer = SGD(parameters: [w], learningRate: 0.1)
        for _ in 0..<3 {
            optimizer.zeroGrad()
            (w * w).sum().backward()
            optimizer.step()
        }
        #expect(close(w.scalars, [0.512, -1.024], tolerance: 1e-6))
    }
}
