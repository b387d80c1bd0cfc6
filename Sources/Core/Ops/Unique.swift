// ONNX's Unique: the distinct elements (or, with an axis, the distinct slices along it) of a
// tensor, sorted or in order of first occurrence, with where each first occurs, which
// distinct value each element is, and how often each occurs — as `numpy.unique` gives them.

extension Tensor {
    static let uniqueImporters = [
        ImporterDeclaration("Unique", opsets: 11...Int.max, reads: ["axis", "sorted"]) { node in
            let x = try node.value(0)
            let flat = node.attributes["axis"] == nil
            guard flat || !x.shape.isEmpty else { throw node.fail("a scalar has no axis to find unique slices along") }
            let shape = flat ? [x.shape.reduce(1, *)] : x.shape
            let axis = flat ? 0 : try node.axis(node.int("axis", default: 0), rank: x.shape.count)
            let values: [Double]
            switch x {
            case .integers(let v, _, _): values = v.map(Double.init)
            case .tensor(let t): values = t.scalars.map(Double.init)
            }
            // Slice k along the axis, as the row-major list of its elements.
            let (outer, n, inner) = Kernels.split(shape, around: axis)
            func element(_ slice: Int, _ k: Int) -> Double { values[((k / inner) * n + slice) * inner + k % inner] }
            let width = outer * inner
            func precedes(_ a: Int, _ b: Int) -> Bool {
                for k in 0..<width where element(a, k) != element(b, k) { return element(a, k) < element(b, k) }
                return false
            }
            func same(_ a: Int, _ b: Int) -> Bool { (0..<width).allSatisfy { element(a, $0) == element(b, $0) } }
            // A stable sort keeps equal slices in order, so each group starts at its first occurrence.
            let order = (0..<n).sorted { precedes($0, $1) || (!precedes($1, $0) && $0 < $1) }
            var groups: [[Int]] = []
            for slice in order {
                if let last = groups.last?.first, same(last, slice) { groups[groups.count - 1].append(slice) } else { groups.append([slice]) }
            }
            if node.int("sorted", default: 1) == 0 { groups.sort { $0[0] < $1[0] } }
            var inverse = [Int](repeating: 0, count: n)
            for (g, members) in groups.enumerated() { for slice in members { inverse[slice] = g } }
            var resultShape = shape
            resultShape[axis] = groups.count
            var sources: [Int] = []
            sources.reserveCapacity(outer * groups.count * inner)
            for o in 0..<outer {
                for members in groups { for i in 0..<inner { sources.append((o * n + members[0]) * inner + i) } }
            }
            let source: GraphValue
            switch x {
            case .integers(let v, _, let type): source = .integers(v, shape: shape, type: type)
            case .tensor(let t): source = .tensor(t.reshaped(shape))
            }
            return [node.picked(from: [source], sources: sources, shape: resultShape), .integers(groups.map { $0[0] }, shape: [groups.count]),
                    .integers(inverse, shape: [n]), .integers(groups.map(\.count), shape: [groups.count])]
        },
    ]
}
