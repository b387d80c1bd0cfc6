import Distributed
import ExampleTasks
import Foundation
import Synapse

/// `ddp_mlp.py`'s workload with Synapse's `DataParallel`: the digits MLP (SGD lr 0.05 momentum
/// 0.9) on W ranks, rank r taking rows r::W in batches of 32 (weak scaling: the global batch is
/// 32·W, each rank's gradient weighted 1/W as DDP averages), 20 epochs, one thread per rank.
/// The parent launches `mpirun -np 1` and `-np 2` of itself (`ddp_mlp_worker`) and prints the
/// comparable line; each job's rank 0 times its training loop between two barriers.
func benchmarkDataParallel(epochs: Int) throws {
    var results: [Int: (samplesPerSecond: Double, accuracy: Double)] = [:]
    for world in [1, 2] {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        let me = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        process.arguments = ["mpirun", "--oversubscribe", "--bind-to", "none", "-np", "\(world)", me, "ddp_mlp_worker",
                             "--epochs", "\(epochs)", "--seed", "\(seed)"]
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
    }
    let (one, two) = (results[1]!, results[2]!)
    emit("ddp_mlp", "samples_per_s_w1", one.samplesPerSecond, "samples/s", [
        ("samples_per_s_w2", two.samplesPerSecond), ("scaling_w2", two.samplesPerSecond / one.samplesPerSecond),
        ("test_acc_w1", one.accuracy), ("test_acc_w2", two.accuracy), ("epochs", epochs),
    ])
}

/// One rank of `benchmarkDataParallel`; rank 0 prints `worker samples_per_s=… test_acc=…`.
func dataParallelWorker(epochs: Int) throws {
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
    trainer.synchronizer = try DataParallel(model: model, data: shard, group: group)
    try group.barrier()
    let start = Date()
    try trainer.fit(epochs: epochs)
    try group.barrier()
    let elapsed = Date().timeIntervalSince(start)
    if group.isLeader {
        let accuracy = Tensor.withoutGradients { Digits.accuracy(logits: model(test.images), labels: test.labels) }
        print("worker samples_per_s=\(Double(epochs * 1_500) / elapsed) test_acc=\(accuracy)")
    }
    group.finalize()
}
