import Foundation
import Synapse
import Testing

/// A checkpoint written by Synapse before training state had namespaces (format version 2:
/// the loader position, schedule, early stopping and the epoch's running sums as flat
/// metadata keys) still resumes bit for bit.
@Suite("Checkpoints of earlier formats resume")
struct OldCheckpointTests {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures").path

    /// A classifier with dropout, Adam, a cosine schedule, accuracy, validation data and early
    /// stopping, shuffled batches of 5 over 24 rows (5 steps an epoch), a checkpoint every 3 steps.
    static func makeTrainer(checkpoint: String) -> Trainer {
        let model = Sequential(Linear(inputs: 4, outputs: 8), ReLU(), Dropout(0.2), Linear(inputs: 8, outputs: 3))
        let inputs = Tensor((0..<96).map { Float(sin(Double($0) * 0.7)) }, shape: [24, 4])
        let labels = Tensor((0..<24).map { Float($0 % 3) })
        let loader = DataLoader(TensorDataset(inputs: inputs, targets: labels), batchSize: 5, shuffle: true, seed: 11)
        let optimizer = Adam(parameters: model.namedParameters, learningRate: 0.01)
        let trainer = Trainer(
            model: model, optimizer: optimizer, loss: { CrossEntropyLoss()($0, $1) }, data: loader,
            schedule: .everyEpoch(CosineAnnealingLR(optimizer, maxSteps: 4)), checkpoint: checkpoint, checkpointEverySteps: 3)
        trainer.metrics = [.accuracy]
        trainer.validation = TensorDataset(inputs: Tensor((0..<24).map { Float(cos(Double($0))) }, shape: [6, 4]), targets: Tensor([0, 1, 2, 0, 1, 2]))
        trainer.earlyStopPatience = 10
        trainer.metadata = ["run": "fixture"]
        return trainer
    }

    func bits(_ trainer: Trainer) -> [[UInt32]] {
        trainer.model.namedState.map { $0.tensor.scalars.map(\.bitPattern) }
            + trainer.optimizer.state.sorted { $0.key < $1.key }.flatMap { $0.value.sorted { $0.key < $1.key }.map { $0.value.scalars.map(\.bitPattern) } }
    }

    /// Writes the fixture (run with SYNAPSE_WRITE_FIXTURES=1, on the format it stands for):
    /// the checkpoint at step 9 of a run stopped at step 10, mid-epoch 2.
    @Test("write the version-2 fixture", .enabled(if: ProcessInfo.processInfo.environment["SYNAPSE_WRITE_FIXTURES"] == "1"))
    func writeFixture() throws {
        try Random.withSeed(5) {
            let trainer = Self.makeTrainer(checkpoint: Self.fixtures + "/mid-epoch-v2.ckpt.h5")
            trainer.onStep = { progress, _ in if progress.step == 10 { throw CancellationError() } }
            #expect(throws: CancellationError.self) { try trainer.fit(epochs: 4) }
        }
    }

    @Test("a version-2 checkpoint saved mid-epoch resumes to the bits of a run that never stopped")
    func resumesVersion2() throws {
        let fixture = Self.fixtures + "/mid-epoch-v2.ckpt.h5"
        let contents = try CheckpointContents(contentsOf: fixture)
        #expect(contents.formatVersion == 2 && contents.progress == TrainingProgress(epoch: 1, step: 9))
        let place = NSTemporaryDirectory() + "synapse-old-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: place, withIntermediateDirectories: true)
        let straight = try Random.withSeed(5) { () -> Trainer in
            let trainer = Self.makeTrainer(checkpoint: place + "/straight.ckpt.h5")
            try trainer.fit(epochs: 4)
            return trainer
        }
        try FileManager.default.copyItem(atPath: fixture, toPath: place + "/old.ckpt.h5")
        let resumed = try Random.withSeed(99) { () -> Trainer in
            let trainer = Self.makeTrainer(checkpoint: place + "/old.ckpt.h5")
            let metadata = try trainer.resume()
            #expect(metadata == ["run": "fixture"], "the user's metadata, without the trainer's own keys")
            #expect((trainer.data as! DataLoader).position == DataLoader.Position(epoch: 1, batch: 4))
            try trainer.fit(epochs: 4)
            return trainer
        }
        #expect(bits(resumed) == bits(straight))
        #expect(resumed.progress == straight.progress)
        #expect(resumed.history.map(\.loss) == Array(straight.history.map(\.loss).suffix(resumed.history.count)))
        #expect(resumed.history.map { $0.metrics["accuracy"] } == Array(straight.history.map { $0.metrics["accuracy"] }.suffix(resumed.history.count)))
        // Saved again, it is the current format, and resumes the same way.
        #expect(try CheckpointContents(contentsOf: place + "/old.ckpt.h5").formatVersion == Checkpoint.formatVersion)
    }
}
