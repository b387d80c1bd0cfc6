// ONNX's linear quantization — QuantizeLinear, DequantizeLinear, DynamicQuantizeLinear (the
// integer products are in QuantizedLinear.swift) — so quantized models load:
// y = saturate(round(x / scale) + zero_point) and x = (y − zero_point) · scale, with the scale per tensor, per axis or per block. Rounding is
// to nearest even; integer results saturate to their type's range. DequantizeLinear's
// gradient reaches the scale (a float picked per element); the others make whole numbers.

extension ImportNode {
    /// For each element of a tensor of `shape`, the position in input `index` (a scale or
    /// zero point: one value, one per `axis` entry, or one per block of `block_size` along it).
    func quantizationPositions(_ index: Int, shape: [Int]) throws -> [Int] {
        let parameterShape = try value(index).shape
        let count = parameterShape.reduce(1, *)
        let total = shape.reduce(1, *)
        if count == 1 { return Array(repeating: 0, count: total) }
        let axis = try self.axis(int("axis", default: 1), rank: shape.count)
        let block = int("block_size", default: 0)
        if block <= 0 {
            guard parameterShape.count == 1, count == shape[axis] else {
                throw fail("input \(index) \(describe(parameterShape)) must be one value or one per entry of axis \(axis) (\(shape[axis]))")
            }
            let (_, n, inner) = Kernels.split(shape, around: axis)
            return (0..<total).map { ($0 / inner) % n }
        }
        var blocked = shape
        blocked[axis] = (shape[axis] + block - 1) / block
        guard parameterShape == blocked else { throw fail("input \(index) \(describe(parameterShape)) must be \(describe(blocked)) for blocks of \(block)") }
        let strides = rowMajorStrides(blocked)
        var positions: [Int] = []
        positions.reserveCapacity(total)
        forEachIndex(shape) { index in
            var at = index
            at[axis] /= block
            positions.append(flatPosition(at, strides))
        }
        return positions
    }

    /// `value` rounded to nearest even and saturated to `type`'s range (a float type: rounded to its grid).
    func quantized(_ values: [Float], to type: ElementType, saturate: Bool) -> GraphValue? {
        guard type.isInteger else { return nil }
        let low = type.isUnsigned ? 0 : -(1 << (type.bitWidth - 1))
        let high = type.isUnsigned ? (1 << type.bitWidth) - 1 : (1 << (type.bitWidth - 1)) - 1
        return .integers(values.map { v in v.isNaN ? 0 : Int(Swift.min(Swift.max(v.rounded(.toNearestOrEven), Float(low)), Float(high))) }, shape: [], type: type)
    }
}

extension Tensor {
    static let quantizationImporters: [ImporterDeclaration] = [
        ImporterDeclaration("QuantizeLinear", opsets: 10...Int.max, reads: ["axis", "block_size", "output_dtype", "saturate", "precision"], differentiable: false) { node in
            let x = try node.tensor(0)
            let scales = try node.tensor(1).scalars
            let positions = try node.quantizationPositions(1, shape: x.shape)
            let zeroPoint = node.has(2) ? try node.value(2) : nil
            let zeroPositions = zeroPoint == nil ? [] : try node.quantizationPositions(2, shape: x.shape)
            let code = node.int("output_dtype", default: 0)
            // The zero point's declared type (a float8 zero point computes as float32), else output_dtype, else uint8.
            let declaredZero = node.declaredTypes.count > 2 ? node.declaredTypes[2] : nil
            let type = declaredZero ?? zeroPoint?.elementType ?? (code == 0 ? .uint8 : ElementType(rawValue: code) ?? .uint8)
            let zeros = zeroPoint?.asTensor.scalars ?? []
            let saturate = node.int("saturate", default: 1) != 0
            let values = x.scalars.enumerated().map { i, v -> Float in
                let shifted = v / scales[positions[i]]
                return type.isFloat ? shifted + (zeros.isEmpty ? 0 : zeros[zeroPositions[i]]) : shifted.rounded(.toNearestOrEven) + (zeros.isEmpty ? 0 : zeros[zeroPositions[i]])
            }
            if type.isFloat { return [.tensor(Tensor(values.map { type.rounded($0, saturate: saturate) }, shape: x.shape))] }
            guard case .integers(let result, _, _)? = node.quantized(values, to: type, saturate: saturate) else { throw node.fail("output type \(type.name)") }
            return [.integers(result, shape: x.shape, type: type)]
        },
        ImporterDeclaration("DequantizeLinear", opsets: 10...Int.max, reads: ["axis", "block_size", "output_dtype"]) { node in
            let x = try node.value(0)
            let shape = x.shape
            let positions = try node.quantizationPositions(1, shape: shape)
            var shifted = x.asTensor.scalars
            if node.has(2) {
                let zeros = try node.tensor(2).scalars
                let zeroPositions = try node.quantizationPositions(2, shape: shape)
                for i in shifted.indices { shifted[i] -= zeros[zeroPositions[i]] }
            }
            // The scale picked for every element (so its gradient is the sum over its elements).
            let scale = Tensor.apply(ElementMap(shape: shape, taps: 1, sources: positions, weights: nil, fill: 0), [try node.tensor(1)])
            return [.tensor(Tensor(shifted, shape: shape) * scale)]
        },
        // scale = (max(0, max x) − min(0, min x)) / 255, zero point = saturate(round(−min / scale)).
        ImporterDeclaration("DynamicQuantizeLinear", opsets: 11...Int.max, differentiable: false) { node in
            let x = try node.tensor(0).scalars
            let (low, high) = (Swift.min(0, x.min() ?? 0), Swift.max(0, x.max() ?? 0))
            let scale = (high - low) / 255
            let zeroPoint = scale == 0 ? 0 : Swift.min(Swift.max((-low / scale).rounded(.toNearestOrEven), 0), 255)
            let y = x.map { scale == 0 ? zeroPoint : Swift.min(Swift.max(($0 / scale).rounded(.toNearestOrEven) + zeroPoint, 0), 255) }
            return [.integers(y.map { Int($0) }, shape: try node.value(0).shape, type: .uint8),
                    .tensor(Tensor(scalar: scale)), .integers([Int(zeroPoint)], shape: [], type: .uint8)]
        },
        // (A − a_zero_point) · (B − b_zero_point) in int32, exactly; 2-D or with equal leading batch axes.
    ]
}
