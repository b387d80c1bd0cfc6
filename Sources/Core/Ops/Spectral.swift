// ONNX's spectral operators — DFT (forward, inverse, one-sided and the real inverse), STFT and
// MelWeightMatrix — as PyTorch's audio front ends export them. A transform along an axis is a
// product with the matrix of the DFT's cosines and sines (`FixedLinearMap`, in Double), so its
// gradient is the transposed product, and the window's comes with the multiplication.

/// `x · W` for `x` `[rows, n]` and a constant `W` `[n, m]`, summed in Double: a transform's
/// exact zeros (the imaginary part of a symmetric signal's spectrum) stay zeros to float32's
/// last bit, as NumPy's FFT gives them. Its backward is `g · Wᵀ`.
struct FixedLinearMap: DifferentiableFunction {
    let weights: [Double]
    let inputs: Int
    let outputs: Int

    var name: String { "FixedLinearMap" }

    func forward(_ tensors: [Tensor]) -> Tensor {
        let x = tensors[0].scalars
        let rows = x.count / Swift.max(inputs, 1)
        var out = [Float](repeating: 0, count: rows * outputs)
        var line = [Double](repeating: 0, count: outputs)
        for r in 0..<rows {
            for k in 0..<outputs { line[k] = 0 }
            for j in 0..<inputs {
                let value = Double(x[r * inputs + j])
                guard value != 0 else { continue }
                for k in 0..<outputs { line[k] += value * weights[j * outputs + k] }
            }
            for k in 0..<outputs { out[r * outputs + k] = Float(line[k]) }
        }
        return Tensor(out, shape: [rows, outputs])
    }

    func backward(_ gradient: Tensor, inputs tensors: [Tensor], output: Tensor) -> [Tensor?] {
        [gradient.matmul(Tensor(weights.map(Float.init), shape: [inputs, outputs]), transposeB: true)]
    }
}

extension Tensor {
    /// The discrete Fourier transform of `x` `[…, L, c]` along `axis` (not the last): `c` is 1
    /// for a real signal, 2 for real and imaginary parts. `length` is the transform's `n` (the
    /// signal cut or zero-padded to it); the result is `[…, K, 2]` with `K = n` (or `n/2 + 1`
    /// one-sided), `X_k = Σⱼ xⱼ e^(∓2πi jk/n)`, the inverse divided by `n`. The inverse of a
    /// one-sided spectrum (`onesided` with `inverse`) is the real signal, `[…, n, 1]`.
    static func discreteFourierTransform(_ x: Tensor, axis: Int, length n: Int, inverse: Bool, onesided: Bool) -> Tensor {
        let rank = x.rank
        let components = x.shape[rank - 1]
        let half = n / 2 + 1
        let used = Swift.min(x.shape[axis], inverse && onesided ? half : n)
        let signal = used < x.shape[axis] ? x.slice(dim: axis, range: 0..<used) : x
        let (outputs, outputComponents) = inverse && onesided ? (n, 1) : (onesided ? half : n, 2)
        var weights = [Double](repeating: 0, count: used * components * outputs * outputComponents)
        let sign: Double = inverse ? 1 : -1
        let scale = inverse ? 1 / Double(n) : 1
        for j in 0..<used {
            for k in 0..<outputs {
                let angle = 2 * Double.pi * Double((j * k) % n) / Double(n)
                let (c, s) = (cosine(angle) * scale, sign * sine(angle) * scale)
                func set(_ component: Int, _ outputComponent: Int, _ value: Double) {
                    guard component < components else { return }
                    weights[((j * components + component) * outputs + k) * outputComponents + outputComponent] = value
                }
                if inverse && onesided {
                    // Hermitian symmetry: bins 1 … n − half count twice (their mirror images).
                    let twice: Double = j == 0 || (n % 2 == 0 && j == n / 2) ? 1 : 2
                    set(0, 0, twice * c)
                    set(1, 0, -twice * s)
                } else {
                    // (re + i·im)(cos θ + i·s sin θ) with s = ∓1.
                    set(0, 0, c); set(1, 0, -s); set(0, 1, s); set(1, 1, c)
                }
            }
        }
        // [rest…, used, c] → [rows, used·c] · W → [rest…, outputs, outputComponents], axis put back.
        let order = (0..<rank).filter { $0 != axis && $0 != rank - 1 } + [axis, rank - 1]
        let moved = signal.permuted(order)
        let rest = Array(moved.shape.dropLast(2))
        let rows = rest.reduce(1, *)
        let map = FixedLinearMap(weights: weights, inputs: used * components, outputs: outputs * outputComponents)
        let product = Tensor.apply(map, [moved.reshaped([rows, used * components])])
        var back = [Int](repeating: 0, count: rank)
        for (position, dimension) in order.enumerated() { back[dimension] = position }
        return product.reshaped(rest + [outputs, outputComponents]).permuted(back)
    }

    static let spectralImporters = [
        ImporterDeclaration("DFT", opsets: 17...Int.max, reads: ["axis", "inverse", "onesided"]) { node in
            let x = try node.tensor(0)
            guard x.rank >= 2, x.shape[x.rank - 1] == 1 || x.shape[x.rank - 1] == 2 else {
                throw node.fail("input \(describe(x.shape)) must end in 1 (real) or 2 (real, imaginary)")
            }
            let axisValue: Int
            if node.opset >= 20 {
                axisValue = node.has(2) ? try node.integers(2)?.first ?? -2 : -2
            } else {
                axisValue = node.int("axis", default: 1)
            }
            let axis = try node.axis(axisValue, rank: x.rank)
            guard axis < x.rank - 1 else { throw node.fail("axis \(axisValue) is the real/imaginary axis; the transform runs along another") }
            let (inverse, onesided) = (node.int("inverse", default: 0) != 0, node.int("onesided", default: 0) != 0)
            var n = inverse && onesided ? 2 * (x.shape[axis] - 1) : x.shape[axis]
            if node.has(1) {
                guard let given = try node.integers(1), given.count == 1 else { throw node.fail("dft_length must be one integer") }
                n = given[0]
            }
            guard n >= 1, n <= 1 << 16 else { throw node.fail("dft_length \(n) is outside 1...65536") }
            try node.checkMadeSize(x.shape + [n, 2], "transform matrix and output")
            return [.tensor(discreteFourierTransform(x, axis: axis, length: n, inverse: inverse, onesided: onesided))]
        },
        ImporterDeclaration("STFT", opsets: 17...Int.max, reads: ["onesided"]) { node in
            let x = try node.value(0)
            guard x.shape.count == 3, x.shape[2] == 1 || x.shape[2] == 2 else {
                throw node.fail("signal \(describe(x.shape)) must be [batch, length, 1 or 2]")
            }
            let (batch, length, components) = (x.shape[0], x.shape[1], x.shape[2])
            guard let step = try node.integers(1)?.first, step >= 1 else { throw node.fail("frame_step must be one positive integer") }
            let window = node.has(2) ? try node.tensor(2) : nil
            var frameLength = window?.count ?? length
            if node.has(3) {
                guard let given = try node.integers(3)?.first else { throw node.fail("frame_length must be one integer") }
                frameLength = given
            }
            guard frameLength >= 1, frameLength <= Swift.min(length, 1 << 16), window.map({ $0.shape == [frameLength] }) ?? true else {
                throw node.fail("frame_length \(frameLength) must be in 1...\(length) and the window's length")
            }
            let frames = (length - frameLength) / step + 1
            try node.checkMadeSize([batch, frames, frameLength, components], "frames")
            var sources: [Int] = []
            sources.reserveCapacity(batch * frames * frameLength * components)
            for b in 0..<batch {
                for f in 0..<frames {
                    for t in 0..<frameLength { for c in 0..<components { sources.append((b * length + f * step + t) * components + c) } }
                }
            }
            var framed = node.picked(from: [x], sources: sources, shape: [batch, frames, frameLength, components]).asTensor
            if let window { framed = framed * window.reshaped([1, 1, frameLength, 1]) }
            let onesided = node.int("onesided", default: 1) != 0
            return [.tensor(discreteFourierTransform(framed, axis: 2, length: frameLength, inverse: false, onesided: onesided))]
        },
        // The triangular filters of mel bins over a one-sided spectrum, [dft_length/2 + 1, bins].
        ImporterDeclaration("MelWeightMatrix", opsets: 17...Int.max, reads: ["output_datatype"], differentiable: false) { node in
            func number(_ index: Int) throws -> Double {
                let values = try node.value(index).asTensor.scalars
                guard values.count == 1, values[0].isFinite, abs(values[0]) < 1e12 else { throw node.fail("input \(index) must hold one finite number") }
                return Double(values[0])
            }
            let (bins, length, rate) = (Int(try number(0)), Int(try number(1)), Int(try number(2)))
            let (lower, upper) = (try number(3), try number(4))
            guard bins >= 1, bins <= 1 << 14, length >= 1, length <= 1 << 16, rate >= 1 else {
                throw node.fail("num_mel_bins (\(bins)), dft_length (\(length)) and sample_rate (\(rate)) must be positive (at most 16384 and 65536 for the first two)")
            }
            let spectrum = length / 2 + 1
            let (lowMel, highMel) = (2595 * naturalLogarithmOnePlus(lower / 700) / naturalLogarithm(10), 2595 * naturalLogarithmOnePlus(upper / 700) / naturalLogarithm(10))
            let step = (highMel - lowMel) / Double(bins + 2)
            let edges = (0..<(bins + 2)).map { i -> Int in
                let hertz = 700 * exponentialMinusOne((Double(i) * step + lowMel) / 2595 * naturalLogarithm(10))
                return Int((Double(length + 1) * hertz / Double(rate)).rounded(.down))
            }
            guard edges.allSatisfy({ $0 >= 0 && $0 < spectrum }) else {
                throw node.fail("the band edges \(lower)...\(upper) Hz reach past the spectrum's \(spectrum) bins at \(rate) Hz")
            }
            var out = [Float](repeating: 0, count: spectrum * bins)
            for i in 0..<bins {
                let (left, center, right) = (edges[i], edges[i + 1], edges[i + 2])
                if center == left { out[center * bins + i] = 1 } else {
                    for j in left...center { out[j * bins + i] = Float(Double(j - left) / Double(center - left)) }
                }
                if right > center { for j in center..<right { out[j * bins + i] = Float(Double(right - j) / Double(right - center)) } }
            }
            let code = node.int("output_datatype", default: 1)
            guard let type = ElementType(rawValue: code) else { throw node.fail("output_datatype \(code) is not a type Synapse reads") }
            if type.isInteger { return [.integers(out.map { type.wrap(Int($0)) }, shape: [spectrum, bins], type: type)] }
            return [.tensor(Tensor(out, shape: [spectrum, bins]))]
        },
    ]
}
