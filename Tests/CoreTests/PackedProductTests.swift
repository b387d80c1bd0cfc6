import CBLAS
@testable import Core
import Testing

/// The packed-operand product (recurrent layers' per-step product) against a float64
/// reference, with every kernel this CPU runs, both packing orientations, A stored either way, beta 0 and 1, and
/// shapes whose rows, columns and depth leave remainders of the register tiles and slices.
@Suite("Packed product")
struct PackedProductTests {
    /// (rows, columns, depth)
    static let shapes: [(Int, Int, Int)] = [(32, 512, 128), (29, 515, 131), (1, 7, 1), (8, 33, 300), (7, 64, 257), (13, 16, 2)]

    static func values(_ count: Int, seed: UInt64) -> [Float] {
        Random.withSeed(seed) { Tensor.normal([count]).scalars }
    }

    @Test("agrees with a float64 product", arguments: shapes.indices)
    func agreesWithFloat64(_ index: Int) {
        let (rows, columns, depth) = Self.shapes[index]
        let a = Self.values(rows * depth, seed: 1)
        let b = Self.values(columns * depth, seed: 2)
        let start = Self.values(rows * columns, seed: 3)
        for transposed in [true, false] {
            // transposed: b is a weight [columns, depth] used as its transpose; else [depth, columns].
            func element(_ kk: Int, _ j: Int) -> Float { transposed ? b[j * depth + kk] : b[kk * columns + j] }
            let packed = b.withUnsafeBufferPointer {
                Kernels.PackedOperand(columns: columns, depth: depth, b: $0.baseAddress!,
                                      strideColumns: transposed ? depth : 1, strideDepth: transposed ? 1 : columns)
            }
            for beta: Float in [0, 1] {
                // transposedA: A stored as [depth, rows] (a convolution's patches), read transposed.
                for transposedA in [false, true] {
                    var bits: [Int32: [Float]] = [:]
                    let stored = transposedA ? (0..<depth * rows).map { a[($0 % rows) * depth + $0 / rows] } : a
                    for level: Int32 in [0, 1, 2] {
                        var c = start
                        stored.withUnsafeBufferPointer { pa in
                            c.withUnsafeMutableBufferPointer { pc in
                                packed.withPanels { panels in
                                    synapse_packed_gemm_at(level, transposedA ? 1 : 0, Int32(rows), Int32(columns), Int32(depth), pa.baseAddress!,
                                                           Int32(transposedA ? rows : depth), panels, beta, pc.baseAddress!, Int32(columns), 0,
                                                           Int32((columns + 31) / 32))
                                }
                            }
                        }
                        var worst = 0.0
                        for i in 0..<rows {
                            for j in 0..<columns {
                                var sum = Double(beta) * Double(start[i * columns + j]), size = abs(sum)
                                for kk in 0..<depth {
                                    let term = Double(a[i * depth + kk]) * Double(element(kk, j))
                                    sum += term
                                    size += abs(term)
                                }
                                worst = max(worst, abs(Double(c[i * columns + j]) - sum) / max(size, 1))
                            }
                        }
                        #expect(worst < 1e-6, "level \(level), transposed \(transposed), A transposed \(transposedA), beta \(beta): error \(worst)")
                        bits[min(level, synapse_cpu_level())] = c
                    }
                    // The AVX2 and AVX-512 kernels take the same steps in the same order.
                    if let avx2 = bits[1], let avx512 = bits[2] { #expect(avx2 == avx512) }
                }
            }
        }
    }

    @Test("the same bits at any thread count, and as one call")
    func threadCountIndependent() {
        let (rows, columns, depth) = (32, 2048, 512)
        let a = Self.values(rows * depth, seed: 4)
        let b = Self.values(columns * depth, seed: 5)
        let packed = b.withUnsafeBufferPointer {
            Kernels.PackedOperand(columns: columns, depth: depth, b: $0.baseAddress!, strideColumns: depth, strideDepth: 1)
        }
        func product(threads: Int?) -> [Float] {
            var c = [Float](repeating: 0.5, count: rows * columns)
            a.withUnsafeBufferPointer { pa in
                c.withUnsafeMutableBufferPointer { pc in
                    if let threads {
                        let saved = Threads.count
                        Threads.count = threads
                        defer { Threads.count = saved }
                        packed.multiply(rows: rows, a: pa.baseAddress!, lda: depth, beta: 1, c: pc.baseAddress!, ldc: columns)
                    } else {
                        packed.withPanels { panels in
                            synapse_packed_gemm(Int32(rows), Int32(columns), Int32(depth), pa.baseAddress!, Int32(depth), panels, 1,
                                                pc.baseAddress!, Int32(columns), 0, Int32(columns / 32))
                        }
                    }
                }
            }
            return c
        }
        let whole = product(threads: nil)
        for threads in [1, 2, 3] { #expect(product(threads: threads) == whole, "\(threads) threads") }
    }
}
