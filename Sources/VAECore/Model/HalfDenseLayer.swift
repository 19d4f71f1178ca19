/// A dense layer whose weights are the file's f16 values [input, output]: run where they lie (the GEMM
/// widens each vector of weights as it loads it, F16C on AVX2, so no f32 copy exists), or, in a model that
/// copies its file, also packed once into the GEMM's panels as f16 (`packed`), which `forward` then streams.
/// The sums are those of the f32 kernel over the widened values, in the same order either way.
public struct HalfDenseLayer: @unchecked Sendable {
    public let inputCount: Int
    public let outputCount: Int
    public let weights: UnsafePointer<Half>
    public let bias: UnsafePointer<Float>?
    public let activation: Activation
    /// The weights packed at load as f16 panels, and the bias padded to whole panels (nil when there is no bias).
    public let packed: (weights: PackedMatrix, bias: UnsafePointer<Float>?)?

    public init(inputCount: Int, outputCount: Int, weights: UnsafePointer<Half>, bias: UnsafePointer<Float>?, activation: Activation,
                packed: (weights: PackedMatrix, bias: UnsafePointer<Float>?)? = nil) {
        self.inputCount = inputCount
        self.outputCount = outputCount
        self.weights = weights
        self.bias = bias
        self.activation = activation
        self.packed = packed
    }

    public func with(activation: Activation) -> HalfDenseLayer {
        HalfDenseLayer(inputCount: inputCount, outputCount: outputCount, weights: weights, bias: bias, activation: activation, packed: packed)
    }

    public func forward(_ x: UnsafePointer<Float>, batch: Int, into y: UnsafeMutablePointer<Float>, activation override: Activation? = nil) {
        let a = MatrixView(x, rowStride: inputCount)
        #if !VAERT_COMPACT_KERNELS
        if let packed {
            Kernels.multiply(m: batch, a: a, packed: packed.weights, c: y, cRowStride: outputCount,
                             epilogue: GemmEpilogue(bias: packed.bias, activation: override ?? activation))
            return
        }
        #endif
        Kernels.multiply(m: batch, n: outputCount, k: inputCount, a: a, b: weights, bRowStride: outputCount,
                         c: y, cRowStride: outputCount, epilogue: GemmEpilogue(bias: bias, activation: override ?? activation))
    }
}
