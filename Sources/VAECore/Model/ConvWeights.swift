/// Where a convolution's weights are. A trainer's layer and a copied model's hold f32 (`floats`). A model
/// used in place keeps a file's f16 or int8 tensor where it lies (`stored`): the layer then widens its
/// GEMM's weight operand into scratch a block of `blockRows` rows at a time, to the very f32 values a copy
/// would hold (`TensorEncoding.element`). The rows of a GEMM are independent sums, so the outputs have
/// the same bits as the copied model's, and no copy of the weights exists.
public enum ConvWeights: @unchecked Sendable {
    case floats(UnsafePointer<Float>)
    case stored(StoredTensor)

    /// Rows of the weight operand widened at a time: four GEMM tiles.
    public static var blockRows: Int { 4 * Kernels.tileRows }

    /// The f32 weights; nil for a stored tensor.
    public var floats: UnsafePointer<Float>? {
        if case .floats(let p) = self { return p }
        return nil
    }

    /// Floats of staging `multiply` needs for an operand of m rows of k: none for f32 weights.
    public func stagingFloats(m: Int, k: Int) -> Int {
        if case .stored = self { return min(ConvWeights.blockRows, m) * k }
        return 0
    }

    /// `C[m × n] = A · B`, then the epilogue, where A [m × k] is rows `firstRow ..< firstRow + m` of the
    /// weights read with strides: A(r, j) is element `(firstRow + r) · rowStride + j · columnStride` of the
    /// tensor. `staging` holds `stagingFloats(m:k:)` floats.
    func multiply(firstRow: Int = 0, m: Int, n: Int, k: Int, rowStride: Int, columnStride: Int, b: UnsafePointer<Float>,
                  c: UnsafeMutablePointer<Float>, epilogue: GemmEpilogue, staging: UnsafeMutablePointer<Float>) {
        switch self {
        case .floats(let w):
            Kernels.multiply(m: m, n: n, k: k, a: MatrixView(w + firstRow * rowStride, rowStride: rowStride, columnStride: columnStride), b: b,
                             bRowStride: n, c: c, cRowStride: n, epilogue: epilogue)
        case .stored(let tensor):
            var first = 0
            while first < m {
                let rows = min(ConvWeights.blockRows, m - first)
                for r in 0..<rows {
                    tensor.widen(from: (firstRow + first + r) * rowStride, stride: columnStride, count: k, into: staging + r * k)
                }
                var block = epilogue
                block.rowBias = epilogue.rowBias.map { $0 + first }
                Kernels.multiply(m: rows, n: n, k: k, a: MatrixView(staging, rowStride: k), b: b, bRowStride: n, c: c + first * n, cRowStride: n,
                                 epilogue: block)
                first += rows
            }
        }
    }
}

/// A file's tensor in f16, or int8 with one scale per channel (`q8Dim0` / `q8Dim1`), read where it lies.
public struct StoredTensor: @unchecked Sendable {
    public let bytes: UnsafeRawPointer
    public let type: ElementType
    let channels: Int
    let inner: Int

    /// `bytes` hold a valid tensor of shape `dims` and type `type` (f16, q8Dim0 or q8Dim1).
    public init(bytes: UnsafeRawPointer, dims: TensorDims, type: ElementType) {
        precondition(type == .f16 || type == .q8Dim0 || type == .q8Dim1, "a stored convolution tensor is f16 or per-channel int8")
        self.bytes = bytes
        self.type = type
        (channels, inner) = type == .f16 ? (1, dims.elementCount) : TensorEncoding.channelLayout(dims, type)
    }

    /// Elements `start + j · stride` (j < count) as f32, into `out`: the values `TensorEncoding.decode` gives.
    /// The elements are one row of a convolution's weight operand, which is one output channel (Conv2d's
    /// weight [outC, inC, kH, kW] along a row; ConvTranspose2d's [inC, outC, kH, kW] down a column), so
    /// they share one int8 scale: found once, with no division per element.
    func widen(from start: Int, stride: Int, count: Int, into out: UnsafeMutablePointer<Float>) {
        if type == .f16 {
            for j in 0..<count { out[j] = TensorEncoding.element(start + j * stride, of: bytes, type: type, channels: 1, inner: inner) }
            return
        }
        let channel = (start / inner) % channels
        let scale = Float(bitPattern: UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: 4 * channel, as: UInt32.self)))
        let values = bytes + 4 * channels
        for j in 0..<count { out[j] = scale * Float(Int8(bitPattern: values.load(fromByteOffset: start + j * stride, as: UInt8.self))) }
    }
}
