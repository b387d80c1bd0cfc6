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
    /// floats) stay within about 4 MiB, and each of the 16 products has at least 64 columns
    /// (it repacks U_ξ, C · O floats, for every block).
    var blockSize: Int { Swift.max(64, Swift.min(256, (1 << 16) / Swift.max(channels + outputs, 1) / 16 * 16)) }
    var blocks: Int { (tiles + blockSize - 1) / blockSize }

    /// Whether F(2×2, 3×3) beats im2col + sgemm here: it saves 20 of every 36 multiply-adds
    /// per tile and channel pair, but transforms the weight (about 100 cycles per channel
    /// pair, twice in a training step) on every call; with 32 multiply-adds a cycle that pays
    /// from about 256 tiles (a batch of 32 at 8×8, one image at 32×32). Measured on
    /// ResNet-18: at batch 1 the transform alone took 3× the products' time.
    var pays: Bool { tiles >= 256 }

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

    /// Where each tile of a block reads: its sample's image offset plus its top-left corner
    /// (possibly outside the image), and whether all 16 positions are inside.
    private struct TileOrigins {
        var offsets: [Int] = [], tops: [Int] = [], lefts: [Int] = [], inside: [Bool] = []

        init(plan: WinogradPlan, tiles: Range<Int>, channels: Int, height: Int, width: Int, padTop: Int, padLeft: Int, span: Int) {
            for tile in tiles {
                let (n, inImage) = tile.quotientAndRemainder(dividingBy: plan.tilesPerImage)
                let (ty, tx) = inImage.quotientAndRemainder(dividingBy: plan.tilesAcross)
                let (top, left) = (2 * ty - padTop, 2 * tx - padLeft)
                offsets.append(n * channels * height * width)
                tops.append(top)
                lefts.append(left)
                inside.append(top >= 0 && left >= 0 && top + span <= height && left + span <= width)
            }
        }
    }

    /// V_ξ[c, t] = (Bᵀ d B)_ξ for each tile `t` of `tiles` and channel, with
    /// Bᵀ = [[1, 0, −1, 0], [0, 1, 1, 0], [0, −1, 1, 0], [0, 1, 0, −1]]; positions outside the
    /// image read zero. Eight tiles at a time, one per lane, so the stores are contiguous.
    private static func transformInputs(_ input: UnsafePointer<Float>, plan: WinogradPlan, tiles: Range<Int>, into v: UnsafeMutablePointer<Float>) {
        let (block, height, width) = (plan.blockSize, plan.height, plan.width)
        let stride = plan.channels * block
        let origins = TileOrigins(plan: plan, tiles: tiles, channels: plan.channels, height: height, width: width,
                                  padTop: plan.padTop, padLeft: plan.padLeft, span: 4)
        let count = tiles.count
        // Groups of eight tiles side by side in one tile row read 18 consecutive columns of
        // four input rows: even and odd lanes of two 16-float loads give the four columns of
        // each row. Other groups gather lane by lane through `scratch`.
        let groups = (count + 7) / 8
        let sideBySide = (0..<groups).map { group -> Bool in
            let first = group * 8
            guard first + 8 <= count else { return false }
            return (1..<8).allSatisfy { lane in
                origins.offsets[first + lane] == origins.offsets[first] && origins.tops[first + lane] == origins.tops[first]
                    && origins.lefts[first + lane] == origins.lefts[first] + 2 * lane
            }
        }
        let scratch = UnsafeMutablePointer<Float>.allocate(capacity: 16 * 8 + 18)
        defer { scratch.deallocate() }
        let paddedRow = scratch + 16 * 8
        for c in 0..<plan.channels {
            let channel = input + c * height * width
            for group in 0..<groups {
                let column = group * 8
                var d = InlineArray<16, SIMD8<Float>>(repeating: .zero)
                if sideBySide[group] {
                    let (top, left) = (origins.tops[column], origins.lefts[column])
                    let image = channel + origins.offsets[column]
                    for r in 0..<4 where top + r >= 0 && top + r < height {
                        var row = UnsafePointer(image + (top + r) * width + left)
                        if left < 0 || left + 18 > width {
                            for q in 0..<18 { paddedRow[q] = left + q >= 0 && left + q < width ? row[q] : 0 }
                            row = UnsafePointer(paddedRow)
                        }
                        let low = UnsafeRawPointer(row).loadUnaligned(as: SIMD16<Float>.self)
                        let high = UnsafeRawPointer(row + 2).loadUnaligned(as: SIMD16<Float>.self)
                        d[r * 4] = low.evenHalf
                        d[r * 4 + 1] = low.oddHalf
                        d[r * 4 + 2] = high.evenHalf
                        d[r * 4 + 3] = high.oddHalf
                    }
                } else {
                    scratch.update(repeating: 0, count: 16 * 8)
                    for lane in 0..<Swift.min(8, count - column) {
                        let t = column + lane
                        let image = channel + origins.offsets[t]
                        let (top, left) = (origins.tops[t], origins.lefts[t])
                        for r in 0..<4 where top + r >= 0 && top + r < height {
                            let row = image + (top + r) * width
                            for q in 0..<4 where left + q >= 0 && left + q < width { scratch[(r * 4 + q) * 8 + lane] = row[left + q] }
                        }
                    }
                    for xi in 0..<16 { d[xi] = UnsafeRawPointer(scratch + xi * 8).loadUnaligned(as: SIMD8<Float>.self) }
                }
                let transformed = inputTransform(d)
                // The block holds `block` (a multiple of 16) columns: whole vectors always fit,
                // and lanes past the block's tiles are never read.
                let target = v + c * block + column
                for xi in 0..<16 { UnsafeMutableRawPointer(target + xi * stride).storeBytes(of: transformed[xi], as: SIMD8<Float>.self) }
            }
        }
    }

    /// Bᵀ d B for 4×4 tiles (row-major positions, one tile per lane).
    @inline(__always)
    static func inputTransform(_ d: InlineArray<16, SIMD8<Float>>) -> InlineArray<16, SIMD8<Float>> {
        var w = d
        for q in 0..<4 {
            let (a0, a1, a2, a3) = (d[q], d[4 + q], d[8 + q], d[12 + q])
            w[q] = a0 - a2; w[4 + q] = a1 + a2; w[8 + q] = a2 - a1; w[12 + q] = a1 - a3
        }
        var result = w
        for r in 0..<4 {
            let (a0, a1, a2, a3) = (w[4 * r], w[4 * r + 1], w[4 * r + 2], w[4 * r + 3])
            result[4 * r] = a0 - a2; result[4 * r + 1] = a1 + a2; result[4 * r + 2] = a2 - a1; result[4 * r + 3] = a1 - a3
        }
        return result
    }

    /// Y = Aᵀ M A + bias for each tile, with Aᵀ = [[1, 1, 1, 0], [0, 1, −1, −1]], written where
    /// the 2×2 outputs lie inside the output (the last row or column of tiles may hang over).
    /// Eight tiles at a time, one per lane, so the loads are contiguous.
    private static func transformOutputs(
        _ m: UnsafePointer<Float>, bias: UnsafePointer<Float>?, plan: WinogradPlan, tiles: Range<Int>, into output: UnsafeMutablePointer<Float>
    ) {
        let (block, outHeight, outWidth) = (plan.blockSize, plan.outHeight, plan.outWidth)
        let stride = plan.outputs * block
        let origins = TileOrigins(plan: plan, tiles: tiles, channels: plan.outputs, height: outHeight, width: outWidth,
                                  padTop: 0, padLeft: 0, span: 2)
        let count = tiles.count
        for o in 0..<plan.outputs {
            let shift = SIMD8<Float>(repeating: bias?[o] ?? 0)
            let channel = output + o * outHeight * outWidth
            var column = 0
            while column < count {
                let source = m + o * block + column
                var t = InlineArray<16, SIMD8<Float>>(repeating: .zero)
                for xi in 0..<16 { t[xi] = UnsafeRawPointer(source + xi * stride).loadUnaligned(as: SIMD8<Float>.self) }
                var s0 = InlineArray<4, SIMD8<Float>>(repeating: .zero), s1 = s0
                for q in 0..<4 {
                    s0[q] = t[q] + t[4 + q] + t[8 + q]
                    s1[q] = t[4 + q] - t[8 + q] - t[12 + q]
                }
                let y00 = s0[0] + s0[1] + s0[2] + shift, y01 = s0[1] - s0[2] - s0[3] + shift
                let y10 = s1[0] + s1[1] + s1[2] + shift, y11 = s1[1] - s1[2] - s1[3] + shift
                for lane in 0..<Swift.min(8, count - column) {
                    let tile = column + lane
                    let (y, x) = (origins.tops[tile], origins.lefts[tile])
                    let target = channel + origins.offsets[tile] + y * outWidth + x
                    target[0] = y00[lane]
                    if origins.inside[tile] {
                        target[1] = y01[lane]
                        target[outWidth] = y10[lane]
                        target[outWidth + 1] = y11[lane]
                    } else {
                        if x + 1 < outWidth { target[1] = y01[lane] }
                        if y + 1 < outHeight {
                            target[outWidth] = y10[lane]
                            if x + 1 < outWidth { target[outWidth + 1] = y11[lane] }
                        }
                    }
                }
                column += 8
            }
        }
    }
}
