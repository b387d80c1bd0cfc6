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

    @Option(parsing: .unconditional, help: "Train until this many epochs are done (xor: 5000, digits and the CNNs: 20, char-lstm: 5, char-transformer: 1); 0 saves the initial model.")
    var epochs: Int?

    @Option(help: "Seed of the random generator (weights, shuffling; default \(Random.defaultSeed); on --resume, the checkpoint's).")
    var seed: UInt64?

    @Option(help: "Checkpoint file (default: EXAMPLE.ckpt.h5).")
    var checkpoint: String?

    @Flag(help: "Continue from the checkpoint's epoch and batch. Options that change the run are applied and announced (--learning-rate, --seed, --early-stop) or refused with the reason (--optimizer, --scheduler, --batch, --validation-split, --shuffle).")
    var resume = false

    @Flag(help: "Start a new run even though the checkpoint file exists, replacing it at the first save.")
    var overwrite = false

    @Flag(name: .customLong("skip-nonfinite"), help: "Skip optimizer steps whose loss is NaN or infinite (counted at the end) instead of stopping.")
    var skipNonFinite = false

    @Option(help: "Also save a checkpoint every K epochs (0: only at the end).")
    var every = 0

    @Option(name: .customLong("save-every-steps"), help: "Also save a checkpoint every N optimizer steps, mid-epoch included (0: not by steps).")
    var saveEverySteps = 0

    @Option(help: "Optimizer: \(OptimizerRegistry.names.joined(separator: ", ")) (default: the example's; on --resume, the checkpoint's).")
    var optimizer: String?

    @Option(help: "Learning rate (default: the example's for its optimizer).")
    var learningRate: Float?

    @Flag(help: "Reshuffle the training rows every epoch (digits and the CNNs), in an order drawn from the seed and the epoch.")
    var shuffle = false

    @Option(help: "Rows per minibatch (digits and the CNNs; default 32). Under mpirun -np N it is the global batch, shared by the N ranks.")
    var batch: Int?

    @Option(name: .customLong("validation-split"), help: "Hold out this fraction of the training rows (the last ones) and report the loss and accuracy on them after every epoch (digits and the CNNs).")
    var validationSplit: Double?

    @Option(name: .customLong("early-stop"), help: "Stop when the validation loss has not improved for this many epochs (needs --validation-split).")
    var earlyStop: Int?

    @Option(help: "Write TensorBoard logs to this folder: the loss of every step; per epoch the mean loss, accuracy, learning rate used (step = epoch), validation figures and histograms of the weights.")
    var tensorboard: String?

    @Option(help: "Learning-rate schedule: step (x0.1 every third of the epochs), cosine (annealed over --epochs), onecycle (per optimizer step, up to the learning rate) or plateau (halved when the epoch loss stalls); on --resume, the checkpoint's.")
    var scheduler: String?

    func validate() throws {
        if resume && overwrite { throw ValidationError("--resume continues the checkpoint and --overwrite replaces it: give one of them") }
        if let epochs, epochs < 0 { throw ValidationError("--epochs must be 0 (save the initial model) or more, got \(epochs)") }
        if every < 0 { throw ValidationError("--every must be 0 or positive, got \(every)") }
        if saveEverySteps < 0 { throw ValidationError("--save-every-steps must be 0 or positive, got \(saveEverySteps)") }
        if let optimizer, !OptimizerRegistry.names.contains(optimizer) {
            throw ValidationError("--optimizer must be one of \(OptimizerRegistry.names.joined(separator: ", ")), got \(optimizer)")
        }
        if let learningRate, !(learningRate > 0 && learningRate.isFinite) {
            throw ValidationError("--learning-rate must be a positive number")
        }
        if let scheduler, !TrainingSchedule.names.contains(scheduler) {
            throw ValidationError("--scheduler must be one of \(TrainingSchedule.names.joined(separator: ", ")), got \(scheduler)")
        }
        if let validationSplit {
            guard validationSplit > 0 && validationSplit < 1 else {
                throw ValidationError("--validation-split must be a fraction between 0 and 1, got \(validationSplit)")
            }
            guard example.canHoldOutExamples else {
                throw ValidationError("--validation-split: \(example.rawValue) has no rows to hold out (digits, cnn and cnn-bn have)")
            }
        }
        if let batch {
            guard batch > 0 else { throw ValidationError("--batch must be positive, got \(batch)") }
            guard example.canHoldOutExamples else { throw ValidationError("--batch: \(example.rawValue) has a fixed batch (digits, cnn and cnn-bn take --batch)") }
        }
        if let earlyStop {
            guard earlyStop > 0 else { throw ValidationError("--early-stop must be a positive number of epochs, got \(earlyStop)") }
            guard validationSplit != nil || resume else { throw ValidationError("--early-stop watches the validation loss: give --validation-split too") }
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
        let parallel = try ParallelRun.start()
        defer { parallel?.group.finalize() }
        do {
            try train(parallel)
        } catch {
            // One rank's error must end the whole job, not leave the others waiting in a collective.
            if let parallel, parallel.size > 1 { parallel.group.abort("\(error)") }
            throw error
        }
    }

    private func train(_ parallel: ParallelRun?) throws {
        let path = checkpoint ?? "\(example.rawValue).ckpt.h5"
        let target = epochs ?? defaultEpochs
        let worldSize = parallel?.size ?? 1
        let isLeader = parallel?.isLeader ?? true
        func say(_ line: String) { if isLeader { print(line) } }
        if worldSize > 1 && !example.canShardBatches {
            throw UsageError(message: "\(example.rawValue) cannot train under mpirun: its batches are time-major and carry the LSTM state from one to the next")
        }
        func text(_ value: (any CustomStringConvertible)?) -> String { value.map { "\($0)" } ?? "" }
        var settings: [String: String] = ["example": example.rawValue, "shuffle": shuffle ? "true" : "false"]
        settings["seed"] = text(seed)
        settings["optimizer"] = text(optimizer)
        settings["learning_rate"] = text(learningRate)
        settings["scheduler"] = text(scheduler)
        settings["scheduler_epochs"] = scheduler == nil ? "" : "\(target)"
        settings["validation_split"] = text(validationSplit)
        settings["early_stop"] = text(earlyStop)
        settings["batch"] = text(batch)
        settings["world_size"] = "\(worldSize)"
        if isLeader && !resume {
            if FileManager.default.fileExists(atPath: path) && !overwrite {
                let held = (try? CheckpointContents(contentsOf: path)).map { " (epoch \($0.progress.epoch), step \($0.progress.step))" } ?? ""
                throw UsageError(message: "checkpoint \(path) already exists\(held): continue it with --resume, or start over with --overwrite (which replaces it)")
            }
        }
        // A checkpoint location that cannot be written is found now, not at the first save.
        if isLeader { try Checkpoint.checkWritable(path) }
        // Under mpirun every rank reads rank 0's checkpoint (its bytes, broadcast).
        var resumeChanges = ResumeChanges()
        let readPath = resume ? try parallel?.checkpointCopy(of: path) ?? path : path
        defer { parallel?.cleanUp(readPath, original: path) }
        if resume {
            // The run's settings come from the checkpoint unless given again.
            let contents = try CheckpointContents(contentsOf: readPath)
            let saved = contents.metadata
            guard saved["example"] == example.rawValue else {
                throw UsageError(message: "checkpoint \(path): was written by `synapse train \(saved["example"] ?? "?")`, not \(example.rawValue)")
            }
            let savedWorld = saved["world_size"] ?? "1"
            guard savedWorld == "\(worldSize)" else {
                throw UsageError(message: "checkpoint \(path): was written by a run of \(savedWorld) process(es) and this run has \(worldSize); resume it with the same number (mpirun -np \(savedWorld)) to continue bit for bit")
            }
            var given = settings.filter { !$0.value.isEmpty && $0.key != "shuffle" }
            if shuffle { given["shuffle"] = "true" }
            // What the run used where the metadata says "the example's default": the optimizer's own record.
            var effective = saved
            if let record = contents.optimizer {
                if (saved["optimizer"] ?? "").isEmpty { effective["optimizer"] = record.kind.lowercased() }
                if (saved["learning_rate"] ?? "").isEmpty, let rate = record.hyperparameters["learning_rate"] { effective["learning_rate"] = "\(Float(rate))" }
            }
            resumeChanges = try ResumeChanges(given: given, saved: effective, checkpoint: path)
            for (key, value) in saved where settings[key]?.isEmpty ?? true || (key == "shuffle" && !shuffle) {
                settings[key] = value
            }
        }
        func setting(_ key: String) -> String? { settings[key].flatMap { $0.isEmpty ? nil : $0 } }
        let runSeed = setting("seed").flatMap { UInt64($0) } ?? Random.defaultSeed
        settings["seed"] = "\(runSeed)"
        Random.seed(runSeed)
        let training = try example.makeTraining(
            optimizer: setting("optimizer"), learningRate: setting("learning_rate").flatMap { Float($0) },
            shuffle: settings["shuffle"] == "true", seed: runSeed, validationSplit: setting("validation_split").flatMap { Double($0) } ?? 0,
            batchSize: setting("batch").flatMap { Int($0) })
        if saveEverySteps > 0 && !training.resumesMidEpoch {
            throw UsageError(message: "--save-every-steps: \(example.rawValue) carries its LSTM state across an epoch's chunks, so it checkpoints at epoch ends only (use --every)")
        }
        // Made before a checkpoint loads: the optimizer's initial learning rate is the base. The
        // schedule spans the epochs the run was started for (kept in the checkpoint).
        let schedule = setting("scheduler").map {
            TrainingSchedule.make($0, optimizer: training.optimizer, epochs: setting("scheduler_epochs").flatMap { Int($0) } ?? target,
                                  stepsPerEpoch: training.stepsPerEpoch)
        }
        let (data, synchronizer) = try parallel?.shard(training) ?? (training.batches, nil)
        let trainer = training.makeTrainer(schedule: schedule, checkpoint: path, checkpointEverySteps: saveEverySteps, data: data)
        trainer.synchronizer = synchronizer
        trainer.checkpointEveryEpochs = every
        trainer.earlyStopPatience = setting("early_stop").flatMap { Int($0) }
        trainer.metadata = settings
        if resume {
            try trainer.resume(from: readPath)
            let position = DataLoader.Position(state: trainer.data.resumeState)
            let within = position.map { $0.batch > 0 && $0.batch < training.stepsPerEpoch ? ", batch \($0.batch) of epoch \($0.epoch + 1)" : "" } ?? ""
            say("Resuming \(example.rawValue) from \(path) at epoch \(trainer.progress.epoch)\(within) (step \(trainer.progress.step))")
            if let rate = resumeChanges.learningRate { training.optimizer.learningRate = Float(rate) }
            resumeChanges.announcements.forEach(say)
            if let spanned = setting("scheduler_epochs").flatMap(Int.init), let name = setting("scheduler"), spanned != target {
                say("The \(name) schedule spans the \(spanned) epochs the run was started for; training goes on to \(target)")
            }
        }
        trainer.nonFiniteLoss = skipNonFinite ? .skipStep : .stop
        if trainer.progress.epoch >= target {
            say("\(path) already holds \(trainer.progress.epoch) epochs (asked for \(target)); nothing to train.")
        }
        if isLeader {
            trainer.display = ProgressDisplay(epochs: target, stepsPerEpoch: training.stepsPerEpoch)
            trainer.log = try tensorboard.map { try SummaryWriter(directory: $0) }
        }
        if worldSize > 1 { say("Training on \(worldSize) processes, each on its share of every global batch") }
        defer {
            if trainer.skippedSteps > 0 { say("Skipped \(trainer.skippedSteps) optimizer steps whose loss was not finite") }
            if let log = trainer.log, let failure = log.failure { say("The TensorBoard logs in \(tensorboard ?? "") are incomplete: \(failure)") }
        }
        try trainer.fit(epochs: target)
        if trainer.stoppedEarly {
            say("Stopped early after epoch \(trainer.progress.epoch): the validation loss did not improve for \(trainer.earlyStopPatience ?? 0) epochs")
        }
        say("Saved \(path) at epoch \(trainer.progress.epoch)")
        if isLeader { print(training.report()) }
    }
}
