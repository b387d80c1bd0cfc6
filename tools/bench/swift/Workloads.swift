import ExampleTasks
import Foundation
import Synapse

/// Seconds elapsed while running `body`.
func timed(_ body: () throws -> Void) rethrows -> Double {
    let clock = ContinuousClock()
    let start = clock.now
    try body()
    let (whole, fraction) = (clock.now - start).components
    return Double(whole) + Double(fraction) * 1e-18
}

func median(_ values: [Double]) -> Double {
    let sorted = values.sorted()
    return sorted.count % 2 == 1 ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
}

/// The original tutorial's XOR network: 1,000 and then 10,000 full-batch epochs, each from the seed.
func benchmarkXOR() {
    _ = XOR.train(epochs: 100, seed: seed, reportEvery: 100)  // warm-up
    let short = XOR.train(epochs: 1_000, seed: seed, reportEvery: 1_000)
    let long = XOR.train(epochs: 10_000, seed: seed, reportEvery: 10_000)
    emit("xor", "train_ms", short.trainingSeconds * 1e3, "ms", [
        ("us_per_epoch", short.trainingSeconds * 1e3), ("final_loss", short.finalLoss), ("epochs", 1_000),
        ("train_ms_10k", long.trainingSeconds * 1e3), ("us_per_epoch_10k", long.trainingSeconds * 1e2),
        ("final_loss_10k", long.finalLoss),
    ])
}

/// Microseconds per call of `body`, the median over `repetitions` timed loops of `inner` calls.
func perCallMicroseconds(inner: Int, repetitions: Int = 200, _ body: () -> Void) -> Double {
    for _ in 0..<5 { for _ in 0..<inner { body() } }
    let times = (0..<repetitions).map { _ in timed { for _ in 0..<inner { body() } } }
    return median(times) / Double(inner) * 1e6
}

/// One tiny add with and without a recorded graph, and one forward + backward of the XOR graph.
func benchmarkOpOverhead() {
    let (a, b) = Random.withSeed(seed) {
        (Tensor.normal([4, 3], requiresGrad: true), Tensor.normal([4, 3], requiresGrad: true))
    }
    let x = Tensor([[0, 0], [0, 1], [1, 0], [1, 1]])
    let y = Tensor([[0], [1], [1], [0]])
    let (w1, w2) = Random.withSeed(seed) { (Tensor.normal([2, 3], requiresGrad: true), Tensor.normal([3, 1], requiresGrad: true)) }
    let (b1, b2) = (Tensor.zeros([3], requiresGrad: true), Tensor.zeros([1], requiresGrad: true))
    let addGrad = perCallMicroseconds(inner: 1_000) { _ = a + b }
    let addNoGrad = Tensor.withoutGradients { perCallMicroseconds(inner: 1_000) { _ = a + b } }
    let forwardBackward = perCallMicroseconds(inner: 100) {
        let h = (x.matmul(w1) + b1).tanh()
        let out = (h.matmul(w2) + b2).sigmoid()
        ((out - y).pow(2)).mean().backward()
    }
    emit("op_overhead", "add_grad_us", addGrad, "us", [("add_nograd_us", addNoGrad), ("fwd_bwd_us", forwardBackward)])
}

/// The digits MLP: 20 epochs of 1,500 rows in batches of 32.
func benchmarkDigits() throws {
    _ = try Digits.train(epochs: 1, seed: seed)  // warm-up
    let outcome = try Digits.train(epochs: 20, seed: seed)
    emit("mlp_digits", "samples_per_s", Double(20 * 1_500) / outcome.trainingSeconds, "samples/s", [
        ("train_ms", outcome.trainingSeconds * 1e3), ("test_acc", outcome.testAccuracy),
        ("train_loss", outcome.trainLoss), ("epochs", 20), ("variant", "relu-sgd"),
    ])
}

/// `cnn.py`'s workloads: the digits CNN (20 epochs after a 10-step warm-up, as the MLP) or
/// LeNet-5 on one fixed batch of 64 (`steps` timed steps).
func benchmarkCNN(variant: String, steps: Int) throws {
    if variant == "lenet" {
        let seconds = LeNet.timeTraining(steps: steps, seed: seed)
        emit("cnn", "samples_per_s", Double(steps * 64) / seconds, "samples/s", [
            ("train_ms", seconds * 1e3), ("variant", "lenet"), ("steps", steps),
        ])
        return
    }
    _ = try DigitsCNN.train(epochs: 1, seed: seed)  // warm-up
    let outcome = try DigitsCNN.train(epochs: 20, seed: seed)
    emit("cnn", "samples_per_s", Double(20 * 1_500) / outcome.trainingSeconds, "samples/s", [
        ("train_ms", outcome.trainingSeconds * 1e3), ("variant", "digits"), ("test_acc", outcome.testAccuracy),
        ("train_loss", outcome.trainLoss), ("epochs", 20),
    ])
}

/// The character LSTM: `iterations` × 32 streams × 32 steps.
func benchmarkCharLSTM(iterations: Int) throws {
    let outcome = try CharLSTM.train(iterations: iterations, seed: seed, reportEvery: iterations)
    let fused = try CharLSTM.train(iterations: iterations, seed: seed, layer: true, reportEvery: iterations)
    emit("char_lstm", "tokens_per_s", Double(iterations * 32 * 32) / outcome.trainingSeconds, "tokens/s", [
        ("train_s", outcome.trainingSeconds), ("loss_start", outcome.firstLoss), ("final_loss", outcome.finalLoss),
        ("iters", iterations), ("sequence_tokens_per_s", Double(iterations * 32 * 32) / fused.trainingSeconds),
        ("sequence_train_s", fused.trainingSeconds), ("sequence_final_loss", fused.finalLoss), ("vocab", outcome.corpus.vocabulary.count),
    ])
}

/// The character Transformer: `iterations` × 32 streams × 32 characters.
func benchmarkCharTransformer(iterations: Int) throws {
    let outcome = try CharTransformer.train(iterations: iterations, seed: seed, reportEvery: iterations)
    emit("char_transformer", "tokens_per_s", Double(iterations * 32 * 32) / outcome.trainingSeconds, "tokens/s", [
        ("train_s", outcome.trainingSeconds), ("loss_start", outcome.firstLoss), ("final_loss", outcome.finalLoss),
        ("iters", iterations), ("vocab", outcome.corpus.vocabulary.count),
    ])
}

/// A 1024³ float32 product, best of 20, at 1 and 2 BLAS threads.
func benchmarkSgemm() {
    let n = 1_024
    let (a, b) = Random.withSeed(seed) { (Tensor.normal([n, n]), Tensor.normal([n, n])) }
    func gflops(threads: Int) -> Double {
        BLAS.threads = threads
        for _ in 0..<3 { _ = a.matmul(b) }
        let best = (0..<20).map { _ in timed { _ = a.matmul(b) } }.min()!
        return 2 * Double(n * n * n) / best / 1e9
    }
    let one = gflops(threads: 1)
    let two = gflops(threads: 2)
    BLAS.threads = threads
    let headline = threads == 1 ? one : threads == 2 ? two : gflops(threads: threads)
    emit("sgemm", "gflops", headline, "GFLOP/s", [("n", n), ("synapse_1t", one), ("synapse_2t", two)])
}
