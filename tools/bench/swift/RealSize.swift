import ExampleTasks
import Foundation
import Synapse

// The workloads of ../shared/bench/real_size.py (copied as tools/bench/pytorch/real_size.py),
// with the same models, sizes, optimizers and timed region: `steps` steps after 2 warm-up
// steps, the loss read every step. Its docstring has every detail.

/// ResNet-18's BasicBlock: conv3×3-BN-ReLU-conv3×3-BN, plus the shortcut (a 1×1 conv + BN
/// projection when the stride or width changes), then ReLU.
final class BasicBlock: Module, Layer {
    let conv1: Conv2d
    let bn1: BatchNorm2d
    let conv2: Conv2d
    let bn2: BatchNorm2d
    let shortcut: Sequential?

    init(inputs: Int, outputs: Int, stride: Int) {
        conv1 = Conv2d(inputs: inputs, outputs: outputs, kernelSize: 3, stride: Size2D(stride), padding: 1, bias: false)
        bn1 = BatchNorm2d(features: outputs)
        conv2 = Conv2d(inputs: outputs, outputs: outputs, kernelSize: 3, padding: 1, bias: false)
        bn2 = BatchNorm2d(features: outputs)
        shortcut = stride != 1 || inputs != outputs
            ? Sequential([Conv2d(inputs: inputs, outputs: outputs, kernelSize: 1, stride: Size2D(stride), bias: false), BatchNorm2d(features: outputs)])
            : nil
    }

    func forward(_ x: Tensor) -> Tensor {
        let out = bn2(conv2(bn1(conv1(x)).relu()))
        return (out + (shortcut.map { $0(x) } ?? x)).relu()
    }
}

/// The CIFAR variant of ResNet-18 (no max-pool, 3×3 stem), 11,173,962 parameters.
final class ResNet18: Module, Layer {
    let conv1 = Conv2d(inputs: 3, outputs: 64, kernelSize: 3, padding: 1, bias: false)
    let bn1 = BatchNorm2d(features: 64)
    let layer1 = Sequential([BasicBlock(inputs: 64, outputs: 64, stride: 1), BasicBlock(inputs: 64, outputs: 64, stride: 1)])
    let layer2 = Sequential([BasicBlock(inputs: 64, outputs: 128, stride: 2), BasicBlock(inputs: 128, outputs: 128, stride: 1)])
    let layer3 = Sequential([BasicBlock(inputs: 128, outputs: 256, stride: 2), BasicBlock(inputs: 256, outputs: 256, stride: 1)])
    let layer4 = Sequential([BasicBlock(inputs: 256, outputs: 512, stride: 2), BasicBlock(inputs: 512, outputs: 512, stride: 1)])
    let fc = Linear(inputs: 512, outputs: 10)

    func forward(_ x: Tensor) -> Tensor {
        let h = layer4(layer3(layer2(layer1(bn1(conv1(x)).relu()))))
        return fc(h.mean(dim: 3).mean(dim: 2))
    }
}

/// 4 pre-norm Transformer encoder layers (d 256, 4 heads, feed-forward 1024, GELU) with a
/// causal mask over learned token and position embeddings, then LayerNorm and the head.
final class GPT: Module, Layer {
    let embed = Embedding(count: 1_000, dimension: 256)
    let position = Embedding(count: 128, dimension: 256)
    let encoder = TransformerEncoder(
        layer: TransformerEncoderLayer(dModel: 256, heads: 4, feedforward: 1_024, dropout: 0, activation: .gelu, batchFirst: true, normFirst: true),
        count: 4)
    let norm = LayerNorm(256)
    let head = Linear(inputs: 256, outputs: 1_000)

    func forward(_ ids: Tensor) -> Tensor {
        let positions = position(Tensor((0..<ids.shape[1]).map(Float.init)))
        return head(norm(encoder.forward(embed(ids) + positions, mask: nil, isCausal: true)))
    }
}

/// Embedding(1000, 256) → LSTM(256 → 512, 2 layers, batch first) → Linear(512, 1000).
final class LSTMLanguageModel: Module, Layer {
    let embed = Embedding(count: 1_000, dimension: 256)
    let lstm = LSTM(inputs: 256, hidden: 512, layers: 2, batchFirst: true)
    let head = Linear(inputs: 512, outputs: 1_000)

    func forward(_ ids: Tensor) -> Tensor { head(lstm(embed(ids))) }
}

/// Uniform integer ids in `0..<bound`, as floats.
private func randomIds(_ count: Int, below bound: UInt64) -> [Float] {
    (0..<count).map { _ in Float(Random.withGenerator { $0.next() % bound }) }
}

/// Total seconds of `steps` calls after two warm-up calls, the first warm-up result, the last
/// result and each timed call's seconds.
private func timedSteps(_ steps: Int, _ step: () -> Float) -> (seconds: Double, first: Float, last: Float, each: [Double]) {
    let first = step()
    _ = step()
    var each: [Double] = []
    var last: Float = .nan
    let seconds = timed {
        for _ in 0..<steps { each.append(timed { last = step() }) }
    }
    return (seconds, first, last, each)
}

/// One training step of `model` on (`x`, `y`): forward, cross-entropy over the flattened
/// logits, backward, `optimizer.step()`; the loss read back.
private func trainingStep(_ model: any Layer, _ optimizer: any Optimizer, _ x: Tensor, _ y: Tensor) -> () -> Float {
    let loss = CrossEntropyLoss()
    return {
        optimizer.zeroGrad()
        let out = model(x)
        let value = loss(out.reshaped([-1, out.shape[out.rank - 1]]), y)
        value.backward()
        optimizer.step()
        return value.scalar
    }
}

private func parameterCount(_ model: Module) -> Int { model.namedParameters.reduce(0) { $0 + $1.tensor.count } }

/// `real_size.py --workload W [--batch B] [--steps S]`.
func benchmarkRealSize(workload: String, batch requestedBatch: Int?, steps: Int) throws {
    switch workload {
    case "resnet18_train":
        let batch = requestedBatch ?? 32
        let (model, x, y) = Random.withSeed(seed) { (ResNet18(), Tensor.normal([batch, 3, 32, 32]), Tensor(randomIds(batch, below: 10))) }
        let run = timedSteps(steps, trainingStep(model, SGD(parameters: model.namedParameters, learningRate: 0.01, momentum: 0.9), x, y))
        emit(workload, "samples_per_s", Double(steps * batch) / run.seconds, "samples/s", [
            ("batch", batch), ("train_s", run.seconds), ("median_step_s", median(run.each)), ("loss_first", run.first),
            ("loss_last", run.last), ("params", parameterCount(model)),
        ])
    case "gpt_train", "lstm_lm_train":
        let gpt = workload == "gpt_train"
        let (batch, length) = (requestedBatch ?? (gpt ? 16 : 32), gpt ? 128 : 64)
        let (model, ids): (any Layer & Module, [Float]) = Random.withSeed(seed) {
            (gpt ? GPT() : LSTMLanguageModel(), randomIds(batch * (length + 1), below: 1_000))
        }
        let rows = (0..<batch).map { Array(ids[$0 * (length + 1)..<($0 + 1) * (length + 1)]) }
        let x = Tensor(rows.flatMap { $0.dropLast() }, shape: [batch, length])
        let y = Tensor(rows.flatMap { $0.dropFirst() })
        let optimizer = Adam(parameters: model.namedParameters, learningRate: gpt ? 3e-4 : 1e-3)
        let run = timedSteps(steps, trainingStep(model, optimizer, x, y))
        emit(workload, "tokens_per_s", Double(steps * batch * length) / run.seconds, "tokens/s", [
            ("batch", batch), ("seq", length), ("train_s", run.seconds), ("median_step_s", median(run.each)),
            ("loss_first", run.first), ("loss_last", run.last), ("params", parameterCount(model)),
        ])
    case "resnet18_infer":
        let batch = requestedBatch ?? 1
        let (model, x) = Random.withSeed(seed) { (ResNet18(), Tensor.normal([batch, 3, 32, 32])) }
        model.eval()
        let run = Tensor.withoutGradients { timedSteps(batch == 1 ? 100 : 10) { model(x).scalars[0] } }
        emit("resnet18_infer_b\(batch)", "samples_per_s", Double((batch == 1 ? 100 : 10) * batch) / run.seconds, "samples/s", [
            ("batch", batch), ("median_step_ms", median(run.each) * 1e3),
        ])
    default:
        throw BenchError.unknownWorkload(workload)
    }
}

enum BenchError: Error, CustomStringConvertible {
    case unknownWorkload(String)
    var description: String {
        switch self {
        case .unknownWorkload(let name): "unknown real-size workload \(name) (resnet18_train, gpt_train, lstm_lm_train, resnet18_infer)"
        }
    }
}

/// Two LeNet-5 trainings (`steps` steps each, batch 64) one after the other and then at once
/// in two threads of the caller's: with one pool for every kernel the concurrent run takes
/// about as long as the sequential one instead of multiplying threads (oversubscription).
func benchmarkConcurrentTraining(steps: Int) {
    _ = LeNet.timeTraining(steps: 5, seed: seed)  // warm-up
    let sequential = timed {
        _ = LeNet.timeTraining(steps: steps, seed: seed)
        _ = LeNet.timeTraining(steps: steps, seed: seed + 1)
    }
    let concurrent = timed {
        let group = DispatchGroup()
        for offset in 0..<2 {
            group.enter()
            Thread.detachNewThread {
                _ = LeNet.timeTraining(steps: steps, seed: seed + UInt64(offset))
                group.leave()
            }
        }
        group.wait()
    }
    emit("concurrent_training", "concurrent_s", concurrent, "s", [
        ("sequential_s", sequential), ("ratio", concurrent / sequential), ("steps", steps),
    ])
}
