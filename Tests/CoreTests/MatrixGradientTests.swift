import Core
import Testing
import TestSupport

@Suite("Matrix product and shape ops")
struct MatrixGradientTests {
    @Test("matmul with every combination of transpose flags", arguments: [false, true], [false, true])
    func matmulFlags(transposeA: Bool, transposeB: Bool) {
        let a = parameter(transposeA ? [4, 3] : [3, 4], seed: 3)
        let b = parameter(transposeB ? [5, 4] : [4, 5], seed: 4)
        expectGradientsMatchFiniteDifferences([a, b]) {
            $0[0].matmul($0[1], transposeA: transposeA, transposeB: transposeB)
        }
    }

    @Test("matmul values worked out by hand, with and without flags")
    func matmulValues() {
        let a = Tensor([[1, 2], [3, 4]])
        let b = Tensor([[5, 6], [7, 8]])
        #expect(a.matmul(b).scalars == [19, 22, 43, 50])
        #expect(a.matmul(b, transposeB: true).scalars == [17, 23, 39, 53])
        #expect(a.matmul(b, transposeA: true).scalars == [26, 30, 38, 44])
        #expect(a.matmul(b, transposeA: true, transposeB: true).scalars == [23, 31, 34, 46])
    }

    @Test("a large product through BLAS equals a plain triple loop")
    func largeMatmul() {
        let a = Random.withSeed(11) { Tensor.uniform([67, 129]) }
        let b = Random.withSeed(12) { Tensor.uniform([129, 35]) }
        let product = a.matmul(b).scalars
        let (x, y) = (a.scalars, b.scalars)
        var maximumError: Float = 0
        for i in 0..<67 {
            for j in 0..<35 {
                var reference: Double = 0
                for k in 0..<129 { reference += Double(x[i * 129 + k]) * Double(y[k * 35 + j]) }
                maximumError = max(maximumError, abs(product[i * 35 + j] - Float(reference)))
            }
        }
        #expect(maximumError < 1e-4)
    }

    @Test("transpose and reshape")
    func transposeReshape() {
        let x = Tensor([[1, 2, 3], [4, 5, 6]])
        #expect(x.transposed().shape == [3, 2])
        #expect(x.transposed().scalars == [1, 4, 2, 5, 3, 6])
        #expect(x.reshaped([3, -1]).shape == [3, 2])
        expectGradientsMatchFiniteDifferences([parameter([2, 3])]) { $0[0].transposed() }
        expectGradientsMatchFiniteDifferences([parameter([2, 3])]) { $0[0].reshaped([3, 2]) * $0[0].reshaped([-1, 2]) }
        expectGradientsMatchFiniteDifferences([parameter([2, 3, 2])]) { $0[0].reshaped([6, 2]).transposed() }
    }

    @Test("expand as in the original tutorial: a new dimension of copies", arguments: [0, 1, 2])
    func expand(dim: Int) {
        expectGradientsMatchFiniteDifferences([parameter([2, 3])]) { $0[0].expand(dim: dim, copies: 4) }
    }

    @Test("expand values worked out by hand")
    func expandValues() {
        let x = Tensor([1, 2, 3])
        let rows = x.expand(dim: 0, copies: 2)
        #expect(rows.shape == [2, 3])
        #expect(rows.scalars == [1, 2, 3, 1, 2, 3])
        let columns = x.expand(dim: 1, copies: 2)
        #expect(columns.shape == [3, 2])
        #expect(columns.scalars == [1, 1, 2, 2, 3, 3])
    }
}
