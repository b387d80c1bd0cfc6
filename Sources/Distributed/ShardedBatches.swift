import Core
import Data

/// This rank's part of every global batch: each rank runs the same global `source` (the same
/// seed, so the same order) and keeps rows ⌊n·r/N⌋ ..< ⌊n·(r+1)/N⌋ of each batch of n rows, so N
/// ranks together see exactly the batches one process would. Targets are cut in the same
/// proportion (a target with k rows per input row keeps k rows per kept row).
public final class ShardedBatches: BatchSource {
    /// The global batches, the same on every rank.
    public let source: any BatchSource
    /// This rank.
    public let rank: Int
    /// The number of ranks sharing each batch.
    public let size: Int
    /// This rank's rows over the rows of the last global batch: the weight of its gradient.
    public private(set) var share: Float = 0

    /// Rank `rank`'s part (of `size`) of every batch of `source`.
    public init(_ source: any BatchSource, rank: Int, size: Int) {
        require(size > 0 && rank >= 0 && rank < size, "ShardedBatches: rank \(rank) is not in 0..<\(size)")
        (self.source, self.rank, self.size) = (source, rank, size)
    }

    /// The shard of `source` for this process's rank in `group`.
    public convenience init(_ source: any BatchSource, group: ProcessGroup) {
        self.init(source, rank: group.rank, size: group.size)
    }

    public var batchesPerEpoch: Int { source.batchesPerEpoch }

    public func nextBatch() -> (input: Tensor, target: Tensor)? {
        guard let (input, target) = source.nextBatch() else { return nil }
        let rows = input.shape[0]
        let targetRows = target.shape[0]
        require(rows >= size, "ShardedBatches: a global batch of \(rows) rows cannot be shared by \(size) ranks")
        require(targetRows % rows == 0, "ShardedBatches: \(targetRows) target rows for \(rows) input rows")
        let (low, high) = (rows * rank / size, rows * (rank + 1) / size)
        let perRow = targetRows / rows
        share = Float(high - low) / Float(rows)
        return (input.slice(dim: 0, range: low..<high), target.slice(dim: 0, range: low * perRow..<high * perRow))
    }

    public var resumeState: [String: String] { source.resumeState }

    public func restore(_ state: [String: String]) -> Bool { source.restore(state) }
}
