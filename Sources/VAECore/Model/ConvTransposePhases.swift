/// ConvTranspose2d as stride phases: one ordinary GEMM per phase, no fold.
///
/// Output pixel o (along one axis) receives x[i] · W[k] for o + padding = stride · i + k. So the pixels
/// with the same residue r = (o + padding) mod stride read the same taps k = r, r + stride, r + 2·stride …,
/// tap t from input i = q − t, where q = (o + padding − r) / stride. Each of the stride² phases is a small
/// convolution: one row per output pixel of the phase (its taps' input channels side by side, K = taps ×
/// inC), times the phase's weights [K × outC] packed into the GEMM's panels, with the bias and the
/// activation fused into the tiles. Against a fold (col2im) this has no scatter of partial sums, and K is
/// taps × inC rather than inC: the course conv VAE's 64 → 32 layer runs K = 256 instead of 64.
///
/// Each pixel's sum runs over (ty, tx, input channel) in that order, then the bias: the same for any batch,
/// group or thread count, and the same whether the weights were packed at load or staged per call.
struct ConvTransposePhases {
    let input: Shape3
    let output: Shape3
    let kernelHeight: Int
    let kernelWidth: Int
    let stride: Int
    let padding: Int

    /// Where the phase (rowPhase, columnPhase) reads and writes.
    struct Phase {
        /// Taps down and across (kernel rows rowPhase, rowPhase + stride, …).
        let tapRows: Int
        let tapColumns: Int
        /// The q of the phase's output pixels down and across (output row stride · q + rowPhase − padding).
        let rows: Range<Int>
        let columns: Range<Int>
        let rowPhase: Int
        let columnPhase: Int

        var positions: Int { rows.count * columns.count }
    }

    init(_ layer: ConvTransposeLayer) {
        input = layer.input
        output = layer.output
        kernelHeight = layer.window.kernelHeight
        kernelWidth = layer.window.kernelWidth
        stride = layer.window.stride
        padding = layer.window.padding
    }

    var count: Int { stride * stride }

    func phase(_ index: Int) -> Phase {
        let (rowPhase, columnPhase) = (index / stride, index % stride)
        func taps(_ residue: Int, kernel: Int) -> Int { residue < kernel ? (kernel - residue + stride - 1) / stride : 0 }
        /// q with 0 ≤ stride · q + residue − padding < size.
        func span(_ residue: Int, size: Int) -> Range<Int> {
            let low = padding - residue <= 0 ? 0 : (padding - residue + stride - 1) / stride
            let high = (size + padding - residue + stride - 1) / stride
            return low..<max(low, high)
        }
        return Phase(tapRows: taps(rowPhase, kernel: kernelHeight), tapColumns: taps(columnPhase, kernel: kernelWidth),
                     rows: span(rowPhase, size: output.height), columns: span(columnPhase, size: output.width),
                     rowPhase: rowPhase, columnPhase: columnPhase)
    }

    /// K of a phase's GEMM.
    func depth(_ p: Phase) -> Int { p.tapRows * p.tapColumns * input.channels }

    /// Floats of phase `i`'s packed weights.
    func phaseFloats(_ i: Int) -> Int { PackedMatrix.elementCount(rows: depth(phase(i)), columns: output.channels) }

    /// Floats of the bias padded to whole panels.
    var biasFloats: Int { PackedMatrix.panels(output.channels) * PackedMatrix.panelWidth }

    /// Floats of all phases' packed weights, then the padded bias: `pack`'s layout.
    var packedFloats: Int {
        var total = biasFloats
        for i in 0..<count { total += phaseFloats(i) }
        return total
    }

    /// Most pixels of one phase of one image, the largest K, and the most floats of one phase's weights.
    var largestPhase: (positions: Int, depth: Int, floats: Int) {
        var largest = (0, 0, 0)
        for i in 0..<count {
            let p = phase(i)
            largest = (max(largest.0, p.positions), max(largest.1, depth(p)), max(largest.2, phaseFloats(i)))
        }
        return largest
    }

    /// Images per phase GEMM: its rows (pixels × images) and their patches and products fill about a
    /// quarter of the L2 cache, where the tiles read them.
    func imagesPerGroup(batch: Int) -> Int {
        let (positions, depth, _) = largestPhase
        let rowBytes = 4 * (depth + output.channels)
        return max(1, min(batch, Kernels.level2CacheBytes / 4 / max(1, rowBytes * positions)))
    }

    /// Scratch of `forward`: with weights staged, the padded bias and one phase's weights at a time (a
    /// quarter of them at stride 2, which is what a model used in place adds to its workspace).
    func scratchFloats(batch: Int, staged: Bool) -> Int {
        let images = imagesPerGroup(batch: batch), (positions, depth, floats) = largestPhase
        return (staged ? biasFloats + floats : 0) + images * (input.count + positions * (depth + output.channels))
    }

    /// Phase `i`'s weights in panel layout: row (ty · tapColumns + tx) · inC + c, column o, holds the
    /// weight W[c, o, rowPhase + stride · ty, columnPhase + stride · tx].
    func packPhase(_ i: Int, _ weights: ConvWeights, into panel: UnsafeMutablePointer<Float>) {
        let (inC, outC) = (input.channels, output.channels)
        let taps = kernelHeight * kernelWidth, width = PackedMatrix.panelWidth
        let p = phase(i), k = depth(p)
        panel.initialize(repeating: 0, count: phaseFloats(i))
        for ty in 0..<p.tapRows {
            for tx in 0..<p.tapColumns {
                let tap = (p.rowPhase + stride * ty) * kernelWidth + p.columnPhase + stride * tx
                for c in 0..<inC {
                    let row = (ty * p.tapColumns + tx) * inC + c
                    for o in 0..<outC {
                        panel[(o / width) * k * width + row * width + o % width] = weights.element((c * outC + o) * taps + tap)
                    }
                }
            }
        }
    }

    /// The bias (zeros without one), padded to whole panels.
    func packBias(_ bias: UnsafePointer<Float>?, into padded: UnsafeMutablePointer<Float>) {
        let outC = output.channels
        if let bias { padded.initialize(from: bias, count: outC) } else { padded.initialize(repeating: 0, count: outC) }
        (padded + outC).initialize(repeating: 0, count: biasFloats - outC)
    }

    /// Every phase's weights one after another, then the padded bias: what a loaded model keeps.
    func pack(_ weights: ConvWeights, bias: UnsafePointer<Float>?, into packed: UnsafeMutablePointer<Float>) {
        var panel = packed
        for i in 0..<count {
            packPhase(i, weights, into: panel)
            panel += phaseFloats(i)
        }
        packBias(bias, into: panel)
    }

    /// The layer's forward pass, over `packed` (`pack`'s layout) or, when it is nil, over the weights
    /// staged into scratch a phase at a time (the same panels, so the same bits): per group of images,
    /// their inputs go to channels-last, then per phase the patch rows are gathered (a run of inC floats
    /// per tap), multiplied, and the product's pixels written to their places in the channels-first output.
    func forward(_ x: UnsafePointer<Float>, batch: Int, into y: UnsafeMutablePointer<Float>, packed: UnsafePointer<Float>?,
                 weights source: ConvWeights, bias sourceBias: UnsafePointer<Float>?, scratch: UnsafeMutablePointer<Float>, activation: Activation) {
        let (inC, outC) = (input.channels, output.channels)
        let inputPixels = input.height * input.width, outputPixels = output.height * output.width
        let group = imagesPerGroup(batch: batch), (largestPositions, largestDepth, largestFloats) = largestPhase
        var next = scratch
        let bias: UnsafePointer<Float>, staging: UnsafeMutablePointer<Float>?
        if let packed {
            bias = packed + (packedFloats - biasFloats)
            staging = nil
        } else {
            packBias(sourceBias, into: next)
            bias = UnsafePointer(next)
            staging = next + biasFloats
            next += biasFloats + largestFloats
        }
        let channelsLast = next, patches = channelsLast + group * input.count
        let product = patches + group * largestPositions * largestDepth
        var first = 0
        while first < batch {
            let images = min(group, batch - first)
            for g in 0..<images {
                let image = x + (first + g) * input.count, out = channelsLast + g * input.count
                // Stores in order, loads strided: measured faster than the other way round.
                for q in 0..<inputPixels {
                    for c in 0..<inC { out[q &* inC &+ c] = image[c &* inputPixels &+ q] }
                }
            }
            var offset = 0
            for i in 0..<count {
                let p = phase(i), k = depth(p), rows = images * p.positions
                defer { offset += phaseFloats(i) }
                guard rows > 0 else { continue }
                if k == 0 {
                    // No tap reaches these pixels (stride above the kernel): the bias alone.
                    for r in 0..<rows { (product + r * outC).update(from: bias, count: outC) }
                    Kernels.apply(activation, product, count: rows * outC)
                } else {
                    let weights: UnsafePointer<Float>
                    if let packed { weights = packed + offset } else {
                        packPhase(i, source, into: staging!)
                        weights = UnsafePointer(staging!)
                    }
                    gatherPatches(p, channelsLast: channelsLast, images: images, into: patches)
                    var matrix = PackedMatrix(rows: k, columns: outC, values: weights)
                    matrix.panelsPerBlock = Kernels.panelsPerBlock(rows: k, elementBytes: 4)
                    Kernels.multiply(m: rows, a: MatrixView(patches, rowStride: k), packed: matrix, c: product, cRowStride: outC,
                                     epilogue: GemmEpilogue(bias: bias, activation: activation))
                }
                scatter(p, product: product, images: images, into: y + first * output.count, outputPixels: outputPixels)
            }
            first += images
        }
    }

    /// Row (image, q down, q across) of `patches`: for each tap (ty, tx), the inC channels of input pixel
    /// (q down − ty, q across − tx), or zeros where that pixel is outside the image.
    private func gatherPatches(_ p: Phase, channelsLast: UnsafePointer<Float>, images: Int, into patches: UnsafeMutablePointer<Float>) {
        let inC = input.channels
        var row = patches
        for g in 0..<images {
            let image = channelsLast + g * input.count
            for qy in p.rows {
                for qx in p.columns {
                    for ty in 0..<p.tapRows {
                        let iy = qy - ty
                        for tx in 0..<p.tapColumns {
                            let ix = qx - tx
                            if iy >= 0, iy < input.height, ix >= 0, ix < input.width {
                                row.update(from: image + (iy * input.width + ix) * inC, count: inC)
                            } else {
                                row.update(repeating: 0, count: inC)
                            }
                            row += inC
                        }
                    }
                }
            }
        }
    }

    /// The product's rows (pixels of the phase, channels-last) to their output pixels, channels-first.
    private func scatter(_ p: Phase, product: UnsafePointer<Float>, images: Int, into y: UnsafeMutablePointer<Float>, outputPixels: Int) {
        // Channel by channel, so the stores run along output rows (a pixel's channels lie a plane apart).
        let outC = output.channels
        for g in 0..<images {
            let image = y + g * output.count, rows = product + g * p.positions * outC
            for o in 0..<outC {
                var row = rows + o
                let plane = image + o * outputPixels + p.columnPhase - padding
                for qy in p.rows {
                    let line = plane + (stride * qy + p.rowPhase - padding) * output.width
                    for qx in p.columns {
                        line[stride &* qx] = row.pointee
                        row += outC
                    }
                }
            }
        }
    }
}

extension ConvWeights {
    /// Element `index` of the weight tensor as f32: the value a widened copy holds.
    func element(_ index: Int) -> Float {
        switch self {
        case .floats(let w): return w[index]
        case .stored(let t): return TensorEncoding.element(index, of: t.bytes, type: t.type, channels: t.channels, inner: t.inner)
        }
    }
}
