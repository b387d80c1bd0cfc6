extension Tensor {
    /// Backpropagates from this single-element tensor (a loss): afterwards every leaf that
    /// requires gradients holds d(self)/d(leaf) in `grad`, added to what it held before.
    ///
    /// - Parameter retainGraph: keep the graph for another `backward()`; by default it is
    ///   freed, and walking it again stops the program.
    public func backward(retainGraph: Bool = false) {
        require(
            count == 1,
            "backward: a tensor of shape \(describe(shape)) needs an explicit gradient; "
                + "call backward(gradient:) or reduce it to one scalar first")
        backward(gradient: Tensor(shape: shape, repeating: 1), retainGraph: retainGraph)
    }

    /// Backpropagates `gradient` (d(output)/d(self), of this tensor's shape) through the
    /// graph that made this tensor, visiting each node once in reverse topological order.
    ///
    /// Gradients from every use of a tensor are summed; leaves keep theirs across calls
    /// until an optimizer zeroes them. Intermediate results keep none.
    public func backward(gradient: Tensor, retainGraph: Bool = false) {
        require(
            requiresGrad,
            "backward: this tensor does not require gradients (no input requires them, "
                + "or it was computed inside withoutGradients)")
        require(
            gradient.shape == shape,
            "backward: gradient of shape \(describe(gradient.shape)) for a tensor of shape \(describe(shape))")
        let order = reverseTopologicalOrder()
        var pending: [ObjectIdentifier: Tensor] = [ObjectIdentifier(self): gradient]
        Tensor.withoutGradients {
            for node in order {
                guard var incoming = pending.removeValue(forKey: ObjectIdentifier(node)) else { continue }
                guard let op = node.creationOp else {
                    node.accumulateLeafGradient(&incoming)
                    continue
                }
                // Lets an op add its gradient for a creator straight into the one already
                // pending for it, when nothing else refers to that buffer.
                let takePending: (Tensor) -> Tensor? = { creator in
                    let key = ObjectIdentifier(creator)
                    guard var existing = pending.removeValue(forKey: key) else { return nil }
                    if isKnownUniquelyReferenced(&existing), isKnownUniquelyReferenced(&existing.storage) { return existing }
                    pending[key] = existing
                    return nil
                }
                let creatorGradients = node.creatorGradients(op, incoming, takePending: takePending)
                for (creator, creatorGradient) in zip(node.creators, creatorGradients) {
                    guard creator.requiresGrad, let creatorGradient else { continue }
                    let key = ObjectIdentifier(creator)
                    if var existing = pending.removeValue(forKey: key) {
                        Tensor.accumulate(&existing, creatorGradient)
                        pending[key] = existing
                    } else {
                        pending[key] = creatorGradient
                    }
                }
                if !retainGraph {
                    node.creators = []
                    node.savedForBackward = nil
                    node.customFunction = nil
                    node.isGraphFreed = true
                }
            }
        }
    }

    /// The graph's nodes that require gradients, each after every node that uses it,
    /// found iteratively so that a long chain cannot overflow the stack.
    private func reverseTopologicalOrder() -> [Tensor] {
        var postOrder: [Tensor] = []
        var visited: Set<ObjectIdentifier> = [ObjectIdentifier(self)]
        var stack: [(node: Tensor, nextCreator: Int)] = [(self, 0)]
        while let (node, next) = stack.last {
            if next == 0 {
                require(
                    !node.isGraphFreed,
                    "backward: cannot backprop more than once through the same graph; the first "
                        + "backward() freed it (pass retainGraph: true to keep it)")
            }
            if next < node.creators.count {
                stack[stack.count - 1].nextCreator += 1
                let creator = node.creators[next]
                if creator.requiresGrad, visited.insert(ObjectIdentifier(creator)).inserted {
                    stack.append((creator, 0))
                }
            } else {
                postOrder.append(node)
                stack.removeLast()
            }
        }
        return postOrder.reversed()
    }

    /// Adds a leaf's total gradient from this pass to `grad`, taking ownership of the
    /// incoming buffer only when nothing else refers to it (so in-place updates of `grad`,
    /// such as gradient clipping, never reach another tensor).
    private func accumulateLeafGradient(_ incoming: inout Tensor) {
        if var existing = grad {
            grad = nil
            Tensor.accumulate(&existing, incoming)
            grad = existing
        } else if isKnownUniquelyReferenced(&incoming), isKnownUniquelyReferenced(&incoming.storage) {
            grad = incoming
        } else {
            grad = incoming.copy()
        }
    }

    /// `self += other`, in place when this tensor and its storage are referenced only by
    /// the caller's variable, otherwise into a new tensor.
    private static func accumulate(_ target: inout Tensor, _ other: Tensor) {
        if isKnownUniquelyReferenced(&target), isKnownUniquelyReferenced(&target.storage) {
            Kernels.addInPlace(target.storage.pointer, other.storage.pointer, count: target.count)
        } else {
            target = Tensor.rawBinary(Add.self, target, other, op: "backward")
        }
    }

    /// d(output)/d(creator) for each creator, given d(output)/d(self); `nil` where the
    /// creator needs none.
    private func creatorGradients(_ op: Op, _ gradient: Tensor, takePending: (Tensor) -> Tensor?) -> [Tensor?] {
        switch op {
        case .add: return addBackward(gradient)
        case .sub: return subBackward(gradient)
        case .mul: return mulBackward(gradient)
        case .div: return divBackward(gradient)
        case .neg: return [negBackward(gradient)]
        case .affine(let scale, _): return [affineBackward(gradient, scale: scale)]
        case .matmul(let transposeA, let transposeB):
            return matmulBackward(gradient, transposeA: transposeA, transposeB: transposeB)
        case .permute(let permutation): return [permuteBackward(gradient, permutation: permutation.axes)]
        case .reshape: return [Tensor(storage: gradient.storage, shape: creators[0].shape)]
        case .sum(let dim, _): return [sumBackward(gradient, dim: dim, scale: 1)]
        case .mean(let dim, _): return [meanBackward(gradient, dim: dim)]
        case .max(let dim, _), .min(let dim, _): return [extremumBackward(gradient, dim: dim)]
        case .expand(let dim, _): return [expandBackward(gradient, dim: dim)]
        case .sigmoid: return [sigmoidBackward(gradient)]
        case .tanh: return [tanhBackward(gradient)]
        case .relu: return [reluBackward(gradient)]
        case .exp: return [expBackward(gradient)]
        case .log: return [logBackward(gradient)]
        case .sqrt: return [sqrtBackward(gradient)]
        case .erf: return [erfBackward(gradient)]
        case .gelu(let approximate): return [geluBackward(gradient, approximate: approximate)]
        case .pow(let exponent): return [powBackward(gradient, exponent: exponent)]
        case .clamp(let low, let high): return [clampBackward(gradient, min: low, max: high)]
        case .compare: return [nil, nil]
        case .select: return selectBackward(gradient)
        case .gatherRows: return [gatherRowsBackward(gradient), nil]
        case .concat(let dim): return concatBackward(gradient, dim: dim)
        case .slice(let dim, let range): return [sliceBackward(gradient, dim: dim, range: range)]
        case .softmax(let dim): return [softmaxBackward(gradient, dim: dim)]
        case .logSoftmax(let dim): return [logSoftmaxBackward(gradient, dim: dim)]
        case .lstmGates: return lstmGatesBackward(gradient, takePending: takePending)
        case .crossEntropy: return [crossEntropyBackward(gradient), nil]
        case .convolution(let window, let groups): return convolutionBackward(gradient, window: window, groups: groups)
        case .maxPool: return [maxPoolBackward(gradient)]
        case .averagePool(let window, let countIncludePad):
            return [averagePoolBackward(gradient, window: window, countIncludePad: countIncludePad)]
        case .batchNorm(_, let batchStatistics): return batchNormBackward(gradient, batchStatistics: batchStatistics)
        case .layerNorm: return layerNormBackward(gradient)
        case .recurrence(let kind, let reverse): return recurrenceBackward(gradient, kind: kind, reverse: reverse)
        case .custom: return customBackward(gradient)
        }
    }
}
