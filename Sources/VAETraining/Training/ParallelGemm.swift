import Dispatch
import VAECore

/// `Gemm.multiply` with the rows of C split across threads. Each element of C is the same sequential
/// sum whatever the split, so results do not depend on the thread count.
public enum ParallelGemm {
    /// Below this many multiply-adds a call is not worth splitting.
    static let minimumWorkPerThread = 1 << 18

    public static func multiply(
        m: Int, n: Int, k: Int, a: MatrixView, b: UnsafePointer<Float>, bRowStride: Int,
        c: UnsafeMutablePointer<Float>, cRowStride: Int, epilogue: GemmEpilogue = .overwrite, threads: Int
    ) {
        let useful = min(threads, max(1, m * n * k / minimumWorkPerThread), max(1, m / Gemm.tileRows))
        if useful <= 1 {
            Gemm.multiply(m: m, n: n, k: k, a: a, b: b, bRowStride: bRowStride, c: c, cRowStride: cRowStride, epilogue: epilogue)
            return
        }
        // Chunks of whole 6-row tiles, so the split adds no leftover rows.
        let tiles = (m + Gemm.tileRows - 1) / Gemm.tileRows
        let tilesPerChunk = (tiles + useful - 1) / useful
        // The chunks write disjoint rows of C and only read A and B.
        nonisolated(unsafe) let (a, b, c) = (a, b, c)
        DispatchQueue.concurrentPerform(iterations: useful) { chunk in
            let first = chunk * tilesPerChunk * Gemm.tileRows
            let rows = min(m, first + tilesPerChunk * Gemm.tileRows) - first
            guard rows > 0 else { return }
            var part = a
            part.base += first * a.rowStride
            Gemm.multiply(m: rows, n: n, k: k, a: part, b: b, bRowStride: bRowStride,
                          c: c + first * cRowStride, cRowStride: cRowStride, epilogue: epilogue)
        }
    }
}
