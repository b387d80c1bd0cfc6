import Core
import NN
import Training

/// Data-parallel training over a `ProcessGroup` (PyTorch's `DistributedDataParallel`, on MPI):
/// every rank holds the whole model, computes the gradients of its shard of each global batch
/// (`ShardedBatches`), and `synchronize` sums share-weighted gradients across ranks with
/// `MPI_Allreduce` over buckets that fuse many tensors into one call — so every rank takes the
/// optimizer step one process would take on the global batch, and the copies stay identical.
///
/// At start, rank 0's parameters and buffers are broadcast (`broadcastState`). Each rank
/// normalises its shard with its own batch statistics (as DDP without SyncBatchNorm), and the
/// running statistics (the module's `namedAveragedBuffers`: every buffer not declared
/// `@Buffer(…, averaged: false)`, as `num_batches_tracked`, the same everywhere) are averaged across ranks after every step, weighted by share: every rank keeps
/// the same model — so a checkpoint from rank 0 resumes every rank exactly — and with equal
/// shards the running mean is exactly one process's (the running variance, a mean of the
/// shards' variances, is close to it).
///
///     let group = try ProcessGroup.world()
///     let shard = ShardedBatches(loader, group: group)
///     let trainer = Trainer(model: model, optimizer: optimizer, loss: loss, data: shard, checkpoint: "run.ckpt.h5")
///     trainer.synchronizer = try DataParallel(model: model, data: shard, group: group)
///     try trainer.fit(epochs: 10)
///     group.finalize()
public final class DataParallel: GradientSynchronizer {
    /// The processes that train together.
    public let group: ProcessGroup
    /// This rank's copy of the model.
    public let model: Module
    /// This rank's shard of the batches; its `share` weights the gradient.
    public let data: ShardedBatches
    /// Floats per allreduce call; parameters are packed into buckets of at most this many (a
    /// larger tensor is a bucket of its own). The default, 4 M floats (16 MiB), makes one call
    /// per step for models up to that size.
    public let bucketCapacity: Int
    /// The model's parameters, in `namedParameters` order (listed once: reflection is not free).
    private let parameters: [Tensor]
    /// The running statistics averaged after every step.
    private let averagedBuffers: [Tensor]
    /// Parameter indices of each bucket.
    private let buckets: [[Int]]
    private var buffer: [Float] = []

    /// Two extra floats at the start of the first bucket: the number of ranks that had a batch,
    /// and the share-weighted loss.
    private static let header = 2

    /// Data-parallel training of `model` on `data` across `group`; with `broadcast`, rank 0's
    /// parameters and buffers are copied to every rank now (a collective: every rank must call it).
    public init(model: Module, data: ShardedBatches, group: ProcessGroup, bucketCapacity: Int = 1 << 22, broadcast: Bool = true) throws {
        require(bucketCapacity > 0, "DataParallel: bucketCapacity must be positive")
        (self.model, self.data, self.group, self.bucketCapacity) = (model, data, group, bucketCapacity)
        parameters = model.namedParameters.map(\.tensor)
        averagedBuffers = model.namedAveragedBuffers.map(\.tensor)
        var buckets: [[Int]] = [[]]
        var filled = DataParallel.header
        for (index, parameter) in parameters.enumerated() {
            let count = parameter.count
            if filled + count > bucketCapacity && !buckets[buckets.count - 1].isEmpty {
                buckets.append([])
                filled = 0
            }
            buckets[buckets.count - 1].append(index)
            filled += count
        }
        self.buckets = buckets
        if broadcast { try broadcastState() }
    }

    public var isLeader: Bool { group.isLeader }

    /// Rank 0's parameters and buffers on every rank, in one broadcast (parameters keep their
    /// identity: the optimizer holds them).
    public func broadcastState() throws {
        let state = model.namedState.map(\.tensor)
        var values = state.flatMap(\.scalars)
        try values.withUnsafeMutableBufferPointer { try group.broadcast($0) }
        var offset = 0
        for tensor in state {
            tensor.replaceScalars(with: Array(values[offset..<offset + tensor.count]))
            offset += tensor.count
        }
    }

    /// Sums share · gradient over the ranks into every rank's gradients, bucket by bucket;
    /// returns Σ share · loss, the loss of the global batch. Throws when a rank had no batch
    /// (its shard ended early).
    public func synchronize(loss: Float) throws -> Float {
        let share = data.share
        var globalLoss = loss
        for (number, bucket) in buckets.enumerated() {
            let header = number == 0 ? DataParallel.header : 0
            let count = header + bucket.reduce(0) { $0 + parameters[$1].count }
            if buffer.count != count { buffer = [Float](repeating: 0, count: count) }
            buffer.withUnsafeMutableBufferPointer { packed in
                if number == 0 { (packed[0], packed[1]) = (1, share * loss) }
                var offset = header
                for index in bucket {
                    let parameter = parameters[index]
                    let destination = packed.baseAddress! + offset
                    if let gradient = parameter.grad {
                        gradient.withUnsafeBufferPointer { values in
                            for i in 0..<values.count { destination[i] = values[i] * share }
                        }
                    } else {
                        destination.update(repeating: 0, count: parameter.count)
                    }
                    offset += parameter.count
                }
            }
            try group.allreduceSum(&buffer)
            if number == 0 {
                try checkParticipants(buffer[0])
                globalLoss = buffer[1]
            }
            // Fresh gradient tensors: a gradient's storage may be shared with another tensor's.
            var offset = header
            for index in bucket {
                let parameter = parameters[index]
                let gradient = Tensor.zeros(parameter.shape)
                gradient.withUnsafeMutableBufferPointer { destination in
                    buffer.withUnsafeBufferPointer { source in
                        destination.baseAddress!.update(from: source.baseAddress! + offset, count: parameter.count)
                    }
                }
                parameter.grad = gradient
                offset += parameter.count
            }
        }
        try averageBuffers(share: share)
        return globalLoss
    }

    /// Σ share · buffer over the ranks, in place, in one call.
    private func averageBuffers(share: Float) throws {
        guard !averagedBuffers.isEmpty else { return }
        var values = [Float]()
        values.reserveCapacity(averagedBuffers.reduce(0) { $0 + $1.count })
        for tensor in averagedBuffers { tensor.withUnsafeBufferPointer { values += $0.lazy.map { $0 * share } } }
        try group.allreduceSum(&values)
        var offset = 0
        for tensor in averagedBuffers {
            tensor.withUnsafeMutableBufferPointer { destination in
                for i in 0..<destination.count { destination[i] = values[offset + i] }
            }
            offset += tensor.count
        }
    }

    /// Joins the first bucket's allreduce without a batch: every rank's epoch must end together.
    public func finishEpoch() throws {
        let count = DataParallel.header + buckets[0].reduce(0) { $0 + parameters[$1].count }
        var empty = [Float](repeating: 0, count: count)
        try group.allreduceSum(&empty)
        if empty[0] != 0 {
            throw DistributedError(operation: "DataParallel", message: "this rank's data ended while \(Int(empty[0])) of \(group.size) ranks still had a batch: every rank's shard must have the same number of batches")
        }
    }

    private func checkParticipants(_ count: Float) throws {
        guard Int(count) != group.size else { return }
        throw DistributedError(operation: "DataParallel", message: "only \(Int(count)) of \(group.size) ranks had a batch for this step: a rank's data ended early")
    }
}
