import VAECore

/// `Kernels.multiply` with the rows of C split across threads. Each element of C is the same sequential
/// sum whatever the split, so results do not depend on the thread count.
public enum ParallelGemm {
    /// Below this many multiply-adds a call is not worth splitting.
    static let minimumWorkPerThread = 1 << 18

    public static func multiply(
        m: Int, n: Int, k: Int, a: MatrixView, b: UnsafePointer<Float>, bRowStride: Int,
        c: UnsafeMutablePointer<Float>, cRowStride: Int, epilogue: GemmEpilogue = .overwrite, threads: Int
    ) {
        let useful = min(threads, max(1, m * n * k / minimumWorkPerThread), max(1, m / Kernels.tileRows))
        if useful <= 1 {
            Kernels.multiply(m: m, n: n, k: k, a: a, b: b, bRowStride: bRowStride, c: c, cRowStride: cRowStride, epilogue: epilogue)
            return
        }
        // Runs of whole 6-row tiles, so the split adds no leftover rows; they write disjoint rows of C.
        RowParallel.forEachRun(count: m, workers: useful, granule: Kernels.tileRows) { _, rows in
            var part = a
            part.base += rows.lowerBound * a.rowStride
            Kernels.multiply(m: rows.count, n: n, k: k, a: part, b: b, bRowStride: bRowStride,
                             c: c + rows.lowerBound * cRowStride, cRowStride: cRowStride, epilogue: epilogue)
        }
    }
}

extension ParallelGemm {
    /// The same with B packed (`Kernels.multiply(m:a:packed:...)`), rows of C split across threads in runs of
    /// whole tiles; the same bits for any split.
    static func multiply(m: Int, a: MatrixView, packed b: PackedMatrix, c: UnsafeMutablePointer<Float>, cRowStride: Int,
                         epilogue: GemmEpilogue = .overwrite, threads: Int) {
        let useful = min(threads, max(1, m * b.columns * b.rows / minimumWorkPerThread), max(1, m / Kernels.tileRows))
        RowParallel.forEachRun(count: m, workers: useful, granule: Kernels.tileRows) { _, rows in
            var part = a
            part.base += rows.lowerBound * a.rowStride
            Kernels.multiply(m: rows.count, a: part, packed: b, c: c + rows.lowerBound * cRowStride, cRowStride: cRowStride, epilogue: epilogue)
        }
    }
}
