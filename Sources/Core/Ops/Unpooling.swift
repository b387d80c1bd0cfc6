// The inverses of pooling and of im2col: MaxUnpool (each pooled value put back where MaxPool's
// indices say it came from, zeros elsewhere) and Col2Im (PyTorch's fold: column blocks summed
// back into an image). Both are index maps (`ElementMap` picks, `ElementScatterAdd` sums), so
// gradients flow back to the values unpooled or folded.

extension Tensor {
    static let unpoolingImporters = [
        ImporterDeclaration("MaxUnpool", opsets: 11...Int.max, reads: ["kernel_shape", "pads", "strides"]) { node in
            let x = try node.value(0)
            let spatial = x.shape.count - 2
            guard spatial >= 1, let kernel = node.ints("kernel_shape"), kernel.count == spatial, kernel.allSatisfy({ $0 >= 1 }) else {
                throw node.fail("kernel_shape must give one positive size per spatial axis of input \(describe(x.shape))")
            }
            let strides = node.ints("strides") ?? [Int](repeating: 1, count: spatial)
            let pads = node.ints("pads") ?? [Int](repeating: 0, count: 2 * spatial)
            let limit = 1 << 20
            guard strides.count == spatial, strides.allSatisfy({ $0 >= 1 && $0 <= limit }), pads.count == 2 * spatial, pads.allSatisfy({ $0 >= 0 && $0 <= limit }),
                  kernel.allSatisfy({ $0 <= limit }) else {
                throw node.fail("strides and pads must give one stride in 1...\(limit) and two pads in 0...\(limit) per spatial axis (kernel sizes at most \(limit))")
            }
            // The size MaxPool's input had (the one the indices count in).
            var inferred = Array(x.shape.prefix(2))
            for axis in 0..<spatial { inferred.append((x.shape[axis + 2] - 1) * strides[axis] - pads[axis] - pads[spatial + axis] + kernel[axis]) }
            var shape = inferred
            if node.has(2) {
                guard let given = try node.integers(2), given.count == inferred.count, zip(given, inferred).allSatisfy({ $0 >= $1 }) else {
                    throw node.fail("output_shape must hold \(inferred.count) sizes, each at least \(describe(inferred))")
                }
                shape = given
            }
            guard inferred.allSatisfy({ $0 >= 0 }) else { throw node.fail("unpooled shape \(describe(inferred)) is negative") }
            try node.checkMadeSize(inferred, "unpooled output")
            try node.checkMadeSize(shape, "unpooled output")
            let total = inferred.reduce(1, *)
            guard try node.value(1).shape == x.shape else { throw node.fail("indices \(describe(try node.value(1).shape)) must have the input's shape \(describe(x.shape))") }
            let indices = try node.indices(1) { _ in total }
            // Where MaxPool's input position sits in the (possibly larger) output.
            let (inferredStrides, outputStrides) = (rowMajorStrides(inferred), rowMajorStrides(shape))
            var sources = [Int](repeating: -1, count: shape.reduce(1, *))
            for (j, p) in indices.enumerated() {
                var rest = p
                var target = 0
                for axis in 0..<inferred.count {
                    target += (rest / inferredStrides[axis]) * outputStrides[axis]
                    rest %= inferredStrides[axis]
                }
                sources[target] = j
            }
            return [node.picked(from: [x], sources: sources, shape: shape)]
        },
        ImporterDeclaration("Col2Im", opsets: 18...Int.max, reads: ["dilations", "pads", "strides"]) { node in
            let columns = try node.value(0)
            let limit = 1 << 20
            guard let image = try node.integers(1), let block = try node.integers(2), !image.isEmpty, block.count == image.count,
                  image.count <= 8, (block + image).allSatisfy({ $0 >= 1 && $0 <= limit }) else {
                throw node.fail("image_shape and block_shape must give one size in 1...\(limit) each per spatial axis (at most 8 axes)")
            }
            try node.checkMadeSize(block, "block")
            let spatial = image.count
            let dilations = node.ints("dilations") ?? [Int](repeating: 1, count: spatial)
            let strides = node.ints("strides") ?? [Int](repeating: 1, count: spatial)
            let pads = node.ints("pads") ?? [Int](repeating: 0, count: 2 * spatial)
            guard dilations.count == spatial, strides.count == spatial, pads.count == 2 * spatial,
                  (dilations + strides).allSatisfy({ $0 >= 1 && $0 <= limit }), pads.allSatisfy({ $0 >= 0 && $0 <= limit }) else {
                throw node.fail("dilations, strides and pads must give one positive dilation and stride and two pads per spatial axis")
            }
            let blocks = (0..<spatial).map { (axis: Int) -> Int in
                let reach = dilations[axis] * (block[axis] - 1) + 1
                return (image[axis] + pads[axis] + pads[spatial + axis] - reach) / strides[axis] + 1
            }
            let blockSize = block.reduce(1, *)
            guard blocks.allSatisfy({ $0 >= 1 }) else { throw node.fail("the blocks \(describe(blocks)) do not fit in the padded image") }
            try node.checkMadeSize(blocks, "blocks")
            guard columns.shape.count == 3, columns.shape[1] % blockSize == 0, columns.shape[2] == blocks.reduce(1, *) else {
                throw node.fail("input \(describe(columns.shape)) must be [N, C·\(blockSize), \(blocks.reduce(1, *))] for blocks \(describe(blocks))")
            }
            let (batch, channels) = (columns.shape[0], columns.shape[1] / blockSize)
            let shape = [batch, channels] + image
            try node.checkMadeSize(shape, "image")
            let imageStrides = rowMajorStrides(image)
            var targets: [Int] = []
            targets.reserveCapacity(columns.shape.reduce(1, *))
            let imageSize = image.reduce(1, *)
            for plane in 0..<(batch * channels) {
                forEachIndex(block) { offset in
                    forEachIndex(blocks) { place in
                        var target = plane * imageSize
                        for axis in 0..<spatial {
                            let position = place[axis] * strides[axis] - pads[axis] + offset[axis] * dilations[axis]
                            guard position >= 0 && position < image[axis] else { target = -1; break }
                            target += position * imageStrides[axis]
                        }
                        targets.append(target)
                    }
                }
            }
            if case .integers(let values, _, let type) = columns {
                var out = [Int](repeating: 0, count: shape.reduce(1, *))
                for (j, target) in targets.enumerated() where target >= 0 { out[target] = type.wrap(out[target] &+ values[j]) }
                return [.integers(out, shape: shape, type: type)]
            }
            return [.tensor(Tensor.apply(ElementScatterAdd(shape: shape, targets: targets), [columns.asTensor]))]
        },
    ]
}
