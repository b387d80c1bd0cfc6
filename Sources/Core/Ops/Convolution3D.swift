// 3-D convolution (video and volumetric models: R(2+1)D, 3-D U-Nets) as a sum of 2-D ones:
// for each depth tap kd of the kernel, the input's depth positions that tap reads (every
// output depth's, stride and dilation applied) fold into the batch and are convolved with that
// tap's 2-D kernel; the kD results add up. Built from Synapse's ops, it trains as they do.

extension Tensor {
    /// `input` `[N, C, D, H, W]` convolved with `weight` `[O, C/groups, kD, kH, kW]`: `depth`
    /// is the window along D (its size, stride, dilation and pads in the first axis), `planes`
    /// the 2-D window over H and W.
    func conv3d(weight: Tensor, bias: Tensor?, depth: SlidingWindow, planes: SlidingWindow, groups: Int) -> Tensor {
        let (n, channels, d) = (shape[0], shape[1], shape[2])
        let (before, after) = (depth.padBefore(0), depth.padAfter(0))
        var padded = self
        if before > 0 || after > 0 {
            var parts: [Tensor] = []
            if before > 0 { parts.append(Tensor.zeros([n, channels, before, shape[3], shape[4]])) }
            parts.append(self)
            if after > 0 { parts.append(Tensor.zeros([n, channels, after, shape[3], shape[4]])) }
            padded = Tensor.concat(parts, dim: 2)
        }
        let outputs = depth.outputSize(0, input: d)!
        let (kernelDepth, stride, dilation) = (weight.shape[2], depth.stride(0), depth.dilation(0))
        var total: Tensor?
        for kd in 0..<kernelDepth {
            // [N, C, outputs, H, W] → [N·outputs, C, H, W], convolved with tap kd's [O, C/g, kH, kW].
            let slices = (0..<outputs).map { od in padded.slice(dim: 2, range: (od * stride + kd * dilation)..<(od * stride + kd * dilation + 1)) }
            let picked = (slices.count == 1 ? slices[0] : Tensor.concat(slices, dim: 2)).permuted([0, 2, 1, 3, 4])
            let folded = picked.reshaped([n * outputs, channels, shape[3], shape[4]])
            let tap = weight.slice(dim: 2, range: kd..<(kd + 1)).squeezed(dim: 2)
            let y = folded.conv2d(weight: tap, bias: kd == 0 ? bias : nil, window: planes, groups: groups)
            total = total.map { $0 + y } ?? y
        }
        let y = total!
        return y.reshaped([n, outputs, y.shape[1], y.shape[2], y.shape[3]]).permuted([0, 2, 1, 3, 4])
    }
}
