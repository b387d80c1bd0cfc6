// ONNX's Attention (opsets 23–25: what PyTorch's exporter writes for scaled_dot_product_attention
// at those opsets) as Synapse's ops, so an imported graph that uses it trains: 3-D inputs
// split into heads, the key/value cache appended, grouped-query heads repeated, then
//
//     Y = softmax(softcap((Q·√s)(K·√s)ᵀ) + bias) V
//
// where the bias is the attention mask (bool: 0 or −∞; float: added; padded with −∞ to the
// key length), the bottom-right causal mask (a query i attends keys j ≤ i + offset, offset the
// cache length or nonpad_kv_seqlen − q), the sliding window and the padding of
// nonpad_kv_seqlen; a row with no key to attend gives 0, as ONNX's reference does.

extension ImportNode {
    /// The additive bias `[B or 1, H or 1, q, kv]` of an Attention node, as a constant tensor
    /// (or one computed from a float mask), and which query rows have no key to attend.
    func attentionBias(batch: Int, heads: Int, queries: Int, keys: Int, pastLength: Int?, nonpad: [Int]?) throws -> Tensor {
        var bias = Tensor.zeros([1, 1, queries, keys])
        if has(3) {
            let mask = try value(3)
            guard (1...4).contains(mask.shape.count), let last = mask.shape.last, last <= keys else {
                throw fail("attn_mask \(describe(mask.shape)) must be [..., \(queries), at most \(keys)]")
            }
            var additive: Tensor
            if case .integers(let values, let shape, _) = mask {
                additive = Tensor(values.map { $0 != 0 ? 0 : -Float.infinity }, shape: shape)
            } else {
                additive = mask.asTensor
            }
            if last < keys {
                // Keys past the mask's end are masked.
                var padShape = additive.shape
                padShape[padShape.count - 1] = keys - last
                additive = Tensor.concat([additive, Tensor(shape: padShape, repeating: -.infinity)], dim: -1)
            }
            guard broadcastShapeIfPossible(additive.shape, [batch, heads, queries, keys]) == [batch, heads, queries, keys] else {
                throw fail("attn_mask \(describe(mask.shape)) does not broadcast to [\(batch), \(heads), \(queries), \(keys)]")
            }
            bias = bias + additive
        }
        let causal = int("is_causal", default: 0) != 0
        let (left, right) = (int("left_window_size", default: -1), int("right_window_size", default: -1))
        if causal || left >= 0 || right >= 0 || nonpad != nil {
            let offsets: [Int] = nonpad.map { $0.map { $0 - queries } } ?? [pastLength ?? 0]
            var values = [Float](repeating: 0, count: offsets.count * queries * keys)
            for (b, offset) in offsets.enumerated() {
                for i in 0..<queries {
                    for j in 0..<keys {
                        let difference = i + offset - j
                        var allowed = !causal || difference >= 0
                        if left >= 0 && difference > left { allowed = false }
                        if right >= 0 && -difference > right { allowed = false }
                        if let nonpad, j >= nonpad[b] { allowed = false }
                        if !allowed { values[(b * queries + i) * keys + j] = -.infinity }
                    }
                }
            }
            bias = bias + Tensor(values, shape: [offsets.count, 1, queries, keys])
        }
        return bias
    }
}

extension Tensor {
    static let attentionImporters: [ImporterDeclaration] = [
        ImporterDeclaration("Attention", opsets: 23...Int.max, reads: [
            "is_causal", "kv_num_heads", "q_num_heads", "qk_matmul_output_mode", "scale", "softcap", "softmax_precision",
            "left_window_size", "right_window_size",
        ]) { node in
            var (q, k, v) = (try node.tensor(0), try node.tensor(1), try node.tensor(2))
            guard q.rank == k.rank, k.rank == v.rank, q.rank == 3 || q.rank == 4, q.shape[0] == k.shape[0], k.shape[0] == v.shape[0] else {
                throw node.fail("Q \(describe(q.shape)), K \(describe(k.shape)) and V \(describe(v.shape)) must all be 3-D or all 4-D, one batch")
            }
            let threeD = q.rank == 3
            let batch = q.shape[0]
            if threeD {
                let (qHeads, kvHeads) = (node.int("q_num_heads", default: 0), node.int("kv_num_heads", default: 0))
                guard qHeads > 0, kvHeads > 0, q.shape[2] % qHeads == 0, k.shape[2] % kvHeads == 0, v.shape[2] % kvHeads == 0 else {
                    throw node.fail("3-D inputs need q_num_heads and kv_num_heads dividing their hidden sizes")
                }
                func heads(_ t: Tensor, _ count: Int) -> Tensor { t.reshaped([batch, t.shape[1], count, t.shape[2] / count]).permuted([0, 2, 1, 3]) }
                (q, k, v) = (heads(q, qHeads), heads(k, kvHeads), heads(v, kvHeads))
            }
            guard k.shape[1] == v.shape[1], k.shape[3] == q.shape[3], q.shape[1] % k.shape[1] == 0, k.shape[2] == v.shape[2] else {
                throw node.fail("heads and sizes of Q \(describe(q.shape)), K \(describe(k.shape)) and V \(describe(v.shape)) do not fit")
            }
            // The cache: past keys and values before the new ones.
            let pastLength: Int? = node.has(4) ? try node.tensor(4).shape[2] : nil
            if node.has(4) || node.has(5) {
                guard node.has(4) && node.has(5) else { throw node.fail("past_key and past_value come together") }
                let (pastKey, pastValue) = (try node.tensor(4), try node.tensor(5))
                guard pastKey.rank == 4, pastValue.rank == 4 else { throw node.fail("past_key and past_value must be 4-D") }
                k = Tensor.concat([pastKey, k], dim: 2)
                v = Tensor.concat([pastValue, v], dim: 2)
            }
            let nonpad = try node.has(6) ? node.integers(6) : nil
            if let nonpad, nonpad.count != batch || nonpad.contains(where: { $0 < 0 || $0 > k.shape[2] }) {
                throw node.fail("nonpad_kv_seqlen must give one length in 0...\(k.shape[2]) per batch entry")
            }
            let (presentKey, presentValue) = (k, v)
            let (heads, queries, keys) = (q.shape[1], q.shape[2], k.shape[2])
            let repeats = heads / k.shape[1]
            if repeats > 1 {
                // Grouped-query attention: each key/value head serves `repeats` query heads in turn.
                func repeated(_ t: Tensor) -> Tensor {
                    (t.unsqueezed(dim: 2) + Tensor.zeros([1, 1, repeats, 1, 1])).reshaped([batch, heads, t.shape[2], t.shape[3]])
                }
                (k, v) = (repeated(k), repeated(v))
            }
            let scale = node.float("scale", default: 1 / Float(q.shape[3]).squareRoot())
            guard scale.isFinite, scale > 0 else { throw node.fail("scale must be positive, got \(scale)") }
            let root = scale.squareRoot()
            var scores = (q * root).matmul(k * root, transposeB: true)  // [B, H, q, kv]
            let softcap = node.float("softcap", default: 0)
            if softcap > 0 { scores = (scores / softcap).tanh() * softcap }
            let raw = scores
            let bias = try node.attentionBias(batch: batch, heads: heads, queries: queries, keys: keys, pastLength: pastLength, nonpad: nonpad)
            let full = bias + Tensor.zeros([batch, heads, queries, keys])
            // Rows with no key to attend: their bias made finite for the softmax, their weights 0.
            let values = full.scalars
            let rowMasked = (0..<(values.count / Swift.max(keys, 1))).map { row in !(0..<keys).contains { values[row * keys + $0] > -.infinity } }
            let keep = Tensor(rowMasked.map { $0 ? 0 : 1 }, shape: [batch, heads, queries, 1])
            let safeBias = Tensor.select(keep, full, Tensor(scalar: 0))
            let withBias = scores + safeBias
            let weights = withBias.softmax(dim: -1) * keep
            var y = weights.matmul(v)
            if threeD { y = y.permuted([0, 2, 1, 3]).reshaped([batch, queries, heads * v.shape[3]]) }
            let exposed: Tensor = switch node.int("qk_matmul_output_mode", default: 0) {
            case 2: scores + full
            case 3: weights
            default: raw
            }
            return Array([GraphValue.tensor(y), .tensor(presentKey), .tensor(presentValue), .tensor(exposed)].prefix(node.outputCount))
        },
    ]
}
