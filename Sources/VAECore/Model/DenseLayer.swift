/// A fully connected layer over borrowed memory: `y = activation(x · W + b)`.
///
/// `W` is stored [input, output] row-major (the transpose of PyTorch's `Linear.weight`). The trainer runs
/// it where it lies (the weights change every step); a loaded model also carries it packed into the
/// GEMM's panel layout (`packed`, with a zero-padded bias), which `forward` then streams instead.
/// Both give the same sums in the same order: one source of truth for training and libvaert.
public struct DenseLayer: @unchecked Sendable {
    public let inputCount: Int
    public let outputCount: Int
    public let weights: UnsafePointer<Float>
    public let bias: UnsafePointer<Float>?
    public let activation: Activation
    /// The weights packed once at load, and the bias padded to whole panels (nil when there is no bias).
    public let packed: (weights: PackedMatrix, bias: UnsafePointer<Float>?)?

    public init(inputCount: Int, outputCount: Int, weights: UnsafePointer<Float>, bias: UnsafePointer<Float>?, activation: Activation,
                packed: (weights: PackedMatrix, bias: UnsafePointer<Float>?)? = nil) {
        self.inputCount = inputCount
        self.outputCount = outputCount
        self.weights = weights
        self.bias = bias
        self.activation = activation
        self.packed = packed
    }

    public func with(activation: Activation) -> DenseLayer {
        DenseLayer(inputCount: inputCount, outputCount: outputCount, weights: weights, bias: bias, activation: activation, packed: packed)
    }

    /// `y[batch × output] = activation(x[batch × input] · W + b)`, bias and activation fused into the GEMM tiles.
    public func forward(_ x: UnsafePointer<Float>, batch: Int, into y: UnsafeMutablePointer<Float>, activation override: Activation? = nil) {
        let a = MatrixView(x, rowStride: inputCount)
        #if !VAERT_COMPACT_KERNELS
        if let packed {
            Kernels.multiply(m: batch, a: a, packed: packed.weights, c: y, cRowStride: outputCount,
                          epilogue: GemmEpilogue(bias: packed.bias, activation: override ?? activation))
            return
        }
        #endif
        Kernels.multiply(m: batch, n: outputCount, k: inputCount, a: a, b: weights, bRowStride: outputCount, c: y, cRowStride: outputCount,
                      epilogue: GemmEpilogue(bias: bias, activation: override ?? activation))
    }
}
