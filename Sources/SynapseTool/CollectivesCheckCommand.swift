import ArgumentParser
import Distributed
import Foundation
import Synapse

/// `mpirun -np N synapse _collectives [--uneven]`: runs the collectives and DataParallel's
/// gradient sum on known values and prints one `rank R: name values…` line per check, for the
/// tests to compare with sums worked out by hand. With `--uneven`, the last rank's data has one
/// batch fewer than the others', and the job must end with a message instead of hanging.
struct CollectivesCheckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "_collectives", shouldDisplay: false)

    @Flag var uneven = false

    func run() throws {
        let group = try ProcessGroup.world()
        do {
            try check(group)
        } catch {
            group.abort("\(error)")
        }
        group.finalize()
    }

    private func check(_ group: ProcessGroup) throws {
        let r = Float(group.rank)
        func report(_ name: String, _ values: [Float]) {
            print("rank \(group.rank): \(name) " + values.map { "\($0)" }.joined(separator: " "))
        }
        var sum: [Float] = [r + 1, 10 * (r + 1), -r]
        try group.allreduceSum(&sum)
        report("allreduce", sum)
        var root: [Float] = group.isLeader ? [3.5, -2, 7] : [0, 0, 0]
        try root.withUnsafeMutableBufferPointer { try group.broadcast($0) }
        report("broadcast", root)
        var bytes: [UInt8] = group.isLeader ? Array("rank zero's bytes".utf8) : []
        try group.broadcast(bytes: &bytes)
        print("rank \(group.rank): bytes \(String(decoding: bytes, as: UTF8.self))")
        report("max", [Float(try group.allreduceMax(Int64(group.rank * 7)))])
        try group.barrier()

        // DataParallel on a Linear(2, 1) without bias: a global batch of 4 rows (x, target),
        // two per rank; each rank's gradient is weighted by its share and summed. The gradient of
        // the mean squared error of the whole batch, worked by hand for w = (1, -1):
        // rows (1,0)→0, (0,1)→0, (1,1)→1, (2,0)→1: residuals 1, -1, -1, 1 → dL/dw = (2/4)·Σ r·x = (1, -1).
        let model = Random.withSeed(1) { Linear(inputs: 2, outputs: 1, bias: false) }
        model.weight.replaceScalars(with: group.isLeader ? [1, -1] : [9, 9])  // rank 0's weights win the broadcast
        let rows = Tensor([[1, 0], [0, 1], [1, 1], [2, 0]])
        let targets = Tensor([[0], [0], [1], [1]])
        let batches = uneven && group.rank == group.size - 1 ? 1 : 2
        let source = IndexedBatches(batchesPerEpoch: batches) { _ in (rows, targets) }
        let shard = ShardedBatches(source, group: group)
        let parallel = try DataParallel(model: model, data: shard, group: group)
        report("weights", model.weight.scalars)
        while let (input, target) = shard.nextBatch() {
            let loss = MSELoss()(model(input), target)
            loss.backward()
            let global = try parallel.synchronize(loss: loss.scalar)
            report("gradient", model.weight.grad!.scalars + [global])
            model.weight.grad = nil
        }
        try parallel.finishEpoch()
        report("done", [])
    }
}
