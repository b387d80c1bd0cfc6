import Core
import Testing

/// Broadcast arithmetic against NumPy's rule worked out index by index: each pair of shapes
/// takes one of the kernel's paths (same shapes, a scalar, one value per trailing block of
/// either operand, the general row walk), in both operand orders, for an operation that is
/// not commutative.
@Suite("Broadcast arithmetic")
struct BroadcastArithmeticTests {
    static let pairs: [([Int], [Int])] = [
        ([2, 3, 4, 5], [2, 3, 1, 1]),  // squeeze-excitation scale
        ([2, 3, 4, 5], [3, 1, 1]),     // a bias per channel
        ([2, 3, 4, 5], [1, 3, 1, 1]),
        ([2, 5, 4], [2, 5, 1]),        // a layer norm's mean
        ([2, 3, 4, 5], [4, 5]),        // repeated along the leading axes
        ([2, 3, 4, 5], [3, 1, 5]),     // neither: the general walk
        ([2, 3, 4, 5], [1]),
        ([3, 4], [3, 4]),
    ]

    /// a − b by NumPy's rule, one index at a time.
    func reference(_ a: Tensor, _ b: Tensor) -> [Float] {
        let rank = max(a.rank, b.rank)
        let sa = [Int](repeating: 1, count: rank - a.rank) + a.shape
        let sb = [Int](repeating: 1, count: rank - b.rank) + b.shape
        let shape = zip(sa, sb).map { max($0, $1) }
        let (x, y) = (a.scalars, b.scalars)
        return (0..<shape.reduce(1, *)).map { flat in
            var (rest, ia, ib, stepA, stepB) = (flat, 0, 0, 1, 1)
            for d in (0..<rank).reversed() {
                let i = rest % shape[d]
                rest /= shape[d]
                ia += (sa[d] == 1 ? 0 : i) * stepA
                ib += (sb[d] == 1 ? 0 : i) * stepB
                stepA *= sa[d]
                stepB *= sb[d]
            }
            return x[ia] - y[ib]
        }
    }

    @Test("a − b and b − a for every path", arguments: pairs.indices)
    func subtraction(index: Int) {
        let (large, small) = Self.pairs[index]
        let a = Random.withSeed(UInt64(index)) { Tensor.normal(large) }
        let b = Random.withSeed(UInt64(index) + 50) { Tensor.normal(small) }
        #expect((a - b).scalars == reference(a, b))
        #expect((b - a).scalars == reference(b, a))
    }
}
