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
/// It is the adjoint of a convolution from the output shape to the input shape: per group of images, the
/// inputs are laid side by side (channels × images·pixels), one GEMM Wᵀ[outC·kH·kW × inC] · x gives the
/// columns, which fold back (col2im) into each output image, then bias and activation per channel.
public struct ConvTransposeLayer: @unchecked Sendable {
    public let input: Shape3
    public let output: Shape3
    /// The convolution this layer transposes: over the output image, with window positions = input pixels.
    public let window: WindowGeometry
    public let weights: ConvWeights
    public let bias: UnsafePointer<Float>?
    public let activation: Activation

    public init(input: Shape3, output: Shape3, parameters p: ConvParameters, weights: ConvWeights, bias: UnsafePointer<Float>?, activation: Activation) {
        self.input = input
        self.output = output
        window = WindowGeometry(over: output, positions: input, parameters: p)
        self.weights = weights
        self.bias = bias
        self.activation = activation
    }

    /// Floats of scratch `forward` needs for `batch` images: a group's inputs side by side and its columns,
    /// and the staging of stored weights.
    public func scratchFloats(batch: Int) -> Int {
        imagesPerGemm(batch: batch, positions: window.positions, rows: window.patchSize) * window.positions * (input.channels + window.patchSize)
            + weights.stagingFloats(m: window.patchSize, k: input.channels)
    }

    public func forward(_ x: UnsafePointer<Float>, batch: Int, into y: UnsafeMutablePointer<Float>, scratch: UnsafeMutablePointer<Float>,
                        activation override: Activation? = nil) {
        let pixels = window.positions
        let group = imagesPerGemm(batch: batch, positions: pixels, rows: window.patchSize)
        var first = 0
        while first < batch {
            let images = min(group, batch - first)
            let width = images * pixels
            let gathered = scratch, columns = scratch + input.channels * width, staging = columns + window.patchSize * width
            for g in 0..<images {
                let image = x + (first + g) * input.count
                for c in 0..<input.channels { (gathered + c * width + g * pixels).update(from: image + c * pixels, count: pixels) }
            }
            // Wᵀ: A(r, c) = W[c, r] (W is [inC, outC·kH·kW]).
            weights.multiply(m: window.patchSize, n: width, k: input.channels, rowStride: 1, columnStride: window.patchSize, b: gathered,
                             c: columns, epilogue: .overwrite, staging: staging)
            for g in 0..<images {
                let out = y + (first + g) * output.count
                window.col2im(columns + g * pixels, into: out, rowStride: width, bias: bias)
                Kernels.apply(override ?? activation, out, count: output.count)
            }
            first += images
        }
    }
}
