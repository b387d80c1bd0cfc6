import CBLAS

// Convolutions on small planes (ResNet's 3×3 layers at 7×7, the 1×1 layers of MobileNet and
// EfficientNet at 7×7 and 14×14): a product of few columns with a large weight. OpenBLAS packs
// both operands on every call, and there the weight is most of what it packs (9.4 MB for
// 512 → 512 3×3; a 4.3 ms convolution where onnxruntime takes 2.7). In inference the weight is
// packed once (`PreparedWeights`) and each call streams the patches against its panels:
// out[n]ᵀ [P, O] = patchesᵀ [P, K] · Wᵀ [K, O], the patches read transposed where im2col left
// them (1×1 convolutions: the sample's own [C, P] plane), then transposed into [O, P] with the
// bias and activation. Every output is one fused multiply-add chain over K in order, so the
// bits do not depend on the thread count.

extension ConvolutionPlan {
    /// Rows (output positions) one packed product takes at most: beyond, OpenBLAS's cache
    /// blocking wins and its packing is a small part of the work (`PackedOperand.pays`).
    static let packedRows = 256

    /// Rows (batch × plane) up to which a packed product beats Winograd's: batch 1 on a 7×7
    /// plane. Winograd's sixteen products each repack their slice of the transformed weight,
    /// a cost per call that larger batches share (512 → 512 on 7×7, one thread: batch 1 2.4 ms
    /// packed against 3.6 Winograd; batch 2 5.0 against 3.7).
    static let packedRowsOverWinograd = 64

    /// Whether this convolution runs with its weight packed once: one group, a plane of at most
    /// `packedRows` positions, weights kept (inference) and nothing recording the weight's
    /// gradient, on a CPU with the packed kernels; a convolution Winograd takes only up to
    /// `packedRowsOverWinograd` rows.
    func usesPackedWeight(keepsPatches: Bool) -> Bool {
        groups == 1 && plane <= Self.packedRows && PreparedWeights.keepsForms && !keepsPatches
            && Kernels.PackedOperand.pays(rows: plane) && (winograd == nil || batch * plane <= Self.packedRowsOverWinograd)
    }
}

extension Kernels {
    /// `result = activation(conv(input, weight) + bias)` for a plan that `usesPackedWeight`:
    /// samples a few at a time (as many as `packedRows` rows hold; 1×1 convolutions one at a
    /// time, on their own planes), each product into a [rows, O] block then transposed into
    /// the result.
    static func convolutionWithPackedWeight(
        _ input: UnsafePointer<Float>, weight: Tensor, bias: UnsafePointer<Float>?, into result: UnsafeMutablePointer<Float>,
        plan: ConvolutionPlan, activation: FusedActivation?
    ) {
        let (outputs, depth, plane) = (plan.outputs, plan.rows, plan.plane)
        let packed = PreparedWeights.form(of: weight, .packedTransposed(outputs: outputs, depth: depth)) {
            let form = Tensor.uninitialized([synapse_packed_floats(Int32(outputs), Int32(depth))])
            synapse_pack_b(Int32(outputs), Int32(depth), weight.storage.pointer, depth, 1, form.storage.pointer)
            return form
        }
        let perProduct = plan.isPointwise ? 1 : Swift.max(1, ConvolutionPlan.packedRows / plane)
        let image = plan.channels * plan.height * plan.width
        let most = Swift.min(perProduct, plan.batch)
        let block = BufferPool.allocate(most * plane * outputs)
        let cols = plan.isPointwise ? nil : BufferPool.allocate(depth * most * plane)
        defer {
            BufferPool.release(block, count: most * plane * outputs)
            if let cols { BufferPool.release(cols, count: depth * most * plane) }
        }
        let (kind, low, high, after) = FusedActivation.inKernel(activation)
        withExtendedLifetime(packed) {
            for first in stride(from: 0, to: plan.batch, by: perProduct) {
                let samples = first..<Swift.min(first + perProduct, plan.batch)
                let rows = samples.count * plane
                if let cols { plan.im2col(input, samples: samples, into: cols) }
                packedProduct(panels: packed.storage.pointer, columns: outputs, depth: depth, rows: rows,
                              a: cols.map { UnsafePointer($0) } ?? input + first * image, lda: rows, transposedA: true, beta: 0, c: block, ldc: outputs)
                // [s·P + p, o] → result[s, o, p], plus the bias and the activation, sixteen
                // channels of a sample a task (the last one takes the rest: 16 to 31).
                let tiles = Swift.max(1, outputs / 16)
                parallelChunks(samples.count * tiles, grain: Swift.max(1, channelGrain(plane) / 16)) { pieces in
                    for index in pieces {
                        let (offset, tile) = index.quotientAndRemainder(dividingBy: tiles)
                        let channels = tile * 16..<(tile == tiles - 1 ? outputs : tile * 16 + 16)
                        let target = result + ((first + offset) * outputs + channels.lowerBound) * plane
                        synapse_store_planes(block + offset * plane * outputs + channels.lowerBound, Int32(plane), Int32(channels.count),
                                             outputs, bias.map { $0 + channels.lowerBound }, target, plane, kind, low, high)
                        if let after { after.apply(target, count: channels.count * plane) }
                    }
                }
            }
        }
    }
}
