// The small float formats ONNX names — float8 (E4M3FN, E4M3FNUZ, E5M2, E5M2FNUZ), float4
// (E2M1) and bfloat16 — decoded from their bits and rounded to their grids, so that a model
// file's weights of those types load and a `Cast` to them gives what ONNX's reference (and
// ml_dtypes) gives: round to nearest, ties to the even code; with `saturate` (ONNX's default)
// values beyond the largest finite one, infinities included, become it; without, they become
// infinity (E5M2) or NaN (the others).

/// A float format of 1 sign bit, `exponentBits` and `mantissaBits`, with `bias`.
public struct MiniFloat: Sendable {
    /// What the format spends its special codes on.
    public enum Specials: Sendable {
        /// IEEE-like: the largest exponent holds infinity (mantissa 0) and NaNs.
        case ieee
        /// No infinity; NaN is the code of all ones (E4M3FN).
        case finiteAllOnesNaN
        /// No infinity, no negative zero; NaN is the negative zero's code (the FNUZ types).
        case finiteNegativeZeroNaN
        /// Neither infinity nor NaN (E2M1).
        case finite
    }

    public let exponentBits: Int
    public let mantissaBits: Int
    public let bias: Int
    public let specials: Specials
    /// The non-negative finite values, by code (the codes are consecutive from 0).
    let grid: [Float]

    init(exponentBits: Int, mantissaBits: Int, bias: Int, specials: Specials) {
        (self.exponentBits, self.mantissaBits, self.bias, self.specials) = (exponentBits, mantissaBits, bias, specials)
        let codes = 1 << (exponentBits + mantissaBits)
        let finite = switch specials {
        case .ieee: codes - (1 << mantissaBits)
        case .finiteAllOnesNaN: codes - 1
        case .finiteNegativeZeroNaN, .finite: codes
        }
        grid = (0..<finite).map { code in
            let (exponent, mantissa) = (code >> mantissaBits, Float(code & ((1 << mantissaBits) - 1)))
            let scale = Float(1 << mantissaBits)
            return exponent == 0
                ? mantissa / scale * Float(sign: .plus, exponent: 1 - bias, significand: 1)
                : (1 + mantissa / scale) * Float(sign: .plus, exponent: exponent - bias, significand: 1)
        }
    }

    public static let e4m3fn = MiniFloat(exponentBits: 4, mantissaBits: 3, bias: 7, specials: .finiteAllOnesNaN)
    public static let e4m3fnuz = MiniFloat(exponentBits: 4, mantissaBits: 3, bias: 8, specials: .finiteNegativeZeroNaN)
    public static let e5m2 = MiniFloat(exponentBits: 5, mantissaBits: 2, bias: 15, specials: .ieee)
    public static let e5m2fnuz = MiniFloat(exponentBits: 5, mantissaBits: 2, bias: 16, specials: .finiteNegativeZeroNaN)
    public static let e2m1 = MiniFloat(exponentBits: 2, mantissaBits: 1, bias: 1, specials: .finite)

    /// The format of `type`, or nil for a type that is not one of these.
    public static func format(_ type: ElementType) -> MiniFloat? {
        switch type {
        case .float8e4m3fn: .e4m3fn
        case .float8e4m3fnuz: .e4m3fnuz
        case .float8e5m2: .e5m2
        case .float8e5m2fnuz: .e5m2fnuz
        case .float4e2m1: .e2m1
        default: nil
        }
    }

    /// The largest finite value.
    public var largest: Float { grid[grid.count - 1] }

    /// The value of `code` (its low 1 + exponentBits + mantissaBits bits).
    public func decode(_ code: Int) -> Float {
        let width = exponentBits + mantissaBits
        let magnitude = code & ((1 << width) - 1)
        let negative = (code >> width) & 1 == 1
        switch specials {
        case .finiteNegativeZeroNaN where negative && magnitude == 0: return .nan
        case .finiteAllOnesNaN where magnitude == (1 << width) - 1: return .nan
        case .ieee where magnitude >= grid.count: return magnitude == grid.count ? (negative ? -.infinity : .infinity) : .nan
        default: break
        }
        return negative ? -grid[magnitude] : grid[magnitude]
    }

    /// `x` rounded to the format's grid (as a float32 holds it).
    public func rounded(_ x: Float, saturate: Bool = true) -> Float {
        if x.isNaN { return specials == .finite ? -0.0 : .nan }  // E2M1 has no NaN: ml_dtypes gives −0
        let clamps = saturate || specials == .finite
        if x.isInfinite {
            if clamps { return x < 0 ? -largest : largest }
            return specials == .ieee ? x : .nan
        }
        var magnitude = Swift.abs(x)
        if clamps { magnitude = Swift.min(magnitude, largest) }
        // The largest code whose value is at most the magnitude.
        var (low, high) = (0, grid.count - 1)
        while low < high {
            let middle = (low + high + 1) / 2
            if grid[middle] <= magnitude { low = middle } else { high = middle - 1 }
        }
        let code = low
        let below = grid[code]
        // The value after it: the next code's, or (past the largest) one step more in the same binade.
        let above = code + 1 < grid.count ? grid[code + 1] : below + (below - grid[code - 1])
        let up = magnitude - below > above - magnitude || (magnitude - below == above - magnitude && code % 2 == 1)
        var result: Float
        if !up || magnitude == below {
            result = below
        } else if code + 1 < grid.count {
            result = above
        } else {
            result = specials == .ieee ? .infinity : .nan  // past the largest, without saturation
        }
        if x < 0 || (x == 0 && x.sign == .minus) { result = -result }
        if specials == .finiteNegativeZeroNaN && result == 0 { result = 0 }
        return result
    }
}

extension Float {
    /// bfloat16's value nearest this one (round to nearest even; NaN stays NaN).
    public var roundedToBFloat16: Float {
        guard !isNaN else { return .nan }
        let bits = bitPattern
        let rounded = (bits &+ 0x7FFF &+ ((bits >> 16) & 1)) & 0xFFFF_0000
        return Float(bitPattern: rounded)
    }
}

extension ElementType {
    /// `value` as this float type holds it (float32: unchanged).
    public func rounded(_ value: Float, saturate: Bool = true) -> Float {
        switch self {
        case .float16: Float(Float16(value))
        case .bfloat16: value.roundedToBFloat16
        default: MiniFloat.format(self)?.rounded(value, saturate: saturate) ?? value
        }
    }

    /// The elements of `count` values of this type in `bytes` (little-endian; 4-bit and 2-bit
    /// types packed low bits first), as floats for the float types and whole numbers for the
    /// others; nil when `bytes` is not exactly their size.
    public func decode(_ bytes: [UInt8], count: Int) -> Either? {
        guard bytes.count == byteCount(count) else { return nil }
        func word<W: FixedWidthInteger>(_: W.Type, _ i: Int) -> W {
            bytes.withUnsafeBytes { W(littleEndian: $0.loadUnaligned(fromByteOffset: i * MemoryLayout<W>.size, as: W.self)) }
        }
        func packed(_ i: Int, bits: Int) -> Int { Int(bytes[i * bits / 8] >> UInt8((i * bits) % 8)) & ((1 << bits) - 1) }
        switch self {
        case .float32: return .floats((0..<count).map { Float(bitPattern: word(UInt32.self, $0)) })
        case .float64: return .floats((0..<count).map { Float(Double(bitPattern: word(UInt64.self, $0))) })
        case .float16: return .floats((0..<count).map { Float(Float16(bitPattern: word(UInt16.self, $0))) })
        case .bfloat16: return .floats((0..<count).map { Float(bitPattern: UInt32(word(UInt16.self, $0)) << 16) })
        case .float8e4m3fn, .float8e4m3fnuz, .float8e5m2, .float8e5m2fnuz:
            let format = MiniFloat.format(self)!
            return .floats(bytes.map { format.decode(Int($0)) })
        case .float4e2m1: return .floats((0..<count).map { MiniFloat.e2m1.decode(packed($0, bits: 4)) })
        case .uint4, .int4: return .integers((0..<count).map { wrap(packed($0, bits: 4)) })
        case .uint2, .int2: return .integers((0..<count).map { wrap(packed($0, bits: 2)) })
        case .int64: return .integers((0..<count).map { Int(Int64(bitPattern: word(UInt64.self, $0))) })
        case .uint64: return .integers((0..<count).map { Int(truncatingIfNeeded: word(UInt64.self, $0)) })
        case .int32: return .integers((0..<count).map { Int(Int32(bitPattern: word(UInt32.self, $0))) })
        case .uint32: return .integers((0..<count).map { Int(word(UInt32.self, $0)) })
        case .int16: return .integers((0..<count).map { Int(Int16(bitPattern: word(UInt16.self, $0))) })
        case .uint16: return .integers((0..<count).map { Int(word(UInt16.self, $0)) })
        case .int8: return .integers(bytes.map { Int(Int8(bitPattern: $0)) })
        case .bool: return .integers(bytes.map { $0 != 0 ? 1 : 0 })
        case .uint8: return .integers(bytes.map { Int($0) })
        }
    }

    /// The bytes `count` values take (4-bit and 2-bit types packed, rounded up).
    public func byteCount(_ count: Int) -> Int { self == .bool ? count : (count * bitWidth + 7) / 8 }

    /// Decoded elements: floats or whole numbers.
    public enum Either {
        case floats([Float])
        case integers([Int])
    }
}
