/// A VQ-VAE's codebook over borrowed memory: K code vectors of D values, [K, D] row-major (PyTorch's
/// `nn.Embedding` weight). Its input and output are a D × H × W grid (channels first); `forward` replaces
/// each position's D-vector by its nearest code vector (squared distance; the lowest index on a tie).
///
/// The distances come from one GEMM per image: scores[K × HW] = E[K × D] · x[D × HW] (the image's
/// channels-first values are that matrix already), and ‖x − e_k‖² = ‖x‖² − 2 e_k·x + ‖e_k‖², of which
/// the argmin needs ‖e_k‖² − 2 e_k·x only.
public struct CodebookLayer: @unchecked Sendable {
    public let grid: Shape3
    public let codes: Int
    public let vectors: UnsafePointer<Float>

    public init(grid: Shape3, codes: Int, vectors: UnsafePointer<Float>) {
        self.grid = grid
        self.codes = codes
        self.vectors = vectors
    }

    public var dimension: Int { grid.channels }
    /// Code indices per image: one per grid position.
    public var positions: Int { grid.height * grid.width }

    /// Scratch floats `nearest` needs: the norms and one image's scores.
    public var nearestScratchFloats: Int { codes + codes * positions }
    /// Scratch floats `forward` needs: `nearest`'s, then one image's indices.
    public func scratchFloats(batch: Int) -> Int { nearestScratchFloats + positions }

    /// The index of the nearest code vector at each position of `batch` grids of `x` into `indices`
    /// (batch × positions).
    public func nearest(_ x: UnsafePointer<Float>, batch: Int, into indices: UnsafeMutablePointer<Int32>, scratch: UnsafeMutablePointer<Float>) {
        let (d, hw, k) = (dimension, positions, codes)
        let norms = scratch, scores = scratch + k
        for c in 0..<k {
            var s: Float = 0
            for j in 0..<d { s += vectors[c * d + j] * vectors[c * d + j] }
            norms[c] = s
        }
        for image in 0..<batch {
            let grid = x + image * d * hw
            Kernels.multiply(m: k, n: hw, k: d, a: MatrixView(vectors, rowStride: d), b: grid, bRowStride: hw, c: scores, cRowStride: hw)
            for p in 0..<hw {
                var best = 0, bestScore = norms[0] - 2 * scores[p]
                for c in 1..<k {
                    let score = norms[c] - 2 * scores[c * hw + p]
                    if score < bestScore { (best, bestScore) = (c, score) }
                }
                indices[image * hw + p] = Int32(best)
            }
        }
    }

    /// Writes code vector `indices[i]` at position i of each of `batch` grids (indices already checked).
    public func lookup(_ indices: UnsafePointer<Int32>, batch: Int, into y: UnsafeMutablePointer<Float>) {
        let (d, hw) = (dimension, positions)
        for image in 0..<batch {
            for p in 0..<hw {
                let code = vectors + Int(indices[image * hw + p]) * d
                for j in 0..<d { y[image * d * hw + j * hw + p] = code[j] }
            }
        }
    }

    /// Quantises `batch` grids: each position's vector becomes its nearest code vector, one image at a
    /// time (the indices go in the scratch past the scores).
    public func forward(_ x: UnsafePointer<Float>, batch: Int, into y: UnsafeMutablePointer<Float>, scratch: UnsafeMutablePointer<Float>) {
        let (d, hw) = (dimension, positions)
        (scratch + nearestScratchFloats).withMemoryRebound(to: Int32.self, capacity: hw) { indices in
            for image in 0..<batch {
                nearest(x + image * d * hw, batch: 1, into: indices, scratch: scratch)
                lookup(indices, batch: 1, into: y + image * d * hw)
            }
        }
    }
}
