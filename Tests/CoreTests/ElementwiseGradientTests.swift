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
        #expect(Tensor([3, -2, 0.5]).pow(3).scalars == [27, -8, 0.125])
        let odd: [Float] = [-1.7, 0.3, 2.9, 1e-3]
        #expect(close(Tensor(odd).pow(3).scalars, odd.map { Float(Double($0) * Double($0) * Double($0)) }))
        #expect(Tensor([-1000, 1000]).sigmoid().scalars == [0, 1])
    }
}

@Suite("Vectorised exp, tanh and sigmoid against the C library")
struct VectorMathTests {
    /// 20,001 points over [-limit, limit], plus the edges of each function's range.
    static func points(_ limit: Float) -> [Float] {
        (0...20_000).map { -limit + 2 * limit * Float($0) / 20_000 } + [0, 1e-5, -1e-5, 3e-4, 88, -87, 100, -100]
    }

    @Test("exp within 2e-7 relative of expf; +inf above the range, 0 below, NaN kept")
    func exp() {
        let x = (0...20_000).map { -87 + 175 * Float($0) / 20_000 }
        let ours = Tensor(x).exp().scalars
        let worst = zip(x, ours).map { abs($1 - expf($0)) / expf($0) }.max()!
        #expect(worst < 2e-7)
        let edges = Tensor([100, -100, .nan]).exp().scalars
        #expect(edges[0] == .infinity && edges[1] == 0 && edges[2].isNaN)
    }

    @Test("tanh within 3e-7 absolute of tanhf, exact for tiny inputs")
    func tanh() {
        let x = Self.points(12)
        let ours = Tensor(x).tanh().scalars
        let worst = zip(x, ours).map { abs($1 - tanhf($0)) }.max()!
        #expect(worst < 3e-7)
        #expect(Tensor([1e-5, -3e-4]).tanh().scalars == [1e-5, -3e-4])
    }

    @Test("sigmoid within 3e-7 absolute of 1 / (1 + expf(-x))")
    func sigmoid() {
        let x = Self.points(100)
        let ours = Tensor(x).sigmoid().scalars
        let worst = zip(x, ours).map { abs($1 - 1 / (1 + expf(-$0))) }.max()!
        #expect(worst < 3e-7)
    }
}
