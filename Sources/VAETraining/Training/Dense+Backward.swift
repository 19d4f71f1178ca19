import VAECore

/// Backward pass of `DenseLayer.forward` (y = x·W + b, before activation), on the shared GEMM.
public enum DenseBackward {
    /// Given dY (batch × out), writes dW = xᵀ·dY (in × out) and db = Σ_rows dY, and when `dx` is given,
    /// dX = dY·Wᵀ (batch × in): on `transposed` (Wᵀ packed) when given, else on a transpose of W into
    /// `transposeScratch` (out × in floats). The same bits either way.
    public static func backward(
        layer: DenseLayer, x: UnsafePointer<Float>, dY: UnsafePointer<Float>, batch: Int,
        dW: UnsafeMutablePointer<Float>, db: UnsafeMutablePointer<Float>,
        dX: UnsafeMutablePointer<Float>?, transposeScratch: UnsafeMutablePointer<Float>, transposed: PackedMatrix? = nil, threads: Int
    ) {
        let n = layer.inputCount
        let m = layer.outputCount
        // dW[in × out] = xᵀ[in × batch] · dY[batch × out]: A is x read transposed through its strides.
        ParallelGemm.multiply(m: n, n: m, k: batch, a: MatrixView(x, rowStride: 1, columnStride: n),
                              b: dY, bRowStride: m, c: dW, cRowStride: m, threads: threads)
        db.update(repeating: 0, count: m)
        for r in 0..<batch {
            let row = dY + r * m
            for j in 0..<m { db[j] += row[j] }
        }
        guard let dX else { return }
        if let transposed {
            ParallelGemm.multiply(m: batch, a: MatrixView(dY, rowStride: m), packed: transposed, c: dX, cRowStride: n, threads: threads)
            return
        }
        transpose(layer.weights, rows: n, columns: m, into: transposeScratch, threads: threads)
        ParallelGemm.multiply(m: batch, n: n, k: m, a: MatrixView(dY, rowStride: m),
                              b: transposeScratch, bRowStride: n, c: dX, cRowStride: n, threads: threads)
    }

    /// Multiplies a gradient by the derivative of `activation`, read from the activation's output y:
    /// ReLU: (y > 0); sigmoid: y(1 − y); leaky ReLU: slope where y < 0 (a positive slope keeps the sign);
    /// tanh: 1 − y²; ELU: y + α where y ≤ 0 (α·e^x); identity: 1. SiLU's derivative needs the input, which
    /// the trainer does not keep: `Activation.trainable` says which it can train.
    public static func activationBackward(_ activation: Activation, _ d: UnsafeMutablePointer<Float>, output y: UnsafePointer<Float>, count: Int) {
        switch activation {
        case .identity: return
        case .relu: for i in 0..<count where y[i] <= 0 { d[i] = 0 }
        case .sigmoid: for i in 0..<count { d[i] *= y[i] * (1 - y[i]) }
        case .leakyRelu(let slope): for i in 0..<count where y[i] < 0 { d[i] *= slope }
        case .tanh: for i in 0..<count { d[i] *= 1 - y[i] * y[i] }
        case .elu(let alpha): for i in 0..<count where y[i] <= 0 { d[i] *= y[i] + alpha }
        case .silu: preconditionFailure("the trainer keeps no pre-activations: SiLU is not trainable (Activation.trainable)")
        }
    }

    /// out[c × r] = in[r × c]ᵀ, in 32 × 32 blocks to stay in cache, bands of rows split across threads.
    public static func transpose(_ a: UnsafePointer<Float>, rows: Int, columns: Int, into out: UnsafeMutablePointer<Float>, threads: Int = 1) {
        let block = 32
        let bands = (rows + block - 1) / block
        let workers = max(1, min(threads, bands, rows * columns / (1 << 16)))
        RowParallel.forEachRun(count: bands, workers: workers) { _, run in
            for band in run {
                let r0 = band * block
                for c0 in stride(from: 0, to: columns, by: block) {
                    for r in r0..<min(r0 + block, rows) {
                        for c in c0..<min(c0 + block, columns) { out[c * rows + r] = a[r * columns + c] }
                    }
                }
            }
        }
    }
}
