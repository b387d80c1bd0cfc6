import Core
import Foundation
import IO
import Testing

/// Runs `synapse` and kills it after `seconds` (a hang is a failure, not a stuck test run).
func synapse(_ arguments: [String], in folder: String, killAfter seconds: Double) throws -> (status: Int32, error: String, killed: Bool) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("synapse")
    process.arguments = arguments
    process.currentDirectoryURL = URL(fileURLWithPath: folder)
    let error = Pipe()
    process.standardOutput = FileHandle.nullDevice
    process.standardError = error
    try process.run()
    let deadline = Date().addingTimeInterval(seconds)
    var killed = false
    while process.isRunning {
        if Date() > deadline {
            kill(process.processIdentifier, SIGKILL)
            killed = true
            break
        }
        usleep(10_000)
    }
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: error.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self), killed)
}

/// The names of the files in `folder`, hidden ones included.
func listing(_ folder: String) -> [String] {
    ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []).sorted()
}

@Suite("Ordinary faults end in one line and lose nothing trained", .serialized)
struct FaultTests {
    @Test("train over an existing checkpoint without --resume refuses and leaves it; --overwrite starts over")
    func forgottenResume() throws {
        let folder = temporaryFolder()
        #expect(try synapse(["train", "xor", "--epochs", "30", "--checkpoint", "k.h5"], in: folder).status == 0)
        let before = try Data(contentsOf: URL(fileURLWithPath: folder + "/k.h5"))
        let forgot = try synapse(["train", "xor", "--epochs", "1", "--checkpoint", "k.h5"], in: folder)
        #expect(forgot.status == 1)
        #expect(forgot.error == "synapse: checkpoint k.h5 already exists (epoch 30, step 30): continue it with --resume, or start over with --overwrite (which replaces it)\n")
        #expect(try Data(contentsOf: URL(fileURLWithPath: folder + "/k.h5")) == before)
        #expect(try synapse(["train", "xor", "--epochs", "1", "--checkpoint", "k.h5", "--overwrite"], in: folder).status == 0)
        #expect(try CheckpointContents(contentsOf: folder + "/k.h5").progress == TrainingProgress(epoch: 1, step: 1))
        let both = try synapse(["train", "xor", "--epochs", "1", "--checkpoint", "k.h5", "--overwrite", "--resume"], in: folder)
        #expect(both.status == 64 && both.error.split(separator: "\n").count == 1, "\(both.error)")
    }

    @Test("--learning-rate on --resume is applied, announced and recorded; a change of optimizer or schedule is refused")
    func changedOptionsOnResume() throws {
        let folder = temporaryFolder()
        #expect(try synapse(["train", "digits", "--epochs", "1", "--checkpoint", "d.h5"], in: folder).status == 0)
        let resumed = try synapse(["train", "digits", "--epochs", "2", "--checkpoint", "d.h5", "--resume", "--learning-rate", "0.001"], in: folder)
        #expect(resumed.status == 0, "\(resumed.error)")
        #expect(resumed.output.contains("Learning rate 0.001 from here on (the checkpoint's run used 0.05)"), "\(resumed.output)")
        let contents = try CheckpointContents(contentsOf: folder + "/d.h5")
        #expect(contents.optimizer?.hyperparameters["learning_rate"] == Double(Float(0.001)))
        #expect(contents.metadata["learning_rate"] == "0.001")
        // The same run without the change ends elsewhere: the rate really was used.
        #expect(try synapse(["train", "digits", "--epochs", "1", "--checkpoint", "e.h5"], in: folder).status == 0)
        #expect(try synapse(["train", "digits", "--epochs", "2", "--checkpoint", "e.h5", "--resume"], in: folder).status == 0)
        #expect(try bits(folder + "/d.h5") != (try bits(folder + "/e.h5")))
        for (flag, value, reason) in [
            ("--optimizer", "adam", "the checkpoint holds that optimizer's state"), ("--scheduler", "cosine", "a schedule cannot be swapped mid-run"),
            ("--batch", "16", "counted in batches of that size"),
        ] {
            let before = try Data(contentsOf: URL(fileURLWithPath: folder + "/d.h5"))
            let refused = try synapse(["train", "digits", "--epochs", "3", "--checkpoint", "d.h5", "--resume", flag, value], in: folder)
            #expect(refused.status == 1)
            #expect(refused.error.hasPrefix("synapse: checkpoint d.h5: \(flag) \(value) differs from the run's") && refused.error.contains(reason), "\(refused.error)")
            #expect(try Data(contentsOf: URL(fileURLWithPath: folder + "/d.h5")) == before)
        }
    }

    @Test("a diverging run stops at the first non-finite loss, exits 1 naming the step, and the good checkpoint stays")
    func divergence() throws {
        let folder = temporaryFolder()
        #expect(try synapse(["train", "digits", "--epochs", "1", "--checkpoint", "d.h5"], in: folder).status == 0)
        let before = try Data(contentsOf: URL(fileURLWithPath: folder + "/d.h5"))
        let diverged = try synapse(["train", "digits", "--epochs", "5", "--checkpoint", "d.h5", "--resume", "--learning-rate", "1e20"], in: folder)
        #expect(diverged.status == 1)
        #expect(diverged.error.split(separator: "\n").count == 1)
        #expect(diverged.error.hasPrefix("synapse: training diverged at step "), "\(diverged.error)")
        #expect(diverged.error.contains("Nothing was saved over d.h5, which holds epoch 1, step 47"), "\(diverged.error)")
        #expect(try Data(contentsOf: URL(fileURLWithPath: folder + "/d.h5")) == before)
        #expect(!listing(folder).contains { $0.hasPrefix(".d.h5") })
        // A new run that diverges saves nothing at all.
        let fresh = try synapse(["train", "digits", "--epochs", "3", "--checkpoint", "x.h5", "--learning-rate", "1e20"], in: folder)
        #expect(fresh.status == 1 && fresh.error.contains("training diverged at step") && fresh.error.hasSuffix(". Nothing was saved to x.h5\n"), "\(fresh.error)")
        #expect(!FileManager.default.fileExists(atPath: folder + "/x.h5"))
    }

    @Test("FIFOs, devices and folders given as files are refused at once, never waited on", arguments: [
        ["inspect", "fifo.h5"], ["train", "xor", "--resume", "--checkpoint", "fifo.h5"], ["export", "fifo.h5", "-o", "m"],
        ["predict", "fifo.onnx", "--input", "[[0,1]]"], ["inspect", "/dev/zero"], ["predict", "/dev/zero", "--input", "1"],
        ["import", "/dev/zero", "-o", "m"], ["inspect", "."],
    ])
    func specialFiles(arguments: [String]) throws {
        let folder = temporaryFolder()
        #expect(mkfifo(folder + "/fifo.h5", 0o644) == 0 && mkfifo(folder + "/fifo.onnx", 0o644) == 0)
        let result = try synapse(arguments, in: folder, killAfter: 20)
        #expect(!result.killed, "\(arguments) hung")
        #expect(result.status == 1)
        #expect(result.error.split(separator: "\n").count == 1)
        #expect(result.error.contains(", not a regular file"), "\(result.error)")
    }

    @Test("a large file that is not an ONNX model or a Synapse HDF5 file is refused from its first bytes, not read whole")
    func largeForeignFile() throws {
        let folder = temporaryFolder()
        let path = folder + "/big.onnx"
        #expect(FileManager.default.createFile(atPath: path, contents: Data([0xFF, 0x00, 0x11])))
        #expect(truncate(path, 1 << 31) == 0)  // sparse: 2 GiB that would take seconds and gigabytes to read
        let started = Date()
        let result = try synapse(["predict", "big.onnx", "--input", "1"], in: folder, killAfter: 20)
        #expect(result.status == 1 && !result.killed)
        #expect(result.error == "synapse: model big.onnx: not an ONNX model: it starts with byte 0xff, which no ONNX ModelProto field starts with\n")
        // The same file as a checkpoint.
        #expect(rename(path, folder + "/big.h5") == 0)
        let checkpoint = try synapse(["inspect", "big.h5"], in: folder, killAfter: 20)
        #expect(checkpoint.status == 1 && !checkpoint.killed)
        #expect(checkpoint.error.hasPrefix("synapse: checkpoint big.h5: not an HDF5 file Synapse wrote"), "\(checkpoint.error)")
        #expect(Date().timeIntervalSince(started) < 5)
    }

    @Test("an unwritable checkpoint or output location is found before any training")
    func unwritableLocation() throws {
        let folder = temporaryFolder()
        #expect(FileManager.default.createFile(atPath: folder + "/plain", contents: Data()))
        let missing = try synapse(["train", "digits", "--epochs", "50", "--checkpoint", "runs/d.h5"], in: folder)
        #expect(missing.status == 1)
        #expect(missing.error == "synapse: checkpoint runs/d.h5: cannot be saved: folder runs does not exist\n")
        #expect(!missing.output.contains("epoch 1"), "no epoch ran: \(missing.output)")
        let notFolder = try synapse(["train", "xor", "--checkpoint", "plain/x.h5"], in: folder)
        #expect(notFolder.error == "synapse: checkpoint plain/x.h5: cannot be saved: plain is not a folder\n")
        #expect(try synapse(["train", "xor", "--epochs", "5", "--checkpoint", "x.h5"], in: folder).status == 0)
        let export = try synapse(["export", "x.h5", "-o", "missing/dir/NAME"], in: folder)
        #expect(export.error == "synapse: model missing/dir/NAME.onnx: cannot be saved: folder missing/dir does not exist\n")
        #expect(try synapse(["export", "x.h5", "-o", "xor"], in: folder).status == 0)
        let imported = try synapse(["import", "xor.onnx", "-o", "missing/dir/NAME"], in: folder)
        #expect(imported.error == "synapse: model missing/dir/NAME.onnx: cannot be saved: folder missing/dir does not exist\n")
        #expect(listing(folder) == ["plain", "x.h5", "xor.h5", "xor.onnx"])
    }

    @Test("command-line mistakes print one line and exit 64", arguments: [
        (["train", "digits", "--epochs", "-5"], "synapse: --epochs must be 0 (save the initial model) or more, got -5 (see synapse train --help)"),
        (["train", "digits", "--epochs"], "synapse: Missing value for '--epochs <epochs>' (see synapse train --help)"),
        (["train", "digits", "--bogus"], "synapse: Unknown option '--bogus' (see synapse train --help)"),
        (["trian"], "synapse: Unexpected argument 'trian' (see synapse --help)"),
    ])
    func commandLineMistakes(arguments: [String], message: String) throws {
        let result = try synapse(arguments, in: temporaryFolder())
        #expect(result.status == 64)
        #expect(result.error == message + "\n")
    }

    @Test("a model pair replaced by an export killed at random instants always loads, as the old model or the new one")
    func killedExport() throws {
        let folder = temporaryFolder()
        #expect(try synapse(["train", "digits", "--epochs", "1", "--checkpoint", "a.h5"], in: folder).status == 0)
        #expect(try synapse(["train", "digits", "--epochs", "2", "--checkpoint", "b.h5"], in: folder).status == 0)
        let weights = try ["a", "b"].map { name in
            Dictionary(uniqueKeysWithValues: try CheckpointContents(contentsOf: "\(folder)/\(name).h5").weights.map { ($0.name, $0.tensor.scalars) })
        }
        #expect(weights[0] != weights[1])
        #expect(try synapse(["export", "a.h5", "-o", "m"], in: folder).status == 0)
        var generator = SystemRandomNumberGenerator()
        var outcomes = Set<Int>()
        for round in 0..<24 {
            let process = try startSynapse(["export", round % 2 == 0 ? "b.h5" : "a.h5", "-o", "m"], in: folder)
            usleep(useconds_t(generator.next() % 120_000))
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            let model = try ModelFile.load(folder + "/m.onnx")
            let loaded = Dictionary(uniqueKeysWithValues: model.namedState.map { ($0.name, $0.tensor.scalars) })
            let which = weights.firstIndex(of: loaded)
            #expect(which != nil, "round \(round): the pair loads weights of neither model")
            outcomes.insert(which ?? -1)
        }
        // The next complete export tidies what killed ones left.
        #expect(try synapse(["export", "b.h5", "-o", "m"], in: folder).status == 0)
        #expect(listing(folder) == ["a.h5", "b.h5", "m.h5", "m.onnx"], "\(listing(folder))")
        #expect(outcomes.count == 2, "the kills should leave the old model some times and the new one others: \(outcomes)")
    }

    @Test("a checkpoint rewritten every two steps by a running train reads whole every time, in this process")
    func readerRacingWriter() throws {
        let folder = temporaryFolder()
        #expect(try synapse(["train", "digits", "--epochs", "1", "--checkpoint", "r.h5"], in: folder).status == 0)
        let writer = try startSynapse(["train", "digits", "--epochs", "400", "--save-every-steps", "2", "--checkpoint", "r.h5", "--resume"], in: folder)
        defer { kill(writer.processIdentifier, SIGKILL); writer.waitUntilExit() }
        var reads = 0
        var steps = Set<Int>()
        let end = Date().addingTimeInterval(4)
        while Date() < end {
            do {
                steps.insert(try CheckpointContents(contentsOf: folder + "/r.h5").progress.step)
                reads += 1
            } catch {
                Issue.record("read \(reads + 1) failed while the file was being replaced: \(error)")
                break
            }
        }
        #expect(reads > 20 && steps.count > 3, "\(reads) reads saw \(steps.count) different checkpoints")
    }
}
