/// A dense layer whose weights are int8 panels (element type `q8Panels`), run where they lie: each pass
/// quantizes its input rows into scratch (one scale per row), then one integer GEMM whose epilogue
/// dequantizes, adds the f32 bias and applies the activation. Nothing of the weights is copied or widened.
public struct QuantizedDenseLayer: @unchecked Sendable {
    public let weights: Int8Panels
    public let bias: UnsafePointer<Float>?
    public let activation: Activation

    public init(weights: Int8Panels, bias: UnsafePointer<Float>?, activation: Activation) {
        self.weights = weights
        self.bias = bias
        self.activation = activation
    }

    public var inputCount: Int { weights.rows }
    public var outputCount: Int { weights.columns }

    /// Scratch floats per row: the row's scale, then its quantized values (bytes, in whole floats).
    public var scratchFloatsPerRow: Int { 1 + Int8Rows.rowBytes(inputCount) / 4 }

    public func scratchFloats(batch: Int) -> Int { batch * scratchFloatsPerRow }

    public func forward(_ x: UnsafePointer<Float>, batch: Int, into y: UnsafeMutablePointer<Float>, scratch: UnsafeMutablePointer<Float>,
                        activation override: Activation? = nil) {
        let rowBytes = Int8Rows.rowBytes(inputCount)
        let scales = scratch
        (scratch + batch).withMemoryRebound(to: Int8.self, capacity: batch * rowBytes) { q in
            let nonNegative = Kernels.quantize(rows: batch, k: inputCount, x, rowStride: inputCount, into: q, scales: scales)
            Kernels.multiply(m: batch, a: Int8Rows(values: q, scales: scales, rowBytes: rowBytes, nonNegative: nonNegative), b: weights, bias: bias,
                             activation: override ?? activation, c: y, cRowStride: outputCount)
        }
    }
}
