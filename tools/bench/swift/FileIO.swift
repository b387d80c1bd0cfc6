import Foundation
import Synapse

/// file_io: the workload of tools/bench/pytorch/file_io.py. Linear(4096, 4096)-ReLU-
/// Linear(4096, 1024) (84 MB of float32) after one Adam step, so the checkpoint (weights and
/// Adam's two slots) is ~252 MB. model_*: the model file pair (ModelFile.save / load, the
/// .h5's checksum verified on load); checkpoint_*: Checkpoint.save / load into the existing
/// model and optimizer (integrity record written and verified). Every save is fsynced (they
/// are atomic). Median of 3 rounds after one untimed round, in the current folder.
func benchmarkFileIO() throws {
    let model = Sequential(Linear(inputs: 4096, outputs: 4096), ReLU(), Linear(inputs: 4096, outputs: 1024))
    let optimizer = Adam(parameters: model.namedParameters, learningRate: 1e-3)
    model(Tensor.zeros([2, 4096])).sum().backward()
    optimizer.step()
    let example = Tensor.zeros([1, 4096])
    let modelName = "file_io_model"
    let checkpointPath = "file_io_checkpoint.h5"

    func timed(_ body: () throws -> Void) rethrows -> Double {
        try body()
        var times: [Double] = []
        for _ in 0..<3 {
            let start = DispatchTime.now().uptimeNanoseconds
            try body()
            times.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
        }
        return times.sorted()[1]
    }

    let modelSave = try timed { try ModelFile.save(model, exampleInput: example, to: modelName) }
    let modelLoad = try timed { _ = try ModelFile.load(modelName + ".onnx") }
    let checkpointSave = try timed { try Checkpoint.save(to: checkpointPath, model: model, optimizer: optimizer) }
    let checkpointLoad = try timed { try Checkpoint.load(from: checkpointPath, into: model, optimizer: optimizer) }
    let megabytes = Double((try FileManager.default.attributesOfItem(atPath: modelName + ".h5")[.size] as? Int) ?? 0) / 1e6
    for file in [modelName + ".onnx", modelName + ".h5", checkpointPath] { try? FileManager.default.removeItem(atPath: file) }
    emit("file_io", "model_save_s", modelSave, "s", [
        ("model_load_s", modelLoad), ("checkpoint_save_s", checkpointSave), ("checkpoint_load_s", checkpointLoad), ("mb", megabytes),
    ])
}
