import Foundation
import Synapse
import Testing

/// The Trainer: a run stopped mid-epoch and resumed from its last checkpoint ends with the
/// bits of a run that never stopped (weights, optimizer state, dropout masks, shuffled order,
/// learning-rate schedule).
@Suite("Trainer")
struct TrainerTests {
    struct Stop: Error {}

    func folder() -> String {
        let path = NSTemporaryDirectory() + "synapse-trainer-" + UUID().uuidString
        try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    /// A small classifier with dropout on 24 fixed examples, Adam, cosine schedule, shuffled
    /// batches of 5, a checkpoint every 3 steps.
    func makeTrainer(checkpoint: String) -> Trainer {
        let model = Sequential(Linear(inputs: 4, outputs: 8), ReLU(), Dropout(0.2), Linear(inputs: 8, outputs: 3))
        let inputs = Tensor((0..<96).map { Float(sin(Double($0) * 0.7)) }, shape: [24, 4])
        let labels = Tensor((0..<24).map { Float($0 % 3) })
        let loader = DataLoader(TensorDataset(inputs: inputs, targets: labels), batchSize: 5, shuffle: true, seed: 11)
        let optimizer = Adam(parameters: model.namedParameters, learningRate: 0.01)
        return Trainer(
            model: model, optimizer: optimizer, loss: { CrossEntropyLoss()($0, $1) }, data: loader,
            schedule: .everyEpoch(CosineAnnealingLR(optimizer, maxSteps: 3)), checkpoint: checkpoint, checkpointEverySteps: 3)
    }

    func bits(_ trainer: Trainer) -> [[UInt32]] {
        trainer.model.namedState.map { $0.tensor.scalars.map(\.bitPattern) }
            + trainer.optimizer.state.sorted { $0.key < $1.key }.flatMap { $0.value.sorted { $0.key < $1.key }.map { $0.value.scalars.map(\.bitPattern) } }
    }

    @Test("validation loss after each epoch; early stopping after `patience` epochs without improvement")
    func earlyStopping() throws {
        try Random.withSeed(6) {
            let trainer = makeTrainer(checkpoint: folder() + "/early.ckpt.h5")
            let held = TensorDataset(inputs: Tensor((0..<24).map { Float(cos(Double($0))) }, shape: [6, 4]), targets: Tensor([0, 1, 2, 0, 1, 2]))
            trainer.validation = held
            try trainer.fit(epochs: 2)
            #expect(trainer.validationLosses.count == 2)
            #expect(abs(trainer.validationLosses[1] - trainer.validationLoss(held)) < 1e-6, "evaluation is deterministic (no dropout)")
            #expect(!trainer.stoppedEarly)
            // Labels that cannot be learned from these inputs: the validation loss stops improving.
            let stalled = makeTrainer(checkpoint: folder() + "/stalled.ckpt.h5")
            stalled.validation = TensorDataset(inputs: Tensor(shape: [6, 4], repeating: 0.5), targets: Tensor([0, 1, 2, 2, 1, 0]))
            stalled.earlyStopPatience = 2
            try stalled.fit(epochs: 60)
            #expect(stalled.stoppedEarly && stalled.progress.epoch < 60)
            let losses = stalled.validationLosses
            #expect(losses.suffix(2).allSatisfy { $0 >= losses.dropLast(2).min()! }, "the last two epochs did not improve: \(losses)")
        }
    }

    @Test("stopped at step 7 (last checkpoint at step 6, mid-epoch) and resumed: the same bits as never stopping")
    func resumeMidEpoch() throws {
        let place = folder()
        let straight = try Random.withSeed(5) { () -> Trainer in
            let trainer = makeTrainer(checkpoint: place + "/straight.ckpt.h5")
            let losses = try trainer.fit(epochs: 3)
            #expect(losses.count == 3 && losses[2] < losses[0])
            return trainer
        }
        #expect(straight.progress == TrainingProgress(epoch: 3, step: 15))
        Random.withSeed(5) {
            let trainer = makeTrainer(checkpoint: place + "/split.ckpt.h5")
            trainer.onStep = { progress, _ in if progress.step == 7 { throw Stop() } }
            #expect(throws: Stop.self) { try trainer.fit(epochs: 3) }
        }
        let resumed = try Random.withSeed(99) { () -> Trainer in
            let trainer = makeTrainer(checkpoint: place + "/split.ckpt.h5")
            try trainer.resume()
            #expect(trainer.progress == TrainingProgress(epoch: 1, step: 6))
            #expect((trainer.data as! DataLoader).position == DataLoader.Position(epoch: 1, batch: 1))
            try trainer.fit(epochs: 3)
            return trainer
        }
        #expect(bits(resumed) == bits(straight))
        #expect(resumed.optimizer.hyperparameters["learning_rate"] == straight.optimizer.hyperparameters["learning_rate"])
        #expect(resumed.progress == straight.progress)
        // The interrupted epoch's figures cover all its batches (running sums travel in the checkpoint).
        #expect(resumed.history.map(\.loss) == Array(straight.history.map(\.loss).suffix(resumed.history.count)))
    }

    @Test("accuracy counts rows whose first largest output is at the label (worked by hand)")
    func accuracyByHand() {
        let logits = Tensor([[1, 2, 0], [3, 1, 3], [0, 0, 1], [5, 4, 4]])
        // argmax per row: 1, 0 (tie with 2: the first wins), 2, 0.
        let measured = Metric.accuracy.measure(logits, Tensor([1, 2, 2, 0]))
        #expect(measured.total == 3 && measured.count == 4)
        #expect(Metric.correctPredictions(logits: logits, labels: Tensor([1, 0, 2, 0])) == 4)
    }

    @Test("an epoch's metric is the mean over its examples (short last batch included); maxSteps stops mid-epoch and fit continues")
    func metricsAndMaxSteps() throws {
        try Random.withSeed(8) {
            // Learning rate 0: the weights stay put, so the epoch's accuracy over its batches must
            // equal the accuracy of all 24 rows at once.
            let model = Sequential(Linear(inputs: 4, outputs: 3))
            let inputs = Tensor((0..<96).map { Float(sin(Double($0) * 0.7)) }, shape: [24, 4])
            let labels = Tensor((0..<24).map { Float($0 % 3) })
            let loader = DataLoader(TensorDataset(inputs: inputs, targets: labels), batchSize: 5, shuffle: true, seed: 3)
            let trainer = Trainer(
                model: model, optimizer: SGD(parameters: model.namedParameters, learningRate: 0), loss: { CrossEntropyLoss()($0, $1) },
                data: loader)
            trainer.metrics = [.accuracy]
            try trainer.fit(epochs: 1, maxSteps: 3)
            #expect(trainer.progress == TrainingProgress(epoch: 0, step: 3) && trainer.history.isEmpty)
            try trainer.fit(epochs: 2)
            #expect(trainer.progress == TrainingProgress(epoch: 2, step: 10) && trainer.history.count == 2)
            let whole = Float(Metric.correctPredictions(logits: model(inputs), labels: labels)) / 24
            #expect(trainer.history.allSatisfy { abs($0.metrics["accuracy"]! - whole) < 1e-6 }, "\(trainer.history.map(\.metrics)) vs \(whole)")
            #expect(abs(trainer.evaluate(TensorDataset(inputs: inputs, targets: labels)).metrics["accuracy"]! - whole) < 1e-6)
        }
    }

    @Test("a checkpoint whose loader position does not fit the data is a typed error naming the file")
    func positionOutsideTheData() throws {
        let path = folder() + "/position.ckpt.h5"
        try Random.withSeed(3) {
            let trainer = makeTrainer(checkpoint: path)
            try trainer.fit(epochs: 1, maxSteps: 4)  // saved at batch 4 of 5
        }
        let model = Sequential(Linear(inputs: 4, outputs: 8), ReLU(), Dropout(0.2), Linear(inputs: 8, outputs: 3))
        let loader = DataLoader(
            TensorDataset(inputs: Tensor(shape: [24, 4], repeating: 0), targets: Tensor(shape: [24], repeating: 0)), batchSize: 12)
        let other = Trainer(
            model: model, optimizer: Adam(parameters: model.namedParameters, learningRate: 0.01), loss: { CrossEntropyLoss()($0, $1) },
            data: loader, checkpoint: path)
        #expect {
            try other.resume()
        } throws: { error in
            "\(error)".contains(path) && "\(error)".contains("2 batches per epoch")
        }
    }
}
