import Core
import Foundation

/// Where an `InferenceGraph`'s time goes: the wall-clock time of its steps, summed by what
/// each step runs (`Conv+Relu`, `MatMul`, …) over the runs given it
/// (`InferenceGraph.run(_:profile:)`), and the time between steps (looking up inputs,
/// releasing values) as `(between steps)`. `synapse benchmark --profile` prints it.
///
///     let profile = InferenceProfile()
///     for _ in 0..<20 { _ = try session.run(feeds, profile: profile) }
///     print(profile.report())
public final class InferenceProfile {
    /// One kind of step: how many ran per run and their time per run.
    public struct Entry: Sendable {
        public let opType: String
        public let stepsPerRun: Int
        public let millisecondsPerRun: Double
    }

    /// One step: its place in the graph, what it runs, the shapes it read (on its first
    /// recorded run) and its time per run.
    public struct Step: Sendable {
        public let index: Int
        public let opType: String
        public let inputShapes: [[Int]]
        public let millisecondsPerRun: Double
    }

    private var nanoseconds: [String: UInt64] = [:]
    private var stepNanoseconds: [Int: (opType: String, shapes: [[Int]], time: UInt64)] = [:]
    private var calls: [String: Int] = [:]
    /// The runs recorded.
    public private(set) var runs = 0
    private var total: UInt64 = 0

    public init() {}

    func record(step index: Int, _ opType: String, inputs: [GraphValue?], nanoseconds elapsed: UInt64) {
        nanoseconds[opType, default: 0] += elapsed
        calls[opType, default: 0] += 1
        if let known = stepNanoseconds[index] {
            stepNanoseconds[index] = (known.opType, known.shapes, known.time + elapsed)
        } else {
            stepNanoseconds[index] = (opType, inputs.map { $0?.shape ?? [] }, elapsed)
        }
    }

    /// The `count` slowest steps, the slowest first.
    public func slowestSteps(_ count: Int) -> [Step] {
        guard runs > 0 else { return [] }
        let steps = stepNanoseconds.map { index, step in
            Step(index: index, opType: step.opType, inputShapes: step.shapes, millisecondsPerRun: Double(step.time) / 1e6 / Double(runs))
        }
        return Array(steps.sorted { ($0.millisecondsPerRun, $1.index) > ($1.millisecondsPerRun, $0.index) }.prefix(count))
    }

    func finishRun(nanoseconds elapsed: UInt64) {
        runs += 1
        total += elapsed
    }

    /// The time of a whole run, averaged over the runs recorded, in milliseconds.
    public var millisecondsPerRun: Double { runs == 0 ? 0 : Double(total) / 1e6 / Double(runs) }

    /// Every kind of step, the most time first; the time outside the steps last.
    public var entries: [Entry] {
        guard runs > 0 else { return [] }
        var result = nanoseconds.map { opType, time in
            Entry(opType: opType, stepsPerRun: calls[opType, default: 0] / runs, millisecondsPerRun: Double(time) / 1e6 / Double(runs))
        }
        result.sort { ($0.millisecondsPerRun, $1.opType) > ($1.millisecondsPerRun, $0.opType) }
        let inSteps = nanoseconds.values.reduce(0, +)
        result.append(Entry(opType: "(between steps)", stepsPerRun: 0, millisecondsPerRun: Double(total &- min(total, inSteps)) / 1e6 / Double(runs)))
        return result
    }

    /// A table, one line per kind of step: its share of the run, milliseconds per run and
    /// steps per run; then the `slowest` slowest steps with the shapes they read.
    public func report(slowest: Int = 0) -> String {
        let whole = millisecondsPerRun
        func padded(_ text: String) -> String { text.count >= 44 ? text : text + String(repeating: " ", count: 44 - text.count) }
        var lines = [padded("step") + "   share     ms/run  steps"]
        for entry in entries {
            let share = whole > 0 ? 100 * entry.millisecondsPerRun / whole : 0
            lines.append(padded(entry.opType) + String(format: " %6.1f%% %10.4f %6d", share, entry.millisecondsPerRun, entry.stepsPerRun))
        }
        lines.append(padded("whole run") + String(format: " %6.1f%% %10.4f   (%d runs)", 100.0, whole, runs))
        if slowest > 0 { lines.append("slowest steps:") }
        for step in slowestSteps(slowest) {
            let share = whole > 0 ? 100 * step.millisecondsPerRun / whole : 0
            let shapes = step.inputShapes.map { "[" + $0.map(String.init).joined(separator: ",") + "]" }.joined(separator: " ")
            lines.append(String(format: "  #%-4d %6.1f%% %10.4f  ", step.index, share, step.millisecondsPerRun) + "\(step.opType) \(shapes)")
        }
        return lines.joined(separator: "\n")
    }
}
