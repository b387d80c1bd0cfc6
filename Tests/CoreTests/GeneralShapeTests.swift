import Core
import Testing
import TestSupport

/// A fresh leaf with the same scalars (gradients accumulate across checks of one tensor).
func fresh(_ x: Tensor) -> Tensor {
    let copy = x.copy()
    copy.requiresGrad = true
    return copy
}

/// The ops of general shapes: finite differences at ranks 1–4 and values worked out by hand.
@Suite("General shapes: batched matmul, permute, squeeze, max/min, negative dims")
struct GeneralShapeTests {
    static let shapes: [[Int]] = [[5], [3, 4], [2, 3, 4], [2, 1, 3, 2]]

    @Test("batched matmul with broadcasting and flags", arguments: [false, true], [false, true])
    func batchedMatmul(transposeA: Bool, transposeB: Bool) {
        let a = parameter(transposeA ? [2, 1, 4, 3] : [2, 1, 3, 4], seed: 1)
        let b = parameter(transposeB ? [3, 5, 4] : [3, 4, 5], seed: 2)
        expectGradientsMatchFiniteDifferences([a, b]) { $0[0].matmul($0[1], transposeA: transposeA, transposeB: transposeB) }
        let stacked = parameter([2, 3, 4], seed: 3)
        let matrix = parameter(transposeB ? [5, 4] : [4, 5], seed: 4)
        expectGradientsMatchFiniteDifferences([stacked, matrix]) { $0[0].matmul($0[1], transposeB: transposeB) }
    }

    @Test("batched matmul equals one product per matrix, vectors as torch.matmul reads them")
    func batchedValues() {
        let a = Tensor([1, 2, 3, 4, 5, 6, 7, 8], shape: [2, 2, 2])
        let b = Tensor([[1, 0], [1, 1]])
        // [[1,2],[3,4]]·b = [[3,2],[7,4]]; [[5,6],[7,8]]·b = [[11,6],[15,8]]
        #expect(a.matmul(b).scalars == [3, 2, 7, 4, 11, 6, 15, 8])
        let batchB = Tensor([1, 0, 1, 1, 2, 0, 0, 2], shape: [2, 2, 2])
        #expect(a.matmul(batchB).scalars == [3, 2, 7, 4, 10, 12, 14, 16])
        #expect(a.matmul(batchB, transposeA: true).scalars == [4, 3, 6, 4, 10, 14, 12, 16])
        let v = Tensor([1, 1])
        #expect(Tensor([[1, 2], [3, 4]]).matmul(v).scalars == [3, 7])
        #expect(v.matmul(Tensor([[1, 2], [3, 4]])).scalars == [4, 6])
        #expect(v.matmul(v).shape == [])
    }

    @Test("permute and transposed at ranks 2–4", arguments: [[3, 4], [2, 3, 4], [2, 1, 3, 2]])
    func permute(shape: [Int]) {
        let x = parameter(shape, seed: 5)
        let reversed = Array((0..<shape.count).reversed())
        expectGradientsMatchFiniteDifferences([fresh(x)]) { $0[0].permuted(reversed) }
        expectGradientsMatchFiniteDifferences([fresh(x)]) { $0[0].transposed(0, -1) }
        let t = Tensor([1, 2, 3, 4, 5, 6], shape: [1, 2, 3]).permuted([2, 0, 1])
        #expect(t.shape == [3, 1, 2])
        #expect(t.scalars == [1, 4, 2, 5, 3, 6])
    }

    @Test("squeeze, unsqueeze and flatten keep the scalars and pass gradients", arguments: shapes)
    func squeeze(shape: [Int]) {
        let x = parameter(shape, seed: 6)
        #expect(x.unsqueezed(dim: -1).shape == shape + [1])
        #expect(x.unsqueezed(dim: 0).squeezed(dim: 0).shape == shape)
        #expect(x.squeezed().shape == shape.filter { $0 != 1 })
        #expect(x.flattened().shape == [x.count])
        expectGradientsMatchFiniteDifferences([fresh(x)]) { $0[0].unsqueezed(dim: 1).flattened(startDim: 0, endDim: 1) }
    }

    @Test("max and min along any dimension: values and gradient to the arg", arguments: shapes)
    func extrema(shape: [Int]) {
        let x = parameter(shape, seed: 7)
        for dim in -shape.count..<shape.count {
            expectGradientsMatchFiniteDifferences([fresh(x)]) { $0[0].max(dim: dim) }
            expectGradientsMatchFiniteDifferences([fresh(x)]) { $0[0].min(dim: dim, keepDim: true) }
        }
        let m = Tensor([[1, 5, 3], [7, 2, 7]], requiresGrad: true)
        let maximum = m.max(dim: 1)
        #expect(maximum.scalars == [5, 7])
        #expect(m.min(dim: 0).scalars == [1, 2, 3])
        maximum.sum().backward()
        #expect(m.grad!.scalars == [0, 1, 0, 1, 0, 0])
    }

    @Test("negative dims count from the end in every op that takes one", arguments: shapes.dropFirst())
    func negativeDims(shape: [Int]) {
        let x = parameter(shape, seed: 8)
        let last = shape.count - 1
        #expect(x.sum(dim: -1).scalars == x.sum(dim: last).scalars)
        #expect(x.mean(dim: -1, keepDim: true).scalars == x.mean(dim: last, keepDim: true).scalars)
        #expect(x.logSoftmax(dim: -1).scalars == x.logSoftmax(dim: last).scalars)
        #expect(x.softmax(dim: -2).scalars == x.softmax(dim: last - 1).scalars)
        #expect(Tensor.concat([x, x], dim: -1).shape == Tensor.concat([x, x], dim: last).shape)
        #expect(x.slice(dim: -1, range: 0..<1).scalars == x.slice(dim: last, range: 0..<1).scalars)
        #expect(x.expand(dim: -1, copies: 2).shape == shape + [2])
        expectGradientsMatchFiniteDifferences([fresh(x)]) { $0[0].sum(dim: -1) * $0[0].mean(dim: -1, keepDim: false) }
    }
}

@Suite("New elementwise ops: sqrt, erf, gelu, softmax, clamp, comparisons, where")
struct NewElementwiseTests {
    @Test("values worked out by hand")
    func values() {
        let x = Tensor([-1, 0, 0.5, 1])
        #expect(close(x.erf().scalars, [-0.8427008, 0, 0.5204999, 0.8427008], tolerance: 1e-6))
        // GELU(x) = x Φ(x): Φ(1) = 0.8413447, Φ(0.5) = 0.6914625, Φ(-1) = 0.1586553
        #expect(close(x.gelu().scalars, [-0.1586553, 0, 0.3457312, 0.8413447], tolerance: 1e-6))
        // tanh form: 0.5 · 1 · (1 + tanh(0.7978846 · 1.044715)) = 0.8411920
        #expect(close(x.gelu(approximate: true).scalars, [-0.1588080, 0, 0.3457140, 0.8411920], tolerance: 1e-6))
        #expect(Tensor([4, 9, 0.25]).sqrt().scalars == [2, 3, 0.5])
        #expect(x.clamped(min: -0.5, max: 0.75).scalars == [-0.5, 0, 0.5, 0.75])
        // softmax of [0, ln 3] is [1/4, 3/4]
        #expect(close(Tensor([0, 1.0986123]).softmax(dim: 0).scalars, [0.25, 0.75], tolerance: 1e-6))
        let a = Tensor([1, 2, 3])
        let b = Tensor([2, 2, 2])
        #expect((a .< b).scalars == [1, 0, 0])
        #expect((a .<= b).scalars == [1, 1, 0])
        #expect((a .> b).scalars == [0, 0, 1])
        #expect((a .>= b).scalars == [0, 1, 1])
        #expect((a .== b).scalars == [0, 1, 0])
        #expect(Tensor.select(a .> b, a, Tensor(scalar: -1)).scalars == [-1, -1, 3])
    }

    @Test("finite differences at ranks 1–4", arguments: GeneralShapeTests.shapes)
    func gradients(shape: [Int]) {
        let x = parameter(shape, seed: 9)
        let positive = parameter(shape, low: 0.5, high: 2, seed: 10)
        expectGradientsMatchFiniteDifferences([fresh(positive)]) { $0[0].sqrt() }
        expectGradientsMatchFiniteDifferences([fresh(x)]) { $0[0].erf() }
        expectGradientsMatchFiniteDifferences([fresh(x)]) { $0[0].gelu() }
        expectGradientsMatchFiniteDifferences([fresh(x)]) { $0[0].gelu(approximate: true) }
        expectGradientsMatchFiniteDifferences([fresh(x)]) { $0[0].softmax(dim: -1) }
        expectGradientsMatchFiniteDifferences([fresh(x)]) { $0[0].softmax(dim: 0) }
        // Away from the bounds, where the derivative jumps.
        expectGradientsMatchFiniteDifferences([x], step: 1e-3) { $0[0].clamped(min: -0.97, max: 0.53) }
        let y = parameter(shape, seed: 11)
        expectGradientsMatchFiniteDifferences([fresh(x), fresh(y)]) { Tensor.select($0[0] .> Tensor(scalar: 0.1), $0[0] * 2, $0[1]) }
    }

    @Test("where broadcasts its three operands and sums gradients back")
    func whereBroadcasts() {
        let condition = Tensor([1, 0, 1])
        let a = parameter([2, 3], seed: 12)
        let b = parameter([2, 1], seed: 13)
        expectGradientsMatchFiniteDifferences([a, b]) { Tensor.select(condition, $0[0], $0[1]) }
    }
}
