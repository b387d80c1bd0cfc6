// Batch normalisation as one fused op: statistics, normalisation and the affine map in two
// passes over the input, and a backward in two more, instead of a chain of ten small ops.

extension Tensor {
    /// Batch normalisation (PyTorch's `batch_norm`) over channel dimension 1 of `[N, C, …]`:
    ///
    ///     y = (x − mean[c]) / √(var[c] + ε) · weight[c] + bias[c]
    ///
    /// With `training` (or without running statistics) `mean` and `var` are the batch's, over
    /// every dimension but 1 (biased variance), and the running statistics, when given, are
    /// updated in place: `running = (1 − momentum) · running + momentum · batch`, with the
    /// unbiased variance, as PyTorch does. Otherwise `runningMean`/`runningVar` are used.
    /// A missing `weight` is 1, a missing `bias` 0.
    public func batchNorm(
        weight: Tensor? = nil, bias: Tensor? = nil, runningMean: Tensor? = nil, runningVar: Tensor? = nil,
        training: Bool, momentum: Float = 0.1, epsilon: Float = 1e-5
    ) -> Tensor {
        require(rank >= 2, "batchNorm: input must be [N, C, …], got \(describe(shape))")
        let channels = shape[1]
        for (name, tensor) in [("weight", weight), ("bias", bias), ("runningMean", runningMean), ("runningVar", runningVar)] {
            if let tensor { require(tensor.shape == [channels], "batchNorm: \(name) must be [\(channels)], got \(describe(tensor.shape))") }
        }
        require((runningMean == nil) == (runningVar == nil), "batchNorm: give both running statistics or neither")
        let weight = weight ?? Tensor(shape: [channels], repeating: 1)
        let bias = bias ?? Tensor.zeros([channels])
        let useBatch = training || runningMean == nil
        let (outer, _, inner) = Kernels.split(shape, around: 1)
        let perChannel = outer * inner
        if useBatch {
            require(perChannel > 1, "batchNorm: expected more than 1 value per channel when using batch statistics, got input \(describe(shape))")
        }
        let x = storage.pointer
        // Row 0: the mean used; row 1: 1/√(var + ε).
        let saved = Tensor.uninitialized([2, channels])
        let mean = saved.storage.pointer
        let inverse = mean + channels
        if useBatch {
            var variances = [Float](repeating: 0, count: channels)
            variances.withUnsafeMutableBufferPointer { variances in
                // One channel's statistics per task: the same sums in the same order at any thread count.
                Kernels.parallelChunks(channels, grain: Kernels.channelGrain(perChannel)) { piece in
                    for c in piece {
                        var total: Double = 0
                        for o in 0..<outer {
                            let run = x + (o * channels + c) * inner
                            var part: Float = 0
                            for i in 0..<inner { part += run[i] }
                            total += Double(part)
                        }
                        let m = Float(total / Double(perChannel))
                        var squares: Double = 0
                        for o in 0..<outer {
                            let run = x + (o * channels + c) * inner
                            var part: Float = 0
                            for i in 0..<inner { let d = run[i] - m; part += d * d }
                            squares += Double(part)
                        }
                        variances[c] = Float(squares / Double(perChannel))
                        mean[c] = m
                        inverse[c] = 1 / (variances[c] + epsilon).squareRoot()
                    }
                }
            }
            if training, let runningMean, let runningVar {
                let correction = Float(perChannel) / Float(perChannel - 1)
                runningMean.withUnsafeMutableBufferPointer { rm in
                    for c in 0..<channels { rm[c] = (1 - momentum) * rm[c] + momentum * mean[c] }
                }
                runningVar.withUnsafeMutableBufferPointer { rv in
                    for c in 0..<channels { rv[c] = (1 - momentum) * rv[c] + momentum * variances[c] * correction }
                }
            }
        } else {
            let rm = runningMean!.storage.pointer
            let rv = runningVar!.storage.pointer
            for c in 0..<channels {
                mean[c] = rm[c]
                inverse[c] = 1 / (rv[c] + epsilon).squareRoot()
            }
        }
        let result = Tensor.uninitialized(shape)
        let y = result.storage.pointer
        let w = weight.storage.pointer
        let b = bias.storage.pointer
        Kernels.parallelChunks(outer * channels, grain: Kernels.channelGrain(inner)) { runs in
            for run in runs {
                let c = run % channels
                let scale = inverse[c] * w[c]
                let shift = b[c] - mean[c] * scale
                let (from, to) = (x + run * inner, y + run * inner)
                for i in 0..<inner { to[i] = from[i] * scale + shift }
            }
        }
        let creators = useBatch ? [self, weight, bias] : [self, weight, bias, runningMean!, runningVar!]
        let recorded = result.recorded(.batchNorm(epsilon: epsilon, batchStatistics: useBatch), creators)
        if recorded.requiresGrad { recorded.savedForBackward = saved }
        return recorded
    }

    /// With x̂ = (x − mean)·s, s = 1/√(var + ε), Σg and Σg·x̂ per channel:
    /// d weight = Σg·x̂, d bias = Σg; with batch statistics
    /// dx = weight·s·(g − Σg/M − x̂·Σg·x̂/M) (M values per channel), with running statistics
    /// dx = weight·s·g, d mean = −weight·s·Σg, d var = −½·weight·s²·Σg·x̂.
    func batchNormBackward(_ gradient: Tensor, batchStatistics: Bool) -> [Tensor?] {
        let input = creators[0]
        let channels = input.shape[1]
        let (outer, _, inner) = Kernels.split(input.shape, around: 1)
        let count = Float(outer * inner)
        let saved = savedForBackward!.storage.pointer
        let (mean, inverse) = (saved, saved + channels)
        let x = input.storage.pointer
        let g = gradient.storage.pointer
        let w = creators[1].storage.pointer
        var sumG = [Float](repeating: 0, count: channels)
        var sumGX = [Float](repeating: 0, count: channels)
        sumG.withUnsafeMutableBufferPointer { sumG in
            sumGX.withUnsafeMutableBufferPointer { sumGX in
                Kernels.parallelChunks(channels, grain: Kernels.channelGrain(outer * inner)) { piece in
                    for c in piece {
                        let (m, s) = (mean[c], inverse[c])
                        for o in 0..<outer {
                            let base = (o * channels + c) * inner
                            var a: Float = 0, b: Float = 0
                            for i in 0..<inner {
                                a += g[base + i]
                                b += g[base + i] * (x[base + i] - m) * s
                            }
                            sumG[c] += a
                            sumGX[c] += b
                        }
                    }
                }
            }
        }
        var inputGradient: Tensor?
        if input.requiresGrad {
            let dx = Tensor.uninitialized(input.shape)
            let out = dx.storage.pointer
            sumG.withUnsafeBufferPointer { sumG in
                sumGX.withUnsafeBufferPointer { sumGX in
                    Kernels.parallelChunks(outer * channels, grain: Kernels.channelGrain(inner)) { runs in
                        for run in runs {
                            let (c, base) = (run % channels, run * inner)
                            let (m, s) = (mean[c], inverse[c])
                            let k = w[c] * s
                            if batchStatistics {
                                let (meanG, meanGX) = (sumG[c] / count, sumGX[c] / count)
                                for i in 0..<inner { out[base + i] = k * (g[base + i] - meanG - (x[base + i] - m) * s * meanGX) }
                            } else {
                                for i in 0..<inner { out[base + i] = k * g[base + i] }
                            }
                        }
                    }
                }
            }
            inputGradient = dx
        }
        var result: [Tensor?] = [inputGradient, Tensor(sumGX, shape: [channels]), Tensor(sumG, shape: [channels])]
        if !batchStatistics {
            let dMean = (0..<channels).map { -w[$0] * inverse[$0] * sumG[$0] }
            let dVar = (0..<channels).map { -0.5 * w[$0] * inverse[$0] * inverse[$0] * sumGX[$0] }
            result += [Tensor(dMean, shape: [channels]), Tensor(dVar, shape: [channels])]
        }
        return result
    }
}

// MARK: Export and import

extension Tensor {
    /// With running statistics: one `BatchNormalization`. With batch statistics (a model
    /// exported in training mode, or without running statistics): the formula in
    /// `ReduceMean`, `Sub`, `Mul`, `Add`, `Sqrt` and `Div` nodes.
    static func exportBatchNorm(epsilon: Float, batchStatistics: Bool, _ site: ExportSite, _ context: inout ExportContext) -> [ExportNode] {
        guard batchStatistics else {
            return [ExportNode("BatchNormalization", site.inputs, [site.output], ["epsilon": .float(epsilon)])]
        }
        let rank = site.shapes[0].count
        let axes = context.int64s([0] + Array(2..<rank), hint: "axes")
        let perChannel = context.int64s([1, -1] + Array(repeating: 1, count: rank - 2), hint: "shape")
        let (x, weight, bias) = (site.inputs[0], site.inputs[1], site.inputs[2])
        let names = (0..<10).map { _ in context.freshName("bn") }
        return [
            ExportNode("ReduceMean", [x, axes], [names[0]], ["keepdims": .int(1)]),
            ExportNode("Sub", [x, names[0]], [names[1]]),
            ExportNode("Mul", [names[1], names[1]], [names[2]]),
            ExportNode("ReduceMean", [names[2], axes], [names[3]], ["keepdims": .int(1)]),
            ExportNode("Add", [names[3], context.scalar(epsilon, hint: "epsilon")], [names[4]]),
            ExportNode("Sqrt", [names[4]], [names[5]]),
            ExportNode("Div", [names[1], names[5]], [names[6]]),
            ExportNode("Reshape", [weight, perChannel], [names[7]]),
            ExportNode("Mul", [names[6], names[7]], [names[8]]),
            ExportNode("Reshape", [bias, perChannel], [names[9]]),
            ExportNode("Add", [names[8], names[9]], [site.output]),
        ]
    }

    /// `BatchNormalization` (inference form: scale, bias, mean, variance). When the graph runs
    /// in training mode (`ImportNode.isTraining`) it uses the batch's statistics and updates
    /// the mean and variance in place with the node's `momentum`, as PyTorch's layer would —
    /// but only when they are state of their own (untrained leaves): PyTorch's TorchScript
    /// exporter merges equal initializers, so a fresh layer's running variance may be its
    /// weight (`Identity`), which must not be overwritten. A node with `training_mode` 1 (a
    /// model exported in training mode) normalizes with the batch's statistics and gives the
    /// updated running mean and variance as its second and third outputs.
    static let batchNormImporters: [ImporterDeclaration] = {
        // training_mode 1 (a model exported in training mode): the batch's statistics normalize,
        // and the running ones come out updated, as ONNX defines them (the biased variance).
        @Sendable func trainingModeBatchNorm(_ node: ImportNode, _ x: Tensor, _ parts: [Tensor]) -> [GraphValue] {
            let channels = x.shape[1]
            let count = Float(x.count / Swift.max(channels, 1))
            let byChannel = x.permuted([1, 0] + Array(2..<x.rank)).reshaped([channels, -1])
            let mean = byChannel.sum(dim: 1, keepDim: true) / count
            let variance = ((byChannel - mean) * (byChannel - mean)).sum(dim: 1, keepDim: true) / count
            let broadcast = [1, channels] + [Int](repeating: 1, count: x.rank - 2)
            let epsilon = node.float("epsilon", default: 1e-5)
            let y = (x - mean.reshaped(broadcast)) / (variance.reshaped(broadcast) + epsilon).sqrt() * parts[0].reshaped(broadcast) + parts[1].reshaped(broadcast)
            let momentum = node.float("momentum", default: 0.9)
            let runningMean = parts[2] * momentum + mean.reshaped([channels]) * (1 - momentum)
            let runningVariance = parts[3] * momentum + variance.reshaped([channels]) * (1 - momentum)
            return Array([GraphValue.tensor(y), .tensor(runningMean), .tensor(runningVariance)].prefix(node.outputCount))
        }
        return [
            ImporterDeclaration("BatchNormalization", reads: ["training_mode", "momentum", "epsilon"], stateInputs: [3, 4]) { node in
                let x = try node.tensor(0)
                guard x.rank >= 2 else { throw node.fail("input must be [N, C, …], got \(describe(x.shape))") }
                let parts = try (1...4).map { try node.tensor($0) }
                for (name, part) in zip(["scale", "B", "input_mean", "input_var"], parts) where part.shape != [x.shape[1]] {
                    throw node.fail("\(name) must be [\(x.shape[1])], got \(describe(part.shape))")
                }
                if node.int("training_mode", default: 0) != 0 { return trainingModeBatchNorm(node, x, parts) }
                let batch = node.isTraining && x.shape.enumerated().reduce(1) { $1.offset == 1 ? $0 : $0 * $1.element } > 1
                let ownState = parts[2...].allSatisfy { !$0.requiresGrad && $0.creationOp == nil } && parts[2] !== parts[3]
                let keepRunning = !batch || ownState
                return [.tensor(x.batchNorm(
                    weight: parts[0], bias: parts[1], runningMean: keepRunning ? parts[2] : nil, runningVar: keepRunning ? parts[3] : nil,
                    training: batch, momentum: 1 - node.float("momentum", default: 0.9), epsilon: node.float("epsilon", default: 1e-5)))]
            },
        ]
    }()
}
