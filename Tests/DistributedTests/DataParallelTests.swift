import Core
import Foundation
import IO
import Testing

/// Whether an executable `name` is on the PATH.
func onPath(_ name: String) -> Bool {
    (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":").contains { access("\($0)/\(name)", X_OK) == 0 }
}

/// Why the MPI suites cannot run here, or `nil` when they can.
let mpiMissing: String? = onPath("mpirun") ? nil : "mpirun is not installed (Debian: openmpi-bin and libopenmpi-dev; make test installs them)"

/// The `synapse` tool built beside the tests.
let synapseTool = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("synapse").path

/// Starts `mpirun --oversubscribe -np N synapse ARGUMENTS` in `folder` (allowed as root too),
/// its output (stdout and stderr) going to `log`: a pipe nobody reads while the job runs could
/// fill and stall it.
func startMPI(_ ranks: Int, _ arguments: [String], in folder: String, log: String) throws -> (process: Process, output: FileHandle) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = ["mpirun", "--oversubscribe", "-np", "\(ranks)", synapseTool] + arguments
    process.currentDirectoryURL = URL(fileURLWithPath: folder)
    var environment = ProcessInfo.processInfo.environment
    environment["OMPI_ALLOW_RUN_AS_ROOT"] = "1"
    environment["OMPI_ALLOW_RUN_AS_ROOT_CONFIRM"] = "1"
    process.environment = environment
    FileManager.default.createFile(atPath: log, contents: nil)
    let output = FileHandle(forWritingAtPath: log)!
    process.standardOutput = output
    process.standardError = output
    try process.run()
    return (process, output)
}

/// `mpirun -np N synapse ARGUMENTS` in `folder`, stopped after `timeout` seconds; returns (exit
/// status, stdout + stderr, seconds it took).
func mpirun(_ ranks: Int, _ arguments: [String], in folder: String, timeout: Double = 300) throws
    -> (status: Int32, output: String, seconds: Double)
{
    let log = folder + "/mpirun-\(UUID().uuidString).log"
    let start = Date()
    let (process, output) = try startMPI(ranks, arguments, in: folder, log: log)
    while process.isRunning && Date().timeIntervalSince(start) < timeout { usleep(20_000) }
    if process.isRunning { process.terminate() }
    process.waitUntilExit()
    try output.close()
    return (process.terminationStatus, (try? String(contentsOfFile: log, encoding: .utf8)) ?? "", Date().timeIntervalSince(start))
}

func temporaryFolder() -> String {
    let path = NSTemporaryDirectory() + "synapse-mpi-" + UUID().uuidString
    try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}

/// Every weight of a checkpoint, by name.
func weights(_ path: String) throws -> [String: [Float]] {
    Dictionary(uniqueKeysWithValues: try CheckpointContents(contentsOf: path).weights.map { ($0.name, $0.tensor.scalars) })
}

@Suite("Data-parallel training under mpirun -np 2", .serialized, .enabled(if: mpiMissing == nil, Comment(rawValue: mpiMissing ?? "")))
struct DataParallelTests {
    @Test("allreduce, broadcast (floats and bytes), max and DataParallel's share-weighted gradient sum, against values worked by hand")
    func collectives() throws {
        let run = try mpirun(2, ["_collectives"], in: temporaryFolder(), timeout: 120)
        #expect(run.status == 0, "\(run.output)")
        for rank in 0..<2 {
            let lines = run.output.split(separator: "\n").filter { $0.hasPrefix("rank \(rank): ") }.map { $0.dropFirst(8) }
            // (1 + 2, 10 + 20, 0 − 1); rank 0's values; max of 0 and 7.
            #expect(lines.contains("allreduce 3.0 30.0 -1.0"), "\(lines)")
            #expect(lines.contains("broadcast 3.5 -2.0 7.0"))
            #expect(lines.contains("bytes rank zero's bytes"))
            #expect(lines.contains("max 7.0"))
            #expect(lines.contains("weights 1.0 -1.0"), "rank 0's weights were broadcast")
            // MSE of the 4-row global batch at w = (1, −1): gradient (1, −1), loss 1 (see _collectives).
            #expect(lines.filter { $0 == "gradient 1.0 -1.0 1.0" }.count == 2, "\(lines)")
            #expect(lines.contains("done "))
        }
    }

    @Test("a shard that ends early: the job ends within seconds, each rank saying why, instead of hanging")
    func unevenShards() throws {
        let run = try mpirun(2, ["_collectives", "--uneven"], in: temporaryFolder(), timeout: 60)
        #expect(run.status != 0)
        #expect(run.seconds < 30, "took \(run.seconds) s")
        #expect(run.output.contains("rank 0 of 2: DataParallel failed: only 1 of 2 ranks had a batch for this step"), "\(run.output)")
    }

    @Test("digits: 2 ranks sharing each global batch of 32 end where one process ends (within 2e-6; measured 1.8e-7)")
    func twoRanksMatchOneProcess() throws {
        let folder = temporaryFolder()
        let one = Process()
        one.executableURL = URL(fileURLWithPath: synapseTool)
        one.arguments = ["train", "digits", "--epochs", "3", "--shuffle", "--batch", "32", "--checkpoint", "one.h5"]
        one.currentDirectoryURL = URL(fileURLWithPath: folder)
        one.standardOutput = FileHandle.nullDevice
        try one.run()
        one.waitUntilExit()
        #expect(one.terminationStatus == 0)
        let two = try mpirun(2, ["train", "digits", "--epochs", "3", "--shuffle", "--batch", "32", "--checkpoint", "two.h5"], in: folder)
        #expect(two.status == 0, "\(two.output)")
        #expect(two.output.contains("Training on 2 processes"))
        #expect(two.output.components(separatedBy: "Saved two.h5").count == 2, "only rank 0 prints and saves")
        let (a, b) = (try weights(folder + "/one.h5"), try weights(folder + "/two.h5"))
        #expect(a.keys.sorted() == b.keys.sorted())
        var largest: Float = 0
        for (name, values) in a { largest = max(largest, zip(values, b[name]!).map { abs($0 - $1) }.max()!) }
        #expect(largest < 2e-6, "largest difference \(largest)")
        #expect(try CheckpointContents(contentsOf: folder + "/two.h5").metadata["world_size"] == "2")
    }

    @Test("under mpirun -np 2: 3 epochs straight equal 1, then --resume to 3, bit for bit; another N is refused with a clear message")
    func resumeUnderMPI() throws {
        let folder = temporaryFolder()
        let common = ["train", "digits", "--shuffle", "--optimizer", "adam", "--batch", "64"]
        #expect(try mpirun(2, common + ["--epochs", "3", "--checkpoint", "straight.h5"], in: folder).status == 0)
        #expect(try mpirun(2, common + ["--epochs", "1", "--checkpoint", "split.h5"], in: folder).status == 0)
        let resumed = try mpirun(2, ["train", "digits", "--epochs", "3", "--checkpoint", "split.h5", "--resume"], in: folder)
        #expect(resumed.status == 0, "\(resumed.output)")
        #expect(resumed.output.contains("Resuming digits from split.h5 at epoch 1"))
        #expect(try weights(folder + "/straight.h5") == (try weights(folder + "/split.h5")))
        let other = try mpirun(3, ["train", "digits", "--epochs", "4", "--checkpoint", "split.h5", "--resume"], in: folder, timeout: 60)
        #expect(other.status != 0)
        #expect(other.output.contains("was written by a run of 2 process(es) and this run has 3"), "\(other.output)")
    }

    @Test("cnn-bn under mpirun -np 2 (running statistics averaged every step, dropout): resumed bit for bit")
    func resumeBatchNormUnderMPI() throws {
        let folder = temporaryFolder()
        #expect(try mpirun(2, ["train", "cnn-bn", "--epochs", "2", "--shuffle", "--checkpoint", "straight.h5"], in: folder).status == 0)
        #expect(try mpirun(2, ["train", "cnn-bn", "--epochs", "1", "--shuffle", "--checkpoint", "split.h5"], in: folder).status == 0)
        let resumed = try mpirun(2, ["train", "cnn-bn", "--epochs", "2", "--checkpoint", "split.h5", "--resume"], in: folder)
        #expect(resumed.status == 0, "\(resumed.output)")
        let straight = try weights(folder + "/straight.h5")
        #expect(straight.keys.contains("1.running_var"))
        #expect(straight == (try weights(folder + "/split.h5")))
    }

    @Test("a rank killed with SIGKILL mid-run ends the whole job with a message within seconds")
    func killedRank() throws {
        let folder = temporaryFolder()
        let log = folder + "/killed.log"
        let (process, output) = try startMPI(2, ["train", "digits", "--epochs", "500", "--checkpoint", "k.h5", "--save-every-steps", "20"],
                                             in: folder, log: log)
        // Wait until training is under way (a checkpoint exists), then kill rank 1.
        let start = Date()
        while !FileManager.default.fileExists(atPath: folder + "/k.h5") && Date().timeIntervalSince(start) < 120 { usleep(10_000) }
        let ranks = try childProcesses(of: process.processIdentifier)
        #expect(ranks.count == 2, "mpirun's children: \(ranks)")
        let killedAt = Date()
        if let victim = ranks.last { kill(victim, SIGKILL) }
        while process.isRunning && Date().timeIntervalSince(killedAt) < 60 { usleep(20_000) }
        let seconds = Date().timeIntervalSince(killedAt)
        if process.isRunning { process.terminate() }
        process.waitUntilExit()
        try output.close()
        let text = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
        #expect(seconds < 15, "the job took \(seconds) s to end")
        #expect(process.terminationStatus != 0)
        #expect(text.contains("exited on signal 9"), "\(text.suffix(600))")
        // The last checkpoint (written by rank 0, atomically) is whole.
        #expect(try CheckpointContents(contentsOf: folder + "/k.h5").progress.step >= 20)
    }
}

/// tools/mpi/two-hosts.sh with `arguments`; returns (exit status, output).
func twoHosts(_ arguments: [String], in folder: String) throws -> (status: Int32, output: String) {
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    let process = Process()
    process.executableURL = root.appendingPathComponent("tools/mpi/two-hosts.sh")
    process.arguments = arguments
    process.currentDirectoryURL = URL(fileURLWithPath: folder)
    let log = folder + "/two-hosts-\(UUID().uuidString).log"
    FileManager.default.createFile(atPath: log, contents: nil)
    let output = FileHandle(forWritingAtPath: log)!
    process.standardOutput = output
    process.standardError = output
    try process.run()
    process.waitUntilExit()
    try output.close()
    return (process.terminationStatus, (try? String(contentsOfFile: log, encoding: .utf8)) ?? "")
}

/// The network namespaces whose names two-hosts.sh uses (`syn…`).
func testNamespaces() -> [String] {
    ((try? FileManager.default.contentsOfDirectory(atPath: "/run/netns")) ?? []).filter { $0.hasPrefix("syn") }
}

@Suite(
    "Data-parallel training across two hosts (network namespaces)", .serialized,
    .enabled(if: mpiMissing == nil && onPath("ip") && getuid() == 0,
             Comment(rawValue: mpiMissing ?? "network namespaces need root and iproute2's ip (CI runs as root; make test installs iproute2)")))
struct TwoHostTests {
    @Test("2 ranks in two namespaces over TCP end bit-identical to 2 ranks over shared memory; the namespaces are removed")
    func acrossNamespaces() throws {
        let folder = temporaryFolder()
        let before = testNamespaces()
        let arguments = ["train", "digits", "--epochs", "2", "--shuffle", "--batch", "32"]
        let local = try mpirun(2, arguments + ["--checkpoint", "local.h5"], in: folder)
        #expect(local.status == 0, "\(local.output)")
        let remote = try twoHosts([synapseTool] + arguments + ["--checkpoint", "hosts.h5"], in: folder)
        #expect(remote.status == 0, "\(remote.output)")
        #expect(try weights(folder + "/local.h5") == (try weights(folder + "/hosts.h5")))
        // Each rank ran in its own namespace, with its own address.
        let where_ = try twoHosts(["sh", "-c", "echo rank $OMPI_COMM_WORLD_RANK at $(ip -4 -o addr show | grep -o '10\\.77\\.[0-9.]*')"], in: folder)
        #expect(where_.output.contains("rank 0 at 10.77.") && where_.output.contains("rank 1 at 10.77."), "\(where_.output)")
        #expect(testNamespaces() == before, "namespaces left behind: \(testNamespaces())")
        // A command that fails: the job fails and the namespaces still go.
        let failed = try twoHosts(["false"], in: folder)
        #expect(failed.status != 0)
        #expect(testNamespaces() == before)
    }
}

/// The pids whose parent is `pid`, in order of pid.
func childProcesses(of pid: Int32) throws -> [Int32] {
    try FileManager.default.contentsOfDirectory(atPath: "/proc").compactMap(Int32.init).filter { child in
        guard let stat = try? String(contentsOfFile: "/proc/\(child)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return false }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        return fields.count > 2 && Int32(fields[1]) == pid
    }.sorted()
}
