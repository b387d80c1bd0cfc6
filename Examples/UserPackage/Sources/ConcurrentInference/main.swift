import Foundation
import Synapse

// Swift 6 language mode, strict concurrency: one model shared by many tasks through an
// InferenceSession (Sendable), a layer model and an imported graph, each checked bit for bit
// against the same inputs run one after the other. Exits 1 on a mismatch. (Passing the model
// itself into a task does not compile: a Module is not Sendable.)

Random.seed(11)
let mlp = Sequential(Linear(inputs: 6, outputs: 32), ReLU(), Dropout(0.3), Linear(inputs: 32, outputs: 4))
let inputs: [[Float]] = (0..<64).map { row in (0..<12).map { Float(sin(Double(row * 12 + $0) * 0.37)) } }  // 64 batches of [2, 6]

// Sequential reference first, then concurrent: 8 tasks, each running every batch in its own order.
let session = InferenceSession(mlp)
let expected = inputs.map { session(Tensor($0, shape: [2, 6])).scalars }

func concurrentRuns(_ run: @escaping @Sendable ([Float]) throws -> [Float]) async throws -> Bool {
    try await withThrowingTaskGroup(of: Bool.self) { group in
        for task in 0..<8 {
            group.addTask {
                var same = true
                for index in (0..<inputs.count).map({ ($0 * 5 + task * 7) % inputs.count }) {
                    same = try run(inputs[index]) == expected[index] && same
                }
                return same
            }
        }
        return try await group.reduce(true) { $0 && $1 }
    }
}

let layerAgrees = try await concurrentRuns { session(Tensor($0, shape: [2, 6])).scalars }
print(layerAgrees ? "ok: 8 tasks × 64 batches through one InferenceSession equal the sequential run bit for bit"
                  : "FAILED: concurrent inference differs from sequential")

// The same model as a model file, imported: GraphModel through a session.
try ModelFile.save(mlp, exampleInput: Tensor.zeros([2, 6]), to: "concurrent_mlp")
let graph = InferenceSession(try ModelFile.load("concurrent_mlp.onnx"))
let graphAgrees = try await concurrentRuns { row in
    try graph.run { try $0.run(["input": Tensor(row, shape: [2, 6])])["output"]!.scalars }
}
print(graphAgrees ? "ok: the imported graph through a session agrees too" : "FAILED: the imported graph differs")
if !(layerAgrees && graphAgrees) { exit(1) }
