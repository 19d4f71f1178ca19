/// A fully connected layer over borrowed memory: `y = activation(x · W + b)`.
///
/// `W` is stored [input, output] row-major (the transpose of PyTorch's `Linear.weight`), the layout
/// the GEMM streams, so the weights are used where they lie in the file, without packing.
/// The trainer's forward pass and libvaert's encode/decode both run this: one source of truth.
public struct DenseLayer: @unchecked Sendable {
    public let inputCount: Int
    public let outputCount: Int
    public let weights: UnsafePointer<Float>
    public let bias: UnsafePointer<Float>?
    public let activation: Activation

    public init(inputCount: Int, outputCount: Int, weights: UnsafePointer<Float>, bias: UnsafePointer<Float>?, activation: Activation) {
        self.inputCount = inputCount
        self.outputCount = outputCount
        self.weights = weights
        self.bias = bias
        self.activation = activation
    }

    /// `y[batch × output] = activation(x[batch × input] · W + b)`, bias and activation fused into the GEMM tiles.
    public func forward(_ x: UnsafePointer<Float>, batch: Int, into y: UnsafeMutablePointer<Float>, activation override: Activation? = nil) {
        Gemm.multiply(
            m: batch, n: outputCount, k: inputCount,
            a: MatrixView(x, rowStride: inputCount),
            b: weights, bRowStride: outputCount,
            c: y, cRowStride: outputCount,
            epilogue: GemmEpilogue(bias: bias, activation: override ?? activation))
    }
}
