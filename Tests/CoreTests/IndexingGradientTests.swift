import Core
import Testing
import TestSupport

#if canImport(Glibc)
import Glibc
#endif

@Suite("Gather, concat, slice, logSoftmax")
struct IndexingGradientTests {
    @Test("gatherRows: repeated indices accumulate into their row; unused rows get zero")
    func gather() {
        let table = parameter([5, 3])
        let indices = Tensor([[4, 1], [4, 0]])
        let rows = table.gatherRows(indices)
        #expect(rows.shape == [2, 2, 3])
        #expect(Array(rows.scalars[0..<3]) == Array(table.scalars[12..<15]))
        expectGradientsMatchFiniteDifferences([parameter([5, 3])]) { $0[0].gatherRows(indices) }
        let fresh = parameter([5, 3])
        fresh.gatherRows(indices).sum().backward()
        #expect(fresh.grad?.scalars == [1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 2, 2, 2])
    }

    @Test("concat along each dimension", arguments: [0, 1, 2])
    func concat(dim: Int) {
        var shapeB = [2, 3, 4]
        shapeB[dim] = 1
        expectGradientsMatchFiniteDifferences(
            [parameter([2, 3, 4], seed: 1), parameter(shapeB, seed: 2), parameter([2, 3, 4], seed: 3)]
        ) { Tensor.concat($0, dim: dim) }
    }

    @Test("concat and slice values worked out by hand")
    func concatSliceValues() {
        let a = Tensor([[1, 2], [3, 4]])
        let b = Tensor([[5], [6]])
        let joined = Tensor.concat([a, b], dim: 1)
        #expect(joined.shape == [2, 3])
        #expect(joined.scalars == [1, 2, 5, 3, 4, 6])
        #expect(Tensor.concat([a, a], dim: 0).scalars == [1, 2, 3, 4, 1, 2, 3, 4])
        #expect(joined.slice(dim: 1, range: 1..<3).scalars == [2, 5, 4, 6])
        #expect(joined.slice(dim: 0, range: 1..<2).scalars == [3, 4, 6])
    }

    @Test("slice along each dimension", arguments: [0, 1, 2])
    func slice(dim: Int) {
        expectGradientsMatchFiniteDifferences([parameter([3, 4, 5])]) { $0[0].slice(dim: dim, range: 1..<3) }
    }

    @Test("logSoftmax along each dimension", arguments: [0, 1, 2])
    func logSoftmax(dim: Int) {
        expectGradientsMatchFiniteDifferences([parameter([2, 3, 4], low: -3, high: 3)]) { $0[0].logSoftmax(dim: dim) }
    }

    @Test("logSoftmax values: log(e^xᵢ / Σe^x), finite for huge logits")
    func logSoftmaxValues() {
        let values = Tensor([[1, 2, 3]]).logSoftmax(dim: 1).scalars
        let logSumExp = 3 + log(1 + exp(-1.0) + exp(-2.0))
        let expected = [1.0, 2, 3].map { Float($0 - logSumExp) }
        #expect(close(values, expected))
        let huge = Tensor([[1000, -1000, 0]]).logSoftmax(dim: 1).scalars
        let allFinite = huge.allSatisfy { $0.isFinite }
        #expect(allFinite)
        #expect(huge[0] == 0)
        #expect(huge[1] == -2000)
    }
}

@Suite("Fused cross-entropy")
struct CrossEntropyOpTests {
    @Test("per-row cross-entropy matches finite differences and log-sum-exp by hand")
    func crossEntropyRows() {
        let targets = Tensor([2, 0, 4])
        expectGradientsMatchFiniteDifferences([parameter([3, 5], low: -2, high: 2)]) { $0[0].crossEntropyRows(targets: targets) }
        let row = Tensor([[1, 2, 3]]).crossEntropyRows(targets: Tensor([0])).scalar
        let expected = Float(3 + log(1 + exp(-1.0) + exp(-2.0)) - 1)
        #expect(abs(row - expected) < 1e-6)
        #expect(Tensor([[1000, -1000]]).crossEntropyRows(targets: Tensor([1])).scalar == 2000)
    }

    @Test("exports as Cast + SoftmaxCrossEntropyLoss(reduction none)")
    func export() {
        var context = ExportContext()
        let nodes = Op.crossEntropy.exportNodes(
            inputs: ["logits", "targets"], shapes: [[2, 3], [2]], output: "loss", outputShape: [2], context: &context)
        #expect(nodes.map(\.opType) == ["Cast", "SoftmaxCrossEntropyLoss"])
        #expect(nodes[1].attributes["reduction"] == .string("none"))
    }
}
