import ArgumentParser
import Foundation
import Synapse

/// `synapse benchmark NAME.onnx --input NAME=FILE …`: how fast a model file runs. Loads it
/// once, runs `--warmup` untimed and `--runs` timed inferences, and prints one line in the
/// shape of `tools/bench/onnxruntime_predict.py`'s, so that the two compare line for line.
struct BenchmarkCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "benchmark",
        abstract: "Time a model file's inference: one line with the median, minimum and 90th percentile of the runs, the load time and the peak memory.")

    @Argument(help: "A model: NAME.onnx (with NAME.h5 beside it) or a self-contained ONNX file.")
    var model: String

    @Option(help: "An input, as for `synapse predict`: NAME=VALUE, VALUE being JSON, a .csv or a .npy file.")
    var input: [String] = []

    @Option(help: "Timed runs (at least 1).")
    var runs = 20

    @Option(help: "Untimed runs before them.")
    var warmup = 3

    @Option(help: "Threads (default: SYNAPSE_NUM_THREADS, else every CPU this process may use).")
    var threads: Int?

    @Flag(help: "Run the graph as written (no inference rewrites, every value kept to the end), as fine-tuning runs it: the rewrites' effect, in the same line (impl=synapse-as-written).")
    var asWritten = false

    @Flag(help: "After the timed runs, run --runs more with each step timed, and print where the time goes: a line per kind of step (its share, milliseconds per run, steps per run), then the slowest steps with the shapes they read.")
    var profile = false

    @Option(help: "With --profile: how many of the slowest steps to list.")
    var slowest = 15

    func validate() throws {
        if profile && asWritten { throw ValidationError("--profile times the inference steps; it cannot go with --as-written") }
        guard slowest >= 0 else { throw ValidationError("--slowest must be 0 or more, got \(slowest)") }
        guard runs >= 1 else { throw ValidationError("--runs must be at least 1, got \(runs)") }
        guard warmup >= 0 else { throw ValidationError("--warmup must be 0 or more, got \(warmup)") }
        if let threads, threads < 1 { throw ValidationError("--threads must be at least 1, got \(threads)") }
    }

    func run() throws {
        if let threads { Threads.count = threads }
        let loadStart = DispatchTime.now().uptimeNanoseconds
        let graph: GraphModel
        var session: InferenceGraph?
        let infer: ([String: GraphValue]) throws -> [String: GraphValue]
        if asWritten {
            graph = try ModelFile.load(model)
            infer = { feeds in try Tensor.withoutGradients { try graph.run(values: feeds) } }
        } else {
            let loaded = try ModelFile.loadForInference(model)
            graph = loaded.graph
            infer = { feeds in try loaded.run(feeds) }
            session = loaded
        }
        let loadMilliseconds = Double(DispatchTime.now().uptimeNanoseconds - loadStart) / 1e6
        let feeds = try graphFeeds(input, flag: "--input", graph: graph, model: model)
        for _ in 0..<warmup { _ = try infer(feeds) }
        var times: [Double] = []
        for _ in 0..<runs {
            let start = DispatchTime.now().uptimeNanoseconds
            _ = try infer(feeds)
            times.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6)
        }
        times.sort()
        let median = times.count % 2 == 1 ? times[times.count / 2] : (times[times.count / 2 - 1] + times[times.count / 2]) / 2
        let p90 = times[min(times.count - 1, Int((0.9 * Double(times.count - 1)).rounded(.up)))]
        let batch = graph.inputs.compactMap { feeds[$0.name]?.shape.first }.first ?? 1
        let name = URL(fileURLWithPath: model).deletingPathExtension().lastPathComponent
        func figure(_ value: Double) -> String { String(format: "%.3f", value) }
        print("bench=predict impl=\(asWritten ? "synapse-as-written" : "synapse") model=\(name) batch=\(batch) median_ms=\(figure(median)) min_ms=\(figure(times[0])) "
              + "p90_ms=\(figure(p90)) load_ms=\(figure(loadMilliseconds)) peak_rss_mb=\(figure(peakResidentMiB())) "
              + "runs=\(runs) threads=\(Threads.count)")
        if profile, let session {
            let steps = InferenceProfile()
            for _ in 0..<runs { _ = try session.run(feeds, profile: steps) }
            print(steps.report(slowest: slowest))
        }
    }
}

/// This process's peak resident memory in MiB: VmHWM of /proc/self/status, which starts anew
/// at exec (getrusage's ru_maxrss does not: a child of a large process reports its parent's).
func peakResidentMiB() -> Double {
    guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
          let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }),
          let kib = Double(line.split(separator: " ").dropFirst().first ?? "") else {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        return Double(usage.ru_maxrss) / 1024
    }
    return kib / 1024
}
