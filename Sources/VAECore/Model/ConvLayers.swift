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

/// Conv2d over borrowed memory: weights [outC, inC, kH, kW] (PyTorch's layout), bias [outC].
/// Per image: unfold the input (im2col), then one GEMM W[outC × patch] · columns[patch × positions]
/// writes the output channels-first, with bias per channel and the activation fused into the tiles.
public struct ConvLayer: @unchecked Sendable {
    public let input: Shape3
    public let output: Shape3
    public let window: WindowGeometry
    public let weights: UnsafePointer<Float>
    public let bias: UnsafePointer<Float>?
    public let activation: Activation

    public init(input: Shape3, output: Shape3, parameters p: ConvParameters, weights: UnsafePointer<Float>, bias: UnsafePointer<Float>?, activation: Activation) {
        self.input = input
        self.output = output
        window = WindowGeometry(over: input, positions: output, parameters: p)
        self.weights = weights
        self.bias = bias
        self.activation = activation
    }

    /// Floats of scratch `forward` needs: one image's column matrix.
    public var scratchFloats: Int { window.patchSize * window.positions }

    public func forward(_ x: UnsafePointer<Float>, batch: Int, into y: UnsafeMutablePointer<Float>, scratch: UnsafeMutablePointer<Float>,
                        activation override: Activation? = nil) {
        for image in 0..<batch {
            window.im2col(x + image * input.count, into: scratch)
            Gemm.multiply(m: output.channels, n: window.positions, k: window.patchSize,
                          a: MatrixView(weights, rowStride: window.patchSize), b: scratch, bRowStride: window.positions,
                          c: y + image * output.count, cRowStride: window.positions,
                          epilogue: GemmEpilogue(rowBias: bias, activation: override ?? activation))
        }
    }
}

/// ConvTranspose2d over borrowed memory: weights [inC, outC, kH, kW] (PyTorch's layout), bias [outC].
/// It is the adjoint of a convolution from the output shape to the input shape: per image, one GEMM
/// Wᵀ[outC·kH·kW × inC] · x[inC × pixels] gives the columns, which fold back (col2im) into the output.
public struct ConvTransposeLayer: @unchecked Sendable {
    public let input: Shape3
    public let output: Shape3
    /// The convolution this layer transposes: over the output image, with window positions = input pixels.
    public let window: WindowGeometry
    public let weights: UnsafePointer<Float>
    public let bias: UnsafePointer<Float>?
    public let activation: Activation

    public init(input: Shape3, output: Shape3, parameters p: ConvParameters, weights: UnsafePointer<Float>, bias: UnsafePointer<Float>?, activation: Activation) {
        self.input = input
        self.output = output
        window = WindowGeometry(over: output, positions: input, parameters: p)
        self.weights = weights
        self.bias = bias
        self.activation = activation
    }

    public var scratchFloats: Int { window.patchSize * window.positions }

    public func forward(_ x: UnsafePointer<Float>, batch: Int, into y: UnsafeMutablePointer<Float>, scratch: UnsafeMutablePointer<Float>,
                        activation override: Activation? = nil) {
        let plane = output.height * output.width
        for image in 0..<batch {
            Gemm.multiply(m: window.patchSize, n: window.positions, k: input.channels,
                          a: MatrixView(weights, rowStride: 1, columnStride: window.patchSize), b: x + image * input.count,
                          bRowStride: window.positions, c: scratch, cRowStride: window.positions)
            let out = y + image * output.count
            out.update(repeating: 0, count: output.count)
            window.col2im(scratch, addingInto: out)
            for c in 0..<output.channels {
                let channel = out + c * plane
                if let bias {
                    let b = bias[c]
                    for i in 0..<plane { channel[i] += b }
                }
                ActivationKernels.apply(override ?? activation, channel, count: plane)
            }
        }
    }
}
