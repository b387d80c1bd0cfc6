import Core
import Foundation
import IO
import Testing

/// Runs the `synapse` tool built beside the tests; returns (exit status, stdout, stderr).
@discardableResult
func synapse(_ arguments: [String], in folder: String) throws -> (status: Int32, output: String, error: String) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("synapse")
    process.arguments = arguments
    process.currentDirectoryURL = URL(fileURLWithPath: folder)
    let output = Pipe()
    let error = Pipe()
    process.standardOutput = output
    process.standardError = error
    try process.run()
    let outputData = output.fileHandleForReading.readDataToEndOfFile()
    let errorData = error.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: outputData, as: UTF8.self), String(decoding: errorData, as: UTF8.self))
}

/// Starts the `synapse` tool in the background (output discarded), for tests that kill it.
func startSynapse(_ arguments: [String], in folder: String) throws -> Process {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("synapse")
    process.arguments = arguments
    process.currentDirectoryURL = URL(fileURLWithPath: folder)
    process.standardOutput = FileHandle.nullDevice
    try process.run()
    return process
}

/// Every weight and optimizer state tensor of a checkpoint, as bit patterns, by name.
func bits(_ path: String) throws -> [String: [UInt32]] {
    let contents = try CheckpointContents(contentsOf: path)
    var result: [String: [UInt32]] = [:]
    for (name, tensor) in contents.weights { result["weights/" + name] = tensor.scalars.map(\.bitPattern) }
    for (name, slots) in contents.optimizer?.state ?? [:] {
        for (slot, tensor) in slots { result["optimizer/\(name)/\(slot)"] = tensor.scalars.map(\.bitPattern) }
    }
    return result
}

@Suite("The synapse command-line tool", .serialized)
struct CommandLineTests {
    @Test("xor: 400 epochs in one process equal 200 then --resume to 400 in another, bit for bit")
    func resumeXOR() throws {
        let folder = temporaryFolder()
        let straight = try synapse(["train", "xor", "--epochs", "400", "--checkpoint", "straight.h5"], in: folder)
        #expect(straight.status == 0, "\(straight.error)")
        #expect(try synapse(["train", "xor", "--epochs", "200", "--checkpoint", "split.h5"], in: folder).status == 0)
        let resumed = try synapse(["train", "xor", "--epochs", "400", "--checkpoint", "split.h5", "--resume"], in: folder)
        #expect(resumed.status == 0, "\(resumed.error)")
        #expect(resumed.output.contains("Resuming xor from split.h5 at epoch 200"))
        let a = try bits(folder + "/straight.h5")
        #expect(!a.isEmpty)
        #expect(a == (try bits(folder + "/split.h5")))
        #expect(try CheckpointContents(contentsOf: folder + "/split.h5").progress == TrainingProgress(epoch: 400, step: 400))
    }

    @Test("digits with Adam and shuffled minibatches resumes bit for bit (generator and moments travel)")
    func resumeDigits() throws {
        let folder = temporaryFolder()
        let common = ["train", "digits", "--optimizer", "adam", "--shuffle", "--seed", "3"]
        #expect(try synapse(common + ["--epochs", "3", "--checkpoint", "straight.h5"], in: folder).status == 0)
        #expect(try synapse(common + ["--epochs", "1", "--checkpoint", "split.h5"], in: folder).status == 0)
        let resumed = try synapse(["train", "digits", "--epochs", "3", "--checkpoint", "split.h5", "--resume"], in: folder)
        #expect(resumed.status == 0, "\(resumed.error)")
        let a = try bits(folder + "/straight.h5")
        #expect(a.keys.contains("optimizer/0.weight/exp_avg"))
        #expect(a == (try bits(folder + "/split.h5")))
        // Shuffling really draws from the generator: an unshuffled run ends elsewhere.
        #expect(try synapse(["train", "digits", "--optimizer", "adam", "--seed", "3", "--epochs", "3", "--checkpoint", "plain.h5"], in: folder).status == 0)
        #expect(a != (try bits(folder + "/plain.h5")))
    }

    @Test("cnn-bn (BatchNorm statistics, Dropout masks from the generator) resumes bit for bit")
    func resumeCNN() throws {
        let folder = temporaryFolder()
        #expect(try synapse(["train", "cnn-bn", "--epochs", "2", "--checkpoint", "straight.h5"], in: folder).status == 0)
        #expect(try synapse(["train", "cnn-bn", "--epochs", "1", "--checkpoint", "split.h5"], in: folder).status == 0)
        let resumed = try synapse(["train", "cnn-bn", "--epochs", "2", "--checkpoint", "split.h5", "--resume"], in: folder)
        #expect(resumed.status == 0, "\(resumed.error)")
        let a = try bits(folder + "/straight.h5")
        #expect(a.keys.contains("weights/1.running_var") && a["weights/1.num_batches_tracked"] == [Float(94).bitPattern])
        #expect(a == (try bits(folder + "/split.h5")))
    }

    @Test("--scheduler cosine (per epoch), onecycle (per step) and plateau: a run killed after a checkpoint resumes bit for bit", arguments: ["cosine", "onecycle", "plateau"])
    func schedulerResume(scheduler: String) throws {
        let folder = temporaryFolder()
        let common = ["train", "digits", "--scheduler", scheduler, "--shuffle", "--epochs", "3"]
        #expect(try synapse(common + ["--checkpoint", "straight.h5"], in: folder).status == 0)
        // The same run, killed once its first checkpoint is on disk (saves are atomic).
        let process = try startSynapse(common + ["--checkpoint", "split.h5", "--every", "1"], in: folder)
        while !FileManager.default.fileExists(atPath: folder + "/split.h5") && process.isRunning { usleep(2_000) }
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        let resumed = try synapse(["train", "digits", "--epochs", "3", "--checkpoint", "split.h5", "--resume"], in: folder)
        #expect(resumed.status == 0, "\(resumed.error)")
        #expect(resumed.output.contains("at epoch 1") || resumed.output.contains("at epoch 2"), "\(resumed.output.prefix(200))")
        #expect(try bits(folder + "/straight.h5") == (try bits(folder + "/split.h5")))
        let contents = try CheckpointContents(contentsOf: folder + "/straight.h5")
        let rate = contents.optimizer?.hyperparameters["learning_rate"] ?? .nan
        if scheduler == "cosine" {
            // CosineAnnealingLR(T_max = 3) after 3 epochs: 0.05 · (1 + cos π) / 2 = 0.
            #expect(abs(rate) < 1e-7, "\(rate)")
            #expect(contents.state["schedule"]?["state"] == "step_count=3.0" && contents.metadata["scheduler_state"] == nil)
        } else if scheduler == "onecycle" {
            // The last of 3 · 47 steps: max / 25 / 10⁴.
            #expect(abs(rate - 0.05 / 25 / 1e4) < 1e-9, "\(rate)")
        }
    }

    @Test("--shuffle --save-every-steps: killed with SIGKILL at a random step mid-epoch and resumed, the same bits as never stopping")
    func killedMidEpoch() throws {
        let folder = temporaryFolder()
        let common = ["train", "digits", "--shuffle", "--optimizer", "adam", "--seed", "4", "--epochs", "3"]
        #expect(try synapse(common + ["--checkpoint", "straight.h5"], in: folder).status == 0)
        // 3 epochs of 47 steps; a checkpoint every 5 steps. Kill once a checkpoint past a random
        // step is on disk (the process runs on meanwhile, so the kill lands at some later step).
        var generator = RandomGenerator(seed: UInt64(Date().timeIntervalSince1970))
        let killAfter = 10 + Int(generator.next() % 90)
        let process = try startSynapse(common + ["--checkpoint", "split.h5", "--save-every-steps", "5"], in: folder)
        let path = folder + "/split.h5"
        while process.isRunning {
            if let step = try? CheckpointContents(contentsOf: path).progress.step, step >= killAfter { break }
            usleep(1_000)
        }
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        let stopped = try CheckpointContents(contentsOf: path)
        #expect(stopped.progress.epoch < 3, "the run was killed before it finished (step \(stopped.progress.step))")
        let batch = Int(stopped.metadata["data_batch"] ?? "") ?? -1
        let resumed = try synapse(["train", "digits", "--epochs", "3", "--checkpoint", "split.h5", "--resume"], in: folder)
        #expect(resumed.status == 0, "\(resumed.error)")
        if batch > 0 && batch < 47 {
            #expect(resumed.output.contains("batch \(batch) of epoch \(stopped.progress.epoch + 1)"), "\(resumed.output.prefix(300))")
        }
        #expect(try bits(folder + "/straight.h5") == (try bits(path)), "killed after step \(stopped.progress.step) (wanted ≥ \(killAfter))")
    }

    @Test("--validation-split reports held-out figures; --early-stop ends a run whose validation loss stalls")
    func validationAndEarlyStop() throws {
        let folder = temporaryFolder()
        let run = try synapse(["train", "digits", "--epochs", "2", "--validation-split", "0.2", "--checkpoint", "v.h5"], in: folder)
        #expect(run.status == 0, "\(run.error)")
        let lines = run.output.split(separator: "\n").filter { $0.hasPrefix("epoch ") }
        #expect(lines.count == 2 && lines.allSatisfy { $0.contains("val_loss") && $0.contains("val_accuracy") }, "\(run.output)")
        // 20% of 1,500 rows held out: 1,200 left, 38 batches of 32 per epoch.
        #expect(try CheckpointContents(contentsOf: folder + "/v.h5").progress == TrainingProgress(epoch: 2, step: 76))
        // A learning rate far too high: the validation loss stops improving within a few epochs.
        let stalled = try synapse(["train", "digits", "--epochs", "40", "--learning-rate", "5", "--validation-split", "0.2",
                                   "--early-stop", "2", "--checkpoint", "s.h5"], in: folder)
        #expect(stalled.status == 0, "\(stalled.error)")
        #expect(stalled.output.contains("Stopped early after epoch"), "\(stalled.output.suffix(400))")
        #expect(try CheckpointContents(contentsOf: folder + "/s.h5").progress.epoch < 40)
        for (arguments, message) in [
            (["xor", "--validation-split", "0.1"], "xor has no rows to hold out"),
            (["digits", "--early-stop", "3"], "give --validation-split too"),
            (["char-lstm", "--save-every-steps", "10"], "checkpoints at epoch ends only"),
        ] {
            let failed = try synapse(["train"] + arguments, in: folder)
            #expect(failed.status != 0 && failed.error.contains(message), "\(failed.error)")
        }
    }

    @Test("fine-tune trains a model file and writes it back; bad targets are one-line errors")
    func fineTune() throws {
        let folder = temporaryFolder()
        #expect(try synapse(["train", "xor", "--epochs", "50", "--checkpoint", "xor.h5"], in: folder).status == 0)
        #expect(try synapse(["export", "xor.h5", "-o", "xor"], in: folder).status == 0)
        let inputs = "[[0,0],[0,1],[1,0],[1,1]]"
        let tuned = try synapse(["fine-tune", "xor.onnx", "--inputs", inputs, "--targets", "[[0],[1],[1],[0]]", "--loss", "mse",
                                 "--epochs", "200", "--learning-rate", "0.5", "-o", "tuned"], in: folder)
        #expect(tuned.status == 0, "\(tuned.error)")
        let losses = tuned.output.split(separator: "\n").filter { $0.hasPrefix("Epoch") }.compactMap { Float($0.split(separator: " ").last!) }
        #expect(losses.count == 200 && losses.last! < losses.first!)
        let before = try ModelFile.load(folder + "/xor.onnx").namedParameters.map(\.tensor.scalars)
        let after = try ModelFile.load(folder + "/tuned.onnx").namedParameters.map(\.tensor.scalars)
        #expect(before != after)
        for (arguments, message) in [
            (["--targets", "[0, 1, 2, 3]"], "--targets: 1.0 is not a class index in 0..<1"),
            (["--targets", "[[0],[1]]", "--loss", "mse"], "same number of rows"),
            (["--targets", "[[0,1],[1,0],[1,1],[0,0]]", "--loss", "mse"], "--targets rows are [2], the model's output rows [1]"),
        ] {
            let failed = try synapse(["fine-tune", "xor.onnx", "--inputs", inputs, "-o", "bad"] + arguments, in: folder)
            #expect(failed.status == 1 && failed.error.contains(message), "\(failed.error)")
        }
    }

    @Test("benchmark prints one line of figures for a model file; bad counts are usage errors")
    func benchmark() throws {
        let folder = temporaryFolder()
        #expect(try synapse(["train", "xor", "--epochs", "20", "--checkpoint", "xor.h5"], in: folder).status == 0)
        #expect(try synapse(["export", "xor.h5", "-o", "xor"], in: folder).status == 0)
        let run = try synapse(["benchmark", "xor.onnx", "--input", "[[0,0],[0,1],[1,0]]", "--runs", "5", "--warmup", "1", "--threads", "1"], in: folder)
        #expect(run.status == 0, "\(run.error)")
        let lines = run.output.split(separator: "\n")
        #expect(lines.count == 1 && lines[0].hasPrefix("bench=predict impl=synapse model=xor batch=3 median_ms="), "\(run.output)")
        var fields: [String: String] = [:]
        for pair in lines.first?.split(separator: " ") ?? [] {
            let parts = pair.split(separator: "=", maxSplits: 1)
            if parts.count == 2 { fields[String(parts[0])] = String(parts[1]) }
        }
        let (minimum, median, p90) = (Double(fields["min_ms"] ?? "") ?? -1, Double(fields["median_ms"] ?? "") ?? -1, Double(fields["p90_ms"] ?? "") ?? -1)
        #expect(minimum >= 0 && minimum <= median && median <= p90)
        #expect((Double(fields["peak_rss_mb"] ?? "") ?? 0) > 1 && fields["runs"] == "5" && fields["threads"] == "1")
        // --profile: the same line, then a line per kind of step and the slowest steps, whose
        // shares add up to the whole run.
        let profiled = try synapse(["benchmark", "xor.onnx", "--input", "[[0,0],[0,1],[1,0]]", "--runs", "5", "--threads", "1", "--profile"], in: folder)
        #expect(profiled.status == 0, "\(profiled.error)")
        let table = profiled.output.split(separator: "\n").map(String.init)
        #expect(table.first?.hasPrefix("bench=predict impl=synapse model=xor") == true && table.contains { $0.hasPrefix("whole run") })
        let kinds = table.dropFirst(2).prefix { !$0.hasPrefix("whole run") }
        let shares = kinds.compactMap { line in line.split(separator: " ").first { $0.hasSuffix("%") }.flatMap { Double($0.dropLast()) } }
        #expect(!kinds.isEmpty && shares.count == kinds.count && kinds.contains { $0.hasPrefix("Gemm") }, "\(profiled.output)")
        #expect(abs(shares.reduce(0, +) - 100) < 1, "\(profiled.output)")
        #expect(table.contains("slowest steps:") && table.contains { $0.contains("Gemm [3,2]") }, "\(profiled.output)")
        for bad in [["--runs", "0"], ["--warmup", "-1"], ["--threads", "0"], ["--profile", "--as-written"]] {
            let failed = try synapse(["benchmark", "xor.onnx", "--input", "[[0,0]]"] + bad, in: folder)
            #expect(failed.status == 64 && failed.error.hasPrefix("synapse: "), "\(failed.error)")
        }
    }

    @Test("a save killed at random instants always leaves a whole, consistent checkpoint")
    func crashSafety() throws {
        let folder = temporaryFolder()
        let path = folder + "/stress.h5"
        var generator = RandomGenerator(seed: 2)
        var lastEpoch = 0
        for _ in 0..<15 {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("synapse")
            process.arguments = ["_stress-save", path]
            process.standardOutput = FileHandle.nullDevice
            try process.run()
            // Let it complete its first save, then kill it somewhere inside a later one.
            while !FileManager.default.fileExists(atPath: path) { usleep(1_000) }
            usleep(useconds_t(generator.next() % 60_000))
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            let contents = try CheckpointContents(contentsOf: path)
            let bias = contents.weights.first { $0.name == "0.bias" }!.tensor.scalars
            #expect(bias.allSatisfy { $0 == Float(contents.progress.epoch) }, "bias and counter disagree")
            #expect(contents.progress.epoch >= 1)
            lastEpoch = contents.progress.epoch
        }
        #expect(lastEpoch >= 1)
    }

    @Test("bad input prints one line on stderr and exits 1", arguments: [
        (["inspect", "nothing.h5"], "synapse: checkpoint nothing.h5: cannot open the file (No such file or directory)"),
        (["inspect", "noise.h5"], "synapse: checkpoint noise.h5: not an HDF5 file"),
        (["train", "digits", "--resume", "--checkpoint", "xor.h5"], "synapse: checkpoint xor.h5: was written by `synapse train xor`, not digits"),
        (["train", "xor", "--resume", "--checkpoint", "nothing.h5"], "synapse: checkpoint nothing.h5: cannot open the file"),
    ])
    func badInput(arguments: [String], message: String) throws {
        let folder = temporaryFolder()
        try Data("not hdf5 at all".utf8).write(to: URL(fileURLWithPath: folder + "/noise.h5"))
        #expect(try synapse(["train", "xor", "--epochs", "2", "--checkpoint", "xor.h5"], in: folder).status == 0)
        let before = try Data(contentsOf: URL(fileURLWithPath: folder + "/xor.h5"))
        let result = try synapse(arguments, in: folder)
        #expect(result.status == 1)
        #expect(result.error.hasPrefix(message), "stderr: \(result.error)")
        #expect(result.error.split(separator: "\n").count == 1)
        #expect(try Data(contentsOf: URL(fileURLWithPath: folder + "/xor.h5")) == before)
    }
}
