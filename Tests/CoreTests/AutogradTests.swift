import Core
import Testing
import TestSupport

@Suite("Backward: accumulation, long graphs, recording")
struct AutogradTests {
    @Test("x * x gives 2x; x + x gives 2")
    func selfUse() {
        let x = Tensor([1, -2, 3], requiresGrad: true)
        (x * x).sum().backward()
        #expect(x.grad?.scalars == [2, -4, 6])
        let y = Tensor([1, -2, 3], requiresGrad: true)
        (y + y).sum().backward()
        #expect(y.grad?.scalars == [2, 2, 2])
    }

    @Test("a tensor feeding three ops receives the sum of the three gradients")
    func threeUses() {
        let x = Tensor([0.5, -1], requiresGrad: true)
        let y = x * 3 + x.exp() + x.pow(2)
        y.sum().backward()
        let expected = [Float(0.5), -1].map { 3 + expf_($0) + 2 * $0 }
        #expect(close(x.grad!.scalars, expected))
    }

    @Test("leaf gradients add up across backward calls until cleared")
    func acrossCalls() {
        let w = Tensor([2, 3], requiresGrad: true)
        (w * 5).sum().backward()
        (w * w).sum().backward()
        #expect(w.grad?.scalars == [5 + 4, 5 + 6])
        w.grad = nil
        (w * 5).sum().backward()
        #expect(w.grad?.scalars == [5, 5])
    }

    @Test("leaves that share one upstream gradient get buffers of their own")
    func sharedUpstreamGradient() {
        let a = Tensor([1, 2], requiresGrad: true)
        let b = Tensor([3, 4], requiresGrad: true)
        (a + b).sum().backward()
        a.grad!.withUnsafeMutableBufferPointer { $0[0] = 100 }
        #expect(b.grad?.scalars == [1, 1])
    }

    @Test("retainGraph lets a graph be walked twice")
    func retainGraph() {
        let x = Tensor([1, 2], requiresGrad: true)
        let loss = (x * x).sum()
        loss.backward(retainGraph: true)
        loss.backward()
        #expect(x.grad?.scalars == [4, 8])
    }

    @Test("a chain of 10,000 ops runs backward, and an unused one is released, without overflowing the stack")
    func longChain() {
        let x = Tensor([1], requiresGrad: true)
        var y = x
        for _ in 0..<10_000 { y = y * 1.0001 }
        y.sum().backward()
        let expected = Float(pow_(1.0001, 10_000))
        #expect(abs(x.grad!.scalar - expected) / expected < 1e-3)

        var unused = x
        for _ in 0..<100_000 { unused = unused.tanh() }
        #expect(unused.creators.count == 1)
    }

    @Test("withoutGradients records nothing, nests, and restores recording")
    func withoutGradients() {
        let w = Tensor([1, 2], requiresGrad: true)
        #expect(Tensor.isRecordingGradients)
        let y = Tensor.withoutGradients {
            Tensor.withoutGradients { #expect(!Tensor.isRecordingGradients) }
            #expect(!Tensor.isRecordingGradients)
            return w * 2
        }
        #expect(Tensor.isRecordingGradients)
        #expect(!y.requiresGrad)
        #expect(y.creators.isEmpty && y.creationOp == nil)
        let z = w * 2
        #expect(z.requiresGrad && z.creationOp == .affine(scale: 2, shift: 0))
        #expect(z.creators.count == 1 && z.creators[0] === w)
    }

    @Test("ops on tensors without requiresGrad record no graph")
    func constantsRecordNothing() {
        let a = Tensor([1, 2])
        let b = a * a + 1
        #expect(!b.requiresGrad && b.creators.isEmpty)
    }

    @Test("detached tensors share scalars but stop gradients")
    func detached() {
        let x = Tensor([3], requiresGrad: true)
        let y = x * 2
        let z = y.detached() * x
        z.sum().backward()
        #expect(x.grad?.scalars == [6])
    }
}

#if canImport(Glibc)
import Glibc
private func expf_(_ x: Float) -> Float { expf(x) }
private func pow_(_ x: Double, _ y: Double) -> Double { Glibc.pow(x, y) }
#endif
