/// A dense layer whose weights are the file's f16 values [input, output], run where they lie: the GEMM
/// widens each vector of weights as it loads it (F16C on AVX2), so no f32 copy exists. The sums are those
/// of the f32 kernel over the widened values.
public struct HalfDenseLayer: @unchecked Sendable {
    public let inputCount: Int
    public let outputCount: Int
    public let weights: UnsafePointer<Half>
    public let bias: UnsafePointer<Float>?
    public let activation: Activation

    public init(inputCount: Int, outputCount: Int, weights: UnsafePointer<Half>, bias: UnsafePointer<Float>?, activation: Activation) {
        self.inputCount = inputCount
        self.outputCount = outputCount
        self.weights = weights
        self.bias = bias
        self.activation = activation
    }

    public func with(activation: Activation) -> HalfDenseLayer {
        HalfDenseLayer(inputCount: inputCount, outputCount: outputCount, weights: weights, bias: bias, activation: activation)
    }

    public func forward(_ x: UnsafePointer<Float>, batch: Int, into y: UnsafeMutablePointer<Float>, activation override: Activation? = nil) {
        Kernels.multiply(m: batch, n: outputCount, k: inputCount, a: MatrixView(x, rowStride: inputCount), b: weights, bRowStride: outputCount,
                         c: y, cRowStride: outputCount, epilogue: GemmEpilogue(bias: bias, activation: override ?? activation))
    }
}
