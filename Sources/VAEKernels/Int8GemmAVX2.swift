#if VAERT_AVX2
import VAEKernelTypes
import _Builtin_intrinsics.intel

/// The AVX2 tiles of `Int8GemmKernel.multiply`. One group of B (8 columns × 4 rows, 32 bytes) meets a row's
/// 4 quantized activations broadcast to every column: `vpsignb` moves x's sign onto w, `vpmaddubsw`
/// multiplies |x| (unsigned) by it and adds adjacent pairs into 16 bits, `vpmaddwd` by ones adds the pairs
/// into eight 32-bit column sums. (|x|, |w| ≤ 127: a pair is at most 32,258, below the 16-bit saturation.)
///
/// Tiles are 2 rows × 4 panels (8 accumulators; each weight load serves two rows) and 1 row × 4 panels;
/// panels left over go two, then one, at a time.
///
/// Whether the sign trick is needed is a type (`Signs`), so that each tile is compiled twice with the
/// choice folded in, instead of testing it in the inner loop.
protocol Signs { static var signed: Bool { get } }
enum SignedRows: Signs { static var signed: Bool { true } }
enum NonNegativeRows: Signs { static var signed: Bool { false } }

enum AVX2Tiles {
    /// One AVX2 register, as Swift imports `__m256i`.
    typealias Register = SIMD4<Int64>

    static func multiply(m: Int, a: Int8Rows, b: Int8Panels, bias: UnsafePointer<Float>?, activation: Activation,
                         c: UnsafeMutablePointer<Float>, ldc: Int) {
        // Rows with no negative value (a ReLU's output) need no sign trick: |x| = x.
        if a.nonNegative {
            multiply(NonNegativeRows.self, m: m, a: a, b: b, bias: bias, activation: activation, c: c, ldc: ldc)
        } else {
            multiply(SignedRows.self, m: m, a: a, b: b, bias: bias, activation: activation, c: c, ldc: ldc)
        }
    }

    static func multiply<S: Signs>(_ signs: S.Type, m: Int, a: Int8Rows, b: Int8Panels, bias: UnsafePointer<Float>?, activation tileActivation: Activation,
                         c: UnsafeMutablePointer<Float>, ldc: Int) {
        // A sigmoid (any activation with an exponential) runs over each finished block of rows, as in the
        // f32 packed GEMM (measured faster there than in the tile epilogue).
        let separate = tileActivation.isTranscendental && ldc == b.columns
        let activation = separate ? Activation.identity : tileActivation
        let groupPanels = b.panels / 4 * 4
        var row = 0
        // Rows with no sign trick go four at a time over pairs of panels: each weight load serves four rows
        // (the signed rows' |x| would need four more registers than AVX2 has).
        if !S.signed {
            while m - row >= 4 {
                var panel = 0
                while b.panels - panel >= 2 {
                    fourRowsTwoPanels(row: row, panel: panel, a: a, b: b, bias: bias, activation: activation, c: c, ldc: ldc)
                    panel += 2
                }
                if panel < b.panels {
                    for r in row..<(row + 4) {
                        let sums = oneRowOnePanel(S.self, a.values + r * a.rowBytes, b.values + panel * b.groups * Int8Panels.groupBytes, groups: b.groups)
                        finish(sums, row: r, panel: panel, a: a, b: b, bias: bias, activation: activation, c: c, ldc: ldc)
                    }
                }
                if separate { ActivationKernel.apply(tileActivation, c + row * ldc, count: 4 * ldc) }
                row += 4
            }
        }
        while row < m {
            let rows = min(2, m - row)
            var panel = 0
            while panel < groupPanels {
                if rows == 2 {
                    twoRowsFourPanels(S.self, row: row, panel: panel, a: a, b: b, bias: bias, activation: activation, c: c, ldc: ldc)
                } else {
                    oneRowFourPanels(S.self, row: row, panel: panel, a: a, b: b, bias: bias, activation: activation, c: c, ldc: ldc)
                }
                panel += 4
            }
            for r in row..<(row + rows) {
                var rest = panel
                if b.panels - rest >= 2 {
                    oneRowTwoPanels(S.self, row: r, panel: rest, a: a, b: b, bias: bias, activation: activation, c: c, ldc: ldc)
                    rest += 2
                }
                if rest < b.panels {
                    let sums = oneRowOnePanel(S.self, a.values + r * a.rowBytes, b.values + rest * b.groups * Int8Panels.groupBytes, groups: b.groups)
                    finish(sums, row: r, panel: rest, a: a, b: b, bias: bias, activation: activation, c: c, ldc: ldc)
                }
            }
            if separate { ActivationKernel.apply(tileActivation, c + row * ldc, count: rows * ldc) }
            row += rows
        }
    }

    /// x · w for one group, as eight 32-bit sums of four products; `ax` is |x| (x itself when not `signed`).
    @inline(__always)
    static func groupProduct<S: Signs>(_: S.Type, _ ax: Register, _ x: Register, _ w: Register) -> Register {
        _mm256_madd_epi16(_mm256_maddubs_epi16(ax, S.signed ? _mm256_sign_epi8(w, x) : w), _mm256_set1_epi16(1))
    }

    /// |x|, or x when the rows are known non-negative.
    @inline(__always)
    static func magnitude<S: Signs>(_: S.Type, _ x: Register) -> Register { S.signed ? _mm256_sign_epi8(x, x) : x }

    /// Row `r`'s four activations of group g, in every 32-bit lane.
    @inline(__always)
    static func broadcast(_ x: UnsafePointer<Int8>, group g: Int) -> Register {
        _mm256_set1_epi32(UnsafeRawPointer(x + g * Int8Panels.groupDepth).loadUnaligned(as: Int32.self))
    }

    @inline(__always)
    static func load(_ p: UnsafePointer<Int8>) -> Register { UnsafeRawPointer(p).loadUnaligned(as: Register.self) }

    @inline(__always)
    static func twoRowsFourPanels<S: Signs>(_: S.Type, row: Int, panel: Int, a: Int8Rows, b: Int8Panels, bias: UnsafePointer<Float>?, activation: Activation,
                                  c: UnsafeMutablePointer<Float>, ldc: Int) {
        let x0 = a.values + row * a.rowBytes, x1 = x0 + a.rowBytes
        let panelBytes = b.groups * Int8Panels.groupBytes
        var w = b.values + panel * panelBytes
        var s00 = Register(), s01 = Register(), s02 = Register(), s03 = Register()
        var s10 = Register(), s11 = Register(), s12 = Register(), s13 = Register()
        for g in 0..<b.groups {
            let v0 = broadcast(x0, group: g), v1 = broadcast(x1, group: g)
            let a0 = magnitude(S.self, v0), a1 = magnitude(S.self, v1)
            var wv = load(w)
            s00 = _mm256_add_epi32(s00, groupProduct(S.self, a0, v0, wv)); s10 = _mm256_add_epi32(s10, groupProduct(S.self, a1, v1, wv))
            wv = load(w + panelBytes)
            s01 = _mm256_add_epi32(s01, groupProduct(S.self, a0, v0, wv)); s11 = _mm256_add_epi32(s11, groupProduct(S.self, a1, v1, wv))
            wv = load(w + 2 * panelBytes)
            s02 = _mm256_add_epi32(s02, groupProduct(S.self, a0, v0, wv)); s12 = _mm256_add_epi32(s12, groupProduct(S.self, a1, v1, wv))
            wv = load(w + 3 * panelBytes)
            s03 = _mm256_add_epi32(s03, groupProduct(S.self, a0, v0, wv)); s13 = _mm256_add_epi32(s13, groupProduct(S.self, a1, v1, wv))
            w += Int8Panels.groupBytes
        }
        let row1 = row + 1
        finish((s00, s01, s02, s03), row: row, panel: panel, a: a, b: b, bias: bias, activation: activation, c: c, ldc: ldc)
        finish((s10, s11, s12, s13), row: row1, panel: panel, a: a, b: b, bias: bias, activation: activation, c: c, ldc: ldc)
    }

    @inline(__always)
    static func fourRowsTwoPanels(row: Int, panel: Int, a: Int8Rows, b: Int8Panels, bias: UnsafePointer<Float>?, activation: Activation,
                                  c: UnsafeMutablePointer<Float>, ldc: Int) {
        let x0 = a.values + row * a.rowBytes, x1 = x0 + a.rowBytes, x2 = x1 + a.rowBytes, x3 = x2 + a.rowBytes
        let panelBytes = b.groups * Int8Panels.groupBytes
        var w = b.values + panel * panelBytes
        var s00 = Register(), s01 = Register(), s10 = Register(), s11 = Register()
        var s20 = Register(), s21 = Register(), s30 = Register(), s31 = Register()
        for g in 0..<b.groups {
            let w0 = load(w), w1 = load(w + panelBytes)
            let v0 = broadcast(x0, group: g), v1 = broadcast(x1, group: g), v2 = broadcast(x2, group: g), v3 = broadcast(x3, group: g)
            s00 = _mm256_add_epi32(s00, groupProduct(NonNegativeRows.self, v0, v0, w0)); s01 = _mm256_add_epi32(s01, groupProduct(NonNegativeRows.self, v0, v0, w1))
            s10 = _mm256_add_epi32(s10, groupProduct(NonNegativeRows.self, v1, v1, w0)); s11 = _mm256_add_epi32(s11, groupProduct(NonNegativeRows.self, v1, v1, w1))
            s20 = _mm256_add_epi32(s20, groupProduct(NonNegativeRows.self, v2, v2, w0)); s21 = _mm256_add_epi32(s21, groupProduct(NonNegativeRows.self, v2, v2, w1))
            s30 = _mm256_add_epi32(s30, groupProduct(NonNegativeRows.self, v3, v3, w0)); s31 = _mm256_add_epi32(s31, groupProduct(NonNegativeRows.self, v3, v3, w1))
            w += Int8Panels.groupBytes
        }
        finish((s00, s01), row: row, panel: panel, a: a, b: b, bias: bias, activation: activation, c: c, ldc: ldc)
        finish((s10, s11), row: row + 1, panel: panel, a: a, b: b, bias: bias, activation: activation, c: c, ldc: ldc)
        finish((s20, s21), row: row + 2, panel: panel, a: a, b: b, bias: bias, activation: activation, c: c, ldc: ldc)
        finish((s30, s31), row: row + 3, panel: panel, a: a, b: b, bias: bias, activation: activation, c: c, ldc: ldc)
    }

    @inline(__always)
    static func oneRowFourPanels<S: Signs>(_: S.Type, row: Int, panel: Int, a: Int8Rows, b: Int8Panels, bias: UnsafePointer<Float>?, activation: Activation,
                                 c: UnsafeMutablePointer<Float>, ldc: Int) {
        let x = a.values + row * a.rowBytes
        let panelBytes = b.groups * Int8Panels.groupBytes
        var w = b.values + panel * panelBytes
        var s0 = Register(), s1 = Register(), s2 = Register(), s3 = Register()
        for g in 0..<b.groups {
            let v = broadcast(x, group: g)
            let av = magnitude(S.self, v)
            s0 = _mm256_add_epi32(s0, groupProduct(S.self, av, v, load(w)))
            s1 = _mm256_add_epi32(s1, groupProduct(S.self, av, v, load(w + panelBytes)))
            s2 = _mm256_add_epi32(s2, groupProduct(S.self, av, v, load(w + 2 * panelBytes)))
            s3 = _mm256_add_epi32(s3, groupProduct(S.self, av, v, load(w + 3 * panelBytes)))
            w += Int8Panels.groupBytes
        }
        finish((s0, s1, s2, s3), row: row, panel: panel, a: a, b: b, bias: bias, activation: activation, c: c, ldc: ldc)
    }

    @inline(__always)
    static func oneRowTwoPanels<S: Signs>(_: S.Type, row: Int, panel: Int, a: Int8Rows, b: Int8Panels, bias: UnsafePointer<Float>?, activation: Activation,
                                          c: UnsafeMutablePointer<Float>, ldc: Int) {
        let x = a.values + row * a.rowBytes
        let panelBytes = b.groups * Int8Panels.groupBytes
        var w = b.values + panel * panelBytes
        var s0 = Register(), s1 = Register()
        for g in 0..<b.groups {
            let v = broadcast(x, group: g)
            let av = magnitude(S.self, v)
            s0 = _mm256_add_epi32(s0, groupProduct(S.self, av, v, load(w)))
            s1 = _mm256_add_epi32(s1, groupProduct(S.self, av, v, load(w + panelBytes)))
            w += Int8Panels.groupBytes
        }
        finish(s0, row: row, panel: panel, a: a, b: b, bias: bias, activation: activation, c: c, ldc: ldc)
        finish(s1, row: row, panel: panel + 1, a: a, b: b, bias: bias, activation: activation, c: c, ldc: ldc)
    }

    @inline(__always)
    static func oneRowOnePanel<S: Signs>(_: S.Type, _ x: UnsafePointer<Int8>, _ panel: UnsafePointer<Int8>, groups: Int) -> Register {
        var s = Register()
        for g in 0..<groups {
            let v = broadcast(x, group: g)
            s = _mm256_add_epi32(s, groupProduct(S.self, magnitude(S.self, v), v, load(panel + g * Int8Panels.groupBytes)))
        }
        return s
    }

    /// The epilogues of one row's four panels: one call per tile row (the tiles' eight separate epilogues
    /// were not inlined, and cost 6% of int8 decode at batch 256).
    @inline(never)
    static func finish(_ sums: (Register, Register, Register, Register), row: Int, panel: Int, a: Int8Rows, b: Int8Panels,
                       bias: UnsafePointer<Float>?, activation: Activation, c: UnsafeMutablePointer<Float>, ldc: Int) {
        finish(sums.0, row: row, panel: panel, a: a, b: b, bias: bias, activation: activation, c: c, ldc: ldc)
        finish(sums.1, row: row, panel: panel + 1, a: a, b: b, bias: bias, activation: activation, c: c, ldc: ldc)
        finish(sums.2, row: row, panel: panel + 2, a: a, b: b, bias: bias, activation: activation, c: c, ldc: ldc)
        finish(sums.3, row: row, panel: panel + 3, a: a, b: b, bias: bias, activation: activation, c: c, ldc: ldc)
    }

    @inline(never)
    static func finish(_ sums: (Register, Register), row: Int, panel: Int, a: Int8Rows, b: Int8Panels,
                       bias: UnsafePointer<Float>?, activation: Activation, c: UnsafeMutablePointer<Float>, ldc: Int) {
        finish(sums.0, row: row, panel: panel, a: a, b: b, bias: bias, activation: activation, c: c, ldc: ldc)
        finish(sums.1, row: row, panel: panel + 1, a: a, b: b, bias: bias, activation: activation, c: c, ldc: ldc)
    }

    @inline(__always)
    static func finish(_ sums: Register, row: Int, panel: Int, a: Int8Rows, b: Int8Panels, bias: UnsafePointer<Float>?, activation: Activation,
                       c: UnsafeMutablePointer<Float>, ldc: Int) {
        let column = panel * Int8Panels.panelWidth
        Int8GemmKernel.finish(unsafeBitCast(sums, to: SIMD8<Int32>.self), rowScale: a.scales[row], b: b, column: column, bias: bias,
                              activation: activation, out: c + row * ldc + column)
    }
}
#endif
