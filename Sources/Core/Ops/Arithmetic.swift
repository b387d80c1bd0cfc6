// Elementwise arithmetic with NumPy broadcasting: each op's forward, then its backward.
// A backward sums the gradient back to each operand's shape (`Tensor.reduced`).

extension Tensor {
    // MARK: add

    /// `a + b` elementwise, broadcasting as NumPy does.
    public static func + (a: Tensor, b: Tensor) -> Tensor {
        Tensor.rawBinary(Add.self, a, b, op: "add").recorded(.add, [a, b])
    }

    func addBackward(_ gradient: Tensor) -> [Tensor?] {
        [
            creators[0].requiresGrad ? Tensor.reduced(gradient, to: creators[0].shape) : nil,
            creators[1].requiresGrad ? Tensor.reduced(gradient, to: creators[1].shape) : nil,
        ]
    }

    // MARK: sub

    /// `a - b` elementwise, broadcasting as NumPy does.
    public static func - (a: Tensor, b: Tensor) -> Tensor {
        Tensor.rawBinary(Subtract.self, a, b, op: "sub").recorded(.sub, [a, b])
    }

    func subBackward(_ gradient: Tensor) -> [Tensor?] {
        [
            creators[0].requiresGrad ? Tensor.reduced(gradient, to: creators[0].shape) : nil,
            creators[1].requiresGrad ? Tensor.reduced(gradient.rawAffine(scale: -1, shift: 0), to: creators[1].shape) : nil,
        ]
    }

    // MARK: mul

    /// `a * b` elementwise, broadcasting as NumPy does.
    public static func * (a: Tensor, b: Tensor) -> Tensor {
        Tensor.rawBinary(Multiply.self, a, b, op: "mul").recorded(.mul, [a, b])
    }

    /// d(a·b)/da = b, d(a·b)/db = a.
    func mulBackward(_ gradient: Tensor) -> [Tensor?] {
        let (a, b) = (creators[0], creators[1])
        return [
            a.requiresGrad ? Tensor.reduced(Tensor.rawBinary(Multiply.self, gradient, b, op: "mul backward"), to: a.shape) : nil,
            b.requiresGrad ? Tensor.reduced(Tensor.rawBinary(Multiply.self, gradient, a, op: "mul backward"), to: b.shape) : nil,
        ]
    }

    // MARK: div

    /// `a / b` elementwise, broadcasting as NumPy does.
    public static func / (a: Tensor, b: Tensor) -> Tensor {
        Tensor.rawBinary(Divide.self, a, b, op: "div").recorded(.div, [a, b])
    }

    /// d(a/b)/da = 1/b, d(a/b)/db = -a/b² = -(a/b)/b.
    func divBackward(_ gradient: Tensor) -> [Tensor?] {
        let (a, b) = (creators[0], creators[1])
        var gradientB: Tensor?
        if b.requiresGrad {
            let quotient = Tensor.rawBinary(Divide.self, Tensor.rawBinary(Multiply.self, gradient, self, op: "div backward"), b, op: "div backward")
            gradientB = Tensor.reduced(quotient.rawAffine(scale: -1, shift: 0), to: b.shape)
        }
        return [
            a.requiresGrad ? Tensor.reduced(Tensor.rawBinary(Divide.self, gradient, b, op: "div backward"), to: a.shape) : nil,
            gradientB,
        ]
    }

    // MARK: neg

    /// `-a`.
    public static prefix func - (a: Tensor) -> Tensor {
        a.rawAffine(scale: -1, shift: 0).recorded(.neg, [a])
    }

    func negBackward(_ gradient: Tensor) -> Tensor {
        gradient.rawAffine(scale: -1, shift: 0)
    }

    // MARK: affine (the scalar forms)

    /// `scale · self + shift` with constants, recorded as one op.
    public func affine(scale: Float, shift: Float) -> Tensor {
        rawAffine(scale: scale, shift: shift).recorded(.affine(scale: scale, shift: shift), [self])
    }

    func rawAffine(scale: Float, shift: Float) -> Tensor {
        let result = Tensor.uninitialized(shape)
        let x = storage.pointer
        let y = result.storage.pointer
        for i in 0..<count { y[i] = scale * x[i] + shift }
        return result
    }

    func affineBackward(_ gradient: Tensor, scale: Float) -> Tensor {
        scale == 1 ? gradient : gradient.rawAffine(scale: scale, shift: 0)
    }

    /// `a + c`.
    public static func + (a: Tensor, c: Float) -> Tensor { a.affine(scale: 1, shift: c) }
    /// `c + a`.
    public static func + (c: Float, a: Tensor) -> Tensor { a.affine(scale: 1, shift: c) }
    /// `a - c`.
    public static func - (a: Tensor, c: Float) -> Tensor { a.affine(scale: 1, shift: -c) }
    /// `c - a`.
    public static func - (c: Float, a: Tensor) -> Tensor { a.affine(scale: -1, shift: c) }
    /// `a · c`.
    public static func * (a: Tensor, c: Float) -> Tensor { a.affine(scale: c, shift: 0) }
    /// `c · a`.
    public static func * (c: Float, a: Tensor) -> Tensor { a.affine(scale: c, shift: 0) }
    /// `a / c`, as `a · (1/c)`.
    public static func / (a: Tensor, c: Float) -> Tensor { a.affine(scale: 1 / c, shift: 0) }
    /// `c / a`, as `c · a⁻¹`.
    public static func / (c: Float, a: Tensor) -> Tensor { a.pow(-1).affine(scale: c, shift: 0) }
}

// MARK: Export and import

extension Tensor {
    /// `Mul` and/or `Add` with scalar constants.
    static func exportAffine(scale: Float, shift: Float, _ site: ExportSite, _ context: inout ExportContext) -> [ExportNode] {
        let (input, output) = (site.inputs[0], site.output)
        if shift == 0 { return [ExportNode("Mul", [input, context.scalar(scale, hint: "scale")], [output])] }
        if scale == 1 { return [ExportNode("Add", [input, context.scalar(shift, hint: "shift")], [output])] }
        let scaled = context.freshName("scaled")
        return [
            ExportNode("Mul", [input, context.scalar(scale, hint: "scale")], [scaled]),
            ExportNode("Add", [scaled, context.scalar(shift, hint: "shift")], [output]),
        ]
    }

    /// Broadcasting arithmetic; on integers (shape arithmetic) the result is integers, and
    /// integer division truncates as ONNX's does.
    static let arithmeticImporters: [ImporterDeclaration] = [
        // Broadcasting as NumPy from opset 7; the later versions only add element types.
        ImporterDeclaration("Add", opsets: 7...Int.max) { try $0.binary(+) },
        ImporterDeclaration("Sub", opsets: 7...Int.max) { try $0.binary(-) },
        ImporterDeclaration("Mul", opsets: 7...Int.max) { try $0.binary(*) },
        ImporterDeclaration("Div", opsets: 7...Int.max) { try $0.binary(/) },
        ImporterDeclaration("Neg", opsets: 6...Int.max) { node in try node.numeric { -$0[0] } },
    ]
}
