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
    private let names: [String]
    private var entries: [[[Int]]: [String: GraphValue]] = [:]
    private let lock = NSLock()

    init(nodes: ArraySlice<NodeInterpreter>) {
        nodeCount = nodes.count
        names = nodes.flatMap(\.node.output).filter { !$0.isEmpty }
    }

    /// The shape nodes' results for inputs of these `shapes`, when seen before.
    func values(for shapes: [[Int]]) -> [String: GraphValue]? {
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
        let known = Dictionary(uniqueKeysWithValues: names.compactMap { name in value(name).map { (name, $0) } })
        lock.withLock { if entries.count < 16 { entries[shapes] = known } }
    }
}
