import Synapse

/// What `synapse train --resume` does with options that differ from the run in the checkpoint:
/// each change is applied and announced in one line, or refused with the reason, so that the
/// checkpoint's metadata always records what the run used (before, `--learning-rate` on
/// resume was silently ignored while the metadata recorded it).
struct ResumeChanges {
    /// One line per change applied, to print before training.
    var announcements: [String] = []
    /// A learning rate to set on the optimizer once the checkpoint is loaded.
    var learningRate: Double?

    /// No changes (a run that does not resume).
    init() {}

    /// Compares the options given (`given`, by metadata key; absent when not given) with the
    /// checkpoint's saved settings (`saved`).
    init(given: [String: String], saved: [String: String], checkpoint path: String) throws {
        func changed(_ key: String) -> (new: String, old: String)? {
            guard let new = given[key], !new.isEmpty else { return nil }
            let old = saved[key] ?? ""
            guard old != new, Double(old).map({ Double(new) != $0 }) ?? true else { return nil }
            return (new, old.isEmpty ? "the example's default" : old)
        }
        func refuse(_ flag: String, _ change: (new: String, old: String), _ why: String) -> UsageError {
            UsageError(message: "checkpoint \(path): \(flag) \(change.new) differs from the run's \(change.old): \(why); start a new run with --overwrite (or another --checkpoint) to change it")
        }
        if let change = changed("optimizer") {
            throw refuse("--optimizer", change, "the checkpoint holds that optimizer's state")
        }
        if let change = changed("scheduler") {
            throw refuse("--scheduler", change, "a schedule cannot be swapped mid-run")
        }
        if let change = changed("batch") {
            throw refuse("--batch", change, "the checkpoint's place in the data is counted in batches of that size")
        }
        if let change = changed("validation_split") {
            throw refuse("--validation-split", change, "it changes which rows are trained on")
        }
        if given["shuffle"] == "true" && saved["shuffle"] != "true" {
            throw refuse("--shuffle", ("on", "unshuffled order"), "the checkpoint's place in the data is a place in that order")
        }
        if let change = changed("learning_rate") {
            guard (saved["scheduler"] ?? "").isEmpty else {
                throw refuse("--learning-rate", change, "the \(saved["scheduler"]!) schedule sets the rate")
            }
            guard let rate = Double(change.new) else { throw UsageError(message: "--learning-rate \(change.new) is not a number") }
            learningRate = rate
            announcements.append("Learning rate \(change.new) from here on (the checkpoint's run used \(change.old))")
        }
        if let change = changed("seed") {
            announcements.append("Seed \(change.new) for the shuffling of the epochs to come (the checkpoint's run used \(change.old))")
        }
        if let change = changed("early_stop") {
            announcements.append("Early stopping after \(change.new) epochs without improvement (the checkpoint's run used \(change.old))")
        }
    }
}
