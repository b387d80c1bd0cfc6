import Core

/// Batch k of every epoch made by a function of k: data that is not a set of independent
/// examples (chunk k of contiguous text streams), or full-batch training
/// (`IndexedBatches.fullBatch`). The position is the (epoch, batch) a `DataLoader` saves, under
/// the same metadata names.
public final class IndexedBatches: BatchSource {
    public let batchesPerEpoch: Int
    /// Where the source is: the epoch and the next batch.
    public private(set) var position = DataLoader.Position(epoch: 0, batch: 0)
    private let batch: (Int) -> (input: Tensor, target: Tensor)

    /// `batchesPerEpoch` batches per epoch; `batch(k)` makes batch k (from 0).
    public init(batchesPerEpoch: Int, batch: @escaping (Int) -> (input: Tensor, target: Tensor)) {
        require(batchesPerEpoch > 0, "IndexedBatches: batchesPerEpoch must be positive, got \(batchesPerEpoch)")
        (self.batchesPerEpoch, self.batch) = (batchesPerEpoch, batch)
    }

    /// The same `input` and `target`, whole, as the one batch of every epoch (no copies).
    public static func fullBatch(input: Tensor, target: Tensor) -> IndexedBatches {
        require(input.rank >= 1 && target.rank >= 1 && input.shape[0] == target.shape[0],
                "fullBatch: input \(describe(input.shape)) and target \(describe(target.shape)) must have the same first dimension")
        return IndexedBatches(batchesPerEpoch: 1) { _ in (input, target) }
    }

    public func nextBatch() -> (input: Tensor, target: Tensor)? {
        guard position.batch < batchesPerEpoch else {
            position = DataLoader.Position(epoch: position.epoch + 1, batch: 0)
            return nil
        }
        position.batch += 1
        return batch(position.batch - 1)
    }

    public var resumeState: [String: String] { position.resumeState }

    public func restore(_ state: [String: String]) -> Bool {
        guard let saved = DataLoader.Position(state: state), saved.batch <= batchesPerEpoch else { return false }
        position = saved
        return true
    }
}
