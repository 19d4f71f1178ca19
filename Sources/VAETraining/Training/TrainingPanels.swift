import VAECore

/// The trainer's dense weights in the packed GEMM's panel layout, W for the forward pass and Wᵀ for the
/// backward pass's dX = dY·Wᵀ, repacked from the network's flat parameters before each pass that reads
/// them. The packed GEMM computes the very sums of the strided one (each element the same sequential sum
/// over k), so training gives the same bits; it streams contiguous panels instead of rows of B, and Wᵀ
/// replaces the transpose the backward pass made per step.
final class TrainingPanels: @unchecked Sendable {
    struct Packed {
        let weights: PackedMatrix
        /// The bias zero-padded to whole panels, as the packed GEMM's epilogue reads it.
        let bias: UnsafeMutablePointer<Float>
        /// Wᵀ [outputs × inputs], for the layers whose input gradient is needed.
        let transposed: PackedMatrix?
    }

    /// Per layer of the network; nil for the layers that keep the strided GEMM.
    private(set) var layers: [Packed?]
    private let buffers: [FloatBuffer]

    /// Packs the dense layers for which `WeightPacking`'s rule says packing pays; `needsInputGradient(l)`
    /// says whether layer l's Wᵀ is needed.
    init(_ net: Network, needsInputGradient: (Int) -> Bool) {
        var layers: [Packed?] = []
        var buffers: [FloatBuffer] = []
        for (l, spec) in net.specs.enumerated() {
            guard spec.kind == .dense, Self.pays(inputs: spec.inputs, outputs: spec.outputs) else {
                layers.append(nil)
                continue
            }
            let (k, n) = (spec.inputs, spec.outputs)
            let weights = FloatBuffer(count: PackedMatrix.elementCount(rows: k, columns: n))
            let bias = FloatBuffer(count: PackedMatrix.panels(n) * PackedMatrix.panelWidth)
            var packed = PackedMatrix(rows: k, columns: n, values: weights.pointer)
            packed.panelsPerBlock = Kernels.panelsPerBlock(rows: k, elementBytes: 4)
            buffers += [weights, bias]
            var transposed: PackedMatrix?
            if needsInputGradient(l) {
                let t = FloatBuffer(count: PackedMatrix.elementCount(rows: n, columns: k))
                buffers.append(t)
                transposed = PackedMatrix(rows: n, columns: k, values: t.pointer)
                transposed!.panelsPerBlock = Kernels.panelsPerBlock(rows: n, elementBytes: 4)
            }
            layers.append(Packed(weights: packed, bias: bias.pointer, transposed: transposed))
        }
        self.layers = layers
        self.buffers = buffers
    }

    /// The runtime's rule (large layers only), which the trainer's shapes measured the same way.
    static func pays(inputs: Int, outputs: Int) -> Bool { inputs * outputs >= 1 << 16 }

    /// Repacks W and the bias of `indices` from `net`, panels split across threads.
    func refreshForward(_ net: Network, _ indices: [Int], threads: Int) {
        for l in indices {
            guard let p = layers[l] else { continue }
            let (k, n) = (p.weights.rows, p.weights.columns)
            let source = UnsafePointer(net.weights(l))
            let target = UnsafeMutablePointer(mutating: p.weights.storage.assumingMemoryBound(to: Float.self))
            RowParallel.forEachRun(count: p.weights.panels, workers: Self.workers(k * n, threads)) { _, panels in
                Self.pack(source, k: k, n: n, rowStride: n, columnStride: 1, into: target, only: panels)
            }
            p.bias.update(from: net.bias(l), count: n)
            (p.bias + n).update(repeating: 0, count: p.weights.panels * PackedMatrix.panelWidth - n)
        }
    }

    /// Repacks every layer's Wᵀ from `net`.
    func refreshTransposed(_ net: Network, threads: Int) {
        for l in layers.indices {
            guard let p = layers[l], let t = p.transposed else { continue }
            let source = UnsafePointer(net.weights(l))
            let target = UnsafeMutablePointer(mutating: t.storage.assumingMemoryBound(to: Float.self))
            RowParallel.forEachRun(count: t.panels, workers: Self.workers(t.rows * t.columns, threads)) { _, panels in
                Self.pack(source, k: t.rows, n: t.columns, rowStride: 1, columnStride: t.rows, into: target, only: panels)
            }
        }
    }

    /// Packs panels `panels` of the k × n matrix M, M[r][c] = source[r · rowStride + c · columnStride], into
    /// `PackedMatrix.pack`'s layout (zeros past the last column): W is (k = inputs, rowStride = outputs,
    /// columnStride = 1), a whole panel row per vector copy; Wᵀ is (k = outputs, rowStride = 1, columnStride
    /// = outputs), each panel reading 16 rows of W side by side, front to back, so no blocking is needed.
    static func pack(_ source: UnsafePointer<Float>, k: Int, n: Int, rowStride: Int, columnStride: Int,
                     into packed: UnsafeMutablePointer<Float>, only panels: Range<Int>) {
        let width = PackedMatrix.panelWidth
        for panel in panels {
            let first = panel * width
            let count = min(width, n - first)
            let out = packed + panel * k * width
            for r in 0..<k {
                let (from, row) = (source + r * rowStride + first * columnStride, out + r * width)
                if count == width && columnStride == 1 {
                    UnsafeMutableRawPointer(row).storeBytes(of: UnsafeRawPointer(from).loadUnaligned(as: SIMD16<Float>.self), as: SIMD16<Float>.self)
                } else {
                    for j in 0..<count { row[j] = from[j * columnStride] }
                    for j in count..<width { row[j] = 0 }
                }
            }
        }
    }

    /// Threads worth starting for a copy of `floats` floats.
    private static func workers(_ floats: Int, _ threads: Int) -> Int { max(1, min(threads, floats / (1 << 16))) }
}
