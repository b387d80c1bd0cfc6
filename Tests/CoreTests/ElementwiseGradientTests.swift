import Core
import Testing
import TestSupport

#if canImport(Glibc)
import Glibc
#endif

@Suite("Elementwise functions")
struct ElementwiseGradientTests {
    @Test("sigmoid, tanh, exp match finite differences")
    func smooth() {
        expectGradientsMatchFiniteDifferences([parameter([3, 4], low: -3, high: 3)]) { $0[0].sigmoid() }
        expectGradientsMatchFiniteDifferences([parameter([3, 4], low: -2, high: 2)]) { $0[0].tanh() }
        expectGradientsMatchFiniteDifferences([parameter([3, 4])]) { $0[0].exp() }
    }

    @Test("relu away from its kink")
    func relu() {
        let x = Tensor([-2, -0.5, 0.3, 1.7, -1.1, 2.2], shape: [2, 3], requiresGrad: true)
        expectGradientsMatchFiniteDifferences([x]) { $0[0].relu() }
        #expect(Tensor([-1, 0, 2]).relu().scalars == [0, 0, 2])
    }

    @Test("log and pow on positive inputs", arguments: [2, 3, -1, 0.5, 1.5] as [Float])
    func logPow(exponent: Float) {
        expectGradientsMatchFiniteDifferences([parameter([3, 4], low: 0.5, high: 2)]) { $0[0].log() }
        expectGradientsMatchFiniteDifferences([parameter([3, 4], low: 0.5, high: 2)]) { $0[0].pow(exponent) }
    }

    @Test("values against the C library")
    func values() {
        let x: [Float] = [-1.5, 0, 0.25, 2]
        let t = Tensor(x)
        #expect(close(t.sigmoid().scalars, x.map { 1 / (1 + expf(-$0)) }))
        #expect(close(t.tanh().scalars, x.map { tanhf($0) }))
        #expect(close(t.exp().scalars, x.map { expf($0) }))
        #expect(close(Tensor([1, 2, 4]).log().scalars, [0, logf(2), logf(4)]))
        #expect(Tensor([3, -2]).pow(2).scalars == [9, 4])
        #expect(Tensor([-1000, 1000]).sigmoid().scalars == [0, 1])
    }
}
