import Core
import Data
import Testing

/// DataLoader: batching, shuffling with a generator of its own, the last batch, and a position
/// that resumes mid-epoch exactly.
@Suite("DataLoader")
struct DataLoaderTests {
    let dataset = TensorDataset(inputs: Tensor((0..<20).map(Float.init), shape: [10, 2]), targets: Tensor((0..<10).map(Float.init)))

    /// The targets (example indices) of each batch of one epoch.
    func epoch(_ loader: DataLoader) -> [[Float]] { loader.map { $0.target.scalars } }

    @Test("in order: batches of 4, the last short unless dropLast; inputs follow their targets")
    func inOrder() {
        let loader = DataLoader(dataset, batchSize: 4)
        let first = loader.nextBatch()!
        #expect(first.input.shape == [4, 2] && first.input.scalars == [0, 1, 2, 3, 4, 5, 6, 7])
        loader.position = .init(epoch: 0, batch: 0)
        #expect(epoch(loader) == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]])
        #expect(loader.position == .init(epoch: 1, batch: 0))
        #expect(epoch(DataLoader(dataset, batchSize: 4, dropLast: true)) == [[0, 1, 2, 3], [4, 5, 6, 7]])
    }

    @Test("shuffled: a permutation per epoch, from the loader's seed only")
    func shuffled() {
        let loader = DataLoader(dataset, batchSize: 3, shuffle: true, seed: 7)
        let (first, unmoved) = Random.withSeed(1) { () -> ([Float], Bool) in
            let before = Random.state
            let order = epoch(loader).flatMap { $0 }
            return (order, Random.state == before)
        }
        #expect(unmoved, "the generator in use is not drawn from")
        let second = epoch(loader).flatMap { $0 }
        #expect(first.sorted() == (0..<10).map(Float.init) && second.sorted() == first.sorted())
        #expect(first != second && first != (0..<10).map(Float.init))
        let again = DataLoader(dataset, batchSize: 3, shuffle: true, seed: 7)
        #expect(epoch(again).flatMap { $0 } == first)
        #expect(epoch(DataLoader(dataset, batchSize: 3, shuffle: true, seed: 8)).flatMap { $0 } != first)
    }

    @Test("a loader restored to a mid-epoch position yields what an uninterrupted one would")
    func resume() {
        let straight = DataLoader(dataset, batchSize: 3, shuffle: true, seed: 3)
        var expected: [[Float]] = []
        for _ in 0..<3 { expected += epoch(straight) }
        let interrupted = DataLoader(dataset, batchSize: 3, shuffle: true, seed: 3)
        var seen = epoch(interrupted)
        seen += [interrupted.nextBatch()!.target.scalars, interrupted.nextBatch()!.target.scalars]
        let saved = interrupted.resumeState
        #expect(saved == ["epoch": "1", "batch": "2"])
        let resumed = DataLoader(dataset, batchSize: 3, shuffle: true, seed: 3)
        #expect(resumed.restore(saved))
        seen += epoch(resumed) + epoch(resumed)
        #expect(seen == expected)
    }
}
