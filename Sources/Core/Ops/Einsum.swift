// ONNX's Einsum as Synapse's ops: each operand's repeated labels taken as a diagonal, labels
// no later operand or the output needs summed out, then operands contracted pairwise as one
// batched matrix product ([batch, left, contracted] × [batch, contracted, right]), and the
// result permuted into the output's order — so every equation trains.

/// A parsed Einsum equation: each operand's labels and the output's, with `...` spelled as
/// labels of its own (characters no equation uses).
struct EinsumEquation {
    var operands: [[Character]]
    var output: [Character]

    /// The most labels an equation may use (letters, and the ellipsis's stand-ins).
    static let ellipsisLabels = Array("①②③④⑤⑥⑦⑧⑨⑩⑪⑫⑬⑭⑮⑯")

    init(_ text: String, ranks: [Int]) throws(EinsumError) {
        let equation = text.filter { !$0.isWhitespace }
        let sides = equation.split(separator: "->", omittingEmptySubsequences: false).map(String.init)
        guard sides.count <= 2, !equation.isEmpty else { throw EinsumError("\"\(text)\" is not an equation") }
        let terms = sides[0].split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        guard terms.count == ranks.count else { throw EinsumError("\"\(text)\" names \(terms.count) operands; the node has \(ranks.count)") }
        var ellipsisRank = 0
        var parsed: [[Character]] = []
        for (term, rank) in zip(terms, ranks) {
            let (labels, hasEllipsis) = try EinsumEquation.labels(term)
            guard hasEllipsis ? labels.count <= rank : labels.count == rank else {
                throw EinsumError("\"\(term)\" has \(labels.count) labels for an operand of rank \(rank)")
            }
            if hasEllipsis { ellipsisRank = Swift.max(ellipsisRank, rank - labels.count) }
            parsed.append(labels)
        }
        guard ellipsisRank <= EinsumEquation.ellipsisLabels.count else { throw EinsumError("the ellipsis stands for too many axes") }
        // Each operand's ellipsis becomes the trailing stand-ins (aligned on the right, as broadcasting).
        var spelled: [[Character]] = []
        for index in 0..<terms.count {
            var labels = parsed[index]
            if terms[index].contains("...") {
                let count = ranks[index] - labels.count
                let prefix = terms[index].split(separator: "...", omittingEmptySubsequences: false)[0].count
                labels.insert(contentsOf: EinsumEquation.ellipsisLabels[(ellipsisRank - count)..<ellipsisRank], at: prefix)
            }
            spelled.append(labels)
        }
        operands = spelled
        let stand = Array(EinsumEquation.ellipsisLabels[..<ellipsisRank])
        if sides.count == 2 {
            let (labels, hasEllipsis) = try EinsumEquation.labels(sides[1])
            var out = labels
            if hasEllipsis { out.insert(contentsOf: stand, at: sides[1].split(separator: "...", omittingEmptySubsequences: false).map(String.init)[0].count) }
            guard Set(out).count == out.count else { throw EinsumError("the output repeats a label") }
            let all = Set(operands.joined())
            guard let unknown = out.first(where: { !all.contains($0) }) else { output = out; return }
            throw EinsumError("output label \(unknown) is in no operand")
        }
        // Implicit output: the ellipsis, then the labels used once, alphabetically.
        let counts = Dictionary(operands.joined().map { ($0, 1) }, uniquingKeysWith: +)
        output = stand + counts.filter { $0.value == 1 && $0.key.isLetter }.keys.sorted()
    }

    static func labels(_ term: String) throws(EinsumError) -> ([Character], Bool) {
        let parts = term.split(separator: "...", omittingEmptySubsequences: false).map(String.init)
        guard parts.count <= 2 else { throw EinsumError("\"\(term)\" has more than one ellipsis") }
        let letters = Array(parts.joined())
        guard letters.allSatisfy({ $0.isASCII && $0.isLetter }) else { throw EinsumError("\"\(term)\": labels must be letters") }
        return (letters, parts.count == 2)
    }
}

struct EinsumError: Error {
    var reason: String
    init(_ reason: String) { self.reason = reason }
}

/// A tensor whose axes carry Einsum labels.
struct LabelledTensor {
    var tensor: Tensor
    var labels: [Character]

    /// Repeated labels replaced by their diagonal (`ii → i`).
    func diagonal() -> LabelledTensor {
        guard Set(labels).count < labels.count else { return self }
        var unique: [Character] = []
        for label in labels where !unique.contains(label) { unique.append(label) }
        let shape = unique.map { label in tensor.shape[labels.firstIndex(of: label)!] }
        let strides = rowMajorStrides(tensor.shape)
        var sources: [Int] = []
        forEachIndex(shape) { index in
            sources.append(labels.enumerated().reduce(0) { $0 + index[unique.firstIndex(of: $1.element)!] * strides[$1.offset] })
        }
        return LabelledTensor(tensor: Tensor.apply(ElementMap(shape: shape, taps: 1, sources: sources, weights: nil, fill: 0), [tensor]), labels: unique)
    }

    /// Labels not in `kept` summed out.
    func summing(notIn kept: Set<Character>) -> LabelledTensor {
        var result = self
        for axis in stride(from: labels.count - 1, through: 0, by: -1) where !kept.contains(labels[axis]) {
            result.tensor = result.tensor.sum(dim: axis)
            result.labels.remove(at: axis)
        }
        return result
    }

    /// The axes in `order` (which holds exactly this tensor's labels).
    func permuted(_ order: [Character]) -> Tensor {
        let permutation = order.map { labels.firstIndex(of: $0)! }
        return permutation == Array(0..<labels.count) ? tensor : tensor.permuted(permutation)
    }

    func size(_ label: Character) -> Int { tensor.shape[labels.firstIndex(of: label)!] }

    /// `a` and `b` contracted over their shared labels that `kept` does not hold.
    static func contract(_ a: LabelledTensor, _ b: LabelledTensor, keeping kept: Set<Character>) -> LabelledTensor {
        var (a, b) = (a, b)
        let shared = a.labels.filter(b.labels.contains)
        // A shared axis of size 1 on one side broadcasts against the other's.
        for label in shared where a.size(label) != b.size(label) {
            if a.size(label) == 1 { a.tensor = a.tensor + Tensor.zeros(a.labels.map { $0 == label ? b.size(label) : 1 }) }
            else { b.tensor = b.tensor + Tensor.zeros(b.labels.map { $0 == label ? a.size(label) : 1 }) }
        }
        let batch = shared.filter(kept.contains)
        let contracted = shared.filter { !kept.contains($0) }
        let left = a.labels.filter { !shared.contains($0) }
        let right = b.labels.filter { !shared.contains($0) }
        func count(_ labels: [Character], _ t: LabelledTensor) -> Int { labels.reduce(1) { $0 * t.size($1) } }
        let (nb, m, k, n) = (count(batch, a), count(left, a), count(contracted, a), count(right, b))
        let lhs = a.permuted(batch + left + contracted).reshaped([nb, m, k])
        let rhs = b.permuted(batch + contracted + right).reshaped([nb, k, n])
        let shape = batch.map(a.size) + left.map(a.size) + right.map(b.size)
        return LabelledTensor(tensor: lhs.matmul(rhs).reshaped(shape), labels: batch + left + right)
    }
}

extension Tensor {
    static let einsumImporters: [ImporterDeclaration] = [
        ImporterDeclaration("Einsum", opsets: 12...Int.max, reads: ["equation"]) { node in
            let operands = try (0..<node.inputs.count).map { try node.tensor($0) }
            let equation: EinsumEquation
            do {
                equation = try EinsumEquation(node.string("equation", default: ""), ranks: operands.map(\.rank))
            } catch let error as EinsumError {
                throw node.fail("equation: \(error.reason)")
            }
            var terms = zip(operands, equation.operands).map { LabelledTensor(tensor: $0, labels: $1).diagonal() }
            for (index, term) in terms.enumerated() {
                for (label, size) in zip(term.labels, term.tensor.shape) {
                    if let other = terms[..<index].first(where: { $0.labels.contains(label) }), other.size(label) != size, other.size(label) != 1, size != 1 {
                        throw node.fail("label \(label) has sizes \(other.size(label)) and \(size)")
                    }
                }
            }
            func needed(after index: Int) -> Set<Character> { Set(equation.output).union(terms[(index + 1)...].flatMap(\.labels)) }
            var result = terms[0].summing(notIn: needed(after: 0))
            for index in 1..<Swift.max(terms.count, 1) {
                terms[index] = terms[index].summing(notIn: needed(after: index).union(result.labels))
                result = LabelledTensor.contract(result, terms[index], keeping: needed(after: index)).summing(notIn: needed(after: index))
            }
            return [.tensor(result.permuted(equation.output))]
        },
    ]
}
