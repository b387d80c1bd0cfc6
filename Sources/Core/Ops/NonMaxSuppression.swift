// ONNX's NonMaxSuppression, as detection models end with it: per batch and class, boxes taken
// in order of falling score (ties by position), each kept unless it overlaps a kept one by more
// than the IoU threshold, at most `max_output_boxes_per_class` of them, scores at or below the
// score threshold dropped. The result is `[selected, 3]` int64 rows (batch, class, box).

/// A box's extent along x and y, from corners `[y1, x1, y2, x2]` (either order) or from
/// `[x_center, y_center, width, height]`.
private struct BoxExtent {
    var xMin: Float, xMax: Float, yMin: Float, yMax: Float

    init(_ box: ArraySlice<Float>, centered: Bool) {
        let b = Array(box)
        if centered {
            (xMin, xMax, yMin, yMax) = (b[0] - b[2] / 2, b[0] + b[2] / 2, b[1] - b[3] / 2, b[1] + b[3] / 2)
        } else {
            (xMin, xMax, yMin, yMax) = (Swift.min(b[1], b[3]), Swift.max(b[1], b[3]), Swift.min(b[0], b[2]), Swift.max(b[0], b[2]))
        }
    }

    var area: Float { (xMax - xMin) * (yMax - yMin) }

    /// Whether the intersection over union with `other` exceeds `threshold` (boxes without
    /// area never suppress).
    func overlaps(_ other: BoxExtent, moreThan threshold: Float) -> Bool {
        let width = Swift.min(xMax, other.xMax) - Swift.max(xMin, other.xMin)
        let height = Swift.min(yMax, other.yMax) - Swift.max(yMin, other.yMin)
        guard width > 0, height > 0 else { return false }
        let intersection = width * height
        let union = area + other.area - intersection
        guard area > 0, other.area > 0, union > 0 else { return false }
        return intersection / union > threshold
    }
}

extension Tensor {
    static let nonMaxSuppressionImporters = [
        ImporterDeclaration("NonMaxSuppression", opsets: 10...Int.max, reads: ["center_point_box"], differentiable: false) { node in
            let (boxes, scores) = (try node.tensor(0), try node.tensor(1))
            guard boxes.rank == 3, boxes.shape[2] == 4, scores.rank == 3, scores.shape[0] == boxes.shape[0], scores.shape[2] == boxes.shape[1] else {
                throw node.fail("boxes \(describe(boxes.shape)) and scores \(describe(scores.shape)) must be [batch, boxes, 4] and [batch, classes, boxes]")
            }
            let centered = node.int("center_point_box", default: 0)
            guard centered == 0 || centered == 1 else { throw node.fail("center_point_box must be 0 or 1, got \(centered)") }
            func scalar(_ index: Int) throws -> Float? {
                guard node.has(index) else { return nil }
                let values = try node.tensor(index).scalars
                guard values.count <= 1 else { throw node.fail("input \(index) must hold one value, got \(values.count)") }
                return values.first
            }
            // (A float32 of the int64 count: clamped before it becomes an Int.)
            let requested = try scalar(2) ?? 0
            let limit = requested.isNaN ? 0 : Int(Swift.min(Swift.max(requested, 0), Float(1 << 30)))
            let iouThreshold = try scalar(3) ?? 0
            let scoreThreshold = try scalar(4)
            let (batches, classes, count) = (scores.shape[0], scores.shape[1], boxes.shape[1])
            let (b, s) = (boxes.scalars, scores.scalars)
            var rows: [Int] = []
            for batch in 0..<batches {
                let extents = (0..<count).map { BoxExtent(b[((batch * count + $0) * 4)..<((batch * count + $0) * 4 + 4)], centered: centered == 1) }
                for klass in 0..<classes {
                    let base = (batch * classes + klass) * count
                    let candidates = (0..<count).filter { (box: Int) -> Bool in
                        guard let scoreThreshold else { return true }
                        return s[base + box] > scoreThreshold
                    }.sorted { (p: Int, q: Int) -> Bool in s[base + p] > s[base + q] || (s[base + p] == s[base + q] && p < q) }
                    var kept: [Int] = []
                    for box in candidates where kept.count < limit {
                        if kept.allSatisfy({ !extents[box].overlaps(extents[$0], moreThan: iouThreshold) }) {
                            kept.append(box)
                            rows += [batch, klass, box]
                        }
                    }
                }
            }
            return [.integers(rows, shape: [rows.count / 3, 3])]
        },
    ]
}
