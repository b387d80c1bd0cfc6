import CBLAS

/// exp, tanh and sigmoid on eight lanes at once.
///
/// The C library evaluates these one scalar at a time and they dominated the profile of an
/// LSTM step; these polynomial forms vectorise and stay within a few units in the last place
/// of the correctly rounded result (checked against libm in the tests).
enum VectorMath {
    typealias Vector = SIMD8<Float>

    /// eˣ: the Cephes `expf` reduction x = n·ln2 + r, |r| ≤ ln2/2, a degree-6 polynomial for
    /// eʳ, and 2ⁿ assembled in the exponent bits. Beyond ±88.376 the result is +∞ or 0
    /// (Float32's subnormal results flush to zero); NaN stays NaN.
    @inline(__always)
    static func exp(_ input: Vector) -> Vector {
        let limit: Float = 88.3762626647949
        let x = input.replacing(with: limit, where: input .> limit).replacing(with: -limit, where: input .< -limit)
        // n = round(x / ln2) with the 1.5·2²³ trick: adding it leaves n in the low mantissa
        // bits, which also gives n as an integer without a (slow, per-lane) conversion.
        let magic = Vector(repeating: 0x1.8p23)
        let shifted = x * 1.44269504088896341 + magic
        let n = shifted - magic
        var r = x - n * 0.693359375
        r = r + n * 2.12194440e-4
        let r2 = r * r
        var p = Vector(repeating: 1.9875691500e-4)
        p = p * r + 1.3981999507e-3
        p = p * r + 8.3334519073e-3
        p = p * r + 4.1665795894e-2
        p = p * r + 1.6666665459e-1
        p = p * r + 5.0000001201e-1
        p = p * r2 + r + 1
        let integer = unsafeBitCast(shifted, to: SIMD8<Int32>.self) &- unsafeBitCast(magic, to: SIMD8<Int32>.self)
        let twoToN = unsafeBitCast((integer &+ 127) &<< 23, to: Vector.self)
        return (p * twoToN)
            .replacing(with: .infinity, where: input .> limit)
            .replacing(with: 0, where: input .< -limit)
            .replacing(with: input, where: input .!= input)
    }

    /// tanh x: Eigen's rational approximation p(x)/q(x) of degrees 13/6 on [−7.9, 7.9],
    /// where tanh is ±1 in Float32 beyond.
    @inline(__always)
    static func tanh(_ input: Vector) -> Vector {
        let limit: Float = 7.90531110763549805
        let x = input.replacing(with: limit, where: input .> limit).replacing(with: -limit, where: input .< -limit)
        let x2 = x * x
        var p = Vector(repeating: -2.76076847742355e-16)
        p = p * x2 + 2.00018790482477e-13
        p = p * x2 - 8.60467152213735e-11
        p = p * x2 + 5.12229709037114e-08
        p = p * x2 + 1.48572235717979e-05
        p = p * x2 + 6.37261928875436e-04
        p = p * x2 + 4.89352455891786e-03
        p = p * x
        var q = Vector(repeating: 1.19825839466702e-06)
        q = q * x2 + 1.18534705686654e-04
        q = q * x2 + 2.26843463243900e-03
        q = q * x2 + 4.89352518554385e-03
        let result = p / q
        // Tiny inputs: tanh x = x to Float32 precision, and the ratio would lose the last bits.
        return result.replacing(with: input, where: input.magnitudeLessThan(0.0004) .| (input .!= input))
    }

    /// erf x within 1.5·10⁻⁷ absolute (Abramowitz & Stegun 7.1.26: a degree-5 polynomial in
    /// t = 1/(1 + p|x|) times e^(−x²)). The error is absolute, so near 0 it is large relative
    /// to erf x: GELU uses it (x/2 · (1 + erf) needs only absolute accuracy), the erf op does not.
    @inline(__always)
    static func erfAbsolute(_ x: Vector) -> Vector {
        let a = x.replacing(with: -x, where: x .< 0)
        let t = 1 / (1 + 0.3275911 * a)
        var p = Vector(repeating: 1.061405429)
        p = p * t - 1.453152027
        p = p * t + 1.421413741
        p = p * t - 0.284496736
        p = p * t + 0.254829592
        p = p * t
        let magnitude = 1 - p * exp(-(a * a))
        return magnitude.replacing(with: -magnitude, where: x .< 0)
    }

    /// σ(x) = 1 / (1 + e⁻ˣ).
    @inline(__always)
    static func sigmoid(_ x: Vector) -> Vector {
        1 / (1 + exp(-x))
    }

    /// `output[i] = F(input[i])` for `count` scalars, eight at a time; the tail goes through a
    /// zero-padded vector. Generic over the function's type so each use is specialised and
    /// the function inlined into the loop.
    /// Large arrays are cut into `Kernels.elementGrain` pieces run on the pool (a multiple of
    /// eight, so each element takes the same path as in one serial pass).
    @inline(__always)
    static func map<F: VectorFunction>(
        _ input: UnsafePointer<Float>, _ output: UnsafeMutablePointer<Float>, count: Int, _: F.Type
    ) {
        guard count <= Kernels.elementGrain else {
            return Kernels.parallelChunks(count, grain: Kernels.elementGrain) { piece in
                serialMap(input + piece.lowerBound, output + piece.lowerBound, count: piece.count, F.self)
            }
        }
        serialMap(input, output, count: count, F.self)
    }

    @inline(__always)
    private static func serialMap<F: VectorFunction>(
        _ input: UnsafePointer<Float>, _ output: UnsafeMutablePointer<Float>, count: Int, _: F.Type
    ) {
        // The same operations in C, in the CPU's widest vectors (Swift code is built for
        // SSE2): the same bits, 2–3× sooner.
        if let kernel = F.kernel { return synapse_vector_map(kernel, input, output, count) }
        let f = F.apply
        var i = 0
        while i + 8 <= count {
            let v = UnsafeRawPointer(input + i).loadUnaligned(as: Vector.self)
            UnsafeMutableRawPointer(output + i).storeBytes(of: f(v), as: Vector.self)
            i += 8
        }
        if i < count {
            var v = Vector()
            for j in 0..<(count - i) { v[j] = input[i + j] }
            let r = f(v)
            for j in 0..<(count - i) { output[i + j] = r[j] }
        }
    }
}

extension VectorMath {
    /// log Σₖ e^row[k], stably: the row's maximum is subtracted before exponentiating.
    /// `scratch` (count scalars, may be the output row of the caller) receives e^(row − max).
    static func logSumExp(_ row: UnsafePointer<Float>, count: Int, scratch: UnsafeMutablePointer<Float>) -> Float {
        var maximum = -Float.infinity
        for k in 0..<count { maximum = Swift.max(maximum, row[k]) }
        for k in 0..<count { scratch[k] = row[k] - maximum }
        map(scratch, scratch, count: count, VectorExp.self)
        var total: Float = 0
        for k in 0..<count { total += scratch[k] }
        return maximum + logf(total)
    }
}

/// A function of eight lanes, as a type (see `VectorMath.map`).
protocol VectorFunction {
    static func apply(_ x: SIMD8<Float>) -> SIMD8<Float>
    /// The `SYNAPSE_VECTOR_*` function of Sources/CBLAS/vector_math.c that computes `apply`'s
    /// bits over whole arrays, or `nil`.
    static var kernel: Int32? { get }
}

extension VectorFunction {
    static var kernel: Int32? { nil }
}

enum VectorExp: VectorFunction {
    @inline(__always) static func apply(_ x: SIMD8<Float>) -> SIMD8<Float> { VectorMath.exp(x) }
    static var kernel: Int32? { Int32(SYNAPSE_VECTOR_EXP) }
}

enum VectorTanh: VectorFunction {
    @inline(__always) static func apply(_ x: SIMD8<Float>) -> SIMD8<Float> { VectorMath.tanh(x) }
    static var kernel: Int32? { Int32(SYNAPSE_VECTOR_TANH) }
}

enum VectorSigmoid: VectorFunction {
    @inline(__always) static func apply(_ x: SIMD8<Float>) -> SIMD8<Float> { VectorMath.sigmoid(x) }
    static var kernel: Int32? { Int32(SYNAPSE_VECTOR_SIGMOID) }
}

extension SIMD8 where Scalar == Float {
    /// Lanes whose magnitude is below `limit`.
    @inline(__always)
    func magnitudeLessThan(_ limit: Float) -> SIMDMask<SIMD8<Int32>> {
        (self .< limit) .& (self .> -limit)
    }
}
