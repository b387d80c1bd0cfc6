import Core
import IO

/// Training produced a loss (or weights) that is not finite — NaN or infinite, usually from a
/// learning rate too high — and `Trainer` stopped rather than train on, or save, garbage.
///
/// Nothing was written over the checkpoint: it still holds the last good state (`saved`),
/// from which a run can resume with a lower learning rate. Set `Trainer.nonFiniteLoss` to
/// `.skipStep` to skip such steps instead, as mixed-precision loss scalers do.
public struct DivergenceError: UserFacingError, Equatable {
    /// The optimizer step (counted from the start of training, 1-based) whose loss was not
    /// finite, or after which the weights were not.
    public var step: Int
    /// The epoch it was in (1-based).
    public var epoch: Int
    /// What was not finite: `the loss is nan`, `the weights hold non-finite values`.
    public var reason: String
    /// The last finite loss seen and its step, if any.
    public var lastFiniteLoss: (step: Int, loss: Float)?
    /// The checkpoint file, when the trainer has one.
    public var checkpoint: String?
    /// What the checkpoint on disk holds (`nil`: nothing saved by or resumed into this run).
    public var saved: TrainingProgress?

    public init(
        step: Int, epoch: Int, reason: String, lastFiniteLoss: (step: Int, loss: Float)?, checkpoint: String?, saved: TrainingProgress?
    ) {
        (self.step, self.epoch, self.reason, self.lastFiniteLoss, self.checkpoint, self.saved) = (step, epoch, reason, lastFiniteLoss, checkpoint, saved)
    }

    public static func == (a: Self, b: Self) -> Bool {
        a.step == b.step && a.epoch == b.epoch && a.reason == b.reason && a.checkpoint == b.checkpoint && a.saved == b.saved
            && a.lastFiniteLoss?.step == b.lastFiniteLoss?.step && a.lastFiniteLoss?.loss == b.lastFiniteLoss?.loss
    }

    public var description: String {
        var text = "training diverged at step \(step) (epoch \(epoch)): \(reason)"
        if let (lastStep, loss) = lastFiniteLoss { text += "; the last finite loss was \(loss) at step \(lastStep)" }
        switch (checkpoint, saved) {
        case let (file?, progress?):
            text += ". Nothing was saved over \(file), which holds epoch \(progress.epoch), step \(progress.step): resume from it with a lower learning rate"
        case let (file?, nil):
            text += ". Nothing was saved to \(file)"
        default:
            break
        }
        return text
    }
}

/// What `Trainer` does when a step's loss is NaN or infinite.
public enum NonFiniteLossPolicy: Sendable {
    /// Stop with a `DivergenceError` (the default); nothing non-finite is ever saved.
    case stop
    /// Skip the step: no optimizer update, no schedule step, the batch left out of the
    /// epoch's figures; counted in `Trainer.skippedSteps`.
    case skipStep
}
