import Distributed
import ExampleTasks
import Foundation
import Synapse

/// `ddp_mlp.py`'s workload with Synapse's `DataParallel`: the digits MLP (SGD lr 0.05 momentum
/// 0.9) on W ranks, rank r taking rows r::W in batches of 32 (weak scaling: the global batch is
/// 32·W, each rank's gradient weighted 1/W as DDP averages), 20 epochs, one thread per rank.
/// The parent launches `mpirun -np 1` and `-np 2` of itself (`ddp_mlp_worker`, each rank bound to
/// a core) and prints the
/// comparable line; each job's rank 0 times its training loop between two barriers.
///
/// `scaling_ceiling_w2` is what this machine allows at that moment: two ranks that train their
/// shards without exchanging anything (`--independent`), over one rank. On a machine whose
/// second core another tenant may hold, it says whether a low `scaling_w2` is communication or
/// a missing core.
func benchmarkDataParallel(epochs: Int) throws {
    var results: [Int: (samplesPerSecond: Double, accuracy: Double)] = [:]
    var syncMicroseconds: [Int: Double] = [:]
    for world in [1, 2, -2] {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        let me = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        process.arguments = ["mpirun", "--oversubscribe", "--bind-to", "core", "-np", "\(abs(world))", me, "ddp_mlp_worker",
                             "--epochs", "\(epochs)", "--seed", "\(seed)"] + (world < 0 ? ["--independent"] : [])
        var environment = ProcessInfo.processInfo.environment
        environment["OMPI_ALLOW_RUN_AS_ROOT"] = "1"
        environment["OMPI_ALLOW_RUN_AS_ROOT_CONFIRM"] = "1"
        environment["OPENBLAS_NUM_THREADS"] = "1"
        process.environment = environment
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        guard process.terminationStatus == 0,
              let line = text.split(separator: "\n").first(where: { $0.hasPrefix("worker ") }) else {
            FileHandle.standardError.write(Data("synapse-bench: mpirun -np \(world) failed:\n\(text)\n".utf8))
            exit(1)
        }
        var fields: [String: Double] = [:]
        for token in line.split(separator: " ") {
            let parts = token.split(separator: "=")
            if parts.count == 2, let value = Double(parts[1]) { fields[String(parts[0])] = value }
        }
        results[world] = (fields["samples_per_s"] ?? .nan, fields["test_acc"] ?? .nan)
        syncMicroseconds[world] = fields["sync_us_per_step"] ?? .nan
    }
    let (one, two, ceiling) = (results[1]!, results[2]!, results[-2]!)
    emit("ddp_mlp", "samples_per_s_w1", one.samplesPerSecond, "samples/s", [
        ("samples_per_s_w2", two.samplesPerSecond), ("scaling_w2", two.samplesPerSecond / one.samplesPerSecond),
        ("test_acc_w1", one.accuracy), ("test_acc_w2", two.accuracy), ("epochs", epochs),
        ("allreduce_us_per_step_w2", syncMicroseconds[2] ?? .nan),
        ("scaling_ceiling_w2", ceiling.samplesPerSecond / one.samplesPerSecond),
    ])
}

/// One rank of `benchmarkDataParallel`; rank 0 prints `worker samples_per_s=… test_acc=…`. With
/// `independent`, the ranks train without summing gradients (the machine's ceiling).
func dataParallelWorker(epochs: Int, independent: Bool) throws {
    let group = try ProcessGroup.world()
    let world = group.size
    let train = try Digits.load("train")
    let test = try Digits.load("test")
    // Every rank builds the same global batches: batch k is rank 0's k-th batch of 32 of its
    // rows r::W, then rank 1's, …; the shard hands each rank back its own.
    let perRank = (0..<world).map { rank in
        let rows = Tensor(Array(stride(from: rank, to: train.count, by: world)).map(Float.init))
        return (images: train.images.gatherRows(rows), labels: train.labels.reshaped([-1, 1]).gatherRows(rows).reshaped([-1]))
    }
    let batchesPerRank = (perRank[0].labels.count + 31) / 32
    let global = IndexedBatches(batchesPerEpoch: batchesPerRank) { k in
        let parts = perRank.map { part in
            let range = k * 32..<min((k + 1) * 32, part.labels.count)
            return (part.images.slice(dim: 0, range: range), part.labels.slice(dim: 0, range: range))
        }
        return (Tensor.concat(parts.map(\.0), dim: 0), Tensor.concat(parts.map(\.1), dim: 0))
    }
    let shard = ShardedBatches(global, group: group)
    let model = Random.withSeed(seed) { Digits.makeModel() }
    let trainer = Trainer(
        model: model, optimizer: SGD(parameters: model.namedParameters, learningRate: 0.05, momentum: 0.9),
        loss: { CrossEntropyLoss()($0, $1) }, data: shard)
    let timed = TimedSynchronizer(try DataParallel(model: model, data: shard, group: group))
    if !independent { trainer.synchronizer = timed }
    try group.barrier()
    let start = Date()
    try trainer.fit(epochs: epochs)
    try group.barrier()
    let elapsed = Date().timeIntervalSince(start)
    if group.isLeader {
        let accuracy = Tensor.withoutGradients { Digits.accuracy(logits: model(test.images), labels: test.labels) }
        print("worker samples_per_s=\(Double(epochs * 1_500) / elapsed) test_acc=\(accuracy) "
              + "sync_us_per_step=\(timed.seconds / Double(max(1, timed.calls)) * 1e6) step_us=\(elapsed / Double(max(1, timed.calls)) * 1e6)")
    }
    group.finalize()
}

/// A synchronizer that times the one it wraps (the gradient allreduce's share of a step).
final class TimedSynchronizer: GradientSynchronizer {
    let inner: any GradientSynchronizer
    private(set) var seconds = 0.0
    private(set) var calls = 0

    init(_ inner: any GradientSynchronizer) { self.inner = inner }

    var isLeader: Bool { inner.isLeader }

    func synchronize(loss: Float) throws -> Float {
        let start = DispatchTime.now().uptimeNanoseconds
        defer {
            seconds += Double(DispatchTime.now().uptimeNanoseconds - start) * 1e-9
            calls += 1
        }
        return try inner.synchronize(loss: loss)
    }

    func finishEpoch() throws { try inner.finishEpoch() }
}

/// One rank of a bare allreduce timing (`mpirun -np 2 synapse-bench allreduce_worker`): `calls`
/// sums of `floats` floats after 100 warm-up calls; rank 0 prints microseconds per call.
func allreduceWorker(floats: Int, calls: Int) throws {
    let group = try ProcessGroup.world()
    var buffer = [Float](repeating: 1, count: floats)
    for _ in 0..<100 { try group.allreduceSum(&buffer) }
    try group.barrier()
    let start = Date()
    for _ in 0..<calls { try group.allreduceSum(&buffer) }
    let elapsed = Date().timeIntervalSince(start)
    if group.isLeader { print("allreduce floats=\(floats) us_per_call=\(elapsed / Double(calls) * 1e6)") }
    group.finalize()
}
