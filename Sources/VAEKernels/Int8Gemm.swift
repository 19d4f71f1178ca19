import VAEKernelTypes
#if VAERT_AVX2
import _Builtin_intrinsics.intel
#elseif VAERT_ARM_DSP
import _Builtin_intrinsics.arm.acle
#elseif arch(arm64)
import _Builtin_intrinsics.arm.neon
#endif

/// The integer path of an int8 dense layer, one instruction set's build: activations quantized per row to
/// symmetric int8 (the ggml Q8 way), products summed in int32, then one fused epilogue
/// `C = activation(float(sum) · (rowScale · columnScale) + bias)`.
///
/// The sums are exact integers, so any tiling gives the same bits, and the quantization and the epilogue
/// are the same floating-point operations in every build: a row's result depends on nothing but the row
/// (not the batch size, the split across threads, or which tile computed it).
///
/// - AVX2: `vpmaddubsw` + `vpmaddwd` with the sign trick (|x| as unsigned bytes, x's sign moved onto w);
///   32 multiply-adds per 32-byte load of weights.
/// - Cortex-M4/M7 (`VAERT_ARM_DSP`): SXTB16 + SMLAD, four multiply-adds per word of weights.
/// - AArch64 (baseline armv8.0 NEON): `smull` + `sadalp`, pair sums folded with `addp` at the end.
/// - Elsewhere (baseline x86-64, wasm32, RV32): portable SIMD or scalar code.
public enum Int8GemmKernel {
    /// Quantizes `m` rows of `k` floats (row r at `a + r · rowStride`) into `q` (`Int8Rows.rowBytes(k)` bytes
    /// a row, zero-padded) and `scales`: scale = max|x| / 127, q = round-half-even(x · (127 / max|x|)).
    /// A row of zeros has scale 0; a row holding an infinity or a NaN gets a NaN scale, so its outputs are NaN.
    /// Returns whether no value is negative (a ReLU's or a sigmoid's output): `Int8Rows.nonNegative`.
    @discardableResult
    public static func quantize(rows m: Int, k: Int, _ a: UnsafePointer<Float>, rowStride: Int,
                                into q: UnsafeMutablePointer<Int8>, scales: UnsafeMutablePointer<Float>) -> Bool {
        let rowBytes = Int8Rows.rowBytes(k)
        // Cores without SIMD units go one element at a time (see GemmKernel.multiply): the same bytes.
        #if VAERT_COMPACT_KERNELS
        let w = Int.max
        #else
        let w = Vector.scalarCount
        #endif
        var nonNegative = true
        for r in 0..<m {
            let x = a + r * rowStride
            let out = q + r * rowBytes
            // max|x|, and whether the row is finite (x − x is 0 exactly for finite x, NaN otherwise).
            var largest = Vector(), lowest = Vector(), finiteness = Vector()
            var j = 0
            while k - j >= w {
                let v = load(x + j, as: Vector.self)
                largest = maximum(largest, maximum(v, -v))
                lowest = minimum(lowest, v)
                finiteness += v - v
                j += w
            }
            var top: Float = 0, bottom: Float = 0, check = finiteness.sum()
            #if !VAERT_COMPACT_KERNELS
            for lane in 0..<w {  // not SIMD.max(): a shared specialisation
                top = max(top, largest[lane])
                bottom = min(bottom, lowest[lane])
            }
            #endif
            while j < k {
                top = max(top, abs(x[j]))
                bottom = min(bottom, x[j])
                check += x[j] - x[j]
                j += 1
            }
            if bottom < 0 { nonNegative = false }
            guard check == 0, top > 0 else {
                scales[r] = check == 0 ? 0 : .nan
                out.update(repeating: 0, count: rowBytes)
                continue
            }
            let inverse = 127 / top
            scales[r] = top / 127
            j = 0
            while k - j >= w {
                let ints = roundedToEven(load(x + j, as: Vector.self) * inverse)
                UnsafeMutableRawPointer(out + j).storeBytes(of: SIMD8<Int8>(truncatingIfNeeded: ints), as: SIMD8<Int8>.self)
                j += w
            }
            while j < k {
                out[j] = Int8(truncatingIfNeeded: roundedToEven(x[j] * inverse))
                j += 1
            }
            (out + k).update(repeating: 0, count: rowBytes - k)
        }
        return nonNegative
    }

    /// v rounded half to even, for |v| ≤ 2²², with no libm call and no SSE4.1: adding 1.5 · 2²³ rounds v to
    /// an integer in the addition itself, which the low bits of the sum then hold. (x · 127 / max|x| is
    /// within ±127.)
    @inline(__always)
    static func roundedToEven(_ v: Float) -> Int32 { Int32(bitPattern: (v + 0x1.8p23).bitPattern) &- 0x4B40_0000 }

    @inline(__always)
    static func roundedToEven(_ v: Vector) -> SIMD8<Int32> {
        unsafeBitCast(v + Vector(repeating: 0x1.8p23), to: SIMD8<Int32>.self) &- SIMD8(repeating: 0x4B40_0000)
    }

    /// `C[m × n] = activation(dequantize(A · B) + bias)`. `bias` holds n floats (or nil).
    public static func multiply(m: Int, a: Int8Rows, b: Int8Panels, bias: UnsafePointer<Float>?, activation: Activation,
                                c: UnsafeMutablePointer<Float>, cRowStride: Int) {
        #if VAERT_AVX2
        AVX2Tiles.multiply(m: m, a: a, b: b, bias: bias, activation: activation, c: c, ldc: cRowStride)
        #elseif VAERT_COMPACT_KERNELS
        for row in 0..<m {
            for panel in 0..<b.panels {
                let sums = compactPanel(a.values + row * a.rowBytes, b: b, panel: panel)
                let first = panel * Int8Panels.panelWidth
                for i in 0..<min(Int8Panels.panelWidth, b.columns - first) {
                    finish(sums[i], rowScale: a.scales[row], b: b, column: first + i, bias: bias, activation: activation,
                           into: c + row * cRowStride + first + i)
                }
            }
        }
        #else
        for row in 0..<m {
            for panel in 0..<b.panels {
                let sums = portablePanel(a.values + row * a.rowBytes, b: b, panel: panel)
                finish(sums, rowScale: a.scales[row], b: b, column: panel * Int8Panels.panelWidth, bias: bias, activation: activation,
                       out: c + row * cRowStride + panel * Int8Panels.panelWidth)
            }
        }
        #endif
    }

    /// Scalar reference of `multiply`: deliberately simple, for tests.
    public static func reference(m: Int, a: Int8Rows, b: Int8Panels, bias: UnsafePointer<Float>?, activation: Activation,
                                 c: UnsafeMutablePointer<Float>, cRowStride: Int) {
        for row in 0..<m {
            for column in 0..<b.columns {
                var sum: Int32 = 0
                for j in 0..<b.rows { sum += Int32(a.values[row * a.rowBytes + j]) * Int32(b[j, column]) }
                finish(sum, rowScale: a.scales[row], b: b, column: column, bias: bias, activation: activation, into: c + row * cRowStride + column)
            }
        }
    }

    /// The epilogue of one sum, as every build's vector epilogue computes it lane by lane.
    @inline(__always)
    static func finish(_ sum: Int32, rowScale: Float, b: Int8Panels, column: Int, bias: UnsafePointer<Float>?, activation: Activation,
                       into p: UnsafeMutablePointer<Float>) {
        var v = Float(sum) * (rowScale * b.scales[column])
        if let bias { v += bias[column] }
        p.pointee = ActivationKernel.scalar(activation, v)
    }

    /// The epilogue of one panel's eight sums for one row; a partial last panel goes through a stack copy,
    /// so that only the columns that exist are read (scales, bias) and written.
    @inline(__always)
    static func finish(_ sums: SIMD8<Int32>, rowScale: Float, b: Int8Panels, column: Int, bias: UnsafePointer<Float>?,
                       activation: Activation, out: UnsafeMutablePointer<Float>) {
        guard b.columns - column >= Int8Panels.panelWidth else {
            return finishPartial(sums, rowScale: rowScale, b: b, column: column, bias: bias, activation: activation, out: out)
        }
        var v = SIMD8<Float>(sums) * (SIMD8(repeating: rowScale) * load(b.scales + column, as: SIMD8<Float>.self))
        if let bias { v += load(bias + column, as: SIMD8<Float>.self) }
        store(SIMD8.activated(v, activation), to: out)
    }

    @inline(never)
    static func finishPartial(_ sums: SIMD8<Int32>, rowScale: Float, b: Int8Panels, column: Int, bias: UnsafePointer<Float>?,
                              activation: Activation, out: UnsafeMutablePointer<Float>) {
        let valid = b.columns - column
        var scales = SIMD8<Float>(), offsets = SIMD8<Float>()
        for i in 0..<valid {
            scales[i] = b.scales[column + i]
            if let bias { offsets[i] = bias[column + i] }
        }
        var v = SIMD8<Float>(sums) * (SIMD8(repeating: rowScale) * scales)
        if bias != nil { v += offsets }
        v = SIMD8.activated(v, activation)
        for i in 0..<valid { out[i] = v[i] }
    }

    /// One row's sums for the eight columns of a panel. Portable SIMD: products widened to 16 bits,
    /// adjacent pairs added (no overflow: |q| ≤ 127), pair sums accumulated in 32 bits and folded at the end.
    /// AArch64: the same with NEON's widening multiply (`smull`) and pairwise accumulate (`sadalp`).
    @inline(__always)
    static func portablePanel(_ x: UnsafePointer<Int8>, b: Int8Panels, panel: Int) -> SIMD8<Int32> {
        var w = UnsafeRawPointer(b.values + panel * b.groups * Int8Panels.groupBytes)
        var xp = UnsafeRawPointer(x)
        #if arch(arm64)
        var s0 = SIMD4<Int32>(), s1 = SIMD4<Int32>(), s2 = SIMD4<Int32>(), s3 = SIMD4<Int32>()
        for _ in 0..<b.groups {
            let xs = vreinterpretq_s8_s32(vdupq_n_s32(xp.loadUnaligned(as: Int32.self)))
            let w0 = w.loadUnaligned(as: SIMD16<Int8>.self), w1 = w.loadUnaligned(fromByteOffset: 16, as: SIMD16<Int8>.self)
            s0 = vpadalq_s16(s0, vmull_s8(vget_low_s8(w0), vget_low_s8(xs)))
            s1 = vpadalq_s16(s1, vmull_high_s8(w0, xs))
            s2 = vpadalq_s16(s2, vmull_s8(vget_low_s8(w1), vget_low_s8(xs)))
            s3 = vpadalq_s16(s3, vmull_high_s8(w1, xs))
            w += Int8Panels.groupBytes
            xp += Int8Panels.groupDepth
        }
        return SIMD8(lowHalf: vpaddq_s32(s0, s1), highHalf: vpaddq_s32(s2, s3))
        #else
        var pairs = SIMD16<Int32>()
        for _ in 0..<b.groups {
            let xs = unsafeBitCast(SIMD8<UInt32>(repeating: xp.loadUnaligned(as: UInt32.self)), to: SIMD32<Int8>.self)
            let products = SIMD32<Int16>(truncatingIfNeeded: w.loadUnaligned(as: SIMD32<Int8>.self)) &* SIMD32<Int16>(truncatingIfNeeded: xs)
            pairs &+= SIMD16<Int32>(truncatingIfNeeded: products.evenHalf &+ products.oddHalf)
            w += Int8Panels.groupBytes
            xp += Int8Panels.groupDepth
        }
        return pairs.evenHalf &+ pairs.oddHalf
        #endif
    }

    #if VAERT_COMPACT_KERNELS
    /// One row's sums for the eight columns of a panel (the padding columns of a last partial panel are
    /// zeros): the compact builds' loop, as two halves of four columns.
    @inline(__always)
    static func compactPanel(_ x: UnsafePointer<Int8>, b: Int8Panels, panel: Int) -> SIMD8<Int32> {
        let start = UnsafeRawPointer(b.values + panel * b.groups * Int8Panels.groupBytes)
        return SIMD8(lowHalf: halfPanel(x, start, groups: b.groups), highHalf: halfPanel(x, start + 16, groups: b.groups))
    }

    /// Four columns' sums (the words at `w`, `w + 4`, `w + 8`, `w + 12` of each group; `groups` ≥ 1), each
    /// group's four activations loaded once for the four columns.
    /// - Cortex-M4/M7: the activations' word becomes two 16-bit pairs once (SXTB16: bytes 0 and 2; then 1
    ///   and 3 after a rotation), each column's word the same, then two SMLAD. The loop is 26 instructions
    ///   per 16 multiply-adds (5 loads, 10 SXTB16, 8 SMLAD, a pointer step, a count and a branch), as
    ///   CMSIS-NN's 13 per 8.
    /// - Elsewhere (RV32, wasm32): a byte load, a multiply and an add per multiply-add (RV32: 55
    ///   instructions per 16).
    ///
    /// Four columns, not eight, and not inlined into the caller: eight accumulators, both pairs, two
    /// pointers, the count and two temporaries are 15 registers, one more than Thumb-2 has, and LLVM then
    /// spilled half the accumulators (72 instructions per 32 multiply-adds); on RV32 it hoisted all 32 byte
    /// loads of a group and spilled them (160 instructions per 32).
    @inline(never)
    static func halfPanel(_ x: UnsafePointer<Int8>, _ panel: UnsafeRawPointer, groups: Int) -> SIMD4<Int32> {
        var w = panel
        var xp = UnsafeRawPointer(x)
        let end = xp + groups * Int8Panels.groupDepth
        var s0: Int32 = 0, s1: Int32 = 0, s2: Int32 = 0, s3: Int32 = 0
        repeat {
            #if VAERT_ARM_DSP
            let xs = xp.loadUnaligned(as: Int32.self)
            let even = __sxtb16(xs), odd = __sxtb16(rotated(xs))
            @inline(__always) func dot(_ offset: Int, _ sum: Int32) -> Int32 {
                let ws = w.load(fromByteOffset: offset, as: Int32.self)
                return __smlad(odd, __sxtb16(rotated(ws)), __smlad(even, __sxtb16(ws), sum))
            }
            #else
            let x0 = Int32(xp.load(as: Int8.self)), x1 = Int32(xp.load(fromByteOffset: 1, as: Int8.self))
            let x2 = Int32(xp.load(fromByteOffset: 2, as: Int8.self)), x3 = Int32(xp.load(fromByteOffset: 3, as: Int8.self))
            @inline(__always) func dot(_ offset: Int, _ sum: Int32) -> Int32 {
                @inline(__always) func q(_ i: Int) -> Int32 { Int32(w.load(fromByteOffset: offset + i, as: Int8.self)) }
                return sum &+ x0 &* q(0) &+ x1 &* q(1) &+ x2 &* q(2) &+ x3 &* q(3)
            }
            #endif
            s0 = dot(0, s0); s1 = dot(4, s1); s2 = dot(8, s2); s3 = dot(12, s3)
            w += Int8Panels.groupBytes
            xp += Int8Panels.groupDepth
        } while xp != end
        return SIMD4(s0, s1, s2, s3)
    }
    #endif

    #if VAERT_ARM_DSP
    @inline(__always)
    static func rotated(_ word: Int32) -> Int32 { Int32(bitPattern: __ror(UInt32(bitPattern: word), 8)) }
    #endif
}
