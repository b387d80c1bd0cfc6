// Winograd's minimal filtering F(2×2, 3×3) (Lavin & Gray 2015, "Fast Algorithms for
// Convolutional Neural Networks"): a 3×3 stride-1 convolution computed 2×2 outputs at a time
// from 4×4 input tiles with 16 multiplications per tile and channel pair instead of 36.
//
//     Y = Aᵀ [ Σ_c (G g_oc Gᵀ) ⊙ (Bᵀ d_c B) ] A
//
// The sum over channels is 16 matrix products, one per tile position ξ:
// M_ξ [O × T] = U_ξ [O × C] · V_ξ [C × T]. Tiles are processed in blocks fixed by the sizes,
// one block per task of the pool, so the transformed tiles of a block stay in cache and the
// results do not depend on the thread count.

/// The sizes of one F(2×2, 3×3) convolution (stride 1, dilation 1, one group).
struct WinogradPlan {
    let batch, channels, height, width, outputs, outHeight, outWidth: Int
    let padTop, padLeft: Int

    var tilesDown: Int { (outHeight + 1) / 2 }
    var tilesAcross: Int { (outWidth + 1) / 2 }
    var tilesPerImage: Int { tilesDown * tilesAcross }
    var tiles: Int { batch * tilesPerImage }
    /// Tiles per block: the block's transformed inputs and products (16 · (C + O) · block
    /// floats) stay within about 2 MiB.
    var blockSize: Int { Swift.max(16, Swift.min(256, (1 << 15) / Swift.max(channels + outputs, 1) / 16 * 16)) }
    var blocks: Int { (tiles + blockSize - 1) / blockSize }

    /// Whether a convolution of these sizes runs as F(2×2, 3×3): a 3×3 kernel, stride and
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
        parallelChunks(outputs, grain: channelGrain(channels * 16)) { chosen in
            for o in chosen {
                for c in 0..<channels {
                    let g = weight + (o * channels + c) * 9
                    let (r0, r1, r2) = flipped
                        ? (SIMD4(g[8], g[7], g[6], 0), SIMD4(g[5], g[4], g[3], 0), SIMD4(g[2], g[1], g[0], 0))
                        : (SIMD4(g[0], g[1], g[2], 0), SIMD4(g[3], g[4], g[5], 0), SIMD4(g[6], g[7], g[8], 0))
                    let at = flipped ? c * columns + o : o * columns + c
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
    /// weight already transformed (`winogradWeights`, `[16, O, C]`).
    static func winogradConvolution(
        _ input: UnsafePointer<Float>, transformedWeight u: UnsafePointer<Float>, bias: UnsafePointer<Float>?,
        into output: UnsafeMutablePointer<Float>, plan: WinogradPlan
    ) {
        let (channels, outputs, block) = (plan.channels, plan.outputs, plan.blockSize)
        parallelFor(plan.blocks) { index in
            let first = index * block
            let count = Swift.min(block, plan.tiles - first)
            let v = BufferPool.allocate(16 * channels * block)
            let m = BufferPool.allocate(16 * outputs * block)
            defer {
                BufferPool.release(v, count: 16 * channels * block)
                BufferPool.release(m, count: 16 * outputs * block)
            }
            transformInputs(input, plan: plan, tiles: first..<first + count, into: v)
            for xi in 0..<16 {
                gemm(transposeA: false, transposeB: false, m: outputs, n: count, k: channels, alpha: 1,
                     a: u + xi * outputs * channels, lda: channels, b: v + xi * channels * block, ldb: block,
                     beta: 0, c: m + xi * outputs * block, ldc: block)
            }
            transformOutputs(m, bias: bias, plan: plan, tiles: first..<first + count, into: output)
        }
    }

    /// V_ξ[c, t] = (Bᵀ d B)_ξ for each tile `t` of `tiles` and channel, with
    /// Bᵀ = [[1, 0, −1, 0], [0, 1, 1, 0], [0, −1, 1, 0], [0, 1, 0, −1]]; positions outside the
    /// image read zero.
    private static func transformInputs(_ input: UnsafePointer<Float>, plan: WinogradPlan, tiles: Range<Int>, into v: UnsafeMutablePointer<Float>) {
        let block = plan.blockSize
        let stride = plan.channels * block
        for (column, tile) in tiles.enumerated() {
            let (n, inImage) = tile.quotientAndRemainder(dividingBy: plan.tilesPerImage)
            let (ty, tx) = inImage.quotientAndRemainder(dividingBy: plan.tilesAcross)
            let (top, left) = (2 * ty - plan.padTop, 2 * tx - plan.padLeft)
            let inside = top >= 0 && left >= 0 && top + 4 <= plan.height && left + 4 <= plan.width
            for c in 0..<plan.channels {
                let image = input + (n * plan.channels + c) * plan.height * plan.width
                var d = SIMD16<Float>()
                if inside {
                    for r in 0..<4 {
                        let row = image + (top + r) * plan.width + left
                        d[r * 4] = row[0]; d[r * 4 + 1] = row[1]; d[r * 4 + 2] = row[2]; d[r * 4 + 3] = row[3]
                    }
                } else {
                    for r in 0..<4 where top + r >= 0 && top + r < plan.height {
                        let row = image + (top + r) * plan.width
                        for s in 0..<4 where left + s >= 0 && left + s < plan.width { d[r * 4 + s] = row[left + s] }
                    }
                }
                let transformed = inputTransform(d)
                let target = v + c * block + column
                for xi in 0..<16 { target[xi * stride] = transformed[xi] }
            }
        }
    }

    /// Bᵀ d B for a 4×4 tile in row-major lanes.
    @inline(__always)
    static func inputTransform(_ d: SIMD16<Float>) -> SIMD16<Float> {
        // Rows of Bᵀ d.
        let r0 = d.lowHalf.lowHalf - d.highHalf.lowHalf
        let r1 = d.lowHalf.highHalf + d.highHalf.lowHalf
        let r2 = d.highHalf.lowHalf - d.lowHalf.highHalf
        let r3 = d.lowHalf.highHalf - d.highHalf.highHalf
        func right(_ w: SIMD4<Float>) -> SIMD4<Float> { SIMD4(w[0] - w[2], w[1] + w[2], w[2] - w[1], w[1] - w[3]) }
        return SIMD16(lowHalf: SIMD8(lowHalf: right(r0), highHalf: right(r1)), highHalf: SIMD8(lowHalf: right(r2), highHalf: right(r3)))
    }

    /// Y = Aᵀ M A + bias for each tile, with Aᵀ = [[1, 1, 1, 0], [0, 1, −1, −1]], written where
    /// the 2×2 outputs lie inside the output (the last row or column of tiles may hang over).
    private static func transformOutputs(
        _ m: UnsafePointer<Float>, bias: UnsafePointer<Float>?, plan: WinogradPlan, tiles: Range<Int>, into output: UnsafeMutablePointer<Float>
    ) {
        let block = plan.blockSize
        let stride = plan.outputs * block
        let plane = plan.outHeight * plan.outWidth
        for (column, tile) in tiles.enumerated() {
            let (n, inImage) = tile.quotientAndRemainder(dividingBy: plan.tilesPerImage)
            let (ty, tx) = inImage.quotientAndRemainder(dividingBy: plan.tilesAcross)
            let (y, x) = (2 * ty, 2 * tx)
            let (rows, columns) = (Swift.min(2, plan.outHeight - y), Swift.min(2, plan.outWidth - x))
            for o in 0..<plan.outputs {
                let source = m + o * block + column
                var t = SIMD16<Float>()
                for xi in 0..<16 { t[xi] = source[xi * stride] }
                let s0 = t.lowHalf.lowHalf + t.lowHalf.highHalf + t.highHalf.lowHalf
                let s1 = t.lowHalf.highHalf - t.highHalf.lowHalf - t.highHalf.highHalf
                let shift = bias?[o] ?? 0
                let y00 = s0[0] + s0[1] + s0[2] + shift, y01 = s0[1] - s0[2] - s0[3] + shift
                let y10 = s1[0] + s1[1] + s1[2] + shift, y11 = s1[1] - s1[2] - s1[3] + shift
                let target = output + (n * plan.outputs + o) * plane + y * plan.outWidth + x
                target[0] = y00
                if columns == 2 { target[1] = y01 }
                if rows == 2 {
                    target[plan.outWidth] = y10
                    if columns == 2 { target[plan.outWidth + 1] = y11 }
                }
            }
        }
    }
}
