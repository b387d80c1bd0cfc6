import Core
import Foundation
@testable import IO
import NN
import Optim
import Testing

/// A fresh folder for one test's files.
func temporaryFolder() -> String {
    let path = NSTemporaryDirectory() + "synapse-tests-" + UUID().uuidString
    try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}

/// The digits network and an Adam optimizer that has taken two steps, so it has state.
func trainedModel(seed: UInt64) -> (Sequential, Adam) {
    let model = Random.withSeed(seed) {
        Sequential(Linear(inputs: 4, outputs: 5), ReLU(), Linear(inputs: 5, outputs: 3))
    }
    let optimizer = Adam(parameters: model.namedParameters, learningRate: 0.01)
    let x = Random.withSeed(seed + 1) { Tensor.normal([6, 4]) }
    for _ in 0..<2 {
        optimizer.zeroGrad()
        CrossEntropyLoss()(model(x), Tensor([0, 1, 2, 0, 1, 2])).backward()
        optimizer.step()
    }
    return (model, optimizer)
}

@Suite("Checkpoints")
struct CheckpointTests {
    @Test("save then load into a fresh model: weights, optimizer state, counters, generator and metadata bit for bit")
    func roundTrip() throws {
        let folder = temporaryFolder()
        let path = folder + "/model.ckpt.h5"
        let (model, optimizer) = trainedModel(seed: 1)
        let state = RandomState(seed: 99)
        try Checkpoint.save(
            to: path, model: model, optimizer: optimizer, progress: TrainingProgress(epoch: 7, step: 70),
            metadata: ["example": "test", "note": "ünïcode"], randomState: state)

        let (fresh, freshOptimizer) = trainedModel(seed: 2)
        freshOptimizer.learningRate = 0.5
        let contents = try Random.withSeed(0) {
            try Checkpoint.load(from: path, into: fresh, optimizer: freshOptimizer)
        }
        for ((name, a), (_, b)) in zip(model.namedParameters, fresh.namedParameters) {
            #expect(a.scalars.map(\.bitPattern) == b.scalars.map(\.bitPattern), "\(name)")
        }
        #expect(freshOptimizer.learningRate == 0.01)
        for (name, slots) in optimizer.state {
            for (slot, tensor) in slots {
                #expect(freshOptimizer.state[name]?[slot]?.scalars == tensor.scalars, "\(name)/\(slot)")
                #expect(freshOptimizer.state[name]?[slot]?.shape == tensor.shape)
            }
        }
        #expect(contents.progress == TrainingProgress(epoch: 7, step: 70))
        #expect(contents.metadata == ["example": "test", "note": "ünïcode"])
        #expect(contents.randomState == state)
        #expect(contents.weights.map(\.name) == ["0.bias", "0.weight", "2.bias", "2.weight"])
    }

    @Test("loading restores the process generator's state")
    func restoresGenerator() throws {
        let path = temporaryFolder() + "/g.ckpt.h5"
        let (model, _) = trainedModel(seed: 3)
        try Random.withSeed(5) {
            try Checkpoint.save(to: path, model: model)
            let expected = Tensor.uniform([8]).scalars
            _ = Tensor.uniform([100])
            try Checkpoint.load(from: path, into: model)
            #expect(Tensor.uniform([8]).scalars == expected)
        }
    }

    @Test("a name that cannot be a dataset name is refused and nothing is written")
    func invalidName() {
        final class Bad: Module {
            let t = Tensor([1])
            override var namedParameters: [(name: String, tensor: Tensor)] { [("a/b", t)] }
        }
        let path = temporaryFolder() + "/bad.h5"
        #expect(throws: CheckpointError.invalidName(file: path, name: "a/b")) {
            try Checkpoint.save(to: path, model: Bad())
        }
        #expect(!FileManager.default.fileExists(atPath: path))
    }
}
