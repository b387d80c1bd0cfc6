import Core
import Testing
import TestSupport

@Suite("Reductions")
struct ReductionGradientTests {
    @Test("sum and mean along each dimension, keeping it or not", arguments: [0, 1, 2], [false, true])
    func alongDimension(dim: Int, keepDim: Bool) {
        expectGradientsMatchFiniteDifferences([parameter([2, 3, 4])]) { $0[0].sum(dim: dim, keepDim: keepDim) }
        expectGradientsMatchFiniteDifferences([parameter([2, 3, 4])]) { $0[0].mean(dim: dim, keepDim: keepDim) }
    }

    @Test("sum and mean of everything")
    func whole() {
        expectGradientsMatchFiniteDifferences([parameter([2, 3, 4])]) { $0[0].sum() }
        expectGradientsMatchFiniteDifferences([parameter([2, 3, 4])]) { $0[0].mean() * $0[0] }
    }

    @Test("values and shapes worked out by hand")
    func values() {
        let x = Tensor([[1, 2, 3], [4, 5, 6]])
        #expect(x.sum().scalar == 21)
        #expect(x.mean().scalar == 3.5)
        #expect(x.sum(dim: 0).scalars == [5, 7, 9])
        #expect(x.sum(dim: 0).shape == [3])
        #expect(x.sum(dim: 1, keepDim: true).shape == [2, 1])
        #expect(x.sum(dim: 1).scalars == [6, 15])
        #expect(x.mean(dim: 1).scalars == [2, 5])
    }
}
