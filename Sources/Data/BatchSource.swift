import Core

/// Where a training loop takes its batches from, epoch after epoch, with a position that a
/// checkpoint can save and restore. `DataLoader` is the usual one; a source of its own suits
/// data that is not a set of independent examples (the character models' contiguous streams).
public protocol BatchSource: AnyObject, Resumable {
    /// Batches in one epoch.
    var batchesPerEpoch: Int { get }
    /// The next batch of the current epoch, advancing the position; `nil` at the end of the
    /// epoch, which moves the position to the start of the next one.
    func nextBatch() -> (input: Tensor, target: Tensor)?
}

extension DataLoader: BatchSource {}
