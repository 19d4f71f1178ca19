import VAEKernelTypes

extension GemmKernel {
    /// `C[m × n] = A[m × k] · B`, then the epilogue, with B packed. The epilogue's `bias`, when given, must be
    /// readable for `panels × panelWidth` floats (pad it with zeros); `rowBias` is not supported here.
    ///
    /// Panels go in groups of four: a 6-row tile runs over each panel of the group in turn while the group
    /// stays in cache; a single row (batch 1, or the rows left over) takes all four panels at once, eight
    /// independent sums in flight. Every element of C is the same sequential sum over k whichever tile
    /// computes it, so a row's result does not depend on the batch size or on how rows are split.
    public static func multiply(m: Int, a: MatrixView, packed b: PackedMatrix, c: UnsafeMutablePointer<Float>, cRowStride: Int,
                                epilogue: GemmEpilogue = .overwrite) {
        switch b.element {
        case .f32: multiply(m: m, a: a, packed: b, b.storage.assumingMemoryBound(to: Float.self), c: c, cRowStride: cRowStride, epilogue: epilogue)
        #if !hasFeature(Embedded)
        case .f16: multiply(m: m, a: a, packed: b, b.storage.assumingMemoryBound(to: Half.self), c: c, cRowStride: cRowStride, epilogue: epilogue)
        #endif
        }
    }

    @inline(__always)
    static func multiply<W: GemmWeight>(m: Int, a: MatrixView, packed b: PackedMatrix, _ base: UnsafePointer<W>, c: UnsafeMutablePointer<Float>,
                                        cRowStride: Int, epilogue: GemmEpilogue) {
        let (k, ldc) = (b.rows, cRowStride)
        let panelSize = k * PackedMatrix.panelWidth
        let groupSize = 4
        // A sigmoid (or any activation with an exponential) runs as its own pass over each finished block
        // of rows: measured faster than in the tile epilogue, where its burst of work after each tile
        // stalls the next tile's multiply-adds.
        var tileEpilogue = epilogue
        let separate = epilogue.activation.isTranscendental && ldc == b.columns
        if separate { tileEpilogue.activation = .identity }
        // Blocks of panels that stay in L2 together (`panelsPerBlock`): every row tile runs over one block
        // before the next block starts. With one block, the activation pass follows each row tile; with
        // more, it runs once over all rows at the end (a tile's rows are finished only in the last block,
        // and the leftover tile below rewrites rows of the tile before it).
        let block = max(1, b.panelsPerBlock)
        let blocked = block < b.panels
        func rowTile(_ row: Int, panels: Range<Int>) {
            var q = panels.lowerBound
            #if VAERT_AVX512
            while q + 2 <= panels.upperBound {
                panelPairTile(row: row, panel: q, k: k, a: a, b: base + q * panelSize, panelSize: panelSize, columns: b.columns, c: c, ldc: ldc,
                              epilogue: tileEpilogue)
                q += 2
            }
            #endif
            while q < panels.upperBound {
                panelTile(row: row, panel: q, k: k, a: a, b: base + q * panelSize, columns: b.columns, c: c, ldc: ldc, epilogue: tileEpilogue)
                q += 1
            }
            if separate && !blocked { ActivationKernel.apply(epilogue.activation, c + row * ldc, count: tileRows * ldc) }
        }
        let wholeTiles = m / tileRows * tileRows
        // Leftover rows, fewer than a tile: when C is overwritten, one more tile ending at row m recomputes
        // a few rows with the very same sums (and rewrites them whole, before any activation pass), so
        // the weights stream once more instead of once per leftover row.
        let lastTile = m > wholeTiles && m >= tileRows && !epilogue.accumulate
        var first = 0
        while first < b.panels {
            let panels = first..<min(first + block, b.panels)
            var row = 0
            while row < wholeTiles {
                rowTile(row, panels: panels)
                row += tileRows
            }
            if lastTile { rowTile(m - tileRows, panels: panels) }
            first = panels.upperBound
        }
        if separate && blocked && wholeTiles > 0 {
            ActivationKernel.apply(epilogue.activation, c, count: (lastTile ? m : wholeTiles) * ldc)
        }
        if lastTile { return }
        var row = wholeTiles
        while row < m {
            var q = 0
            while q + groupSize <= b.panels {
                singleRowPanels(row: row, panel: q, k: k, a: a, b: base + q * panelSize, panelSize: panelSize,
                                columns: b.columns, c: c, ldc: ldc, epilogue: epilogue)
                q += groupSize
            }
            while q < b.panels {
                singleRowPanel(row: row, panel: q, k: k, a: a, b: base + q * panelSize, columns: b.columns, c: c, ldc: ldc, epilogue: epilogue)
                q += 1
            }
            row += 1
        }
    }

    /// Six rows × one panel: 12 accumulators, one panel row and six broadcasts per step of k.
    @inline(__always)
    static func panelTile<W: GemmWeight>(row: Int, panel: Int, k: Int, a: MatrixView, b: UnsafePointer<W>, columns: Int,
                                           c: UnsafeMutablePointer<Float>, ldc: Int, epilogue: GemmEpilogue) {
        let rs = a.rowStride, cs = a.columnStride
        var pa = a.base + row * rs
        var pb = b
        var c0 = WideVector(), c1 = WideVector(), c2 = WideVector(), c3 = WideVector(), c4 = WideVector(), c5 = WideVector()
        for _ in 0..<k {
            let bv = W.widened(pb, as: WideVector.self)
            c0 = multiplyAdd(c0, WideVector(repeating: pa[0]), bv)
            c1 = multiplyAdd(c1, WideVector(repeating: pa[rs]), bv)
            c2 = multiplyAdd(c2, WideVector(repeating: pa[2 * rs]), bv)
            c3 = multiplyAdd(c3, WideVector(repeating: pa[3 * rs]), bv)
            c4 = multiplyAdd(c4, WideVector(repeating: pa[4 * rs]), bv)
            c5 = multiplyAdd(c5, WideVector(repeating: pa[5 * rs]), bv)
            pa += cs
            pb += PackedMatrix.panelWidth
        }
        let column = panel * PackedMatrix.panelWidth
        finishPanel(c0, row: row, column: column, columns: columns, c: c, ldc: ldc, epilogue: epilogue)
        finishPanel(c1, row: row + 1, column: column, columns: columns, c: c, ldc: ldc, epilogue: epilogue)
        finishPanel(c2, row: row + 2, column: column, columns: columns, c: c, ldc: ldc, epilogue: epilogue)
        finishPanel(c3, row: row + 3, column: column, columns: columns, c: c, ldc: ldc, epilogue: epilogue)
        finishPanel(c4, row: row + 4, column: column, columns: columns, c: c, ldc: ldc, epilogue: epilogue)
        finishPanel(c5, row: row + 5, column: column, columns: columns, c: c, ldc: ldc, epilogue: epilogue)
    }

    #if VAERT_AVX512
    /// Six rows × two consecutive panels, the AVX-512 build's tile: 12 accumulators of 16 floats, two panel
    /// rows and six broadcasts per step of k. Each sum is the one `panelTile` computes.
    @inline(__always)
    static func panelPairTile<W: GemmWeight>(row: Int, panel: Int, k: Int, a: MatrixView, b: UnsafePointer<W>, panelSize: Int, columns: Int,
                                               c: UnsafeMutablePointer<Float>, ldc: Int, epilogue: GemmEpilogue) {
        let (sums, more) = sixRowsTwoStrips(k: k, a: a.base + row * a.rowStride, rowStride: a.rowStride, aStep: a.columnStride, b: b,
                                            stripOffset: panelSize, bStep: PackedMatrix.panelWidth)
        let column = panel * PackedMatrix.panelWidth, next = column + PackedMatrix.panelWidth
        for r in 0..<tileRows {
            finishPanel(sums[r], row: row + r, column: column, columns: columns, c: c, ldc: ldc, epilogue: epilogue)
            finishPanel(more[r], row: row + r, column: next, columns: columns, c: c, ldc: ldc, epilogue: epilogue)
        }
    }
    #endif

    /// One row × four consecutive panels (64 columns).
    @inline(__always)
    static func singleRowPanels<W: GemmWeight>(row: Int, panel: Int, k: Int, a: MatrixView, b: UnsafePointer<W>, panelSize: Int,
                                                 columns: Int, c: UnsafeMutablePointer<Float>, ldc: Int, epilogue: GemmEpilogue) {
        let (s0, s1, s2, s3) = fourStripRow(k: k, a: a.base + row * a.rowStride, aStep: a.columnStride, b: b, stripOffset: panelSize,
                                            bStep: PackedMatrix.panelWidth)
        let column = panel * PackedMatrix.panelWidth, w = PackedMatrix.panelWidth
        finishPanel(s0, row: row, column: column, columns: columns, c: c, ldc: ldc, epilogue: epilogue)
        finishPanel(s1, row: row, column: column + w, columns: columns, c: c, ldc: ldc, epilogue: epilogue)
        finishPanel(s2, row: row, column: column + 2 * w, columns: columns, c: c, ldc: ldc, epilogue: epilogue)
        finishPanel(s3, row: row, column: column + 3 * w, columns: columns, c: c, ldc: ldc, epilogue: epilogue)
    }

    @inline(__always)
    static func singleRowPanel<W: GemmWeight>(row: Int, panel: Int, k: Int, a: MatrixView, b: UnsafePointer<W>, columns: Int,
                                                c: UnsafeMutablePointer<Float>, ldc: Int, epilogue: GemmEpilogue) {
        var pa = a.base + row * a.rowStride
        var pb = b
        var s = WideVector()
        for _ in 0..<k {
            s = multiplyAdd(s, WideVector(repeating: pa[0]), W.widened(pb, as: WideVector.self))
            pa += a.columnStride
            pb += PackedMatrix.panelWidth
        }
        finishPanel(s, row: row, column: panel * PackedMatrix.panelWidth, columns: columns, c: c, ldc: ldc, epilogue: epilogue)
    }

    /// Stores a panel's sums for one row: straight into C when the panel is whole, else through a
    /// stack copy so that only the columns that exist are read and written.
    @inline(__always)
    static func finishPanel(_ acc: WideVector, row: Int, column: Int, columns: Int, c: UnsafeMutablePointer<Float>, ldc: Int,
                            epilogue: GemmEpilogue) {
        let out = c + row * ldc + column
        if columns - column >= PackedMatrix.panelWidth {
            epilogue.finish(acc, row: row, column: column, into: out)
        } else {
            finishPartialPanel(acc, row: row, column: column, valid: columns - column, out: out, epilogue: epilogue)
        }
    }

    /// The last panel of a matrix whose width is not a multiple of the panel width (kept out of line).
    @inline(never)
    static func finishPartialPanel(_ acc: WideVector, row: Int, column: Int, valid: Int, out: UnsafeMutablePointer<Float>,
                                   epilogue: GemmEpilogue) {
        var lanes = WideVector()
        withUnsafeMutableBytes(of: &lanes) { raw in
            let tmp = raw.baseAddress!.assumingMemoryBound(to: Float.self)
            if epilogue.accumulate { tmp.update(from: out, count: valid) }
            epilogue.finish(acc, row: row, column: column, into: tmp)
            out.update(from: tmp, count: valid)
        }
    }
}
