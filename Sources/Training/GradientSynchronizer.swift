/// What a `Trainer` asks of data-parallel training (the `Distributed` module's `DataParallel`),
/// so that the loop itself does not depend on MPI.
public protocol GradientSynchronizer: AnyObject {
    /// Called after `backward()` and before the optimizer step with this process's batch loss:
    /// combines the gradients of every process (each process's share of the global batch);
    /// returns the loss of the whole global batch.
    func synchronize(loss: Float) throws -> Float
    /// Called when this process's batches of the epoch are done: checks that every process's
    /// are, so that none waits for a gradient that never comes.
    func finishEpoch() throws
    /// Whether this process writes checkpoints and logs and shows progress (rank 0).
    var isLeader: Bool { get }
}
