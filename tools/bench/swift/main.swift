import ExampleTasks
import Foundation
import Synapse

// synapse-bench WORKLOAD [--threads N] [--seed S]: one workload, one line
// `bench=<name> impl=synapse <metric>=<value> <unit> key=value …`, matching the keys of the
// PyTorch script of the same name in tools/bench/pytorch. Always built with -c release.

let usage = "usage: synapse-bench xor|op_overhead|mlp_digits|cnn|char_lstm|char_transformer|sgemm|file_io|ddp_mlp|resnet18_train|gpt_train|lstm_lm_train|resnet18_infer|concurrent_training [--threads N] [--seed S] [--iters N] [--variant digits|lenet] [--batch B] [--steps S]"
let arguments = Array(CommandLine.arguments.dropFirst())
guard let workload = arguments.first else {
    FileHandle.standardError.write(Data((usage + "\n").utf8))
    exit(2)
}

func option(_ name: String, default value: Int) -> Int {
    guard let index = arguments.firstIndex(of: name) else { return value }
    guard index + 1 < arguments.count, let parsed = Int(arguments[index + 1]), parsed > 0 else {
        FileHandle.standardError.write(Data("synapse-bench: \(name) needs a positive integer\n".utf8))
        exit(2)
    }
    return parsed
}

let threads = option("--threads", default: 1)
let seed = UInt64(option("--seed", default: 42))
BLAS.threads = threads

/// Prints the one comparable line, with the BLAS kernel in use.
func emit(_ bench: String, _ metric: String, _ value: Double, _ unit: String, _ extra: [(String, Any)]) {
    func format(_ v: Any) -> String {
        switch v {
        case let d as Double: String(format: "%.6g", d)
        case let f as Float: String(format: "%.6g", Double(f))
        default: "\(v)"
        }
    }
    let tail = (extra + [("threads", threads), ("blas_core", BLAS.core)]).map { "\($0.0)=\(format($0.1))" }
    print("bench=\(bench) impl=synapse \(metric)=\(format(value)) \(unit) " + tail.joined(separator: " "))
}

do {
    switch workload {
    case "xor": benchmarkXOR()
    case "op_overhead": benchmarkOpOverhead()
    case "mlp_digits": try benchmarkDigits()
    case "cnn":
        let variant = arguments.firstIndex(of: "--variant").flatMap { $0 + 1 < arguments.count ? arguments[$0 + 1] : nil } ?? "digits"
        guard variant == "digits" || variant == "lenet" else {
            FileHandle.standardError.write(Data("synapse-bench: --variant must be digits or lenet\n".utf8))
            exit(2)
        }
        try benchmarkCNN(variant: variant, steps: option("--steps", default: 200))
    case "char_lstm": try benchmarkCharLSTM(iterations: option("--iters", default: 1_000))
    case "char_transformer": try benchmarkCharTransformer(iterations: option("--iters", default: 500))
    case "sgemm": benchmarkSgemm()
    case "file_io": try benchmarkFileIO()
    case "resnet18_train", "gpt_train", "lstm_lm_train", "resnet18_infer":
        try benchmarkRealSize(workload: workload, batch: arguments.contains("--batch") ? option("--batch", default: 1) : nil,
                              steps: option("--steps", default: 20))
    case "concurrent_training": benchmarkConcurrentTraining(steps: option("--steps", default: 100))
    case "ddp_mlp": try benchmarkDataParallel(epochs: option("--epochs", default: 20))
    case "ddp_mlp_worker": try dataParallelWorker(epochs: option("--epochs", default: 20), independent: arguments.contains("--independent"))
    case "allreduce_worker": try allreduceWorker(floats: option("--floats", default: 8_780), calls: option("--calls", default: 2_000))
    default:
        FileHandle.standardError.write(Data("synapse-bench: unknown workload \(workload)\n\(usage)\n".utf8))
        exit(2)
    }
} catch {
    FileHandle.standardError.write(Data("synapse-bench: \(error)\n".utf8))
    exit(1)
}
