// ONNX export and import of `recurrence`: ONNX's LSTM, GRU and RNN nodes. ONNX orders the
// gate blocks differently from PyTorch (LSTM i, o, f, c against i, f, g, o; GRU z, r, h
// against r, z, n) and packs both biases into one `B`; the mappings reorder the blocks with
// Slice and Concat on the weights themselves, so the weights keep their PyTorch layout in the
// file and gradients reach them when an imported model trains.

extension RecurrentKind {
    /// ONNX's op type.
    var onnxName: String {
        switch self {
        case .lstm: return "LSTM"
        case .gru: return "GRU"
        case .rnnTanh, .rnnRelu: return "RNN"
        }
    }

    /// For each ONNX gate block, the PyTorch block it holds.
    var onnxBlocksFromPyTorch: [Int] {
        switch self {
        case .lstm: return [0, 3, 1, 2]  // i, o, f, c ← i, f, g, o
        case .gru: return [1, 0, 2]  // z, r, h ← r, z, n
        case .rnnTanh, .rnnRelu: return [0]
        }
    }

    /// For each PyTorch gate block, the ONNX block it comes from.
    var pyTorchBlocksFromONNX: [Int] {
        let forward = onnxBlocksFromPyTorch
        return forward.indices.map { block in forward.firstIndex(of: block)! }
    }
}

extension Tensor {
    /// An ONNX `LSTM`/`GRU`/`RNN` node of one direction, its weights reordered and packed
    /// from the op's PyTorch-layout inputs, and its outputs reshaped to the op's result
    /// (`Y` without the direction axis, then `Y_c` for an LSTM).
    static func exportRecurrence(kind: RecurrentKind, reverse: Bool, _ site: ExportSite, _ context: inout ExportContext) -> [ExportNode] {
        let isLSTM = kind == .lstm
        let inputs = site.inputs
        let (x, h0) = (inputs[0], inputs[1])
        let (wih, whh, bih, bhh) = isLSTM ? (inputs[3], inputs[4], inputs[5], inputs[6]) : (inputs[2], inputs[3], inputs[4], inputs[5])
        let size = site.shapes[1][1]
        var nodes: [ExportNode] = []
        func reordered(_ name: String) -> String {
            let blocks = kind.onnxBlocksFromPyTorch
            guard blocks != Array(blocks.indices) else { return name }
            let parts = blocks.map { block -> String in
                let part = context.freshName("gates")
                nodes.append(ExportNode("Slice", [
                    name, context.int64s([block * size], hint: "starts"), context.int64s([(block + 1) * size], hint: "ends"),
                    context.int64s([0], hint: "axes"),
                ], [part]))
                return part
            }
            let joined = context.freshName("reordered")
            nodes.append(ExportNode("Concat", parts, [joined], ["axis": .int(0)]))
            return joined
        }
        func unsqueezed(_ name: String) -> String {
            let result = context.freshName("directions")
            nodes.append(ExportNode("Unsqueeze", [name, context.int64s([0], hint: "axes")], [result]))
            return result
        }
        let w = unsqueezed(reordered(wih))
        let r = unsqueezed(reordered(whh))
        let packedBias = context.freshName("bias")
        nodes.append(ExportNode("Concat", [reordered(bih), reordered(bhh)], [packedBias], ["axis": .int(0)]))
        var nodeInputs = [x, w, r, unsqueezed(packedBias), "", unsqueezed(h0)]
        if isLSTM { nodeInputs.append(unsqueezed(inputs[2])) }
        var attributes: [String: ExportAttribute] = ["hidden_size": .int(size), "direction": .string(reverse ? "reverse" : "forward")]
        if kind == .gru { attributes["linear_before_reset"] = .int(1) }
        if kind == .rnnRelu { attributes["activations"] = .strings(["Relu"]) }
        let y = context.freshName("y")
        let finalCell = isLSTM ? context.freshName("y_c") : ""
        nodes.append(ExportNode(kind.onnxName, nodeInputs, isLSTM ? [y, "", finalCell] : [y], attributes))
        let squeezedName = isLSTM ? context.freshName("y_squeezed") : site.output
        nodes.append(ExportNode("Squeeze", [y, context.int64s([1], hint: "axes")], [squeezedName]))
        if isLSTM { nodes.append(ExportNode("Concat", [squeezedName, finalCell], [site.output], ["axis": .int(0)])) }
        return nodes
    }

    /// ONNX's `LSTM`, `GRU` and `RNN` (forward, reverse or bidirectional; `layout` 0 or 1;
    /// optional biases, initial states and uniform `sequence_lens`), run as one `recurrence`
    /// per direction; GRU's `linear_before_reset = 0` and LSTM peepholes run unrolled
    /// (`unrolledRecurrence`). `clip`, `input_forget` and activations other than the defaults
    /// (and ReLU for RNN) are refused by name.
    static let recurrenceImporters: [ImporterDeclaration] = {
        func importer(_ opType: String) -> OpImporter {
            { node in
                let layout = node.int("layout", default: 0)
                guard layout == 0 || layout == 1 else { throw node.fail("layout \(layout) is not 0 or 1") }
                let input = try node.tensor(0)
                guard input.rank == 3 else { throw node.fail("X must be [T, N, features], got \(describe(input.shape))") }
                let x = layout == 0 ? input : input.transposed(0, 1)
                let (w, r) = (try node.tensor(1), try node.tensor(2))
                guard w.rank == 3, r.rank == 3, w.shape[0] == r.shape[0], (1...2).contains(w.shape[0]) else {
                    throw node.fail("W \(describe(w.shape)) and R \(describe(r.shape)) must be [directions, gates·H, …]")
                }
                let kind = try recurrentKind(opType, node)
                let size = r.shape[2]
                guard size > 0, node.int("hidden_size", default: size) == size else { throw node.fail("hidden_size differs from R's \(size)") }
                let direction = node.string("direction", default: "forward")
                let directions = direction == "bidirectional" ? 2 : 1
                guard ["forward", "reverse", "bidirectional"].contains(direction), w.shape[0] == directions else {
                    throw node.fail("direction \(direction) does not fit W's \(w.shape[0]) directions")
                }
                let (steps, batch, width) = (x.shape[0], x.shape[1], kind.gates * size)
                guard steps > 0, batch > 0 else { throw node.fail("the sequence and the batch must not be empty") }
                if let lengths = try node.integers(4), lengths.contains(where: { $0 != steps }) {
                    throw node.fail("sequence_lens other than the full length \(steps) are not supported")
                }
                let peepholes = node.has(7) ? try node.tensor(7) : nil
                if let peepholes, peepholes.shape != [directions, 3 * size] {
                    throw node.fail("P must be [\(directions), \(3 * size)], got \(describe(peepholes.shape))")
                }
                // GRU with linear_before_reset 0, and LSTM with peepholes, run unrolled.
                let unrolled = (kind == .gru && node.int("linear_before_reset", default: 0) == 0) || peepholes != nil
                let bias = node.has(3) ? try node.tensor(3) : Tensor.zeros([directions, 2 * width])
                let states = try (5...6).map { index -> Tensor? in
                    guard node.has(index) else { return nil }
                    let state = try node.tensor(index)
                    let expected = layout == 0 ? [directions, batch, size] : [batch, directions, size]
                    guard state.shape == expected else { throw node.fail("input \(index) must be \(describe(expected)), got \(describe(state.shape))") }
                    return layout == 0 ? state : state.transposed(0, 1)
                }
                guard bias.shape == [directions, 2 * width], w.shape[1] == width, r.shape[1] == width else {
                    throw node.fail("W \(describe(w.shape)), R \(describe(r.shape)) and B \(describe(bias.shape)) do not fit \(kind.gates) gates of \(size)")
                }
                var outputs: [Tensor] = []
                var finalHidden: [Tensor] = []
                var finalCell: [Tensor] = []
                for d in 0..<directions {
                    let reverse = direction == "reverse" || d == 1
                    func part(_ t: Tensor) -> Tensor { t.slice(dim: 0, range: d..<d + 1).squeezed(dim: 0) }
                    func pyTorchOrder(_ t: Tensor) -> Tensor {
                        let blocks = kind.pyTorchBlocksFromONNX
                        guard blocks != Array(blocks.indices) else { return t }
                        return Tensor.concat(blocks.map { t.slice(dim: 0, range: $0 * size..<($0 + 1) * size) }, dim: 0)
                    }
                    let b = part(bias)
                    let h0 = states[0].map(part) ?? Tensor.zeros([batch, size])
                    let c0 = kind == .lstm ? (states[1].map(part) ?? Tensor.zeros([batch, size])) : nil
                    if let problem = recurrenceProblem(kind, input: x.shape, hidden: h0.shape, cell: c0?.shape, inputWeights: [width, w.shape[2]],
                                                       hiddenWeights: [width, size], inputBias: [width], hiddenBias: [width]) {
                        throw node.fail(problem)
                    }
                    if unrolled {
                        let (states, hidden, cell) = Tensor.unrolledRecurrence(
                            gru: kind == .gru, x: x, w: part(w), r: part(r), inputBias: b.slice(dim: 0, range: 0..<width),
                            hiddenBias: b.slice(dim: 0, range: width..<2 * width), hidden: h0, cell: c0, peepholes: peepholes.map(part),
                            linearBeforeReset: node.int("linear_before_reset", default: 0) != 0, reverse: reverse)
                        outputs.append(states.unsqueezed(dim: 1))
                        finalHidden.append(hidden.unsqueezed(dim: 0))
                        if let cell { finalCell.append(cell.unsqueezed(dim: 0)) }
                        continue
                    }
                    let result = Tensor.recurrence(
                        kind, input: x, hidden: h0, cell: c0, inputWeights: pyTorchOrder(part(w)), hiddenWeights: pyTorchOrder(part(r)),
                        inputBias: pyTorchOrder(b.slice(dim: 0, range: 0..<width)), hiddenBias: pyTorchOrder(b.slice(dim: 0, range: width..<2 * width)),
                        reverse: reverse)
                    outputs.append(result.slice(dim: 0, range: 0..<steps).unsqueezed(dim: 1))
                    let last = reverse ? 0 : steps - 1
                    finalHidden.append(result.slice(dim: 0, range: last..<last + 1))
                    if kind == .lstm { finalCell.append(result.slice(dim: 0, range: steps..<steps + 1)) }
                }
                var y = outputs.count == 1 ? outputs[0] : Tensor.concat(outputs, dim: 1)
                var yh = finalHidden.count == 1 ? finalHidden[0] : Tensor.concat(finalHidden, dim: 0)
                var yc = finalCell.isEmpty ? nil : finalCell.count == 1 ? finalCell[0] : Tensor.concat(finalCell, dim: 0)
                if layout == 1 {
                    y = y.permuted([2, 0, 1, 3])
                    yh = yh.transposed(0, 1)
                    yc = yc?.transposed(0, 1)
                }
                return [.tensor(y), .tensor(yh)] + (yc.map { [.tensor($0)] } ?? [])
            }
        }
        // clip, input_forget and the activation parameters are read to be refused unless absent.
        let common: Set<String> = ["layout", "hidden_size", "direction", "clip", "activation_alpha", "activation_beta", "activations"]
        return [
            ImporterDeclaration("LSTM", reads: common.union(["input_forget"]), run: importer("LSTM")),
            ImporterDeclaration("GRU", reads: common.union(["linear_before_reset"]), run: importer("GRU")),
            ImporterDeclaration("RNN", reads: common, run: importer("RNN")),
        ]
    }()

    /// The cell of an ONNX recurrent node, after checking the attributes Synapse does not run.
    private static func recurrentKind(_ opType: String, _ node: ImportNode) throws -> RecurrentKind {
        if node.attributes["clip"] != nil { throw node.fail("clip is not supported") }
        if node.int("input_forget", default: 0) != 0 { throw node.fail("input_forget is not supported") }
        if node.attributes["activation_alpha"] != nil || node.attributes["activation_beta"] != nil {
            throw node.fail("activation_alpha/activation_beta are not supported")
        }
        let activations = node.strings("activations").map { $0.map { $0.lowercased() } }
        func expect(_ defaults: [String]) throws {
            if let activations, activations != defaults && activations != defaults + defaults {
                throw node.fail("activations \(activations) are not supported (only \(defaults))")
            }
        }
        switch opType {
        case "LSTM":
            try expect(["sigmoid", "tanh", "tanh"])
            return .lstm
        case "GRU":
            try expect(["sigmoid", "tanh"])
            return .gru
        default:
            if let activations, Set(activations) == ["relu"] { return .rnnRelu }
            try expect(["tanh"])
            return .rnnTanh
        }
    }
}
