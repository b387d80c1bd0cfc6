// Elementwise functions of one tensor: each as a type with its value and its derivative
// side by side, so the forward and backward loops specialise and vectorise.

/// A scalar function with its derivative, written in terms of the input `x` and the
/// output `y = value(x)`, whichever is cheaper; `values` computes eight at once.
protocol ElementwiseFunction: VectorFunction {
    static func value(_ x: Float) -> Float
    static func derivative(x: Float, y: Float) -> Float
    /// The derivative on eight lanes; by default lane by lane.
    static func derivative(x: SIMD8<Float>, y: SIMD8<Float>) -> SIMD8<Float>
}

extension ElementwiseFunction {
    @inline(__always) static func derivative(x: SIMD8<Float>, y: SIMD8<Float>) -> SIMD8<Float> {
        var result = x
        for lane in 0..<8 { result[lane] = derivative(x: x[lane], y: y[lane]) }
        return result
    }
}

/// σ(x) = 1 / (1 + e⁻ˣ); σ' = y(1 − y).
enum SigmoidFunction: ElementwiseFunction {
    @inline(__always) static func value(_ x: Float) -> Float { 1 / (1 + expf(-x)) }
    @inline(__always) static func apply(_ x: SIMD8<Float>) -> SIMD8<Float> { VectorMath.sigmoid(x) }
    @inline(__always) static func derivative(x: Float, y: Float) -> Float { y * (1 - y) }
    @inline(__always) static func derivative(x: SIMD8<Float>, y: SIMD8<Float>) -> SIMD8<Float> { y * (1 - y) }
}

/// tanh' = 1 − y².
enum TanhFunction: ElementwiseFunction {
    @inline(__always) static func value(_ x: Float) -> Float { tanhf(x) }
    @inline(__always) static func apply(_ x: SIMD8<Float>) -> SIMD8<Float> { VectorMath.tanh(x) }
    @inline(__always) static func derivative(x: Float, y: Float) -> Float { 1 - y * y }
    @inline(__always) static func derivative(x: SIMD8<Float>, y: SIMD8<Float>) -> SIMD8<Float> { 1 - y * y }
}

/// max(x, 0); its derivative is taken as 0 at x = 0, as PyTorch does.
enum ReLUFunction: ElementwiseFunction {
    @inline(__always) static func value(_ x: Float) -> Float { x > 0 ? x : 0 }
    @inline(__always) static func apply(_ x: SIMD8<Float>) -> SIMD8<Float> { x.replacing(with: 0, where: x .< 0) }
    @inline(__always) static func derivative(x: Float, y: Float) -> Float { x > 0 ? 1 : 0 }
    @inline(__always) static func derivative(x: SIMD8<Float>, y: SIMD8<Float>) -> SIMD8<Float> {
        SIMD8<Float>(repeating: 0).replacing(with: 1, where: x .> 0)
    }
}

/// eˣ; its derivative is itself.
enum ExpFunction: ElementwiseFunction {
    @inline(__always) static func value(_ x: Float) -> Float { expf(x) }
    @inline(__always) static func apply(_ x: SIMD8<Float>) -> SIMD8<Float> { VectorMath.exp(x) }
    @inline(__always) static func derivative(x: Float, y: Float) -> Float { y }
}

/// ln x; its derivative is 1/x.
enum LogFunction: ElementwiseFunction {
    @inline(__always) static func value(_ x: Float) -> Float { logf(x) }
    @inline(__always) static func apply(_ x: SIMD8<Float>) -> SIMD8<Float> {
        var result = x
        for lane in 0..<8 { result[lane] = logf(x[lane]) }
        return result
    }
    @inline(__always) static func derivative(x: Float, y: Float) -> Float { 1 / x }
}

extension Tensor {
    /// The logistic sigmoid 1 / (1 + e⁻ˣ), elementwise.
    public func sigmoid() -> Tensor { applying(SigmoidFunction.self, .sigmoid) }
    /// The hyperbolic tangent, elementwise.
    public func tanh() -> Tensor { applying(TanhFunction.self, .tanh) }
    /// max(x, 0), elementwise.
    public func relu() -> Tensor { applying(ReLUFunction.self, .relu) }
    /// eˣ, elementwise.
    public func exp() -> Tensor { applying(ExpFunction.self, .exp) }
    /// The natural logarithm, elementwise.
    public func log() -> Tensor { applying(LogFunction.self, .log) }

    func sigmoidBackward(_ gradient: Tensor) -> Tensor { chainRule(SigmoidFunction.self, gradient) }
    func tanhBackward(_ gradient: Tensor) -> Tensor { chainRule(TanhFunction.self, gradient) }
    func reluBackward(_ gradient: Tensor) -> Tensor { chainRule(ReLUFunction.self, gradient) }
    func expBackward(_ gradient: Tensor) -> Tensor { chainRule(ExpFunction.self, gradient) }
    func logBackward(_ gradient: Tensor) -> Tensor { chainRule(LogFunction.self, gradient) }

    func applying<F: ElementwiseFunction>(_: F.Type, _ op: Op) -> Tensor {
        let result = Tensor.uninitialized(shape)
        VectorMath.map(storage.pointer, result.storage.pointer, count: count, F.self)
        return result.recorded(op, [self])
    }

    /// gradient · f'(x), for this node `y = f(x)`.
    func chainRule<F: ElementwiseFunction>(_: F.Type, _ gradient: Tensor) -> Tensor {
        let result = Tensor.uninitialized(shape)
        let g = gradient.storage.pointer
        let x = creators[0].storage.pointer
        let y = storage.pointer
        let out = result.storage.pointer
        Kernels.parallelChunks(count, grain: Kernels.elementGrain) { piece in
            var i = piece.lowerBound
            while i + 8 <= piece.upperBound {
                let load = { (p: UnsafePointer<Float>) in UnsafeRawPointer(p + i).loadUnaligned(as: SIMD8<Float>.self) }
                let product = load(g) * F.derivative(x: load(x), y: load(y))
                UnsafeMutableRawPointer(out + i).storeBytes(of: product, as: SIMD8<Float>.self)
                i += 8
            }
            while i < piece.upperBound {
                out[i] = g[i] * F.derivative(x: x[i], y: y[i])
                i += 1
            }
        }
        return result
    }

    // MARK: pow

    /// xᵖ elementwise for a constant exponent `p`.
    public func pow(_ exponent: Float) -> Tensor {
        let result = Tensor.uninitialized(shape)
        let x = storage.pointer
        let y = result.storage.pointer
        if exponent == 2 {
            for i in 0..<count { y[i] = x[i] * x[i] }
        } else if exponent == 3 {
            // GELU's tanh form (GPT-2) cubes; powf per element was 5 % of its inference.
            for i in 0..<count { y[i] = x[i] * x[i] * x[i] }
        } else {
            for i in 0..<count { y[i] = powf(x[i], exponent) }
        }
        return result.recorded(.pow(exponent: exponent), [self])
    }

    /// d(xᵖ)/dx = p·xᵖ⁻¹.
    func powBackward(_ gradient: Tensor, exponent: Float) -> Tensor {
        let result = Tensor.uninitialized(shape)
        let g = gradient.storage.pointer
        let x = creators[0].storage.pointer
        let out = result.storage.pointer
        if exponent == 2 {
            for i in 0..<count { out[i] = g[i] * 2 * x[i] }
        } else if exponent == 3 {
            for i in 0..<count { out[i] = g[i] * 3 * (x[i] * x[i]) }
        } else {
            for i in 0..<count { out[i] = g[i] * exponent * powf(x[i], exponent - 1) }
        }
        return result
    }
}

// MARK: Export and import

extension Tensor {
    static let elementwiseImporters: [ImporterDeclaration] = [
        ImporterDeclaration("Relu") { try $0.unary { $0.relu() } },
        ImporterDeclaration("Sigmoid") { try $0.unary { $0.sigmoid() } },
        ImporterDeclaration("Tanh") { try $0.unary { $0.tanh() } },
        ImporterDeclaration("Exp") { try $0.unary { $0.exp() } },
        ImporterDeclaration("Log") { try $0.unary { $0.log() } },
    ]
}
