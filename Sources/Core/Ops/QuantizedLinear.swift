// The integer operators of quantized models in onnxruntime's operator format (QOperator):
// MatMulInteger, ConvInteger, QLinearMatMul and QLinearConv. Products are exact whole numbers
// (int32 accumulators, as ONNX's reference computes them); the QLinear ops then scale by
// a_scale·b_scale / y_scale (per tensor, per row/column or per output channel), round to
// nearest even and saturate to the output type. They make whole numbers: inference only.

extension ImportNode {
    /// Input `index` as whole numbers (a zero point or bias; zeros where absent), one value
    /// repeated to `count` or `count` values.
    func wholeNumbers(_ index: Int, count: Int, _ what: String) throws -> [Int] {
        guard has(index) else { return [Int](repeating: 0, count: count) }
        guard case .integers(let values, _, _) = try value(index) else { throw fail("\(what) must hold integers") }
        if values.count == 1 { return [Int](repeating: values[0], count: count) }
        guard values.count == count else { throw fail("\(what) must be one value or \(count), got \(values.count)") }
        return values
    }

    /// Input `index` as floats, one value repeated to `count` or `count` values.
    func scales(_ index: Int, count: Int, _ what: String) throws -> [Float] {
        let values = try tensor(index).scalars
        if values.count == 1 { return [Float](repeating: values[0], count: count) }
        guard values.count == count else { throw fail("\(what) must be one value or \(count), got \(values.count)") }
        return values
    }

    /// `(A − a_zero) · (B − b_zero)` in whole numbers with MatMul's shapes (NumPy's matmul: batch
    /// axes broadcast, a 1-D operand a row or a column): the zero points per tensor, per row of
    /// A, per column of B.
    func integerProduct(aZeroInput: Int, bZeroInput: Int, a aIndex: Int, b bIndex: Int) throws -> (values: [Int], shape: [Int], rows: Int, columns: Int) {
        guard case .integers(let a, let aGiven, _) = try value(aIndex), case .integers(let b, let bGiven, _) = try value(bIndex) else {
            throw fail("A and B must be integers")
        }
        let aShape = aGiven.count == 1 ? [1] + aGiven : aGiven
        let bShape = bGiven.count == 1 ? bGiven + [1] : bGiven
        guard aShape.count >= 2, bShape.count >= 2, aShape.last == bShape[bShape.count - 2],
              let batchShape = broadcastShapeIfPossible(Array(aShape.dropLast(2)), Array(bShape.dropLast(2))) else {
            throw fail("A \(describe(aGiven)) and B \(describe(bGiven)) do not multiply")
        }
        let (m, k, n) = (aShape[aShape.count - 2], aShape.last!, bShape.last!)
        let (aZero, bZero) = (try wholeNumbers(aZeroInput, count: m, "a_zero_point"), try wholeNumbers(bZeroInput, count: n, "b_zero_point"))
        var shape = batchShape + [m, n]
        try checkMadeSize(shape, "product")
        // Each output batch's matrices in A and B (a broadcast axis of size 1 stays at 0).
        func offsets(_ operand: [Int], _ size: Int) -> [Int] {
            let batch = Array(operand.dropLast(2))
            let padded = [Int](repeating: 1, count: batchShape.count - batch.count) + batch
            let strides = rowMajorStrides(padded)
            var result: [Int] = []
            forEachIndex(batchShape) { index in result.append(zip(zip(index, padded), strides).reduce(0) { $0 + ($1.0.1 == 1 ? 0 : $1.0.0 * $1.1) } * size) }
            return batchShape.isEmpty ? [0] : result
        }
        let (aOffsets, bOffsets) = (offsets(aShape, m * k), offsets(bShape, k * n))
        var result = [Int](repeating: 0, count: aOffsets.count * m * n)
        for (batch, (aBase, bBase)) in zip(aOffsets, bOffsets).enumerated() {
            for i in 0..<m {
                for j in 0..<n {
                    var total = 0
                    for p in 0..<k { total &+= (a[aBase + i * k + p] - aZero[i]) &* (b[bBase + p * n + j] - bZero[j]) }
                    result[batch * m * n + i * n + j] = ElementType.int32.wrap(total)
                }
            }
        }
        if bGiven.count == 1 { shape.removeLast() }
        if aGiven.count == 1 { shape.remove(at: shape.count - (bGiven.count == 1 ? 1 : 2)) }
        return (result, shape, m, n)
    }

    /// The convolution of `(x − x_zero)` with `(w − w_zero)` (per output channel) plus `bias`,
    /// exact: each operand is split into 16·high + low parts (|high| ≤ 16, 0 ≤ low < 16), so
    /// the four float32 convolutions of the parts sum whole numbers below 2²⁴ for kernels of
    /// up to 65,535 taps, and combine in Int.
    func integerConvolution(x xIndex: Int, xZero: Int, w wIndex: Int, wZero: Int, bias: Int?) throws -> (values: [Int], shape: [Int]) {
        guard case .integers(let x, let xShape, _) = try value(xIndex), case .integers(let w, let wShape, _) = try value(wIndex) else {
            throw fail("x and w must be integers")
        }
        guard xShape.count >= 3, wShape.count == xShape.count else { throw fail("x \(describe(xShape)) and w \(describe(wShape)) must be [N, C, …] and [M, C/group, k…]") }
        let taps = wShape.dropFirst().reduce(1, *)
        guard taps < 1 << 16 else { throw fail("a kernel of \(taps) taps is more than an exact integer convolution takes (65,535)") }
        let xZeroPoint = try wholeNumbers(xZero, count: 1, "x_zero_point")[0]
        let wZeroPoints = try wholeNumbers(wZero, count: wShape[0], "w_zero_point")
        let perChannel = wShape.dropFirst().reduce(1, *)
        let centredX = x.map { $0 - xZeroPoint }
        let centredW = w.enumerated().map { $0.element - wZeroPoints[$0.offset / Swift.max(perChannel, 1)] }
        func parts(_ values: [Int]) -> (high: [Float], low: [Float]) {
            let low = values.map { (($0 % 16) + 16) % 16 }
            return (zip(values, low).map { Float(($0 - $1) / 16) }, low.map(Float.init))
        }
        let (xh, xl) = parts(centredX)
        let (wh, wl) = parts(centredW)
        let convolutionAttributes: Set<String> = ["auto_pad", "dilations", "group", "kernel_shape", "pads", "strides"]
        func convolve(_ a: [Float], _ b: [Float]) throws -> Tensor {
            let conv = ImportNode(opType: "Conv", label: label, attributes: attributes.filter { convolutionAttributes.contains($0.key) },
                                  inputs: [.tensor(Tensor(a, shape: xShape)), .tensor(Tensor(b, shape: wShape))], opset: 22)
            return try OpImport.run(conv)[0].asTensor
        }
        let (hh, hl, lh, ll) = (try convolve(xh, wh), try convolve(xh, wl), try convolve(xl, wh), try convolve(xl, wl))
        let shape = hh.shape
        let (a, b, c, d) = (hh.scalars, hl.scalars, lh.scalars, ll.scalars)
        let biasValues = try bias.map { try wholeNumbers($0, count: wShape[0], "B") }
        let plane = shape.dropFirst(2).reduce(1, *)
        let values = (0..<a.count).map { i -> Int in
            let total = 256 * Int(a[i]) + 16 * (Int(b[i]) + Int(c[i])) + Int(d[i])
            return ElementType.int32.wrap(total + (biasValues?[(i / Swift.max(plane, 1)) % wShape[0]] ?? 0))
        }
        return (values, shape)
    }

    /// `values · multiplier + zero`, rounded to nearest even and saturated to the zero point's
    /// type (ONNX's requantization; the products in Double as NumPy's int32 · float32 are).
    func requantized(_ values: [Int], shape: [Int], multiplier: (Int) -> Double, zeroInput: Int, zeroCount: Int, fallback: ElementType) throws -> GraphValue {
        let type = has(zeroInput) ? try value(zeroInput).elementType : fallback
        guard type == .uint8 || type == .int8 || type == .uint16 || type == .int16 else { throw fail("the output type \(type) is not an 8- or 16-bit integer") }
        let zeros = try wholeNumbers(zeroInput, count: zeroCount, "y_zero_point")
        let (low, high) = type.isUnsigned ? (0.0, Double((1 << type.bitWidth) - 1)) : (-Double(1 << (type.bitWidth - 1)), Double((1 << (type.bitWidth - 1)) - 1))
        let result = values.enumerated().map { i, v -> Int in
            let scaled = Double(v) * multiplier(i) + Double(zeros[zeroCount == 1 ? 0 : i % zeroCount])
            return Int(Swift.min(Swift.max(scaled, low), high).rounded(.toNearestOrEven))
        }
        return .integers(result, shape: shape, type: type)
    }

    /// `a · b / y` as the scales' declared type computes it (float16 scales multiply in float16).
    func scaleRatio(_ a: Float, _ b: Float, _ y: Float, scaleInput: Int) -> Double {
        let type = scaleInput < declaredTypes.count ? declaredTypes[scaleInput] : nil
        if type == .float16 { return Double(Float(Float16(Float16(a) * Float16(b)) / Float16(y))) }
        return Double(a * b / y)
    }
}

extension Tensor {
    static let quantizedLinearImporters: [ImporterDeclaration] = [
        ImporterDeclaration("MatMulInteger", opsets: 10...Int.max, differentiable: false) { node in
            let (values, shape, _, _) = try node.integerProduct(aZeroInput: 2, bZeroInput: 3, a: 0, b: 1)
            return [.integers(values, shape: shape, type: .int32)]
        },
        ImporterDeclaration("ConvInteger", opsets: 10...Int.max, reads: ["auto_pad", "dilations", "group", "kernel_shape", "pads", "strides"],
                            differentiable: false) { node in
            let (values, shape) = try node.integerConvolution(x: 0, xZero: 2, w: 1, wZero: 3, bias: nil)
            return [.integers(values, shape: shape, type: .int32)]
        },
        ImporterDeclaration("QLinearMatMul", opsets: 10...Int.max, differentiable: false) { node in
            let (values, shape, m, n) = try node.integerProduct(aZeroInput: 2, bZeroInput: 5, a: 0, b: 3)
            let (aScale, bScale, yScale) = (try node.scales(1, count: m, "a_scale"), try node.scales(4, count: n, "b_scale"), try node.scales(6, count: 1, "y_scale"))
            let multipliers = (0..<(m * n)).map { node.scaleRatio(aScale[$0 / n], bScale[$0 % n], yScale[0], scaleInput: 1) }
            return [try node.requantized(values, shape: shape, multiplier: { multipliers[$0 % (m * n)] }, zeroInput: 7, zeroCount: 1, fallback: try node.value(0).elementType)]
        },
        ImporterDeclaration("QLinearConv", opsets: 10...Int.max, reads: ["auto_pad", "dilations", "group", "kernel_shape", "pads", "strides"],
                            differentiable: false) { node in
            let (values, shape) = try node.integerConvolution(x: 0, xZero: 2, w: 3, wZero: 5, bias: node.has(8) ? 8 : nil)
            let channels = shape[1]
            let plane = shape.dropFirst(2).reduce(1, *)
            let (xScale, wScale, yScale) = (try node.scales(1, count: 1, "x_scale"), try node.scales(4, count: channels, "w_scale"), try node.scales(6, count: 1, "y_scale"))
            let multipliers = wScale.map { node.scaleRatio(xScale[0], $0, yScale[0], scaleInput: 1) }
            return [try node.requantized(values, shape: shape, multiplier: { multipliers[($0 / Swift.max(plane, 1)) % channels] }, zeroInput: 7, zeroCount: 1,
                                         fallback: try node.value(0).elementType)]
        },
    ]
}
