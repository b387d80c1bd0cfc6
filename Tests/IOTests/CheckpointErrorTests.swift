import Core
import Foundation
@testable import IO
import NN
import Optim
import Testing

/// Every bad file is refused with a message that names the file, the place and what was
/// expected, and the model, optimizer and generator are left exactly as they were.
@Suite("Checkpoint errors")
struct CheckpointErrorTests {
    let folder = temporaryFolder()

    /// Loads `path` into a fresh trained model and optimizer; checks that the error's text
    /// contains `message` and that nothing changed.
    func expectRefusal(_ path: String, _ message: String, sourceLocation: SourceLocation = #_sourceLocation) {
        // A generator of this check's own: tests in other suites load checkpoints (and so set the
        // process's generator) at the same time.
        Random.withSeed(1234) {
            let (model, optimizer) = trainedModel(seed: 11)
            let weights = model.parameters.map(\.scalars)
            let state = optimizer.state.mapValues { $0.mapValues(\.scalars) }
            let generator = Random.state
            do {
                try Checkpoint.load(from: path, into: model, optimizer: optimizer)
                Issue.record("loading \(path) succeeded", sourceLocation: sourceLocation)
            } catch let error as CheckpointError {
                #expect("\(error)".contains(message), "message was: \(error)", sourceLocation: sourceLocation)
                #expect("\(error)".hasPrefix("checkpoint \(path): "), sourceLocation: sourceLocation)
            } catch {
                Issue.record("unexpected error \(error)", sourceLocation: sourceLocation)
            }
            #expect(model.parameters.map(\.scalars) == weights, "weights changed", sourceLocation: sourceLocation)
            #expect(optimizer.state.mapValues { $0.mapValues(\.scalars) } == state, "state changed", sourceLocation: sourceLocation)
            #expect(Random.state == generator, sourceLocation: sourceLocation)
        }
    }

    /// A valid checkpoint of a trained model, as bytes.
    func validCheckpoint(_ name: String) throws -> String {
        let path = folder + "/" + name
        let (model, optimizer) = trainedModel(seed: 12)
        try Checkpoint.save(to: path, model: model, optimizer: optimizer)
        return path
    }

    @Test("missing file")
    func missing() {
        expectRefusal(folder + "/nothing.h5", "cannot open the file (No such file or directory)")
    }

    @Test("random bytes")
    func randomBytes() throws {
        let path = folder + "/random.h5"
        var generator = RandomGenerator(seed: 1)
        try Data((0..<4096).map { _ in UInt8(truncatingIfNeeded: generator.next()) }).write(to: URL(fileURLWithPath: path))
        expectRefusal(path, "not an HDF5 file")
    }

    @Test("truncated file")
    func truncated() throws {
        let path = try validCheckpoint("truncated.h5")
        let bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        for cut in [bytes.count / 2, bytes.count - 100, 600] {
            try bytes.prefix(cut).write(to: URL(fileURLWithPath: path))
            expectRefusal(path, "damaged: truncated at byte \(cut) of \(bytes.count)")
        }
    }

    @Test("an HDF5 file from elsewhere")
    func foreignHDF5() throws {
        let path = folder + "/foreign.h5"
        try HDF5File.write(to: path, sealed: false) { file in
            try file.createGroup("/data")
            try [Float](repeating: 1, count: 6).withUnsafeBufferPointer { try file.writeFloats("/data/x", shape: [2, 3], $0) }
        }
        expectRefusal(path, "not a Synapse checkpoint (format attribute absent")
    }

    /// Writes a checkpoint-shaped file, letting `edit` change it first.
    func craft(_ name: String, version: Int64 = Checkpoint.formatVersion, weights: [(String, [Int], String)], optimizer: Bool = false) throws -> String {
        let path = folder + "/" + name
        let (model, adam) = trainedModel(seed: 12)
        let actual = Dictionary(model.namedParameters.map { ($0.name, $0.tensor) }, uniquingKeysWith: { a, _ in a })
        try HDF5File.write(to: path) { file in
            try file.setAttribute("format", string: Checkpoint.formatName)
            try file.setAttribute("format_version", integer: version)
            try file.setAttribute("epoch", integer: 1)
            try file.setAttribute("step", integer: 1)
            try file.createGroup("/weights")
            for (name, shape, type) in weights {
                if type == "uint64" {
                    try file.writeUInt64s("/weights/\(name)", [UInt64](repeating: 1, count: shape.reduce(1, *)))
                } else {
                    let values = actual[name]?.scalars ?? [Float](repeating: 0, count: shape.reduce(1, *))
                    try Array(values.prefix(shape.reduce(1, *))).withUnsafeBufferPointer {
                        try file.writeFloats("/weights/\(name)", shape: shape, $0)
                    }
                }
            }
            try file.writeUInt64s("/random", [1, 2, 3, 4])
            if optimizer {
                try file.createGroup("/optimizer")
                try file.setAttribute("kind", string: "SGD", on: "/optimizer")
            }
            _ = adam
        }
        return path
    }

    static let goodWeights: [(String, [Int], String)] = [
        ("0.weight", [5, 4], "float32"), ("0.bias", [5], "float32"), ("2.weight", [3, 5], "float32"), ("2.bias", [3], "float32"),
    ]

    @Test("a format version from the future")
    func wrongVersion() throws {
        expectRefusal(try craft("v9.h5", version: 9, weights: Self.goodWeights), "format version 9 is not supported")
    }

    @Test("a missing weight")
    func missingWeight() throws {
        let path = try craft("missing.h5", weights: Array(Self.goodWeights.dropLast()))
        expectRefusal(path, "/weights/2.bias is missing (expected a float32 dataset of shape [3])")
    }

    @Test("an extra weight")
    func extraWeight() throws {
        let path = try craft("extra.h5", weights: Self.goodWeights + [("4.weight", [2, 2], "float32")], optimizer: false)
        let (model, _) = trainedModel(seed: 11)
        #expect(throws: CheckpointError.unexpected(file: path, object: "/weights/4.weight", reason: "is not a parameter of the model")) {
            try Checkpoint.load(from: path, into: model)
        }
    }

    @Test("a wrong shape")
    func wrongShape() throws {
        var weights = Self.goodWeights
        weights[0] = ("0.weight", [4, 5], "float32")
        expectRefusal(try craft("shape.h5", weights: weights), "/weights/0.weight has shape [4, 5], the model expects [5, 4]")
    }

    @Test("a wrong dtype")
    func wrongType() throws {
        var weights = Self.goodWeights
        weights[1] = ("0.bias", [5], "uint64")
        expectRefusal(try craft("type.h5", weights: weights), "/weights/0.bias holds uint64, expected float32")
    }

    @Test("an optimizer of another kind")
    func wrongOptimizer() throws {
        let path = try craft("sgd.h5", weights: Self.goodWeights, optimizer: true)
        expectRefusal(path, "/optimizer holds a SGD optimizer, expected a Adam optimizer")
    }

    @Test("an optimizer state of the wrong shape")
    func wrongStateShape() throws {
        let path = folder + "/state.h5"
        let (model, optimizer) = trainedModel(seed: 12)
        optimizer.state["0.bias"]?["exp_avg"] = Tensor.zeros([7])
        try Checkpoint.save(to: path, model: model, optimizer: optimizer)
        expectRefusal(path, "/optimizer/0.bias/exp_avg has shape [7], the model expects [5]")
    }
}
