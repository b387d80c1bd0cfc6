import Core
import Foundation
@testable import IO
import NN
import Optim
import Testing

/// Damaged copies of real files, made the ways disks and copies go wrong: bit flips,
/// truncation, bytes overwritten, inserted or removed. Every reader must answer with a typed
/// error (or, where the damage left the bytes as they were, with the file's contents), never
/// with a crash or a hang.
enum Damage {
    /// `count` damaged copies of `bytes`, reproducibly from `seed`.
    static func copies(of bytes: [UInt8], count: Int, seed: UInt64) -> [(kind: String, bytes: [UInt8])] {
        var generator = RandomGenerator(seed: seed)
        func below(_ n: Int) -> Int { Int(generator.next() % UInt64(max(n, 1))) }
        return (0..<count).map { index in
            var copy = bytes
            switch index % 5 {
            case 0:
                for _ in 0...below(8) {
                    let at = below(copy.count)
                    copy[at] ^= UInt8(1) << UInt8(below(8))
                }
                return ("bit flips", copy)
            case 1:
                return ("truncated", Array(copy.prefix(below(copy.count))))
            case 2:
                let at = below(copy.count)
                for i in at..<min(copy.count, at + 1 + below(64)) { copy[i] = UInt8(truncatingIfNeeded: generator.next()) }
                return ("overwritten", copy)
            case 3:
                let inserted = (0...below(64)).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
                copy.insert(contentsOf: inserted, at: below(copy.count))
                return ("inserted", copy)
            default:
                let at = below(copy.count)
                copy.removeSubrange(at..<min(copy.count, at + 1 + below(64)))
                return ("removed", copy)
            }
        }
    }
}

@Suite("Damaged files: typed errors, never a crash")
struct DamagedFileTests {
    let folder = temporaryFolder()

    func model() -> (Sequential, Adam) {
        let model = Random.withSeed(3) { Sequential(Linear(inputs: 2, outputs: 3), Tanh(), Linear(inputs: 3, outputs: 1), Sigmoid()) }
        let optimizer = Adam(parameters: model.namedParameters, learningRate: 0.01)
        (model(Tensor([[0, 1]])).sum()).backward()
        optimizer.step()
        return (model, optimizer)
    }

    @Test("300 damaged copies of a checkpoint: each refused with a CheckpointError before libhdf5 reads it")
    func sealedCheckpoint() throws {
        let path = folder + "/good.ckpt.h5"
        let (original, optimizer) = model()
        try Checkpoint.save(to: path, model: original, optimizer: optimizer, graph: try TracedGraph.trace(original, exampleInput: Tensor([[0, 1]])))
        let good = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        var refused = 0
        for (index, damaged) in Damage.copies(of: good, count: 300, seed: 1).enumerated() {
            let copy = "\(folder)/damaged-\(index).h5"
            try Data(damaged.bytes).write(to: URL(fileURLWithPath: copy))
            let (target, targetOptimizer) = model()
            do {
                try Checkpoint.load(from: copy, into: target, optimizer: targetOptimizer, restoreRandomState: false)
                #expect(damaged.bytes == good, "\(damaged.kind) copy \(index) loaded")
            } catch let error as CheckpointError {
                refused += 1
                #expect("\(error)".contains("damaged") || "\(error)".contains("not an HDF5 file"), "\(damaged.kind): \(error)")
            }
        }
        #expect(refused >= 295)
    }

    @Test("damaged version-1 checkpoints (no integrity record) are read in a child first: errors, never a crash")
    func legacyCheckpoint() throws {
        let path = folder + "/legacy.ckpt.h5"
        let (original, optimizer) = model()
        try Checkpoint.save(
            to: path, model: original, optimizer: optimizer, progress: TrainingProgress(epoch: 3, step: 3), metadata: [:],
            randomState: Random.state, graph: nil, legacyVersion1: true)
        let contents = try CheckpointContents(contentsOf: path)
        #expect(contents.formatVersion == 1)
        let good = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        for (index, damaged) in Damage.copies(of: good, count: 40, seed: 2).enumerated() {
            let copy = "\(folder)/legacy-\(index).h5"
            try Data(damaged.bytes).write(to: URL(fileURLWithPath: copy))
            #expect(throws: Never.self) {
                do { _ = try CheckpointContents(contentsOf: copy) } catch is CheckpointError {}
            }
        }
    }

    @Test("damaged model pairs, and damaged self-contained .onnx files: ModelFileError or a model, never a crash")
    func modelFiles() throws {
        let (original, _) = model()
        let name = folder + "/pair"
        try ModelFile.save(original, exampleInput: Tensor([[0, 1]]), to: name)
        try ModelFile.save(original, exampleInput: Tensor([[0, 1]]), to: folder + "/embedded", embed: true)
        let graph = [UInt8](try Data(contentsOf: URL(fileURLWithPath: name + ".onnx")))
        let weights = [UInt8](try Data(contentsOf: URL(fileURLWithPath: name + ".h5")))
        let embedded = [UInt8](try Data(contentsOf: URL(fileURLWithPath: folder + "/embedded.onnx")))
        var refusedWeights = 0
        for (index, damaged) in Damage.copies(of: weights, count: 100, seed: 3).enumerated() {
            let copyFolder = "\(folder)/h5-\(index)"
            try FileManager.default.createDirectory(atPath: copyFolder, withIntermediateDirectories: true)
            try Data(graph).write(to: URL(fileURLWithPath: copyFolder + "/pair.onnx"))
            try Data(damaged.bytes).write(to: URL(fileURLWithPath: copyFolder + "/pair.h5"))
            do {
                _ = try ModelFile.load(copyFolder + "/pair.onnx")
                #expect(damaged.bytes == weights, "a damaged weight file (\(damaged.kind)) loaded")
            } catch is ModelFileError {
                refusedWeights += 1
            }
        }
        #expect(refusedWeights >= 98)
        for (source, bytes) in [("pair", graph), ("embedded", embedded)] {
            for (index, damaged) in Damage.copies(of: bytes, count: 100, seed: 4).enumerated() {
                let copyFolder = "\(folder)/\(source)-onnx-\(index)"
                try FileManager.default.createDirectory(atPath: copyFolder, withIntermediateDirectories: true)
                try Data(damaged.bytes).write(to: URL(fileURLWithPath: copyFolder + "/pair.onnx"))
                try Data(weights).write(to: URL(fileURLWithPath: copyFolder + "/pair.h5"))
                do {
                    let loaded = try ModelFile.load(copyFolder + "/pair.onnx")
                    _ = try? loaded.run([loaded.inputs.first?.name ?? "input": Tensor([[0, 1]])])
                } catch is ModelFileError {}
            }
        }
    }

    @Test("a stale temporary file of a killed save is removed by the next save; a live process's is kept")
    func leftovers() throws {
        let path = folder + "/run.ckpt.h5"
        let stale = folder + "/.run.ckpt.h5.tmp-999999"  // above the default pid_max: no such process
        let live = folder + "/.run.ckpt.h5.tmp-1"         // init is always running
        let other = folder + "/.other.h5.tmp-999999"
        for file in [stale, live, other] { FileManager.default.createFile(atPath: file, contents: Data([1, 2, 3])) }
        let (original, _) = model()
        try Checkpoint.save(to: path, model: original)
        #expect(!FileManager.default.fileExists(atPath: stale))
        #expect(FileManager.default.fileExists(atPath: live))
        #expect(FileManager.default.fileExists(atPath: other))
    }
}
