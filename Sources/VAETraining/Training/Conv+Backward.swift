import VAECore

/// Scratch memory for convolution passes over a batch, allocated once by the trainer.
public final class ConvWorkspace: @unchecked Sendable {
    /// Per worker thread: scratch for one image's column matrix (the backward passes) or for the forward
    /// pass of the worker's run of images.
    let perThread: [FloatBuffer]
    /// Every image's column matrix, transposed ([positions × patch] each), for the weight gradient's one GEMM.
    let columnsT: FloatBuffer
    /// A batch permuted to channels-major [channels × (batch · positions)], or a batch's input gradient
    /// transposed (rows of window positions).
    let permuted: FloatBuffer
    /// A transposed convolution's weights, transposed.
    let weightsT: FloatBuffer

    public init(layers: [Layer], batch: Int, threads: Int) {
        let threads = max(threads, 1)
        let columns = layers.map(ConvWorkspace.columnFloats).max() ?? 0
        let forward = layers.map { $0.scratchFloats(batch: (batch + threads - 1) / threads) }.max() ?? 0
        perThread = (0..<threads).map { _ in FloatBuffer(count: max(columns, forward)) }
        columnsT = FloatBuffer(count: batch * columns)
        permuted = FloatBuffer(count: batch * (layers.map { max($0.inputCount, $0.outputCount) }.max() ?? 0))
        weightsT = FloatBuffer(count: layers.map(ConvWorkspace.transposedWeightFloats).max() ?? 0)
    }

    static func transposedWeightFloats(_ layer: Layer) -> Int {
        if case .convTranspose(let l) = layer { return l.input.channels * l.window.patchSize }
        return 0
    }

    /// Floats of one image's column matrix (patch × window positions): what the backward passes unfold into.
    static func columnFloats(_ layer: Layer) -> Int {
        switch layer {
        case .conv(let l): return l.window.patchSize * l.window.positions
        case .convTranspose(let l): return l.window.patchSize * l.window.positions
        default: return 0
        }
    }

    /// Runs `body(images, scratch)` over the batch split into contiguous runs of images across threads.
    func forEachRun(_ batch: Int, _ body: (Range<Int>, UnsafeMutablePointer<Float>) -> Void) {
        RowParallel.forEachRun(count: batch, workers: threads) { worker, images in body(images, perThread[worker].pointer) }
    }

    var threads: Int { perThread.count }

    /// Runs `body(image, scratch)` for every image, the images split into contiguous runs across threads.
    /// Each image's work is independent, so results do not depend on the split.
    func forEachImage(_ batch: Int, _ body: (Int, UnsafeMutablePointer<Float>) -> Void) {
        RowParallel.forEachRun(count: batch, workers: threads) { worker, images in
            for b in images { body(b, perThread[worker].pointer) }
        }
    }

    /// permuted[c, b·P + p] = source[b, c, p]: a batch of [channels × P] images side by side.
    func permute(_ source: UnsafePointer<Float>, batch: Int, channels: Int, positions: Int) {
        let row = batch * positions
        for b in 0..<batch {
            for c in 0..<channels {
                (permuted.pointer + c * row + b * positions).update(from: source + (b * channels + c) * positions, count: positions)
            }
        }
    }
}

/// Backward passes of the convolution layers, on the shared GEMM and im2col / col2im.
///
/// Weight gradients are one GEMM over the whole batch (the batch's columns side by side), so each
/// element is one sequential sum whatever the number of threads.
public enum ConvBackward {
    /// Conv2d: dW = Σ_b dY_b · col(x_b)ᵀ, db = Σ dY, dX_b = col2im(Wᵀ · dY_b).
    public static func conv(_ l: ConvLayer, x: UnsafePointer<Float>, dY: UnsafePointer<Float>, batch: Int, dW: UnsafeMutablePointer<Float>,
                            db: UnsafeMutablePointer<Float>, dX: UnsafeMutablePointer<Float>?, work: ConvWorkspace) {
        let g = l.window
        let (oc, positions, patch) = (l.output.channels, g.positions, g.patchSize)
        channelSums(dY, batch: batch, channels: oc, positions: positions, into: db)
        let columnsT = work.columnsT.pointer
        work.forEachImage(batch) { b, _ in g.im2row(x + b * l.input.count, into: columnsT + b * positions * patch) }
        work.permute(dY, batch: batch, channels: oc, positions: positions)
        ParallelGemm.multiply(m: oc, n: patch, k: batch * positions, a: MatrixView(work.permuted.pointer, rowStride: batch * positions),
                              b: columnsT, bRowStride: patch, c: dW, cRowStride: patch, threads: work.threads)
        guard let dX else { return }
        work.forEachImage(batch) { b, scratch in
            Kernels.multiply(m: patch, n: positions, k: oc, a: MatrixView(l.weights.trained, rowStride: 1, columnStride: patch),
                          b: dY + b * l.output.count, bRowStride: positions, c: scratch, cRowStride: positions)
            let image = dX + b * l.input.count
            image.update(repeating: 0, count: l.input.count)
            g.col2im(scratch, addingInto: image)
        }
    }

    /// ConvTranspose2d (forward: cols = Wᵀ·x_b, y_b = col2im(cols) + b): dCols_b = im2col(dY_b),
    /// dX_b = W · dCols_b, dW = Σ_b x_b · dCols_bᵀ, db = Σ dY. The batch's dCols are unfolded once,
    /// transposed (`im2row`, [positions × patch] per image), for both GEMMs: dW's, and dXᵀ = dColsᵀ · Wᵀ over
    /// the whole batch, whose rows are then transposed back image by image. Every element is the same
    /// sequential sum over the patch as W · dCols_b, whatever the split.
    public static func convTranspose(_ l: ConvTransposeLayer, x: UnsafePointer<Float>, dY: UnsafePointer<Float>, batch: Int,
                                     dW: UnsafeMutablePointer<Float>, db: UnsafeMutablePointer<Float>, dX: UnsafeMutablePointer<Float>?,
                                     work: ConvWorkspace) {
        let g = l.window
        let (ic, positions, patch) = (l.input.channels, g.positions, g.patchSize)
        channelSums(dY, batch: batch, channels: l.output.channels, positions: l.output.height * l.output.width, into: db)
        let columnsT = work.columnsT.pointer
        work.forEachImage(batch) { b, _ in g.im2row(dY + b * l.output.count, into: columnsT + b * positions * patch) }
        work.permute(x, batch: batch, channels: ic, positions: positions)
        ParallelGemm.multiply(m: ic, n: patch, k: batch * positions, a: MatrixView(work.permuted.pointer, rowStride: batch * positions),
                              b: columnsT, bRowStride: patch, c: dW, cRowStride: patch, threads: work.threads)
        guard let dX else { return }
        let weightsT = work.weightsT.pointer, rowsT = work.permuted.pointer
        DenseBackward.transpose(l.weights.trained, rows: ic, columns: patch, into: weightsT)
        ParallelGemm.multiply(m: batch * positions, n: ic, k: patch, a: MatrixView(columnsT, rowStride: patch), b: weightsT, bRowStride: ic,
                              c: rowsT, cRowStride: ic, threads: work.threads)
        work.forEachImage(batch) { b, _ in
            DenseBackward.transpose(rowsT + b * positions * ic, rows: positions, columns: ic, into: dX + b * l.input.count)
        }
    }

    /// out[c] = Σ_b Σ_p values[b, c, p].
    static func channelSums(_ values: UnsafePointer<Float>, batch: Int, channels: Int, positions: Int, into out: UnsafeMutablePointer<Float>) {
        out.update(repeating: 0, count: channels)
        for b in 0..<batch {
            for c in 0..<channels {
                let p = values + (b * channels + c) * positions
                var s: Float = 0
                for i in 0..<positions { s += p[i] }
                out[c] += s
            }
        }
    }
}

extension ConvWeights {
    /// The f32 weights of a layer being trained (the trainer builds its layers over its own f32 parameters).
    var trained: UnsafePointer<Float> {
        guard let floats else { preconditionFailure("a convolution being trained holds f32 weights") }
        return floats
    }
}
