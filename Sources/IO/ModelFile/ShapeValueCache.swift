import Core
import Foundation

/// The results of a graph's leading shape-only nodes (`Shape → Gather → Concat → …`) for each
/// set of input shapes seen, 16 sets at most, behind a lock: the one part of a graph that
/// running it changes, so that a `GraphModel` or an `InferenceGraph` (which shares its
/// graph's cache: its shape steps are the graph's, never rewritten) may run from several
/// threads at once.
final class ShapeValueCache: @unchecked Sendable {
    /// How many leading nodes compute only from the inputs' shapes.
    let nodeCount: Int
    /// The values those nodes write.
    let names: [String]
    /// Per set of input shapes, the value of each of `names` (nil where a node wrote none).
    private var entries: [[[Int]]: [GraphValue?]] = [:]
    private let lock = NSLock()

    init(nodes: ArraySlice<NodeInterpreter>) {
        nodeCount = nodes.count
        names = nodes.flatMap(\.node.output).filter { !$0.isEmpty }
    }

    /// The shape nodes' results for inputs of these `shapes`, when seen before.
    func values(for shapes: [[Int]]) -> [String: GraphValue]? {
        guard let known = orderedValues(for: shapes) else { return nil }
        var values: [String: GraphValue] = [:]
        for (name, value) in zip(names, known) { if let value { values[name] = value } }
        return values
    }

    /// `values(for:)` in the order of `names`: for a caller that found their places once.
    func orderedValues(for shapes: [[Int]]) -> [GraphValue?]? {
        guard nodeCount > 0 else { return nil }
        return lock.withLock { entries[shapes] }
    }

    /// Keeps the shape nodes' results present in `values` (the graph's values just after the
    /// last shape node ran) for inputs of these `shapes`.
    func remember(_ values: [String: GraphValue], for shapes: [[Int]]) {
        remember({ values[$0] }, for: shapes)
    }

    /// `remember` with the values looked up by name through `value`.
    func remember(_ value: (String) -> GraphValue?, for shapes: [[Int]]) {
        let known = names.map(value)
        lock.withLock { if entries.count < 16 { entries[shapes] = known } }
    }
}
