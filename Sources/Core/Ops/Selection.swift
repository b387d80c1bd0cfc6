// Clamping, comparisons producing 0/1 tensors, and where(condition, a, b).

extension Tensor {
    // MARK: clamp

    /// Each scalar limited to `[min, max]` (either may be `nil`). The gradient passes where
    /// `min ≤ x ≤ max`, as in PyTorch, and is 0 elsewhere.
    public func clamped(min low: Float? = nil, max high: Float? = nil) -> Tensor {
        let result = Tensor.uninitialized(shape)
        let x = storage.pointer
        let y = result.storage.pointer
        let (lower, upper) = (low ?? -.infinity, high ?? .infinity)
        for i in 0..<count { y[i] = Swift.min(Swift.max(x[i], lower), upper) }
        return result.recorded(.clamp(min: low, max: high), [self])
    }

    func clampBackward(_ gradient: Tensor, min low: Float?, max high: Float?) -> Tensor {
        let result = Tensor.uninitialized(shape)
        let x = creators[0].storage.pointer
        let g = gradient.storage.pointer
        let out = result.storage.pointer
        let (lower, upper) = (low ?? -.infinity, high ?? .infinity)
        for i in 0..<count { out[i] = x[i] >= lower && x[i] <= upper ? g[i] : 0 }
        return result
    }

    // MARK: comparisons

    /// 1 where `a == b`, else 0 (broadcasting). Comparisons carry no gradient.
    public static func .== (a: Tensor, b: Tensor) -> Tensor { compare(a, b, .equal) }
    /// 1 where `a < b`, else 0 (broadcasting).
    public static func .< (a: Tensor, b: Tensor) -> Tensor { compare(a, b, .less) }
    /// 1 where `a <= b`, else 0 (broadcasting).
    public static func .<= (a: Tensor, b: Tensor) -> Tensor { compare(a, b, .lessOrEqual) }
    /// 1 where `a > b`, else 0 (broadcasting).
    public static func .> (a: Tensor, b: Tensor) -> Tensor { compare(a, b, .greater) }
    /// 1 where `a >= b`, else 0 (broadcasting).
    public static func .>= (a: Tensor, b: Tensor) -> Tensor { compare(a, b, .greaterOrEqual) }

    /// 1 where `comparison` holds between `a` and `b`, else 0, broadcasting as NumPy does.
    public static func compare(_ a: Tensor, _ b: Tensor, _ comparison: Comparison) -> Tensor {
        let result: Tensor
        switch comparison {
        case .equal: result = rawBinary(EqualTo.self, a, b, op: "compare")
        case .less: result = rawBinary(LessThan.self, a, b, op: "compare")
        case .lessOrEqual: result = rawBinary(LessThanOrEqual.self, a, b, op: "compare")
        case .greater: result = rawBinary(LessThan.self, b, a, op: "compare")
        case .greaterOrEqual: result = rawBinary(LessThanOrEqual.self, b, a, op: "compare")
        }
        // Recorded (with no gradient) so that a traced graph keeps the comparison.
        return result.recorded(.compare(comparison), [a, b])
    }

    // MARK: where

    /// `condition ≠ 0 ? a : b` elementwise, broadcasting the three shapes (`torch.where`).
    /// Gradients flow to `a` where the condition holds and to `b` elsewhere.
    public static func select(_ condition: Tensor, _ a: Tensor, _ b: Tensor) -> Tensor {
        let shape = broadcastShape(broadcastShape(condition.shape, a.shape, op: "where"), b.shape, op: "where")
        let (c, x, y) = (condition.broadcastCopy(shape), a.broadcastCopy(shape), b.broadcastCopy(shape))
        let result = Tensor.uninitialized(shape)
        let out = result.storage.pointer
        let (pc, px, py) = (c.storage.pointer, x.storage.pointer, y.storage.pointer)
        for i in 0..<result.count { out[i] = pc[i] != 0 ? px[i] : py[i] }
        return result.recorded(.select, [condition, a, b])
    }

    /// This tensor's scalars repeated to `shape` (no graph); itself when already that shape.
    func broadcastCopy(_ shape: [Int]) -> Tensor {
        self.shape == shape ? self : Tensor.rawBinary(Add.self, self, Tensor.zeros(shape), op: "broadcast")
    }

    func selectBackward(_ gradient: Tensor) -> [Tensor?] {
        let (condition, a, b) = (creators[0], creators[1], creators[2])
        let broadcastCondition = condition.broadcastCopy(shape)
        func part(_ taken: Bool, _ operand: Tensor) -> Tensor? {
            guard operand.requiresGrad else { return nil }
            let full = Tensor.uninitialized(shape)
            let (mask, g, out) = (broadcastCondition.storage.pointer, gradient.storage.pointer, full.storage.pointer)
            for i in 0..<count { out[i] = (mask[i] != 0) == taken ? g[i] : 0 }
            return Tensor.reduced(full, to: operand.shape)
        }
        return withExtendedLifetime(broadcastCondition) { [nil, part(true, a), part(false, b)] }
    }
}

enum EqualTo: BinaryFunction {
    @inline(__always) static func apply(_ a: Float, _ b: Float) -> Float { a == b ? 1 : 0 }
}

enum LessThan: BinaryFunction {
    @inline(__always) static func apply(_ a: Float, _ b: Float) -> Float { a < b ? 1 : 0 }
}

enum LessThanOrEqual: BinaryFunction {
    @inline(__always) static func apply(_ a: Float, _ b: Float) -> Float { a <= b ? 1 : 0 }
}

// MARK: Export and import

extension Tensor {
    /// `Clip` with the absent bound left out.
    static func exportClamp(min low: Float?, max high: Float?, _ site: ExportSite, _ context: inout ExportContext) -> [ExportNode] {
        let lower = low.map { context.scalar($0, hint: "min") } ?? ""
        let upper = high.map { context.scalar($0, hint: "max") } ?? ""
        return [ExportNode("Clip", [site.inputs[0], lower, upper], [site.output])]
    }

    /// The comparison (a bool tensor in ONNX), cast back to float 0/1.
    static func exportComparison(_ comparison: Comparison, _ site: ExportSite, _ context: inout ExportContext) -> [ExportNode] {
        let truth = context.freshName("truth")
        return [
            ExportNode(comparison.onnxName, site.inputs, [truth]),
            ExportNode("Cast", [truth], [site.output], ["to": .int(1)]),
        ]
    }

    /// The float condition cast to bool, then `Where`.
    static func exportSelect(_ site: ExportSite, _ context: inout ExportContext) -> [ExportNode] {
        let condition = context.freshName("condition")
        return [
            ExportNode("Cast", [site.inputs[0]], [condition], ["to": .int(9)]),
            ExportNode("Where", [condition, site.inputs[1], site.inputs[2]], [site.output]),
        ]
    }

    static let selectionImporters: [ImporterDeclaration] = {
        var table: [ImporterDeclaration] = [
            ImporterDeclaration("Clip", opsets: 11...Int.max) { node in
                func bound(_ index: Int) throws -> Float? {
                    guard node.has(index) else { return nil }
                    let value = try node.tensor(index)
                    guard value.count == 1, value.creationOp == nil else { throw node.fail("input \(index) must be a constant scalar") }
                    return value.scalars[0]
                }
                let (low, high) = (try bound(1), try bound(2))
                return try node.numeric { $0[0].clamped(min: low, max: high) }
            },
            ImporterDeclaration("Where") { node in
                let shapes = try (0..<3).map { try node.value($0).shape }
                guard let pair = broadcastShapeIfPossible(shapes[0], shapes[1]), broadcastable(pair, shapes[2]) else {
                    throw node.fail("shapes \(shapes.map(describe)) cannot broadcast")
                }
                return try node.numeric(resultType: try node.value(1).elementType) { Tensor.select($0[0], $0[1], $0[2]) }
            },
            ImporterDeclaration("Not", opsets: 1...Int.max, differentiable: false) { node in try node.numeric(resultType: .bool) { 1 - $0[0] } },
        ]
        for comparison in Comparison.allCases {
            table.append(ImporterDeclaration(comparison.onnxName, differentiable: false) { node in
                try node.binary(resultType: .bool) { Tensor.compare($0, $1, comparison) }
            })
        }
        return table
    }()
}
