import Core
import Foundation
import IO
import NN
import Testing

/// A small tmpfs mounted for one test (it needs root, as CI has), filled on request and
/// unmounted when the test ends.
final class SmallDisk {
    let path: String

    /// Whether this process can mount a tmpfs (root, and mount allowed in this container).
    static let canMount: Bool = {
        guard getuid() == 0, let disk = SmallDisk(kilobytes: 64) else { return false }
        _ = disk
        return true
    }()

    init?(kilobytes: Int, readOnly: Bool = false) {
        path = temporaryFolder() + "/disk"
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        let options = "size=\(kilobytes)k" + (readOnly ? ",ro" : "")
        guard Self.run("/bin/mount", ["-t", "tmpfs", "-o", options, "tmpfs", path]) else { return nil }
    }

    deinit { _ = Self.run("/bin/umount", ["-l", path]) }

    /// Writes a filler file until the disk is full, then frees `leaving` bytes of it.
    func fill(leaving: Int = 0) {
        let filler = path + "/filler"
        let descriptor = open(filler, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        let block = [UInt8](repeating: 7, count: 4096)
        var size = 0
        while true {
            let wrote = block.withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
            guard wrote > 0 else { break }
            size += wrote
        }
        _ = ftruncate(descriptor, off_t(max(0, size - leaving)))
        close(descriptor)
    }

    /// Removes the filler file.
    func free() { unlink(path + "/filler") }

    private static func run(_ tool: String, _ arguments: [String]) -> Bool {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: tool)
        process.arguments = arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        guard (try? process.run()) != nil else { return false }
        process.waitUntilExit()
        return process.terminationStatus == 0
    }
}

@Suite("A full disk: one line, the previous file whole, no temporary file, a healthy process", .serialized,
       .enabled(if: SmallDisk.canMount, "mounting a small tmpfs needs root (CI runs as root); skipped here"))
struct FullDiskTests {
    @Test("synapse train: a checkpoint save that runs out of space exits 1 (not SIGSEGV), says so, and keeps the old checkpoint")
    func checkpointOnFullDisk() throws {
        let disk = try #require(SmallDisk(kilobytes: 256))
        #expect(try synapse(["train", "xor", "--epochs", "10", "--checkpoint", "x.h5"], in: disk.path).status == 0)
        let before = try Data(contentsOf: URL(fileURLWithPath: disk.path + "/x.h5"))
        disk.fill(leaving: 4096)
        let full = try synapse(["train", "xor", "--epochs", "20", "--checkpoint", "x.h5", "--resume"], in: disk.path)
        #expect(full.status == 1, "exit status \(full.status) (139 is the crash in libhdf5 at exit this replaced)")
        #expect(full.error.split(separator: "\n").count == 1)
        #expect(full.error.hasPrefix("synapse: checkpoint x.h5: cannot be saved: no space left on device (wrote 4,096 of "), "\(full.error)")
        #expect(try Data(contentsOf: URL(fileURLWithPath: disk.path + "/x.h5")) == before)
        #expect(listing(disk.path) == ["filler", "x.h5"], "no temporary file is left")
        disk.free()
        let freed = try synapse(["train", "xor", "--epochs", "20", "--checkpoint", "x.h5", "--resume"], in: disk.path)
        #expect(freed.status == 0, "\(freed.error)")
        #expect(try CheckpointContents(contentsOf: disk.path + "/x.h5").progress.epoch == 20)
    }

    @Test("in a program: a save that fails for want of space throws, and a save after space is freed succeeds")
    func saveAgainInProcess() throws {
        let disk = try #require(SmallDisk(kilobytes: 256))
        let (model, adam) = trainedModel(seed: 4)
        let path = disk.path + "/run.ckpt.h5"
        try Checkpoint.save(to: path, model: model, optimizer: adam, progress: TrainingProgress(epoch: 1, step: 2))
        let before = try Data(contentsOf: URL(fileURLWithPath: path))
        disk.fill()
        #expect {
            try Checkpoint.save(to: path, model: model, optimizer: adam, progress: TrainingProgress(epoch: 2, step: 4))
        } throws: { error in
            guard case let CheckpointError.notWritten(file, reason) = error else { return false }
            return file == path && reason.hasPrefix("no space left on device (wrote 0 of ")
        }
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == before)
        #expect(listing(disk.path) == ["filler", "run.ckpt.h5"])
        disk.free()
        try Checkpoint.save(to: path, model: model, optimizer: adam, progress: TrainingProgress(epoch: 2, step: 4))
        #expect(try CheckpointContents(contentsOf: path).progress == TrainingProgress(epoch: 2, step: 4))
    }

    @Test("synapse export onto a full disk: one line, and the previous pair still loads")
    func exportOnFullDisk() throws {
        let disk = try #require(SmallDisk(kilobytes: 512))
        let folder = temporaryFolder()
        #expect(try synapse(["train", "xor", "--epochs", "10", "--checkpoint", "a.h5"], in: folder).status == 0)
        #expect(try synapse(["train", "xor", "--epochs", "20", "--checkpoint", "b.h5"], in: folder).status == 0)
        #expect(try synapse(["export", "a.h5", "-o", disk.path + "/m"], in: folder).status == 0)
        let old = try ModelFile.load(disk.path + "/m.onnx").namedState.map { $0.tensor.scalars }
        for embed in [false, true] {
            disk.fill(leaving: embed ? 0 : 4096)
            let full = try synapse(["export", "b.h5", "-o", disk.path + "/m"] + (embed ? ["--embed"] : []), in: folder)
            #expect(full.status == 1)
            #expect(full.error.split(separator: "\n").count == 1)
            #expect(full.error.contains("cannot be saved: no space left on device"), "\(full.error)")
            #expect(try ModelFile.load(disk.path + "/m.onnx").namedState.map { $0.tensor.scalars } == old)
            #expect(listing(disk.path) == ["filler", "m.h5", "m.onnx"], "\(listing(disk.path))")
            disk.free()
        }
    }

    @Test("TensorBoard logs on a full disk: one warning, training goes on, and the run says the logs are incomplete")
    func tensorBoardOnFullDisk() throws {
        let disk = try #require(SmallDisk(kilobytes: 64))
        let folder = temporaryFolder()
        disk.fill()
        let run = try synapse(["train", "xor", "--epochs", "20", "--checkpoint", "x.h5", "--tensorboard", disk.path + "/tb"], in: folder)
        #expect(run.status == 0, "\(run.error)")
        #expect(run.error.split(separator: "\n").count == 1)
        #expect(run.error.hasPrefix("warning: TensorBoard log \(disk.path)/tb/events.out.tfevents.") && run.error.contains("no space left on device"), "\(run.error)")
        #expect(run.output.contains("The TensorBoard logs in \(disk.path)/tb are incomplete: no space left on device"), "\(run.output)")
        #expect(try CheckpointContents(contentsOf: folder + "/x.h5").progress.epoch == 20)
    }

    @Test("a checkpoint on a read-only file system is refused before the first epoch, with the reason")
    func readOnlyFileSystem() throws {
        let disk = try #require(SmallDisk(kilobytes: 64, readOnly: true))
        let run = try synapse(["train", "digits", "--epochs", "20", "--checkpoint", disk.path + "/d.h5"], in: temporaryFolder())
        #expect(run.status == 1)
        #expect(run.error == "synapse: checkpoint \(disk.path)/d.h5: cannot be saved: folder \(disk.path) is on a read-only file system\n")
        #expect(!run.output.contains("epoch 1"), "no epoch ran")
    }
}
