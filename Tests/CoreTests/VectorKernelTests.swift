@testable import Core
import Testing

/// The C forms of exp, sigmoid, SiLU, tanh and GELU (Sources/CBLAS/vector_math.c, what
/// `VectorMath.map` runs) give the bits of the Swift forms they replace, lane for lane; the
/// Swift forms' accuracy against the C library is VectorMathTests' business.
@Suite("Vector math kernels in C")
struct VectorKernelTests {
    /// A sweep past every function's range, the special values, subnormals, and a count that
    /// leaves a tail shorter than a vector.
    static let inputs: [Float] = (0...4_001).map { -120 + 240 * Float($0) / 4_001 }
        + [0, -0, .nan, .infinity, -.infinity, 1e-5, -1e-5, 3.9e-4, -4.1e-4, 7.9053, -7.9054, 88.3762, -88.3763, 89, -104,
           .leastNonzeroMagnitude, -.leastNormalMagnitude, .greatestFiniteMagnitude, -.greatestFiniteMagnitude]

    func check<F: VectorFunction>(_: F.Type) {
        let x = Self.inputs
        var fast = [Float](repeating: 0, count: x.count)
        x.withUnsafeBufferPointer { source in
            fast.withUnsafeMutableBufferPointer { VectorMath.map(source.baseAddress!, $0.baseAddress!, count: x.count, F.self) }
        }
        for start in stride(from: 0, to: x.count, by: 8) {
            var lanes = SIMD8<Float>()
            for lane in 0..<8 where start + lane < x.count { lanes[lane] = x[start + lane] }
            let swift = F.apply(lanes)
            for lane in 0..<8 where start + lane < x.count {
                let (a, b) = (fast[start + lane], swift[lane])
                #expect(a.bitPattern == b.bitPattern || (a.isNaN && b.isNaN), "\(F.self)(\(x[start + lane])): C \(a), Swift \(b)")
            }
        }
    }

    @Test("exp") func exp() { #expect(VectorExp.kernel != nil); check(VectorExp.self) }
    @Test("sigmoid") func sigmoid() { #expect(VectorSigmoid.kernel != nil); check(VectorSigmoid.self) }
    @Test("SiLU") func silu() { #expect(SiLUVector.kernel != nil); check(SiLUVector.self) }
    @Test("tanh") func tanh() { #expect(VectorTanh.kernel != nil); check(VectorTanh.self) }
    @Test("GELU") func gelu() { #expect(GELUFunction.kernel != nil); check(GELUFunction.self) }
    @Test("GELU, tanh form") func geluTanh() { #expect(GELUTanhFunction.kernel != nil); check(GELUTanhFunction.self) }
}
