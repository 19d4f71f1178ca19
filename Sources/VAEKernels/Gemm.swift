import VAEKernelTypes

/// How this build applies an epilogue to a finished tile.
extension GemmEpilogue {
    @inline(__always)
    func finish<V: KernelVector>(_ acc: V, row: Int, column: Int, into p: UnsafeMutablePointer<Float>) {
        var v = acc
        if accumulate { v += load(p, as: V.self) }
        if let bias { v += load(bias + column, as: V.self) }
        if let rowBias { v += V(repeating: rowBias[row]) }
        store(V.activated(v, activation), to: p)
    }

    @inline(__always)
    func finish(_ acc: Float, row: Int, column: Int, into p: UnsafeMutablePointer<Float>) {
        var v = acc
        if accumulate { v += p.pointee }
        if let bias { v += bias[column] }
        if let rowBias { v += rowBias[row] }
        p.pointee = ActivationKernel.scalar(activation, v)
    }
}

/// Single-precision matrix multiply, one instruction set's build (VAECore's `Kernels` picks the build for this CPU): `C[m×n] = A[m×k] · B[k×n]`, then the epilogue
/// (optional accumulate into C, bias per column, activation).
///
/// A may be strided either way (so Aᵀ·B costs no copy); B and C are row-major with unit column stride,
/// which is what the vector loads stream. The inner tile is 6 rows × 16 columns: 12 accumulators,
/// two B loads and six broadcasts per step of k, within the 16 AVX2 registers. The AVX-512 build runs
/// 6 rows × 32 columns first: the same 12 accumulators, each a 512-bit register.
///
/// Every element of C is the same sequential sum over k whatever tile computes it, so results are
/// bit-identical for any batch size or split of rows across threads.
public enum GemmKernel {
    public static let tileRows = 6

    /// `columnBlock`: how many columns of B every row tile runs over before the next columns start (a
    /// multiple of 16; VAECore's `Kernels` sizes it to the L2 cache). Blocks change no sum.
    public static func multiply(
        m: Int, n: Int, k: Int,
        a: MatrixView,
        b: UnsafePointer<Float>, bRowStride: Int,
        c: UnsafeMutablePointer<Float>, cRowStride: Int,
        epilogue: GemmEpilogue = .overwrite, columnBlock: Int = .max
    ) {
        blocked(m: m, n: n, k: k, a: a, b: b, bRowStride: bRowStride, c: c, cRowStride: cRowStride, epilogue: epilogue, columnBlock: columnBlock)
    }

    /// The same with B in f16 (a file's weights where they lie), widened as it is loaded: the same sums as
    /// f32 weights of the same values.
    public static func multiply(
        m: Int, n: Int, k: Int,
        a: MatrixView,
        b: UnsafePointer<Half>, bRowStride: Int,
        c: UnsafeMutablePointer<Float>, cRowStride: Int,
        epilogue: GemmEpilogue = .overwrite, columnBlock: Int = .max
    ) {
        blocked(m: m, n: n, k: k, a: a, b: b, bRowStride: bRowStride, c: c, cRowStride: cRowStride, epilogue: epilogue, columnBlock: columnBlock)
    }

    /// `product` over blocks of `columnBlock` columns of B, so that a block stays in cache while every row
    /// tile runs over it (B streams once, not once per six rows). One block when there is one row tile.
    @inline(__always)
    static func blocked<W: GemmWeight>(
        m: Int, n: Int, k: Int, a: MatrixView, b: UnsafePointer<W>, bRowStride: Int,
        c: UnsafeMutablePointer<Float>, cRowStride: Int, epilogue: GemmEpilogue, columnBlock: Int
    ) {
        // One call of `product` per build (it is inlined: one copy of the tiles per weight type).
        #if VAERT_COMPACT_KERNELS
        product(m: m, n: n, k: k, a: a, b: b, bRowStride: bRowStride, c: c, cRowStride: cRowStride, epilogue: epilogue)
        #else
        let block = max(WideVector.scalarCount, columnBlock / WideVector.scalarCount * WideVector.scalarCount)
        let width = m > tileRows && block < n ? block : n
        var first = 0
        while first < n {
            var part = epilogue
            part.bias = epilogue.bias.map { $0 + first }
            product(m: m, n: min(width, n - first), k: k, a: a, b: b + first, bRowStride: bRowStride, c: c + first, cRowStride: cRowStride, epilogue: part)
            first += width
        }
        #endif
    }

    @inline(__always)
    static func product<W: GemmWeight>(
        m: Int, n: Int, k: Int, a: MatrixView, b: UnsafePointer<W>, bRowStride: Int,
        c: UnsafeMutablePointer<Float>, cRowStride: Int, epilogue: GemmEpilogue
    ) {
        #if VAERT_COMPACT_KERNELS
        // Cores without SIMD units (Cortex-M, RV32, wasm32 without simd128) would emulate the tiles lane by
        // lane in a lot of code: scalar registers are smaller, and as fast there.
        compactProduct(m: m, n: n, k: k, a: a, b: b, bRowStride: bRowStride, c: c, cRowStride: cRowStride, epilogue: epilogue)
        #else
        var row = 0
        while row + tileRows <= m {
            rowBlock(rows: tileRows, row: row, n: n, k: k, a: a, b: b, ldb: bRowStride, c: c, ldc: cRowStride, epilogue: epilogue)
            row += tileRows
        }
        // Leftover rows, fewer than a tile: when C is overwritten, one more tile ending at row m recomputes
        // a few rows with the very same sums (the epilogue works on the sums, so rewriting is harmless);
        // B then streams once more instead of once per leftover row.
        if row < m && m >= tileRows && !epilogue.accumulate {
            rowBlock(rows: tileRows, row: m - tileRows, n: n, k: k, a: a, b: b, ldb: bRowStride, c: c, ldc: cRowStride, epilogue: epilogue)
            return
        }
        while row < m {
            rowBlock(rows: 1, row: row, n: n, k: k, a: a, b: b, ldb: bRowStride, c: c, ldc: cRowStride, epilogue: epilogue)
            row += 1
        }
        #endif
    }

    @inline(__always)
    static func rowBlock<W: GemmWeight>(
        rows: Int, row: Int, n: Int, k: Int, a: MatrixView, b: UnsafePointer<W>, ldb: Int,
        c: UnsafeMutablePointer<Float>, ldc: Int, epilogue: GemmEpilogue
    ) {
        var column = 0
        #if VAERT_AVX512
        if rows == tileRows {
            while column + 2 * WideVector.scalarCount <= n {
                tilePair(row: row, column: column, k: k, a: a, b: b, ldb: ldb, c: c, ldc: ldc, epilogue: epilogue)
                column += 2 * WideVector.scalarCount
            }
        }
        #endif
        if rows == 1 {
            while column + 4 * WideVector.scalarCount <= n {
                singleRowWideTile(row: row, column: column, k: k, a: a, b: b, ldb: ldb, c: c, ldc: ldc, epilogue: epilogue)
                column += 4 * WideVector.scalarCount
            }
        }
        while column + WideVector.scalarCount <= n {
            tile(WideVector.self, rows: rows, row: row, column: column, k: k, a: a, b: b, ldb: ldb, c: c, ldc: ldc, epilogue: epilogue)
            column += WideVector.scalarCount
        }
        while column + Vector.scalarCount <= n {
            tile(Vector.self, rows: rows, row: row, column: column, k: k, a: a, b: b, ldb: ldb, c: c, ldc: ldc, epilogue: epilogue)
            column += Vector.scalarCount
        }
        // Leftover columns, fewer than one vector: when C is overwritten, one more vector tile ending at
        // column n recomputes a few columns with the very same sums; otherwise scalar.
        if column < n && n >= Vector.scalarCount && !epilogue.accumulate {
            tile(Vector.self, rows: rows, row: row, column: n - Vector.scalarCount, k: k, a: a, b: b, ldb: ldb, c: c, ldc: ldc, epilogue: epilogue)
            return
        }
        for r in row..<(row + rows) {
            for j in column..<n {
                var acc: Float = 0
                for p in 0..<k { acc += a[r, p] * b[p * ldb + j].float }
                epilogue.finish(acc, row: r, column: j, into: c + r * ldc + j)
            }
        }
    }

    @inline(__always)
    static func tile<V: KernelVector, W: GemmWeight>(
        _: V.Type, rows: Int, row: Int, column: Int, k: Int, a: MatrixView, b: UnsafePointer<W>, ldb: Int,
        c: UnsafeMutablePointer<Float>, ldc: Int, epilogue: GemmEpilogue
    ) where V.Scalar == Float {
        let rs = a.rowStride
        let cs = a.columnStride
        var pa = a.base + row * rs
        var pb = b + column
        if rows == tileRows {
            var c0 = V(), c1 = V(), c2 = V(), c3 = V(), c4 = V(), c5 = V()
            for _ in 0..<k {
                let bv = W.widened(pb, as: V.self)
                c0 = multiplyAdd(c0, V(repeating: pa[0]), bv)
                c1 = multiplyAdd(c1, V(repeating: pa[rs]), bv)
                c2 = multiplyAdd(c2, V(repeating: pa[2 * rs]), bv)
                c3 = multiplyAdd(c3, V(repeating: pa[3 * rs]), bv)
                c4 = multiplyAdd(c4, V(repeating: pa[4 * rs]), bv)
                c5 = multiplyAdd(c5, V(repeating: pa[5 * rs]), bv)
                pa += cs
                pb += ldb
            }
            let out = c + row * ldc + column
            epilogue.finish(c0, row: row + 0, column: column, into: out)
            epilogue.finish(c1, row: row + 1, column: column, into: out + ldc)
            epilogue.finish(c2, row: row + 2, column: column, into: out + 2 * ldc)
            epilogue.finish(c3, row: row + 3, column: column, into: out + 3 * ldc)
            epilogue.finish(c4, row: row + 4, column: column, into: out + 4 * ldc)
            epilogue.finish(c5, row: row + 5, column: column, into: out + 5 * ldc)
        } else {
            var s0 = V()
            for _ in 0..<k {
                s0 = multiplyAdd(s0, V(repeating: pa[0]), W.widened(pb, as: V.self))
                pa += cs
                pb += ldb
            }
            epilogue.finish(s0, row: row, column: column, into: c + row * ldc + column)
        }
    }

    #if VAERT_AVX512
    /// Six rows × 32 columns, the AVX-512 build's tile: two 16-column strips side by side, 12 accumulators.
    /// (Not `SIMD32<Float>`: its generic lane-wise operations are not vectorised, measured in the assembly.)
    @inline(__always)
    static func tilePair<W: GemmWeight>(
        row: Int, column: Int, k: Int, a: MatrixView, b: UnsafePointer<W>, ldb: Int, c: UnsafeMutablePointer<Float>, ldc: Int,
        epilogue: GemmEpilogue
    ) {
        let (sums, more) = sixRowsTwoStrips(k: k, a: a.base + row * a.rowStride, rowStride: a.rowStride, aStep: a.columnStride, b: b + column,
                                            stripOffset: WideVector.scalarCount, bStep: ldb)
        let out = c + row * ldc + column
        let w = WideVector.scalarCount
        for r in 0..<tileRows {
            epilogue.finish(sums[r], row: row + r, column: column, into: out + r * ldc)
            epilogue.finish(more[r], row: row + r, column: column + w, into: out + r * ldc + w)
        }
    }

    /// The sums of six rows of A (`rowStride` apart, advancing `aStep` per step of k) against two 16-column
    /// strips of B (`b` and `b + stripOffset`, advancing `bStep`): the AVX-512 build's strided and packed tile.
    @inline(__always)
    static func sixRowsTwoStrips<W: GemmWeight>(k: Int, a: UnsafePointer<Float>, rowStride rs: Int, aStep: Int, b: UnsafePointer<W>,
                                                stripOffset: Int, bStep: Int) -> (SixSums, SixSums) {
        var pa = a, pb = b
        var c0 = WideVector(), c1 = WideVector(), c2 = WideVector(), c3 = WideVector(), c4 = WideVector(), c5 = WideVector()
        var d0 = WideVector(), d1 = WideVector(), d2 = WideVector(), d3 = WideVector(), d4 = WideVector(), d5 = WideVector()
        for _ in 0..<k {
            let bv = W.widened(pb, as: WideVector.self), bw = W.widened(pb + stripOffset, as: WideVector.self)
            let x0 = WideVector(repeating: pa[0]), x1 = WideVector(repeating: pa[rs]), x2 = WideVector(repeating: pa[2 * rs])
            c0 = multiplyAdd(c0, x0, bv); d0 = multiplyAdd(d0, x0, bw)
            c1 = multiplyAdd(c1, x1, bv); d1 = multiplyAdd(d1, x1, bw)
            c2 = multiplyAdd(c2, x2, bv); d2 = multiplyAdd(d2, x2, bw)
            let x3 = WideVector(repeating: pa[3 * rs]), x4 = WideVector(repeating: pa[4 * rs]), x5 = WideVector(repeating: pa[5 * rs])
            c3 = multiplyAdd(c3, x3, bv); d3 = multiplyAdd(d3, x3, bw)
            c4 = multiplyAdd(c4, x4, bv); d4 = multiplyAdd(d4, x4, bw)
            c5 = multiplyAdd(c5, x5, bv); d5 = multiplyAdd(d5, x5, bw)
            pa += aStep
            pb += bStep
        }
        return (SixSums(c0, c1, c2, c3, c4, c5), SixSums(d0, d1, d2, d3, d4, d5))
    }

    /// Six rows' sums of one strip.
    struct SixSums {
        var r0, r1, r2, r3, r4, r5: WideVector
        @inline(__always) init(_ r0: WideVector, _ r1: WideVector, _ r2: WideVector, _ r3: WideVector, _ r4: WideVector, _ r5: WideVector) {
            (self.r0, self.r1, self.r2, self.r3, self.r4, self.r5) = (r0, r1, r2, r3, r4, r5)
        }
        @inline(__always) subscript(_ r: Int) -> WideVector {
            switch r {
            case 0: return r0
            case 1: return r1
            case 2: return r2
            case 3: return r3
            case 4: return r4
            default: return r5
            }
        }
    }
    #endif

    /// One row × 64 columns: four independent accumulators keep the FMA units busy when the batch is 1.
    /// Every output is still the same sequential sum over k as in the 6-row tile, so a row's result
    /// does not depend on where it sits in the batch.
    @inline(__always)
    static func singleRowWideTile<W: GemmWeight>(
        row: Int, column: Int, k: Int, a: MatrixView, b: UnsafePointer<W>, ldb: Int,
        c: UnsafeMutablePointer<Float>, ldc: Int, epilogue: GemmEpilogue
    ) {
        let w = WideVector.scalarCount
        let (s0, s1, s2, s3) = fourStripRow(k: k, a: a.base + row * a.rowStride, aStep: a.columnStride, b: b + column, stripOffset: w, bStep: ldb)
        let out = c + row * ldc + column
        epilogue.finish(s0, row: row, column: column, into: out)
        epilogue.finish(s1, row: row, column: column + w, into: out + w)
        epilogue.finish(s2, row: row, column: column + 2 * w, into: out + 2 * w)
        epilogue.finish(s3, row: row, column: column + 3 * w, into: out + 3 * w)
    }

    /// The sums of one row of A (advancing `aStep` per step of k) against four 16-column strips of B:
    /// strip j starts at `b + j · stripOffset` and advances `bStep` floats per step of k. Shared by the
    /// strided and the packed single-row tiles.
    @inline(__always)
    static func fourStripRow<W: GemmWeight>(k: Int, a: UnsafePointer<Float>, aStep: Int, b: UnsafePointer<W>, stripOffset: Int, bStep: Int)
        -> (WideVector, WideVector, WideVector, WideVector) {
        var pa = a, pb = b
        var s0 = WideVector(), s1 = WideVector(), s2 = WideVector(), s3 = WideVector()
        for _ in 0..<k {
            let x = WideVector(repeating: pa[0])
            s0 = multiplyAdd(s0, x, W.widened(pb, as: WideVector.self))
            s1 = multiplyAdd(s1, x, W.widened(pb + stripOffset, as: WideVector.self))
            s2 = multiplyAdd(s2, x, W.widened(pb + 2 * stripOffset, as: WideVector.self))
            s3 = multiplyAdd(s3, x, W.widened(pb + 3 * stripOffset, as: WideVector.self))
            pa += aStep
            pb += bStep
        }
        return (s0, s1, s2, s3)
    }

    /// Scalar reference of `multiply`: deliberately simple, for tests.
    public static func reference(
        m: Int, n: Int, k: Int, a: MatrixView, b: UnsafePointer<Float>, bRowStride: Int,
        c: UnsafeMutablePointer<Float>, cRowStride: Int, epilogue: GemmEpilogue = .overwrite
    ) {
        scalarProduct(m: m, n: n, k: k, a: a, b: b, bRowStride: bRowStride, c: c, cRowStride: cRowStride, epilogue: epilogue)
    }

    /// Scalar reference of `multiply` with f16 weights.
    public static func reference(
        m: Int, n: Int, k: Int, a: MatrixView, b: UnsafePointer<Half>, bRowStride: Int,
        c: UnsafeMutablePointer<Float>, cRowStride: Int, epilogue: GemmEpilogue = .overwrite
    ) {
        scalarProduct(m: m, n: n, k: k, a: a, b: b, bRowStride: bRowStride, c: c, cRowStride: cRowStride, epilogue: epilogue)
    }

    #if VAERT_COMPACT_KERNELS
    /// The compact builds' kernel: sixteen columns of a row at a time in sixteen scalar accumulators (the
    /// vector type's lanes, which these cores keep in scalar registers), so that each element of A is loaded
    /// once for sixteen multiply-adds and the sixteen weights are adjacent in memory (on Cortex-M4F: a VLDR
    /// and a VFMA per multiply-add, then a load of A, two pointer steps and the loop's count and branch per
    /// sixteen). Each sum runs over k in order, as the reference's does. Not inlined: one copy per weight type.
    @inline(never)
    static func compactProduct<W: GemmWeight>(
        m: Int, n: Int, k: Int, a: MatrixView, b: UnsafePointer<W>, bRowStride: Int,
        c: UnsafeMutablePointer<Float>, cRowStride: Int, epilogue: GemmEpilogue
    ) {
        for i in 0..<m {
            var j = 0
            while n - j >= 16 {
                // Scalars, not a SIMD16 accumulator: its unaligned load became an integer load and a move
                // per lane on Cortex-M4F.
                var s0: Float = 0, s1: Float = 0, s2: Float = 0, s3: Float = 0, s4: Float = 0, s5: Float = 0, s6: Float = 0, s7: Float = 0
                var s8: Float = 0, s9: Float = 0, s10: Float = 0, s11: Float = 0, s12: Float = 0, s13: Float = 0, s14: Float = 0, s15: Float = 0
                var x = a.base + i * a.rowStride
                var w = b + j
                for _ in 0..<k {
                    let v = x.pointee
                    s0 = multiplyAdd(s0, v, w[0].float); s1 = multiplyAdd(s1, v, w[1].float)
                    s2 = multiplyAdd(s2, v, w[2].float); s3 = multiplyAdd(s3, v, w[3].float)
                    s4 = multiplyAdd(s4, v, w[4].float); s5 = multiplyAdd(s5, v, w[5].float)
                    s6 = multiplyAdd(s6, v, w[6].float); s7 = multiplyAdd(s7, v, w[7].float)
                    s8 = multiplyAdd(s8, v, w[8].float); s9 = multiplyAdd(s9, v, w[9].float)
                    s10 = multiplyAdd(s10, v, w[10].float); s11 = multiplyAdd(s11, v, w[11].float)
                    s12 = multiplyAdd(s12, v, w[12].float); s13 = multiplyAdd(s13, v, w[13].float)
                    s14 = multiplyAdd(s14, v, w[14].float); s15 = multiplyAdd(s15, v, w[15].float)
                    x += a.columnStride
                    w += bRowStride
                }
                let sums = SIMD16(s0, s1, s2, s3, s4, s5, s6, s7, s8, s9, s10, s11, s12, s13, s14, s15)
                for t in 0..<16 { epilogue.finish(sums[t], row: i, column: j + t, into: c + i * cRowStride + j + t) }
                j += 16
            }
            for column in j..<n {
                var sum: Float = 0
                for p in 0..<k { sum = multiplyAdd(sum, a[i, p], b[p * bRowStride + column].float) }
                epilogue.finish(sum, row: i, column: column, into: c + i * cRowStride + column)
            }
        }
    }
    #endif

    /// One element at a time: the reference.
    @inline(__always)
    static func scalarProduct<W: GemmWeight>(
        m: Int, n: Int, k: Int, a: MatrixView, b: UnsafePointer<W>, bRowStride: Int,
        c: UnsafeMutablePointer<Float>, cRowStride: Int, epilogue: GemmEpilogue
    ) {
        for i in 0..<m {
            for j in 0..<n {
                var acc: Float = 0
                for p in 0..<k { acc += a[i, p] * b[p * bRowStride + j].float }
                epilogue.finish(acc, row: i, column: j, into: c + i * cRowStride + j)
            }
        }
    }
}
