/// Kernel size, stride and padding of a convolution layer; `outputPadding` adds rows and columns at the
/// bottom and right of a transposed convolution's output (PyTorch's `output_padding`, below the stride).
public struct ConvParameters: Equatable, Sendable {
    public var kernelHeight: Int
    public var kernelWidth: Int
    public var stride: Int
    public var padding: Int
    public var outputPadding: Int

    public init(kernelHeight: Int, kernelWidth: Int, stride: Int, padding: Int, outputPadding: Int = 0) {
        self.kernelHeight = kernelHeight
        self.kernelWidth = kernelWidth
        self.stride = stride
        self.padding = padding
        self.outputPadding = outputPadding
    }

    /// The format's limits: kernel sides and stride 1 to 64, padding below the larger kernel side,
    /// output padding below the stride.
    public var isWithinFormatLimits: Bool {
        (1...64).contains(kernelHeight) && (1...64).contains(kernelWidth) && (1...64).contains(stride)
            && padding >= 0 && padding < max(kernelHeight, kernelWidth) && outputPadding >= 0 && outputPadding < stride
    }

    /// Output size of a convolution along one axis, or nil when the window does not fit.
    public func convolutionOutput(_ size: Int, kernel: Int) -> Int? {
        let span = size + 2 * padding - kernel
        return span >= 0 ? span / stride + 1 : nil
    }

    /// Output size of a transposed convolution along one axis.
    public func transposedOutput(_ size: Int, kernel: Int) -> Int {
        (size - 1) * stride - 2 * padding + kernel + outputPadding
    }
}

/// Images a convolution layer runs through one GEMM: enough that the GEMM's columns (images × window
/// positions) fill its tiles, few enough that the column matrix (`rows` × columns) stays in the L2 cache
/// for the fold or copy that follows.
func imagesPerGemm(batch: Int, positions: Int, rows: Int) -> Int {
    let targetColumns = 384
    let cacheFloats = 256 * 1024
    let byColumns = targetColumns / max(positions, 1)
    let byCache = cacheFloats / max(positions * rows, 1)
    return max(1, min(batch, byColumns, byCache))
}

/// Conv2d over borrowed memory: weights [outC, inC, kH, kW] (PyTorch's layout), bias [outC].
/// Per group of images: unfold them side by side (im2col), one GEMM W[outC × patch] · columns[patch ×
/// images·positions] with bias per channel and the activation fused into the tiles, then each image's
/// channels are copied out (channels-first, image by image).
public struct ConvLayer: @unchecked Sendable {
    public let input: Shape3
    public let output: Shape3
    public let window: WindowGeometry
    public let weights: ConvWeights
    public let bias: UnsafePointer<Float>?
    public let activation: Activation

    public init(input: Shape3, output: Shape3, parameters p: ConvParameters, weights: ConvWeights, bias: UnsafePointer<Float>?, activation: Activation) {
        self.input = input
        self.output = output
        window = WindowGeometry(over: input, positions: output, parameters: p)
        self.weights = weights
        self.bias = bias
        self.activation = activation
    }

    /// Floats of scratch `forward` needs for `batch` images: a group's column matrix and GEMM output, and
    /// the staging of stored weights.
    public func scratchFloats(batch: Int) -> Int {
        imagesPerGemm(batch: batch, positions: window.positions, rows: window.patchSize) * window.positions * (window.patchSize + output.channels)
            + weights.stagingFloats(m: output.channels, k: window.patchSize)
    }

    public func forward(_ x: UnsafePointer<Float>, batch: Int, into y: UnsafeMutablePointer<Float>, scratch: UnsafeMutablePointer<Float>,
                        activation override: Activation? = nil) {
        let positions = window.positions
        let group = imagesPerGemm(batch: batch, positions: positions, rows: window.patchSize)
        var first = 0
        while first < batch {
            let images = min(group, batch - first)
            let width = images * positions
            let columns = scratch, product = scratch + window.patchSize * width, staging = product + output.channels * width
            for g in 0..<images {
                window.im2col(x + (first + g) * input.count, into: columns + g * positions, rowStride: width)
            }
            weights.multiply(m: output.channels, n: width, k: window.patchSize, rowStride: window.patchSize, columnStride: 1, b: columns,
                             c: product, epilogue: GemmEpilogue(rowBias: bias, activation: override ?? activation), staging: staging)
            for g in 0..<images {
                let image = y + (first + g) * output.count
                for c in 0..<output.channels {
                    (image + c * positions).update(from: product + c * width + g * positions, count: positions)
                }
            }
            first += images
        }
    }
}

/// ConvTranspose2d over borrowed memory: weights [inC, outC, kH, kW] (PyTorch's layout), bias [outC].
/// It is the adjoint of a convolution from the output shape to the input shape. Per group of up to
/// `imagesPerGroup` images, interleaved (entry `pixel · images + image`):
/// 1. the inputs are gathered as channels × (pixels · images);
/// 2. per block of output channels, one GEMM Wᵀ[channels·kH·kW × inC] · inputs gives the block's columns,
///    which fold (col2im) into its channels' pixels at once, while they are in cache;
/// 3. the pixels go back to one image after another, then the activation runs over them.
/// Interleaving makes the fold vector adds of whole groups of images: the window arithmetic, the
/// bounds and the scatter are paid once per group, not per image and channel.
/// A layer of at least one panel of output channels runs as stride phases instead (`ConvTransposePhases`,
/// measured faster), over weights packed at load (`packedPhases`) or staged into scratch per call.
public struct ConvTransposeLayer: @unchecked Sendable {
    public let input: Shape3
    public let output: Shape3
    /// The convolution this layer transposes: over the output image, with window positions = input pixels.
    public let window: WindowGeometry
    public let weights: ConvWeights
    public let bias: UnsafePointer<Float>?
    public let activation: Activation
    /// The phases' weights in panel layout and the padded bias (`ConvTransposePhases.pack`), packed once at
    /// load; nil where they are staged per call (a trainer's changing weights, a model used in place).
    public let packedPhases: UnsafePointer<Float>?

    /// Whether the layer runs as stride phases: with SIMD kernels (the compact kernels of microcontrollers
    /// keep the fold's smaller code and workspace), and output channels to fill a panel (fewer would leave
    /// most of each tile's columns idle; the fold's GEMM rows are channels × taps).
    public var runsByPhases: Bool {
        #if VAERT_COMPACT_KERNELS
        return false
        #else
        return output.channels >= PackedMatrix.panelWidth
        #endif
    }

    /// Images computed side by side: one AVX2 vector of them in the fold. One on cores without SIMD units.
    #if VAERT_COMPACT_KERNELS
    public static let imagesPerGroup = 1
    #else
    public static let imagesPerGroup = 8
    #endif

    public init(input: Shape3, output: Shape3, parameters p: ConvParameters, weights: ConvWeights, bias: UnsafePointer<Float>?, activation: Activation,
                packedPhases: UnsafePointer<Float>? = nil) {
        self.input = input
        self.output = output
        window = WindowGeometry(over: output, positions: input, parameters: p)
        self.weights = weights
        self.bias = bias
        self.activation = activation
        self.packedPhases = packedPhases
    }

    /// Kernel taps per output channel: rows of the GEMM per channel.
    var taps: Int { window.kernelHeight * window.kernelWidth }

    /// Output channels per GEMM: about 48 rows (eight tiles of six), so the block's columns stay in the L2
    /// cache for the fold.
    var channelsPerBlock: Int { min(output.channels, max(1, 48 / taps)) }

    /// Scratch floats per image of a group: its inputs, a block's columns, and the block's folded pixels.
    var scratchFloatsPerImage: Int {
        input.count + channelsPerBlock * (taps * window.positions + output.height * output.width)
    }

    /// Floats of scratch `forward` needs for `batch` images: one group's, and the staging of stored weights.
    public func scratchFloats(batch: Int) -> Int {
        if runsByPhases { return ConvTransposePhases(self).scratchFloats(batch: batch, staged: packedPhases == nil) }
        return min(batch, Self.imagesPerGroup) * scratchFloatsPerImage + weights.stagingFloats(m: channelsPerBlock * taps, k: input.channels)
    }

    public func forward(_ x: UnsafePointer<Float>, batch: Int, into y: UnsafeMutablePointer<Float>, scratch: UnsafeMutablePointer<Float>,
                        activation override: Activation? = nil) {
        if runsByPhases {
            ConvTransposePhases(self).forward(x, batch: batch, into: y, packed: packedPhases, weights: weights, bias: bias, scratch: scratch,
                                              activation: override ?? activation)
            return
        }
        let pixels = window.positions, outputPixels = output.height * output.width
        let group = min(batch, Self.imagesPerGroup), blockChannels = channelsPerBlock
        let gathered = scratch, columns = gathered + group * input.count
        let planes = columns + group * blockChannels * taps * pixels, staging = planes + group * blockChannels * outputPixels
        var first = 0
        while first < batch {
            let images = min(group, batch - first)
            let width = pixels * images
            // One image needs no interleaving: it is read, and folded into, where it lies.
            let inputs = images == 1 ? x + first * input.count : UnsafePointer(gathered)
            if images > 1 { interleave(x + first * input.count, count: input.count, images: images, into: gathered) }
            var channel = 0
            while channel < output.channels {
                let count = min(blockChannels, output.channels - channel)
                // Wᵀ: A(r, c) = W[c, r] (W is [inC, outC·kH·kW]).
                weights.multiply(firstRow: channel * taps, m: count * taps, n: width, k: input.channels, rowStride: 1, columnStride: window.patchSize,
                                 b: inputs, c: columns, epilogue: .overwrite, staging: staging)
                for c in 0..<count {
                    let out = y + first * output.count + (channel + c) * outputPixels
                    let plane = images == 1 ? out : planes + c * outputPixels * images
                    window.foldInterleaved(columns + c * taps * width, rowStride: width, images: images, into: plane, bias: bias?[channel + c] ?? 0)
                    if images > 1 { deinterleave(plane, count: outputPixels, images: images, into: out, imageStride: output.count) }
                }
                channel += count
            }
            Kernels.apply(override ?? activation, y + first * output.count, count: images * output.count)
            first += images
        }
    }
}

/// `images` images of `count` floats one after another → entry `j · images + i` is image i's entry j.
func interleave(_ x: UnsafePointer<Float>, count: Int, images: Int, into out: UnsafeMutablePointer<Float>) {
    for i in 0..<images {
        for j in 0..<count { out[j &* images &+ i] = x[i &* count &+ j] }
    }
}

/// The inverse of `interleave` for `count` entries, image i's going to `out + i · imageStride`.
func deinterleave(_ x: UnsafePointer<Float>, count: Int, images: Int, into out: UnsafeMutablePointer<Float>, imageStride: Int) {
    for i in 0..<images {
        for j in 0..<count { out[i &* imageStride &+ j] = x[j &* images &+ i] }
    }
}
