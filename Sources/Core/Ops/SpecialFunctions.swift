import CBLAS
// √x, erf and GELU: value and derivative side by side, as in Elementwise.swift.

/// √x; its derivative is 1 / (2y).
enum SquareRootFunction: ElementwiseFunction {
    @inline(__always) static func value(_ x: Float) -> Float { x.squareRoot() }
    @inline(__always) static func apply(_ x: SIMD8<Float>) -> SIMD8<Float> { x.squareRoot() }
    @inline(__always) static func derivative(x: Float, y: Float) -> Float { 0.5 / y }
}

/// erf x; its derivative is 2/√π · e^(−x²).
enum ErrorFunction: ElementwiseFunction {
    @inline(__always) static func value(_ x: Float) -> Float { erff(x) }
    @inline(__always) static func apply(_ x: SIMD8<Float>) -> SIMD8<Float> {
        var result = x
        for lane in 0..<8 { result[lane] = erff(x[lane]) }
        return result
    }
    @inline(__always) static func derivative(x: Float, y: Float) -> Float { 1.1283791671 * expf(-x * x) }
}

/// GELU, exact: x · Φ(x) = x/2 · (1 + erf(x/√2)); its derivative is Φ(x) + x · φ(x). The
/// vector forms use erf within 1.5·10⁻⁷ (`VectorMath.erfAbsolute`): libm's scalar erf took a
/// fifth of a Transformer's training time.
enum GELUFunction: ElementwiseFunction {
    @inline(__always) static func value(_ x: Float) -> Float { 0.5 * x * (1 + erff(x * 0.70710678118)) }
    @inline(__always) static func apply(_ x: SIMD8<Float>) -> SIMD8<Float> {
        0.5 * x * (1 + VectorMath.erfAbsolute(x * 0.70710678118))
    }
    static var kernel: Int32? { Int32(SYNAPSE_VECTOR_GELU) }
    @inline(__always) static func derivative(x: Float, y: Float) -> Float {
        0.5 * (1 + erff(x * 0.70710678118)) + x * 0.3989422804 * expf(-0.5 * x * x)
    }
    @inline(__always) static func derivative(x: SIMD8<Float>, y: SIMD8<Float>) -> SIMD8<Float> {
        0.5 * (1 + VectorMath.erfAbsolute(x * 0.70710678118)) + x * 0.3989422804 * VectorMath.exp(-0.5 * x * x)
    }
}

/// GELU, tanh approximation: x/2 · (1 + tanh(√(2/π) (x + 0.044715 x³))).
enum GELUTanhFunction: ElementwiseFunction {
    static let k: Float = 0.7978845608
    @inline(__always) static func value(_ x: Float) -> Float { 0.5 * x * (1 + tanhf(k * (x + 0.044715 * x * x * x))) }
    @inline(__always) static func apply(_ x: SIMD8<Float>) -> SIMD8<Float> {
        let inner = k * (x + 0.044715 * x * x * x)
        return 0.5 * x * (1 + VectorMath.tanh(inner))
    }
    static var kernel: Int32? { Int32(SYNAPSE_VECTOR_GELU_TANH) }
    @inline(__always) static func derivative(x: Float, y: Float) -> Float {
        let t = tanhf(k * (x + 0.044715 * x * x * x))
        return 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * k * (1 + 3 * 0.044715 * x * x)
    }
    @inline(__always) static func derivative(x: SIMD8<Float>, y: SIMD8<Float>) -> SIMD8<Float> {
        let x2: SIMD8<Float> = x * x
        let inner: SIMD8<Float> = k * (x + 0.044715 * x2 * x)
        let t = VectorMath.tanh(inner)
        let slope: SIMD8<Float> = k * (1 + 0.134145 * x2)
        let half: SIMD8<Float> = 0.5 * (1 + t)
        return half + 0.5 * x * (1 - t * t) * slope
    }
}

extension Tensor {
    /// √x, elementwise.
    public func sqrt() -> Tensor { applying(SquareRootFunction.self, .sqrt) }
    /// The error function erf x = 2/√π ∫₀ˣ e^(−t²) dt, elementwise.
    public func erf() -> Tensor { applying(ErrorFunction.self, .erf) }
    /// The Gaussian error linear unit x · Φ(x) (Φ the standard normal CDF), elementwise;
    /// `approximate: true` uses PyTorch's `approximate='tanh'` form.
    public func gelu(approximate: Bool = false) -> Tensor {
        approximate ? applying(GELUTanhFunction.self, .gelu(approximate: true)) : applying(GELUFunction.self, .gelu(approximate: false))
    }

    func sqrtBackward(_ gradient: Tensor) -> Tensor { chainRule(SquareRootFunction.self, gradient) }
    func erfBackward(_ gradient: Tensor) -> Tensor { chainRule(ErrorFunction.self, gradient) }
    func geluBackward(_ gradient: Tensor, approximate: Bool) -> Tensor {
        approximate ? chainRule(GELUTanhFunction.self, gradient) : chainRule(GELUFunction.self, gradient)
    }

    static let specialFunctionImporters: [ImporterDeclaration] = [
        ImporterDeclaration("Sqrt") { try $0.unary { $0.sqrt() } },
        ImporterDeclaration("Erf") { try $0.unary { $0.erf() } },
        ImporterDeclaration("Gelu", opsets: 20...Int.max, reads: ["approximate"]) { node in
            let form = node.string("approximate", default: "none")
            guard form == "none" || form == "tanh" else { throw node.fail("approximate \"\(form)\" (none or tanh)") }
            return try node.unary { $0.gelu(approximate: form == "tanh") }
        },
    ]
}
