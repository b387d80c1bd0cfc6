import Distributed
import ExampleTasks
import Foundation
import Synapse

/// `synapse train` under `mpirun -np N`: the MPI world, the shard of the batches this rank
/// trains on, and the checkpoint every rank resumes from (rank 0's file, broadcast as bytes, so
/// that ranks on other hosts need no shared folder).
struct ParallelRun {
    let group: ProcessGroup

    /// The MPI world when the process was started by mpirun; each rank's OpenBLAS then runs one
    /// thread unless OPENBLAS_NUM_THREADS says otherwise (N ranks already share the cores).
    static func start() throws -> ParallelRun? {
        guard ProcessGroup.isLaunchedByMPI else { return nil }
        if ProcessInfo.processInfo.environment["OPENBLAS_NUM_THREADS"] == nil { setenv("OPENBLAS_NUM_THREADS", "1", 1) }
        return ParallelRun(group: try ProcessGroup.world())
    }

    var isLeader: Bool { group.isLeader }
    var size: Int { group.size }

    /// The checkpoint to read on this rank: `path` itself on rank 0; elsewhere a private copy
    /// of rank 0's bytes (removed with `cleanUp`).
    func checkpointCopy(of path: String) throws -> String {
        guard size > 1 else { return path }
        var bytes: [UInt8] = []
        if isLeader {
            guard let data = FileManager.default.contents(atPath: path) else {
                group.abort("checkpoint \(path): cannot be read (\(String(cString: strerror(errno))))")
            }
            bytes = Array(data)
        }
        try group.broadcast(bytes: &bytes)
        guard !isLeader else { return path }
        let copy = NSTemporaryDirectory() + "synapse-rank\(group.rank)-\(getpid()).ckpt.h5"
        guard FileManager.default.createFile(atPath: copy, contents: Data(bytes)) else {
            throw UsageError(message: "\(copy): cannot write rank \(group.rank)'s copy of the checkpoint")
        }
        return copy
    }

    func cleanUp(_ copy: String, original: String) {
        if copy != original { try? FileManager.default.removeItem(atPath: copy) }
    }

    /// The run's batches, or this rank's shard of them, and the synchronizer that sums the
    /// gradients (after broadcasting rank 0's weights).
    func shard(_ training: any EpochTraining) throws -> (data: any BatchSource, synchronizer: DataParallel?) {
        guard size > 1 else { return (training.batches, nil) }
        let shard = ShardedBatches(training.batches, group: group)
        return (shard, try DataParallel(model: training.model, data: shard, group: group))
    }
}
