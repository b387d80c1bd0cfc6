import Core
import Foundation
import Testing

/// Softmax along contiguous rows (the C kernel: sixteen lanes, a zero-padded tail) against
/// the formula in Double, for rows shorter than a vector, a vector long, one past it and
/// attention's 197; masked entries (−∞) get zero, and a row of equal values is uniform.
@Suite("Softmax over rows")
struct SoftmaxRowTests {
    @Test("against exp(x − max) / Σ in Double", arguments: [1, 5, 16, 17, 33, 197])
    func againstDouble(length: Int) {
        var values = Random.withSeed(UInt64(length)) { Tensor.normal([3, length]).scalars.map { $0 * 4 } }
        if length > 2 { values[length + 1] = -.infinity }
        for k in 0..<length { values[2 * length + k] = 0.5 }
        let y = Tensor(values, shape: [3, length]).softmax(dim: 1).scalars
        for row in 0..<3 {
            let x = values[row * length..<(row + 1) * length].map(Double.init)
            let m = x.max()!
            let e = x.map { Foundation.exp($0 - m) }
            let total = e.reduce(0, +)
            for k in 0..<length {
                let expected = e[k] / total
                #expect(abs(Double(y[row * length + k]) - expected) <= 2e-7 + 2e-6 * expected, "row \(row) k \(k)")
            }
        }
        if length > 2 { #expect(y[length + 1] == 0) }
        #expect(y[(2 * length)..<(3 * length)].allSatisfy { abs($0 - 1 / Float(length)) < 1e-6 })
    }
}
