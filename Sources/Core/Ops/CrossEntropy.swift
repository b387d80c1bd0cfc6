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

extension Tensor {
    /// `SoftmaxCrossEntropyLoss` on `[N, C]` logits and `[N]` labels, without class weights
    /// or `ignore_index`; reduction none, mean or sum.
    static let crossEntropyImporters: [ImporterDeclaration] = [
        ImporterDeclaration("SoftmaxCrossEntropyLoss", reads: ["ignore_index", "reduction"]) { node in
            let (logits, labels) = (try node.tensor(0), try node.tensor(1))
            guard !node.has(2), node.attributes["ignore_index"] == nil else { throw node.fail("class weights and ignore_index are not supported") }
            guard logits.rank == 2, labels.rank == 1, labels.shape[0] == logits.shape[0] else {
                throw node.fail("needs logits [N, C] and labels [N], got \(describe(logits.shape)) and \(describe(labels.shape))")
            }
            let classes = Float(logits.shape[1])
            guard labels.scalars.allSatisfy({ $0 == $0.rounded() && $0 >= 0 && $0 < classes }) else {
                throw node.fail("a label is not a class index in 0..<\(logits.shape[1])")
            }
            let rows = logits.crossEntropyRows(targets: labels)
            switch node.string("reduction", default: "mean") {
            case "none": return [.tensor(rows)]
            case "sum": return [.tensor(rows.sum())]
            case "mean": return [.tensor(rows.mean())]
            case let other: throw node.fail("reduction \"\(other)\"")
            }
        },
    ]
}
