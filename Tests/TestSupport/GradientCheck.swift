import Core
import Testing

/// Compares `backward()` with central finite differences.
///
/// The scalar checked is L = Σᵢ f(inputs)ᵢ · wᵢ with fixed random weights w, so every output
/// element's gradient takes part with a different weight. Each input scalar is moved by ±h
/// and L re-evaluated (in Double) without recording a graph.
public func expectGradientsMatchFiniteDifferences(
    _ inputs: [Tensor], step h: Float = 1e-2, tolerance: Float = 2e-3,
    sourceLocation: SourceLocation = #_sourceLocation,
    _ function: ([Tensor]) -> Tensor
) {
    let output = function(inputs)
    let weights = Random.withSeed(7) { Tensor.uniform(output.shape, low: -1, high: 1) }
    (output * weights).sum().backward()

    func loss() -> Double {
        Tensor.withoutGradients {
            let value = function(inputs).scalars
            return zip(value, weights.scalars).reduce(0) { $0 + Double($1.0) * Double($1.1) }
        }
    }

    for (inputIndex, input) in inputs.enumerated() where input.requiresGrad {
        let analytic = input.grad?.scalars ?? [Float](repeating: 0, count: input.count)
        #expect(input.grad == nil || input.grad!.shape == input.shape, sourceLocation: sourceLocation)
        for i in 0..<input.count {
            let original = input.withUnsafeBufferPointer { $0[i] }
            input.withUnsafeMutableBufferPointer { $0[i] = original + h }
            let plus = loss()
            input.withUnsafeMutableBufferPointer { $0[i] = original - h }
            let minus = loss()
            input.withUnsafeMutableBufferPointer { $0[i] = original }
            let numeric = Float((plus - minus) / (2 * Double(h)))
            let error = abs(analytic[i] - numeric)
            #expect(
                error <= tolerance * max(1, abs(numeric)),
                "input \(inputIndex) scalar \(i): backward \(analytic[i]), finite difference \(numeric)",
                sourceLocation: sourceLocation)
        }
    }
}

/// A leaf of `shape` with uniform scalars in [low, high) that requires gradients.
public func parameter(_ shape: [Int], low: Float = -1, high: Float = 1, seed: UInt64 = 1) -> Tensor {
    Random.withSeed(seed) { Tensor.uniform(shape, low: low, high: high, requiresGrad: true) }
}

/// Whether two lists of scalars agree within `tolerance` each.
public func close(_ a: [Float], _ b: [Float], tolerance: Float = 1e-5) -> Bool {
    a.count == b.count && zip(a, b).allSatisfy { abs($0 - $1) <= tolerance }
}
