import Core

/// Batches of a dataset, epoch after epoch (PyTorch's `DataLoader`): `batchSize` examples at a
/// time, in order or — with `shuffle` — in a permutation of each epoch drawn from a generator
/// of the loader's own, seeded with `seed` and the epoch number, so the order does not depend on
/// (nor move) the process's generator. With `dropLast` a last, short batch is skipped.
///
/// Its position (epoch, batch) is all a run needs to continue: `position` can be saved (in a
/// checkpoint's metadata) and set again, and the loader yields exactly the batches a run that
/// never stopped would have seen, mid-epoch included.
///
///     for (input, target) in loader { … }        // the rest of the current epoch
public final class DataLoader: Sequence {
    /// Where the loader is: the epoch (from 0) and the next batch within it.
    public struct Position: Equatable, Sendable {
        /// The epoch, from 0.
        public var epoch: Int
        /// The next batch within the epoch, from 0 (`batchesPerEpoch`: the epoch is over).
        public var batch: Int
        /// The position at batch `batch` of epoch `epoch`.
        public init(epoch: Int, batch: Int) { (self.epoch, self.batch) = (epoch, batch) }

        /// The position as strings (`epoch`, `batch`), for a checkpoint's `data` state.
        public var resumeState: [String: String] { ["epoch": "\(epoch)", "batch": "\(batch)"] }

        /// The position `state` holds, if it holds one.
        public init?(state: [String: String]) {
            guard let epoch = state["epoch"].flatMap(Int.init), let batch = state["batch"].flatMap(Int.init), epoch >= 0, batch >= 0 else {
                return nil
            }
            self.init(epoch: epoch, batch: batch)
        }
    }

    /// The examples.
    public let dataset: any Dataset
    /// Examples per batch (the last batch of an epoch may be shorter, unless `dropLast`).
    public let batchSize: Int
    /// Whether each epoch visits the examples in a fresh permutation.
    public let shuffle: Bool
    /// Whether a last, short batch is skipped.
    public let dropLast: Bool
    /// The seed of the loader's own generator (with the epoch, it fixes each permutation).
    public let seed: UInt64
    /// Where the loader is; set it (or `restore`) to continue a run.
    public var position = Position(epoch: 0, batch: 0) {
        didSet { require(position.epoch >= 0 && position.batch >= 0 && position.batch <= batchesPerEpoch, "DataLoader: position \(position) is outside the data") }
    }
    private var order: (epoch: Int, indices: [Int])?

    /// Batches of `batchSize` examples of `dataset`, shuffled each epoch from `seed` if `shuffle`.
    public init(_ dataset: any Dataset, batchSize: Int, shuffle: Bool = false, dropLast: Bool = false, seed: UInt64 = Random.defaultSeed) {
        require(batchSize > 0, "DataLoader: batchSize must be positive, got \(batchSize)")
        (self.dataset, self.batchSize, self.shuffle, self.dropLast, self.seed) = (dataset, batchSize, shuffle, dropLast, seed)
    }

    /// Batches in one epoch.
    public var batchesPerEpoch: Int {
        dropLast ? dataset.count / batchSize : (dataset.count + batchSize - 1) / batchSize
    }

    /// The order of the examples in `epoch`: 0..<count, or its permutation for that epoch
    /// (Fisher–Yates on a generator seeded from `seed` and `epoch`).
    public func indices(epoch: Int) -> [Int] {
        var indices = Array(0..<dataset.count)
        guard shuffle else { return indices }
        var generator = RandomGenerator(seed: seed ^ (UInt64(epoch) &* 0x9E37_79B9_7F4A_7C15))
        for i in stride(from: indices.count - 1, to: 0, by: -1) {
            indices.swapAt(i, Int(generator.next() % UInt64(i + 1)))
        }
        return indices
    }

    /// The next batch of the current epoch, advancing the position; `nil` at the end of the
    /// epoch, which moves the position to the start of the next one.
    public func nextBatch() -> (input: Tensor, target: Tensor)? {
        guard position.batch < batchesPerEpoch else {
            position = Position(epoch: position.epoch + 1, batch: 0)
            return nil
        }
        if order?.epoch != position.epoch { order = (position.epoch, indices(epoch: position.epoch)) }
        let start = position.batch * batchSize
        let picked = Array(order!.indices[start..<Swift.min(start + batchSize, dataset.count)])
        position.batch += 1
        return dataset.batch(picked)
    }

    /// The batches left in the current epoch.
    public func makeIterator() -> AnyIterator<(input: Tensor, target: Tensor)> {
        AnyIterator { self.nextBatch() }
    }

    /// The position (`epoch`, `batch`), for a checkpoint.
    public var resumeState: [String: String] { position.resumeState }

    /// Restores the position `resumeState` gave; `false` when it is not a place in this data.
    @discardableResult
    public func restore(_ state: [String: String]) -> Bool {
        guard let saved = Position(state: state), saved.batch <= batchesPerEpoch else { return false }
        position = saved
        return true
    }
}
