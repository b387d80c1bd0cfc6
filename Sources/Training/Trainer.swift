import Core
import Data
import IO
import NN
import Optim

/// Runs the training loop for any model, loss and optimizer: batches from a `DataLoader`, one
/// optimizer step per batch, an optional learning-rate scheduler stepped once per epoch, and
/// checkpoints every `checkpointEverySteps` steps and at the end of every epoch.
///
/// A checkpoint carries everything the loop depends on — weights and buffers, optimizer state,
/// the counters, the process's generator (dropout masks), the loader's position (epoch, batch)
/// and the scheduler's state — so `resume()` followed by `fit` ends with the same bits as a
/// run that never stopped, even when it stopped mid-epoch.
///
///     let trainer = Trainer(model: model, optimizer: Adam(parameters: model.namedParameters),
///                           loss: { CrossEntropyLoss()($0, $1) }, data: loader, checkpoint: "run.ckpt.h5")
///     try trainer.resume()          // when the checkpoint exists
///     try trainer.fit(epochs: 10)
public final class Trainer {
    public let model: any Layer
    public let optimizer: any Optimizer
    public let loss: (Tensor, Tensor) -> Tensor
    public let data: DataLoader
    public let scheduler: (any LearningRateScheduler)?
    /// Where checkpoints go (`nil`: none).
    public let checkpoint: String?
    /// Also checkpoint every this many optimizer steps (0: only at the end of each epoch).
    public let checkpointEverySteps: Int
    /// Completed epochs and optimizer steps.
    public private(set) var progress = TrainingProgress()
    /// Called after every optimizer step with (progress, the step's loss); throwing stops
    /// training (the last checkpoint stays as it was).
    public var onStep: (TrainingProgress, Float) throws -> Void = { _, _ in }
    /// Called after every epoch with (progress, the mean loss of the epoch's steps).
    public var onEpoch: (TrainingProgress, Float) throws -> Void = { _, _ in }
    /// Examples to evaluate on after every epoch (in evaluation mode, without gradients).
    public var validation: (any Dataset)?
    /// Stop when the validation loss has not improved for this many epochs (needs
    /// `validation`; `nil`: never stop early).
    public var earlyStopPatience: Int?
    /// The validation loss after each epoch run so far (with `validation`).
    public private(set) var validationLosses: [Float] = []
    /// Whether `fit` stopped early.
    public private(set) var stoppedEarly = false

    public init(
        model: any Layer, optimizer: any Optimizer, loss: @escaping (Tensor, Tensor) -> Tensor, data: DataLoader,
        scheduler: (any LearningRateScheduler)? = nil, checkpoint: String? = nil, checkpointEverySteps: Int = 0
    ) {
        require(checkpointEverySteps >= 0, "Trainer: checkpointEverySteps must not be negative")
        (self.model, self.optimizer, self.loss, self.data, self.scheduler) = (model, optimizer, loss, data, scheduler)
        (self.checkpoint, self.checkpointEverySteps) = (checkpoint, checkpointEverySteps)
    }

    /// Continues from `checkpoint`: weights, optimizer, counters, generator, loader position
    /// and scheduler state.
    public func resume() throws {
        guard let checkpoint else { return }
        let contents = try Checkpoint.load(from: checkpoint, into: model, optimizer: optimizer)
        progress = contents.progress
        data.restorePosition(from: contents.metadata)
        if let scheduler, let state = contents.metadata["scheduler_state"] {
            scheduler.state = SchedulerStateText.decode(state)
        }
    }

    /// Trains until `epochs` epochs are complete; returns the mean loss of each epoch it ran.
    @discardableResult
    public func fit(epochs: Int) throws -> [Float] {
        var means: [Float] = []
        model.train()
        while progress.epoch < epochs {
            var total: Float = 0
            var count = 0
            while let (input, target) = data.nextBatch() {
                optimizer.zeroGrad()
                let value = loss(model(input), target)
                value.backward()
                optimizer.step()
                progress.step += 1
                total += value.scalar
                count += 1
                try onStep(progress, value.scalar)
                if checkpointEverySteps > 0 && progress.step % checkpointEverySteps == 0 { try save() }
            }
            progress.epoch += 1
            scheduler?.step()
            let mean = count > 0 ? total / Float(count) : .nan
            means.append(mean)
            if let validation { validationLosses.append(validationLoss(validation)) }
            try save()
            try onEpoch(progress, mean)
            if let patience = earlyStopPatience, let best = validationLosses.indices.min(by: { validationLosses[$0] < validationLosses[$1] }),
               validationLosses.count - 1 - best >= patience {
                stoppedEarly = true
                break
            }
        }
        return means
    }

    /// The mean loss over `dataset`, in batches of the loader's size, in evaluation mode.
    public func validationLoss(_ dataset: any Dataset) -> Float {
        let size = data.batchSize
        return Tensor.withoutGradients {
            model.withMode(training: false) {
                var total: Float = 0
                for start in stride(from: 0, to: dataset.count, by: size) {
                    let indices = Array(start..<Swift.min(start + size, dataset.count))
                    let (input, target) = dataset.batch(indices)
                    total += loss(model(input), target).scalar * Float(indices.count)
                }
                return dataset.count > 0 ? total / Float(dataset.count) : .nan
            }
        }
    }

    /// Writes the checkpoint now (atomically), if there is one.
    public func save() throws {
        guard let checkpoint else { return }
        var metadata = data.positionMetadata
        if let scheduler { metadata["scheduler_state"] = SchedulerStateText.encode(scheduler.state) }
        try Checkpoint.save(to: checkpoint, model: model, optimizer: optimizer, progress: progress, metadata: metadata)
    }
}
