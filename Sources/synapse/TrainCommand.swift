import ArgumentParser
import ExampleTasks
import Foundation
import Synapse

extension Example: ExpressibleByArgument {}

/// `synapse train EXAMPLE`: trains with checkpoints every K epochs and at the end, and
/// resumes from one bit-exactly.
struct TrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train an example (xor, digits, cnn, cnn-bn, char-lstm, char-lstm-layer, char-transformer), saving checkpoints; --resume continues one.")

    @Argument(help: "The example: \(Example.allCases.map(\.rawValue).joined(separator: ", ")).")
    var example: Example

    @Option(help: "Train until this many epochs are done (xor: 5000, digits and the CNNs: 20, char-lstm: 5, char-transformer: 1); 0 saves the initial model.")
    var epochs: Int?

    @Option(help: "Seed of the random generator (weights, shuffling).")
    var seed: UInt64 = Random.defaultSeed

    @Option(help: "Checkpoint file (default: EXAMPLE.ckpt.h5).")
    var checkpoint: String?

    @Flag(help: "Continue from the checkpoint's epoch.")
    var resume = false

    @Option(help: "Also save a checkpoint every K epochs (0: only at the end).")
    var every = 0

    @Option(help: "Optimizer: sgd or adam (default: the example's; on --resume, the checkpoint's).")
    var optimizer: String?

    @Option(help: "Learning rate (default: the example's for its optimizer).")
    var learningRate: Float?

    @Flag(help: "Reshuffle the training rows every epoch (digits and the CNNs).")
    var shuffle = false

    @Option(help: "Write TensorBoard scalars to this folder: the loss of every step, and per epoch the mean loss and the learning rate used (step = epoch).")
    var tensorboard: String?

    @Option(help: "Learning-rate schedule: step (x0.1 every third of the epochs), cosine (annealed over --epochs), onecycle (per optimizer step, up to the learning rate) or plateau (halved when the epoch loss stalls); on --resume, the checkpoint's.")
    var scheduler: String?

    func validate() throws {
        if let epochs, epochs < 0 { throw ValidationError("--epochs must be 0 (save the initial model) or more, got \(epochs)") }
        if every < 0 { throw ValidationError("--every must be 0 or positive, got \(every)") }
        if let optimizer, !["sgd", "adam"].contains(optimizer) {
            throw ValidationError("--optimizer must be sgd or adam, got \(optimizer)")
        }
        if let learningRate, !(learningRate > 0 && learningRate.isFinite) {
            throw ValidationError("--learning-rate must be a positive number")
        }
        if let scheduler, !TrainingSchedule.names.contains(scheduler) {
            throw ValidationError("--scheduler must be one of \(TrainingSchedule.names.joined(separator: ", ")), got \(scheduler)")
        }
    }

    var defaultEpochs: Int {
        switch example {
        case .xor: 5_000
        case .digits, .cnn, .cnnBatchNorm: 20
        case .charLSTM, .charLSTMLayer: 5
        case .charTransformer: 1
        }
    }

    func run() throws {
        let path = checkpoint ?? "\(example.rawValue).ckpt.h5"
        let target = epochs ?? defaultEpochs
        var settings = [
            "example": example.rawValue, "seed": "\(seed)", "optimizer": optimizer ?? "",
            "shuffle": shuffle ? "true" : "false", "learning_rate": learningRate.map { "\($0)" } ?? "",
            "scheduler": scheduler ?? "", "scheduler_epochs": scheduler == nil ? "" : "\(target)",
        ]
        if resume {
            // The run's settings come from the checkpoint unless given again.
            let saved = try CheckpointContents(contentsOf: path).metadata
            guard saved["example"] == example.rawValue else {
                throw UsageError(message: "checkpoint \(path): was written by `synapse train \(saved["example"] ?? "?")`, not \(example.rawValue)")
            }
            for (key, value) in saved where settings[key]?.isEmpty ?? true || (key == "shuffle" && !shuffle) {
                settings[key] = value
            }
        }
        Random.seed(seed)
        let training = try example.makeTraining(
            optimizer: settings["optimizer"].flatMap { $0.isEmpty ? nil : $0 },
            learningRate: settings["learning_rate"].flatMap { Float($0) },
            shuffle: settings["shuffle"] == "true")
        // Made before a checkpoint loads: the optimizer's initial learning rate is the base. The
        // schedule spans the epochs the run was started for (kept in the checkpoint).
        let schedule = settings["scheduler"].flatMap { $0.isEmpty ? nil : $0 }.map {
            TrainingSchedule($0, optimizer: training.optimizer, epochs: settings["scheduler_epochs"].flatMap { Int($0) } ?? target,
                             stepsPerEpoch: training.stepsPerEpoch)
        }
        var progress = TrainingProgress()
        if resume {
            let contents = try Checkpoint.load(from: path, into: training.model, optimizer: training.optimizer)
            progress = contents.progress
            if let schedule, let state = contents.metadata["scheduler_state"] { schedule.state = state }
            print("Resuming \(example.rawValue) from \(path) at epoch \(progress.epoch)")
        }
        if progress.epoch >= target {
            print("\(path) already holds \(progress.epoch) epochs (asked for \(target)); nothing to train.")
        }
        let display = ProgressDisplay(total: target, stepsPerEpoch: training.stepsPerEpoch)
        let save = {
            var metadata = settings
            if let schedule { metadata["scheduler_state"] = schedule.state }
            try Checkpoint.save(
                to: path, model: training.model, optimizer: training.optimizer, progress: progress, metadata: metadata,
                graph: try training.traceGraph())
        }
        let log = try tensorboard.map { try SummaryWriter(directory: $0) }
        while progress.epoch < target {
            let epoch = progress.epoch + 1
            let rate = Float(training.optimizer.hyperparameters["learning_rate"] ?? .nan)
            let firstStep = progress.step
            let loss = training.runEpoch { step, loss in
                schedule?.afterStep()
                log?.addScalar("train/step_loss", loss, step: firstStep + step)
                display.update(epoch: epoch, step: step, loss: loss)
            }
            log?.addScalar("epoch/loss", loss, step: epoch)
            log?.addScalar("epoch/learning_rate", rate, step: epoch)
            schedule?.afterEpoch(loss: loss)
            progress.epoch = epoch
            progress.step += training.stepsPerEpoch
            display.finish(epoch: epoch, loss: loss)
            if every > 0 && epoch % every == 0 && epoch < target { try save() }
        }
        try save()
        print("Saved \(path) at epoch \(progress.epoch)")
        print(training.report())
    }
}
