// Elementwise functions of two values that the arithmetic ops do not cover: Pow with a tensor
// exponent, Mod, and the integer operators BitShift and Bitwise*. Floats go through a
// `DifferentiableFunction` (after broadcasting, which is itself differentiable); whole numbers
// are computed exactly as integers of their own width.

/// A function of two float tensors of one shape, with its partial derivatives.
enum PowerOrRemainder: Sendable {
    /// xʸ.
    case pow
    /// x − y·trunc(x/y) (C's fmod: the sign of x).
    case fmod
    /// x − y·floor(x/y) (the sign of y, as Python's %).
    case floorMod

    func value(_ x: Float, _ y: Float) -> Float {
        switch self {
        case .pow: powf(x, y)
        case .fmod: fmodf(x, y)
        case .floorMod:
            { let r = fmodf(x, y); return r != 0 && (r < 0) != (y < 0) ? r + y : r }()
        }
    }

    /// (∂/∂x, ∂/∂y) at (x, y) with value z.
    func partials(_ x: Float, _ y: Float, _ z: Float) -> (Float, Float) {
        switch self {
        case .pow: (y == 0 ? 0 : y * powf(x, y - 1), x > 0 ? z * logf(x) : 0)
        case .fmod: (1, -(x / y).rounded(.towardZero))
        case .floorMod: (1, -(x / y).rounded(.down))
        }
    }
}

/// `PowerOrRemainder` as a recorded op on two tensors of the same shape.
struct PowerOrRemainderOp: DifferentiableFunction {
    let function: PowerOrRemainder

    var name: String { "\(function)" }

    func forward(_ inputs: [Tensor]) -> Tensor {
        let (x, y) = (inputs[0].scalars, inputs[1].scalars)
        return Tensor(zip(x, y).map { function.value($0, $1) }, shape: inputs[0].shape)
    }

    func backward(_ gradient: Tensor, inputs: [Tensor], output: Tensor) -> [Tensor?] {
        let (x, y, z, g) = (inputs[0].scalars, inputs[1].scalars, output.scalars, gradient.scalars)
        var (dx, dy) = ([Float](repeating: 0, count: x.count), [Float](repeating: 0, count: x.count))
        for i in 0..<x.count {
            let (px, py) = function.partials(x[i], y[i], z[i])
            (dx[i], dy[i]) = (g[i] * px, g[i] * py)
        }
        return [Tensor(dx, shape: inputs[0].shape), Tensor(dy, shape: inputs[1].shape)]
    }
}

extension ImportNode {
    /// The shape inputs 0 and 1 broadcast to, checked.
    func broadcastShape() throws -> [Int] {
        let (a, b) = (try value(0).shape, try value(1).shape)
        guard let shape = broadcastShapeIfPossible(a, b) else { throw fail("shapes \(describe(a)) and \(describe(b)) cannot broadcast") }
        return shape
    }

    /// A float function of inputs 0 and 1, broadcast to one shape first.
    func binaryFunction(_ function: PowerOrRemainder) throws -> GraphValue {
        let shape = try broadcastShape()
        let (x, y) = (try tensor(0), try tensor(1))
        func widened(_ t: Tensor) -> Tensor { t.shape == shape ? t : t + Tensor.zeros(shape) }
        return .tensor(Tensor.apply(PowerOrRemainderOp(function: function), [widened(x), widened(y)]))
    }

    /// An integer function of inputs 0 and 1 with broadcasting, exact at every width; the
    /// result has input 0's type, wrapped to its width.
    func integerBinary(_ combine: (Int, Int) throws -> Int) throws -> GraphValue {
        guard case .integers(let a, let aShape, let type) = try value(0), case .integers(let b, let bShape, _) = try value(1) else {
            throw fail("\(opType) takes whole numbers here")
        }
        let shape = try broadcastShape()
        let (aStrides, bStrides) = (broadcastStrides(of: aShape, to: shape), broadcastStrides(of: bShape, to: shape))
        var result: [Int] = []
        result.reserveCapacity(shape.reduce(1, *))
        try forEachIndex(shape) { index in
            var (i, j) = (0, 0)
            for axis in 0..<index.count { i += index[axis] * aStrides[axis]; j += index[axis] * bStrides[axis] }
            result.append(type.wrap(try combine(a[i], b[j])))
        }
        return .integers(result, shape: shape, type: type)
    }

    /// The value of input `index` as whole numbers, or nil when it is a float tensor.
    func wholeNumbers(_ index: Int) throws -> [Int]? {
        if case .integers(let values, _, _) = try value(index) { return values }
        return nil
    }
}

extension Tensor {
    static let binaryFunctionImporters: [ImporterDeclaration] = [
        // Pow: a float base with a float or integer exponent of any shape (differentiable in
        // both), or an integer base (its type is kept, the power truncated toward zero).
        ImporterDeclaration("Pow", opsets: 7...Int.max) { node in
            let base = try node.value(0)
            if base.elementType.isInteger {
                let exponent = try node.value(1)
                if case .integers = exponent {
                    return [try node.integerBinary { x, y in
                        guard y >= 0 else { return x == 1 ? 1 : (x == -1 ? (y % 2 == 0 ? 1 : -1) : 0) }
                        var (result, power, remaining) = (1, x, y)
                        while remaining > 0 {
                            if remaining & 1 == 1 { result = result &* power }
                            power = power &* power
                            remaining >>= 1
                        }
                        return result
                    }]
                }
                let shape = try node.broadcastShape()
                let (x, y) = (base.asTensor + Tensor.zeros(shape), exponent.asTensor + Tensor.zeros(shape))
                let values = zip(x.scalars, y.scalars).map { Double(powf($0, $1)).rounded(.towardZero) }
                guard values.allSatisfy({ $0.isFinite && abs($0) < 9.2e18 }) else { throw node.fail("an integer power is out of range") }
                return [.integers(values.map { base.elementType.wrap(Int($0)) }, shape: shape, type: base.elementType)]
            }
            // A constant scalar exponent keeps the one-op form (and its export).
            if try node.broadcastShape() == base.shape {
                switch try node.value(1) {
                case .integers(let e, _, _) where e.count == 1: return try node.unary { $0.pow(Float(e[0])) }
                case .tensor(let e) where e.count == 1 && e.creationOp == nil && !e.requiresGrad: return try node.unary { $0.pow(e.scalars[0]) }
                default: break
                }
            }
            return [try node.binaryFunction(.pow)]
        },
        // Mod: fmod 1 is C's fmod (the sign of the dividend), fmod 0 the sign of the divisor.
        ImporterDeclaration("Mod", opsets: 10...Int.max, reads: ["fmod"]) { node in
            let fmod = node.int("fmod", default: 0) != 0
            if node.isIntegerArithmetic {
                return [try node.integerBinary { x, y in
                    guard y != 0 else { throw node.fail("integer division by zero") }
                    let r = x % y
                    return fmod || r == 0 || (r < 0) == (y < 0) ? r : r + y
                }]
            }
            return [try node.binaryFunction(fmod ? .fmod : .floorMod)]
        },
        ImporterDeclaration("BitShift", opsets: 11...Int.max, reads: ["direction"], differentiable: false) { node in
            let direction = node.string("direction", default: "")
            guard direction == "LEFT" || direction == "RIGHT" else { throw node.fail("direction must be LEFT or RIGHT, got \"\(direction)\"") }
            let width = try node.value(0).elementType.bitWidth
            return [try node.integerBinary { x, y in
                guard y >= 0 && y < width else { return 0 }
                // Unsigned types only (ONNX's BitShift takes uint8…uint64): a logical shift.
                return direction == "LEFT" ? x << y : Int(UInt64(bitPattern: Int64(x)) >> UInt64(y))
            }]
        },
        ImporterDeclaration("BitwiseAnd", opsets: 18...Int.max, differentiable: false) { node in [try node.integerBinary { $0 & $1 }] },
        ImporterDeclaration("BitwiseOr", opsets: 18...Int.max, differentiable: false) { node in [try node.integerBinary { $0 | $1 }] },
        ImporterDeclaration("BitwiseXor", opsets: 18...Int.max, differentiable: false) { node in [try node.integerBinary { $0 ^ $1 }] },
        ImporterDeclaration("BitwiseNot", opsets: 18...Int.max, differentiable: false) { node in
            guard case .integers(let values, let shape, let type) = try node.value(0) else { throw node.fail("BitwiseNot takes whole numbers") }
            return [.integers(values.map { type.wrap(~$0) }, shape: shape, type: type)]
        },
    ]
}

extension ElementType {
    /// Bits per element (bool: 1).
    public var bitWidth: Int {
        switch self {
        case .bool: 1
        case .uint2, .int2: 2
        case .uint4, .int4, .float4e2m1: 4
        case .uint8, .int8, .float8e4m3fn, .float8e4m3fnuz, .float8e5m2, .float8e5m2fnuz: 8
        case .uint16, .int16, .float16, .bfloat16: 16
        case .uint32, .int32, .float32: 32
        case .uint64, .int64, .float64: 64
        }
    }
}
