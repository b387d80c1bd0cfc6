@testable import Core
import Testing

/// Importers' shortcuts against independent references: Gemm adding its bias inside the
/// product (sgemm's beta = 1) against the product worked out in Double; the reshaping ops
/// passing whole numbers through untouched (they once went through float32, which holds
/// integers exactly only up to 2²⁴).
@Suite("Importer shortcuts")
struct ImporterFastPathTests {
    func gemm(_ a: Tensor, _ b: Tensor, _ c: Tensor, transA: Bool, transB: Bool, beta: Float) throws -> [Float] {
        let node = ImportNode(
            opType: "Gemm", label: "#0",
            attributes: ["transA": .int(transA ? 1 : 0), "transB": .int(transB ? 1 : 0), "beta": .float(beta)],
            inputs: [.tensor(a), .tensor(b), .tensor(c)], opset: 17)
        return try Tensor.withoutGradients { try OpImport.run(node)[0].asTensor.scalars }
    }

    @Test("Gemm with a bias row or a whole bias matrix", arguments: [[5], [1, 5], [3, 5]])
    func gemmBias(biasShape: [Int]) throws {
        let (m, k, n) = (3, 4, 5)
        for (transA, transB) in [(false, false), (true, false), (false, true), (true, true)] {
            for beta: Float in [1, 0.5] {
                let (a, b, c) = Random.withSeed(9) {
                    (Tensor.normal(transA ? [k, m] : [m, k]), Tensor.normal(transB ? [n, k] : [k, n]), Tensor.normal(biasShape))
                }
                let y = try gemm(a, b, c, transA: transA, transB: transB, beta: beta)
                #expect(y.count == m * n)
                let (x, w, bias) = (a.scalars, b.scalars, c.scalars)
                for i in 0..<m {
                    for j in 0..<n {
                        var sum = 0.0
                        for p in 0..<k {
                            sum += Double(transA ? x[p * m + i] : x[i * k + p]) * Double(transB ? w[j * k + p] : w[p * n + j])
                        }
                        sum += Double(beta) * Double(bias.count == n ? bias[j] : bias[i * n + j])
                        #expect(abs(Double(y[i * n + j]) - sum) <= 1e-5, "transA \(transA) transB \(transB) beta \(beta) at \(i), \(j)")
                    }
                }
            }
        }
    }

    @Test("Gemm that records gradients still gets them through the bias")
    func gemmGradients() throws {
        let (a, b, c) = Random.withSeed(2) { (Tensor.normal([2, 3], requiresGrad: true), Tensor.normal([3, 4]), Tensor.normal([4], requiresGrad: true)) }
        let node = ImportNode(opType: "Gemm", label: "#0", attributes: [:], inputs: [.tensor(a), .tensor(b), .tensor(c)], opset: 17)
        let y = try OpImport.run(node)[0].asTensor
        #expect(y.requiresGrad)
        y.sum().backward()
        #expect(c.grad?.scalars == [2, 2, 2, 2])
    }

    @Test("Reshape, Flatten, Squeeze and Unsqueeze keep whole numbers exactly")
    func exactWholeNumbers() throws {
        let values = [1 << 40, -(1 << 53) - 1, 16_777_217, 3]
        let x = GraphValue.integers(values, shape: [4], type: .int64)
        let cases: [(String, [String: NodeAttribute], [GraphValue], [Int], GraphValue)] = [
            ("Reshape", [:], [.integers([2, 2], shape: [2])], [2, 2], x),
            ("Unsqueeze", [:], [.integers([0], shape: [1])], [1, 4], x),
            ("Flatten", ["axis": .int(1)], [], [4, 1], x),
            ("Squeeze", [:], [.integers([0], shape: [1])], [4], .integers(values, shape: [1, 4], type: .int32)),
        ]
        for (opType, attributes, extra, shape, input) in cases {
            let node = ImportNode(opType: opType, label: "#0", attributes: attributes, inputs: [input] + extra.map { $0 }, opset: 17)
            let result = try OpImport.run(node)
            guard case .integers(let got, let gotShape, let type) = result[0] else {
                Issue.record("\(opType) gave a float tensor")
                continue
            }
            #expect(got == values, "\(opType)")
            #expect(gotShape == shape, "\(opType)")
            #expect(type == input.elementType, "\(opType)")
        }
    }
}
