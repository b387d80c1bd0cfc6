// Image patches as matrix columns and back: the kernels a convolution runs as one sgemm
// (forward) and its adjoint (backward).

extension Kernels {
    /// Image patches as columns: row `(c, i, j)` (channel, tap row, tap column), column
    /// `(n, y, x)` holds `input[n, c, y·sH − padTop + i·dH, x·sW − padLeft + j·dW]`, or 0 in
    /// the padding. `lines` limits the columns to the output lines `y` in it (the patches of
    /// one block of a sample's output, `Kernels.convolutionInPatchBlocks`).
    static func im2col(
        _ input: UnsafePointer<Float>, batch: Int, channels: Int, height: Int, width: Int, window: SlidingWindow,
        outHeight: Int, outWidth: Int, lines: Range<Int>? = nil, into cols: UnsafeMutablePointer<Float>
    ) {
        let step = window.stride(1)
        let lines = lines ?? 0..<outHeight
        forEachPatchBlockInParallel(batch: batch, channels: channels, height: height, width: width, window: window,
                                    outHeight: outHeight, outWidth: outWidth, lines: lines) { block, image, rows, columns, offset in
            // Lines of padding above and below, then the lines that read the image.
            var line = cols + block
            for _ in lines.lowerBound..<rows.lowerBound { zero(line, outWidth); line += outWidth }
            for y in rows {
                let source = input + image + y.row
                for x in 0..<columns.lowerBound { line[x] = 0 }
                if step == 1 {
                    let shifted = source + offset
                    for x in columns { line[x] = shifted[x] }
                } else {
                    for x in columns { line[x] = source[x &* step &+ offset] }
                }
                for x in columns.upperBound..<outWidth { line[x] = 0 }
                line += outWidth
            }
            for _ in rows.upperBound..<lines.upperBound { zero(line, outWidth); line += outWidth }
        }
    }

    /// The adjoint of `im2col`: each column entry is added back to the input position it was
    /// read from (`input` must start zeroed).
    static func col2im(
        _ cols: UnsafePointer<Float>, batch: Int, channels: Int, height: Int, width: Int, window: SlidingWindow,
        outHeight: Int, outWidth: Int, into input: UnsafeMutablePointer<Float>
    ) {
        let step = window.stride(1)
        forEachPatchBlockInParallel(batch: batch, channels: channels, height: height, width: width, window: window,
                                    outHeight: outHeight, outWidth: outWidth, lines: 0..<outHeight) { block, image, rows, columns, offset in
            var line = cols + block + rows.lowerBound * outWidth
            for y in rows {
                let target = input + image + y.row
                if step == 1 {
                    let shifted = target + offset
                    for x in columns { shifted[x] += line[x] }
                } else {
                    for x in columns { target[x &* step &+ offset] += line[x] }
                }
                line += outWidth
            }
        }
    }

    @inline(__always)
    private static func zero(_ line: UnsafeMutablePointer<Float>, _ count: Int) {
        for x in 0..<count { line[x] = 0 }
    }

    /// A run of output lines `y` with the offset of the input row each reads.
    struct PatchLines: Sequence, IteratorProtocol {
        var y: Int
        let end: Int
        var inputRow: Int
        let rowStep: Int
        let lowerBound: Int
        var upperBound: Int { end }

        mutating func next() -> (y: Int, row: Int)? {
            guard y < end else { return nil }
            defer { y += 1; inputRow &+= rowStep }
            return (y, inputRow)
        }
    }

    /// `forEachPatchBlock` with the channels cut into pieces run on the pool: a channel's
    /// patch rows and input planes belong to one piece, so pieces write disjoint memory (in
    /// col2im as well) and each input position sums its patch entries in the serial order.
    @inline(__always)
    private static func forEachPatchBlockInParallel(
        batch: Int, channels: Int, height: Int, width: Int, window: SlidingWindow, outHeight: Int, outWidth: Int, lines: Range<Int>,
        _ body: (_ block: Int, _ image: Int, _ rows: PatchLines, _ columns: Range<Int>, _ offset: Int) -> Void
    ) {
        let perChannel = Swift.max(1, batch * lines.count * outWidth * window.size(0) * window.size(1))
        parallelChunks(channels, grain: Swift.max(1, elementGrain / perChannel)) { piece in
            forEachPatchBlock(batch: batch, channels: channels, only: piece, height: height, width: width, window: window,
                              outHeight: outHeight, outWidth: outWidth, lines: lines, body)
        }
    }

    /// Calls `body` once per patch row `(c, i, j)` of the `chosen` channels and sample: the offsets of the block of
    /// `lines.count · outWidth` columns it fills and of the sample's channel-`c` image, the output lines of `lines`
    /// that read inside the image (each with the offset of its input row), the output columns that do,
    /// and the input column of output column 0 (`x · stride + offset` is that of `x`).
    @inline(__always)
    private static func forEachPatchBlock(
        batch: Int, channels: Int, only chosen: Range<Int>, height: Int, width: Int, window: SlidingWindow, outHeight: Int, outWidth: Int,
        lines: Range<Int>, _ body: (_ block: Int, _ image: Int, _ rows: PatchLines, _ columns: Range<Int>, _ offset: Int) -> Void
    ) {
        let plane = lines.count * outWidth
        let columnsPerRow = batch * plane
        let (taps0, taps1) = (window.size(0), window.size(1))
        let (step0, step1) = (window.stride(0), window.stride(1))
        for c in chosen {
            for i in 0..<taps0 {
                // Output lines y whose input row y·s − pad + i·d lies in 0..<height.
                let rowOffset = i * window.dilation(0) - window.padBefore(0)
                let inside = Swift.min(outHeight, rowOffset >= 0 ? 0 : (-rowOffset + step0 - 1) / step0)
                let insideEnd = height - 1 - rowOffset < 0 ? inside : Swift.max(inside, Swift.min(outHeight, (height - 1 - rowOffset) / step0 + 1))
                let yLo = Swift.min(Swift.max(inside, lines.lowerBound), lines.upperBound)
                let yHi = Swift.max(yLo, Swift.min(insideEnd, lines.upperBound))
                for j in 0..<taps1 {
                    let offset = j * window.dilation(1) - window.padBefore(1)
                    let lo = Swift.min(outWidth, offset >= 0 ? 0 : (-offset + step1 - 1) / step1)
                    let hi = width - 1 - offset < 0 ? lo : Swift.max(lo, Swift.min(outWidth, (width - 1 - offset) / step1 + 1))
                    let rowBase = ((c * taps0 + i) * taps1 + j) * columnsPerRow
                    for sample in 0..<batch {
                        let image = (sample * channels + c) * height * width
                        let inImage = PatchLines(y: yLo, end: yHi, inputRow: (yLo * step0 + rowOffset) * width, rowStep: step0 * width, lowerBound: yLo)
                        body(rowBase + sample * plane, image, inImage, lo..<hi, offset)
                    }
                }
            }
        }
    }
}
