// The trigonometric and hyperbolic functions and rounding, elementwise, as ONNX names them.
// Each is a `DifferentiableFunction` with its derivative beside its value, so imported graphs
// that use them (rotary position embeddings: Sin, Cos) train; its export is the ONNX node of
// the same name.

/// One of ONNX's elementwise functions of a float tensor.
public enum MathFunction: String, CaseIterable, Sendable {
    case sin = "Sin", cos = "Cos", tan = "Tan", asin = "Asin", acos = "Acos", atan = "Atan"
    case sinh = "Sinh", cosh = "Cosh", asinh = "Asinh", acosh = "Acosh", atanh = "Atanh"

    @inline(__always) func value(_ x: Float) -> Float {
        switch self {
        case .sin: sinf(x)
        case .cos: cosf(x)
        case .tan: tanf(x)
        case .asin: asinf(x)
        case .acos: acosf(x)
        case .atan: atanf(x)
        case .sinh: sinhf(x)
        case .cosh: coshf(x)
        case .asinh: asinhf(x)
        case .acosh: acoshf(x)
        case .atanh: atanhf(x)
        }
    }

    /// The opset that brought it (the hyperbolic functions came in 9).
    var introduced: Int { [.sinh, .cosh, .asinh, .acosh, .atanh].contains(self) ? 9 : 7 }

    /// d/dx, in terms of the input `x` and the output `y`.
    @inline(__always) func derivative(x: Float, y: Float) -> Float {
        switch self {
        case .sin: cosf(x)
        case .cos: -sinf(x)
        case .tan: 1 + y * y
        case .asin: 1 / (1 - x * x).squareRoot()
        case .acos: -1 / (1 - x * x).squareRoot()
        case .atan: 1 / (1 + x * x)
        case .sinh: coshf(x)
        case .cosh: sinhf(x)
        case .asinh: 1 / (x * x + 1).squareRoot()
        case .acosh: 1 / (x * x - 1).squareRoot()
        case .atanh: 1 / (1 - x * x)
        }
    }
}

/// `MathFunction` as a recorded op.
struct MathFunctionOp: DifferentiableFunction {
    let function: MathFunction

    var name: String { function.rawValue }

    func forward(_ inputs: [Tensor]) -> Tensor {
        Tensor(inputs[0].scalars.map(function.value), shape: inputs[0].shape)
    }

    func backward(_ gradient: Tensor, inputs: [Tensor], output: Tensor) -> [Tensor?] {
        let (x, y, g) = (inputs[0].scalars, output.scalars, gradient.scalars)
        return [Tensor((0..<x.count).map { g[$0] * function.derivative(x: x[$0], y: y[$0]) }, shape: inputs[0].shape)]
    }

    func exportNodes(inputs: [String], output: String, context: inout ExportContext) -> [ExportNode]? {
        [ExportNode(function.rawValue, inputs, [output])]
    }
}

extension Tensor {
    /// `function` applied elementwise (sin x, atanh x, …), differentiable.
    public func applying(_ function: MathFunction) -> Tensor { apply(MathFunctionOp(function: function)) }

    /// sin x, elementwise.
    public func sin() -> Tensor { applying(.sin) }
    /// cos x, elementwise.
    public func cos() -> Tensor { applying(.cos) }

    static let mathFunctionImporters: [ImporterDeclaration] =
        MathFunction.allCases.map { function in
            ImporterDeclaration(function.rawValue, opsets: function.introduced...Int.max) { node in try node.unary { $0.applying(function) } }
        } + [
            // Rounding: piecewise constant, so no gradient flows (PyTorch's is zero everywhere).
            ImporterDeclaration("Floor", opsets: 6...Int.max, differentiable: false) { node in try node.rounded(floorf) },
            ImporterDeclaration("Ceil", opsets: 6...Int.max, differentiable: false) { node in try node.rounded(ceilf) },
            // Half to even, as ONNX says (rintf in the default rounding mode).
            ImporterDeclaration("Round", opsets: 11...Int.max, differentiable: false) { node in try node.rounded(rintf) },
        ]
}

extension ImportNode {
    /// A rounding function of input 0 (whole numbers are already round).
    func rounded(_ function: (Float) -> Float) throws -> [GraphValue] {
        let value = try self.value(0)
        guard case .tensor(let x) = value else { return [value] }
        return [.tensor(Tensor(x.scalars.map(function), shape: x.shape))]
    }
}
