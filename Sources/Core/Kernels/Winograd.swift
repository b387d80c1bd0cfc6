import CBLAS

// Winograd's minimal filtering F(2×2, 3×3) (Lavin & Gray 2015, "Fast Algorithms for
// Convolutional Neural Networks"): a 3×3 stride-1 convolution computed 2×2 outputs at a time
// from 4×4 input tiles with 16 multiplications per tile and channel pair instead of 36.
//
//     Y = Aᵀ [ Σ_c (G g_oc Gᵀ) ⊙ (Bᵀ d_c B) ] A
//
// The sum over channels is 16 matrix products, one per tile position ξ:
// M_ξ [O × T] = U_ξ [O × C] · V_ξ [C × T]. Tiles are processed in blocks fixed by the sizes,
// one block per task of the pool, so the transformed tiles of a block stay in cache and the
// results do not depend on the thread count. The input transform writes V_ξ directly in the
// panel layout of Synapse's packed-operand kernel (Sources/CBLAS/packed_gemm.c: 32 tiles by
// channel), so the 16 products pack nothing: OpenBLAS packed both operands of every one,
// 19 % of a ResNet-18 inference at batch 1.

/// The sizes of one F(2×2, 3×3) convolution (stride 1, dilation 1, one group).
struct WinogradPlan {
    let batch, channels, height, width, outputs, outHeight, outWidth: Int
    let padTop, padLeft: Int

    var tilesDown: Int { (outHeight + 1) / 2 }
    var tilesAcross: Int { (outWidth + 1) / 2 }
    var tilesPerImage: Int { tilesDown * tilesAcross }
    var tiles: Int { batch * tilesPerImage }
    /// Tiles per block, a multiple of the packed kernel's 32-column panels: the block's
    /// transformed inputs and products (16 · (C + O) · block floats) stay within about
    /// 4 MiB, and each of the 16 products has at least 64 columns.
    ///
    /// Fewer tiles when that leaves a thread without a block: the bits do not depend on the
    /// blocks (each tile is transformed alone, and each output of the packed kernel is one
    /// chain over the channels whatever its column), so here alone the thread count may
    /// choose a size.
    var blockSize: Int {
        let byCache = Swift.max(64, Swift.min(256, (1 << 16) / Swift.max(channels + outputs, 1) / 32 * 32))
        let perThread = (tiles + Threads.count - 1) / Threads.count
        return Swift.min(byCache, Swift.max(32, (perThread + 31) / 32 * 32))
    }

    /// Whether F(2×2, 3×3) beats im2col + sgemm here: it saves 20 of every 36 multiply-adds
    /// per tile and channel pair, but transforms the weight (about 100 cycles per channel
    /// pair, twice in a training step) on every call; with 32 multiply-adds a cycle that pays
    /// from about 256 tiles (a batch of 32 at 8×8, one image at 32×32). Measured on
    /// ResNet-18: at batch 1 the transform alone took 3× the products' time. With the
    /// transformed weight kept (inference, `PreparedWeights`) it pays from 16 tiles.
    func pays(weightKept: Bool) -> Bool { tiles >= (weightKept ? 16 : 256) }

    /// Whether a convolution of these sizes may run as F(2×2, 3×3): a 3×3 kernel, stride and
    /// dilation 1, one group, pads of at most 2 (its input gradient is then the same algorithm
    /// with pads 2 − p) and enough channels that the transforms are cheap next to the products.
    static func applies(channels: Int, outputs: Int, window: SlidingWindow, groups: Int) -> Bool {
        window.size(0) == 3 && window.size(1) == 3 && window.stride(0) == 1 && window.stride(1) == 1
            && window.dilation(0) == 1 && window.dilation(1) == 1 && groups == 1
            && (0...2).contains(window.padBefore(0)) && (0...2).contains(window.padBefore(1))
            && (0...2).contains(window.padAfter(0)) && (0...2).contains(window.padAfter(1))
            && channels >= 16 && outputs >= 16
    }
}

extension Kernels {
    /// U_ξ[o, c] = (G g Gᵀ)_ξ for a weight `[O, C, 3, 3]` (`[16, O, C]` out), with
    /// G = [[1, 0, 0], [½, ½, ½], [½, −½, ½], [0, 0, 1]]. `flipped` transforms instead the
    /// weight of the input gradient, `g′[c, o, i, j] = g[o, c, 2 − i, 2 − j]` (`[16, C, O]` out).
    static func winogradWeights(_ weight: UnsafePointer<Float>, outputs: Int, channels: Int, flipped: Bool, into u: UnsafeMutablePointer<Float>) {
        let (rows, columns) = flipped ? (channels, outputs) : (outputs, channels)
        let planeSize = rows * columns
        // Rows of U (o, or c when flipped) per task, columns inner: the 16 stores run along
        // contiguous memory.
        parallelChunks(rows, grain: channelGrain(columns * 16)) { chosen in
            for row in chosen {
                for column in 0..<columns {
                    let (o, c) = flipped ? (column, row) : (row, column)
                    let g = weight + (o * channels + c) * 9
                    let (r0, r1, r2) = flipped
                        ? (SIMD4(g[8], g[7], g[6], 0), SIMD4(g[5], g[4], g[3], 0), SIMD4(g[2], g[1], g[0], 0))
                        : (SIMD4(g[0], g[1], g[2], 0), SIMD4(g[3], g[4], g[5], 0), SIMD4(g[6], g[7], g[8], 0))
                    let at = row * columns + column
                    // Each row (a, b, c) of G g becomes the row (a, (a + b + c)/2, (a − b + c)/2, c).
                    func store(_ w: SIMD4<Float>, row r: Int) {
                        let (a, b, c) = (w[0], w[1], w[2])
                        u[(r * 4) * planeSize + at] = a
                        u[(r * 4 + 1) * planeSize + at] = (a + b + c) * 0.5
                        u[(r * 4 + 2) * planeSize + at] = (a - b + c) * 0.5
                        u[(r * 4 + 3) * planeSize + at] = c
                    }
                    store(r0, row: 0)
                    store((r0 + r1 + r2) * 0.5, row: 1)
                    store((r0 - r1 + r2) * 0.5, row: 2)
                    store(r2, row: 3)
                }
            }
        }
    }

    /// `output[n, o] = bias[o] + Σ_c input[n, c] ⋆ g[o, c]` through F(2×2, 3×3), with the
    /// weight already transformed (`winogradWeights`, `[16, O, C]`), then `activation`
    /// (`relu` only; `nil` for none) in the same pass.
    static func winogradConvolution(
        _ input: UnsafePointer<Float>, transformedWeight u: UnsafePointer<Float>, bias: UnsafePointer<Float>?,
        into output: UnsafeMutablePointer<Float>, plan: WinogradPlan, rectifies: Bool = false
    ) {
        let (channels, outputs, block) = (plan.channels, plan.outputs, plan.blockSize)
        let blocks = (plan.tiles + block - 1) / block
        // One block (a small image, ResNet's 7×7 layers at batch 1): its 16 products on the pool.
        let productsInParallel = blocks == 1
        parallelFor(blocks) { index in
            let first = index * block
            let count = Swift.min(block, plan.tiles - first)
            // M's rows are read eight columns at a time from any segment's start: 8 floats spare.
            let (vCount, mCount) = (16 * channels * block, 16 * outputs * block + 8)
            let v = BufferPool.allocate(vCount)
            let m = BufferPool.allocate(mCount)
            defer {
                BufferPool.release(v, count: vCount)
                BufferPool.release(m, count: mCount)
            }
            let segments = plan.segments(first..<first + count)
            let segmentCount = Int32(segments.count / 5)
            synapse_winograd_input(input, Int32(channels), Int32(plan.height), Int32(plan.width), Int32(plan.padTop), Int32(plan.padLeft),
                                   segments, segmentCount, v, channels * block)
            let panels = Int32((count + 31) / 32)
            let product = { (xi: Int) in
                synapse_packed_gemm(Int32(outputs), Int32(count), Int32(channels), u + xi * outputs * channels, Int32(channels),
                                    v + xi * channels * block, 0, m + xi * outputs * block, Int32(block), 0, panels)
            }
            if productsInParallel { parallelFor(16, product) } else { for xi in 0..<16 { product(xi) } }
            synapse_winograd_output(m, outputs * block, block, bias, rectifies ? 1 : 0, Int32(outputs), Int32(plan.outHeight),
                                    Int32(plan.outWidth), segments, segmentCount, output)
        }
    }
}

extension WinogradPlan {
    /// The segments of `tiles` (synapse_winograd.h): runs of up to eight tiles side by side
    /// in one tile row, cut where the row ends and at every eighth tile of the block, as five
    /// ints each (block column, tile count, sample, tile row, tile column).
    func segments(_ tiles: Range<Int>) -> [Int32] {
        var segments: [Int32] = []
        var tile = tiles.lowerBound
        while tile < tiles.upperBound {
            let (n, inImage) = tile.quotientAndRemainder(dividingBy: tilesPerImage)
            let (ty, tx) = inImage.quotientAndRemainder(dividingBy: tilesAcross)
            let column = tile - tiles.lowerBound
            let lanes = Swift.min(tilesAcross - tx, 8 - column % 8, tiles.upperBound - tile)
            segments += [Int32(column), Int32(lanes), Int32(n), Int32(ty), Int32(tx)]
            tile += lanes
        }
        return segments
    }
}
