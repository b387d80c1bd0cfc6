extension Tensor {
    /// Per-row cross-entropy of logits `[N, C]` against class indices `targets` `[N]`
    /// (whole numbers in `0..<C`): `lᵢ = log Σⱼ e^xᵢⱼ − xᵢ,targetᵢ`, the log-sum-exp taken
    /// after subtracting the row's maximum, so it stays finite for logits of any size. One
    /// pass forward and one backward (`dxᵢⱼ = gᵢ (softmaxᵢⱼ − [j = targetᵢ])`), instead of a
    /// log-softmax, a pick and their two backward passes.
    public func crossEntropyRows(targets: Tensor) -> Tensor {
        require(
            rank == 2 && targets.count == shape[0],
            "crossEntropy: expects logits [batch, classes] and targets [batch], got "
                + "\(describe(shape)) and \(describe(targets.shape))")
        let (rows, classes) = (shape[0], shape[1])
        let labels = targets.storage.pointer
        for row in 0..<rows {
            let label = labels[row]
            require(
                label == label.rounded() && label >= 0 && label < Float(classes),
                "crossEntropy: target \(label) at position \(row) is not a class index in 0..<\(classes)")
        }
        let result = Tensor.uninitialized([rows])
        let logSumExps = Tensor.uninitialized([rows])
        let scratch = Tensor.uninitialized([classes])
        let x = storage.pointer
        let out = result.storage.pointer
        let lse = logSumExps.storage.pointer
        let e = scratch.storage.pointer
        for row in 0..<rows {
            let logits = x + row * classes
            lse[row] = VectorMath.logSumExp(logits, count: classes, scratch: e)
            out[row] = lse[row] - logits[Int(labels[row])]
        }
        withExtendedLifetime(scratch) {}
        let recorded = result.recorded(.crossEntropy, [self, targets])
        if recorded.requiresGrad { recorded.savedForBackward = logSumExps }
        return recorded
    }

    /// dxᵢⱼ = gᵢ · (e^(xᵢⱼ − lseᵢ) − [j = targetᵢ]).
    func crossEntropyBackward(_ gradient: Tensor) -> Tensor? {
        let logits = creators[0]
        guard logits.requiresGrad else { return nil }
        let (rows, classes) = (logits.shape[0], logits.shape[1])
        let result = Tensor.uninitialized(logits.shape)
        let x = logits.storage.pointer
        let out = result.storage.pointer
        let lse = savedForBackward!.storage.pointer
        let labels = creators[1].storage.pointer
        let g = gradient.storage.pointer
        for row in 0..<rows {
            let source = x + row * classes
            let target = out + row * classes
            let shift = lse[row]
            for k in 0..<classes { target[k] = source[k] - shift }
            VectorMath.map(target, target, count: classes, VectorExp.self)
            target[Int(labels[row])] -= 1
            let scale = g[row]
            for k in 0..<classes { target[k] *= scale }
        }
        return result
    }
}

// MARK: Export

extension Tensor {
    /// Labels cast to integers, then `SoftmaxCrossEntropyLoss` without reduction.
    static func exportCrossEntropy(_ site: ExportSite, _ context: inout ExportContext) -> [ExportNode] {
        let labels = context.freshName("labels")
        return [
            ExportNode("Cast", [site.inputs[1]], [labels], ["to": .int(7)]),
            ExportNode("SoftmaxCrossEntropyLoss", [site.inputs[0], labels], [site.output], ["reduction": .string("none")]),
        ]
    }
}

// MARK: Import

extension ImportNode {
    /// ONNX's NegativeLogLikelihoodLoss of `input` (log-probabilities `[N, C, d…]`) at the
    /// class indices of input `targetIndex` (`[N, d…]`), weighted by input `weightIndex`
    /// (`[C]`, optional): −input[n, t, d] · w[t], zero where t is `ignore_index`; reduced by
    /// `reduction` (mean: divided by the sum of the weights taken). Picks through
    /// `ElementMap`, so gradients reach the input and the weights.
    func negativeLogLikelihood(_ input: Tensor, targetIndex: Int, weightIndex: Int) throws -> Tensor {
        guard case .integers(let targets, let targetShape, _) = try value(targetIndex) else { throw fail("the targets must be integer class indices") }
        guard input.rank >= 2, targetShape == [input.shape[0]] + Array(input.shape[2...]) else {
            throw fail("needs input [N, C, d…] and targets [N, d…], got \(describe(input.shape)) and \(describe(targetShape))")
        }
        let classes = input.shape[1]
        let ignored: Int? = attributes["ignore_index"] != nil ? int("ignore_index", default: 0) : nil
        let inner = input.shape[2...].reduce(1, *)
        var (sources, classOf) = ([Int](), [Int]())
        for (position, target) in targets.enumerated() {
            if target == ignored { sources.append(-1); classOf.append(-1); continue }
            guard target >= 0 && target < classes else { throw fail("target \(target) is not a class index in 0..<\(classes)") }
            sources.append((position / inner * classes + target) * inner + position % inner)
            classOf.append(target)
        }
        let picked = Tensor.apply(ElementMap(shape: targetShape, taps: 1, sources: sources, weights: nil, fill: 0), [input])
        let weights = has(weightIndex)
            ? Tensor.apply(ElementMap(shape: targetShape, taps: 1, sources: classOf, weights: nil, fill: 0), [try tensor(weightIndex)])
            : Tensor(classOf.map { $0 < 0 ? 0 : 1 }, shape: targetShape)
        let losses = -(picked * weights)
        switch string("reduction", default: "mean") {
        case "none": return losses
        case "sum": return losses.sum()
        case "mean": return losses.sum() / weights.sum()
        case let other: throw fail("reduction \"\(other)\" (none, sum or mean)")
        }
    }
}

extension Tensor {
    /// `SoftmaxCrossEntropyLoss` (with its optional log-probabilities output) and
    /// `NegativeLogLikelihoodLoss`, over `[N, C, d…]` with class weights and `ignore_index`;
    /// the plain `[N, C]` case runs as one fused op.
    static let crossEntropyImporters: [ImporterDeclaration] = [
        ImporterDeclaration("SoftmaxCrossEntropyLoss", opsets: 12...Int.max, reads: ["ignore_index", "reduction"]) { node in
            let scores = try node.tensor(0)
            if scores.rank == 2, !node.has(2), node.attributes["ignore_index"] == nil, node.outputCount == 1,
               case .integers(let labels, let shape, _) = try node.value(1), shape == [scores.shape[0]],
               labels.allSatisfy({ $0 >= 0 && $0 < scores.shape[1] }) {
                let rows = scores.crossEntropyRows(targets: Tensor(labels.map(Float.init), shape: shape))
                switch node.string("reduction", default: "mean") {
                case "none": return [.tensor(rows)]
                case "sum": return [.tensor(rows.sum())]
                case "mean": return [.tensor(rows.mean())]
                case let other: throw node.fail("reduction \"\(other)\" (none, sum or mean)")
                }
            }
            guard scores.rank >= 2 else { throw node.fail("needs scores [N, C, d…], got \(describe(scores.shape))") }
            let logProbabilities = scores.logSoftmax(dim: 1)
            let loss = try node.negativeLogLikelihood(logProbabilities, targetIndex: 1, weightIndex: 2)
            return node.outputCount > 1 ? [.tensor(loss), .tensor(logProbabilities)] : [.tensor(loss)]
        },
        ImporterDeclaration("NegativeLogLikelihoodLoss", opsets: 12...Int.max, reads: ["ignore_index", "reduction"]) { node in
            [.tensor(try node.negativeLogLikelihood(try node.tensor(0), targetIndex: 1, weightIndex: 2))]
        },
    ]
}
