import Core
import Testing
import TestSupport

@Suite("Elementwise arithmetic")
struct ArithmeticGradientTests {
    /// Pairs of shapes that broadcast, including scalars and size-1 dimensions on either side.
    static let shapePairs: [([Int], [Int])] = [
        ([3, 4], [3, 4]), ([3, 4], [4]), ([4], [3, 4]), ([3, 1], [1, 4]),
        ([2, 3, 4], [3, 1]), ([], [2, 3]), ([2, 3], [1]), ([2, 1, 4], [2, 3, 1]),
    ]

    @Test("add, sub, mul, div match finite differences", arguments: shapePairs)
    func binaryOps(shapes: ([Int], [Int])) {
        expectGradientsMatchFiniteDifferences([parameter(shapes.0, seed: 1), parameter(shapes.1, seed: 2)]) {
            $0[0] + $0[1]
        }
        expectGradientsMatchFiniteDifferences([parameter(shapes.0, seed: 1), parameter(shapes.1, seed: 2)]) {
            $0[0] - $0[1]
        }
        expectGradientsMatchFiniteDifferences([parameter(shapes.0, seed: 1), parameter(shapes.1, seed: 2)]) {
            $0[0] * $0[1]
        }
        // Denominators in [0.5, 1.5) keep the quotient smooth.
        expectGradientsMatchFiniteDifferences(
            [parameter(shapes.0, seed: 1), parameter(shapes.1, low: 0.5, high: 1.5, seed: 2)]
        ) { $0[0] / $0[1] }
    }

    @Test("negation and the scalar forms match finite differences")
    func scalarForms() {
        expectGradientsMatchFiniteDifferences([parameter([2, 3])]) { -$0[0] }
        expectGradientsMatchFiniteDifferences([parameter([2, 3])]) { $0[0] * 2 }
        expectGradientsMatchFiniteDifferences([parameter([2, 3])]) { 3 * $0[0] }
        expectGradientsMatchFiniteDifferences([parameter([2, 3])]) { 1 - $0[0] }
        expectGradientsMatchFiniteDifferences([parameter([2, 3])]) { $0[0] + 1 }
        expectGradientsMatchFiniteDifferences([parameter([2, 3])]) { $0[0] / 4 }
        expectGradientsMatchFiniteDifferences([parameter([2, 3], low: 0.5, high: 2)]) { 2 / $0[0] }
    }

    @Test("broadcast forward values worked out by hand")
    func broadcastValues() {
        let column = Tensor([[1], [2]])  // [2, 1]
        let row = Tensor([10, 20, 30])  // [3]
        let sum = column + row
        #expect(sum.shape == [2, 3])
        #expect(sum.scalars == [11, 21, 31, 12, 22, 32])
        #expect((column * row).scalars == [10, 20, 30, 20, 40, 60])
        #expect((row - column).scalars == [9, 19, 29, 8, 18, 28])
        #expect((row / column).scalars == [10, 20, 30, 5, 10, 15])
        #expect((1 - row).scalars == [-9, -19, -29])
        #expect((2 / Tensor([4, 8])).scalars == [0.5, 0.25])
        #expect((-row).scalars == [-10, -20, -30])
    }

    @Test("a broadcast operand's gradient sums over the repeated dimensions")
    func broadcastGradientByHand() {
        let matrix = Tensor(shape: [2, 3], repeating: 1, requiresGrad: true)
        let bias = Tensor([1, 2, 3], requiresGrad: true)
        (matrix * bias).sum().backward()
        #expect(bias.grad?.scalars == [2, 2, 2])
        #expect(matrix.grad?.scalars == [1, 2, 3, 1, 2, 3])
    }
}
