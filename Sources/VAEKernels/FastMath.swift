/// Float exp, log, sigmoid and sine/cosine written out in Swift, so that VAECore needs no libm,
/// runs the same on every target (Embedded, WebAssembly) and gives the same bits everywhere. The vector
/// forms are `@inlinable`, so the trainer's loss loops compile them for its own (AVX2) target.
///
/// The polynomials are Cephes' single-precision ones (relative error about 1e-7 on the ranges used).
public enum FastMath {
    // Constants as computed properties: they inline as literals into `@inlinable` callers in other
    // modules (a `static let` would cost an accessor and a `swift_once` check per call there).
    @inlinable static var log2e: Float { 1.44269504088896341 }
    @inlinable static var ln2Hi: Float { 0.693359375 }
    @inlinable static var ln2Lo: Float { -2.12194440e-4 }
    /// exp is clamped to this range so that 2^n stays a normal float.
    @inlinable static var expMin: Float { -87.3 }
    @inlinable static var expMax: Float { 88.0 }
    /// 1.5·2^23 and its bit pattern, for exact conversions between small integers and floats.
    @inlinable static var roundingMagic: Float { 12_582_912 }
    @inlinable static var roundingMagicBits: Int32 { 0x4B40_0000 }

    // MARK: exp

    /// e^x for every lane; inputs are clamped to [-87.3, 88], so the result is finite and positive (NaN stays NaN).
    @inlinable @inline(__always)
    public static func exp(_ input: Vector) -> Vector {
        let x = minimum(maximum(input, Vector(repeating: expMin)), Vector(repeating: expMax))
        let n = (x * log2e).rounded(.toNearestOrEven)
        let r = x - n * ln2Hi - n * ln2Lo
        var p = Vector(repeating: 1.9875691500e-4)
        p = multiplyAdd(Vector(repeating: 1.3981999507e-3), p, r)
        p = multiplyAdd(Vector(repeating: 8.3334519073e-3), p, r)
        p = multiplyAdd(Vector(repeating: 4.1665795894e-2), p, r)
        p = multiplyAdd(Vector(repeating: 1.6666665459e-1), p, r)
        p = multiplyAdd(Vector(repeating: 5.0000001201e-1), p, r)
        p = multiplyAdd(r + 1, p, r * r)
        // Adding 1.5·2^23 puts the integer n in the low mantissa bits: a float-to-int conversion without
        // the generic (scalar) SIMD conversion initialiser.
        let nBits = unsafeBitCast(n + Vector(repeating: roundingMagic), to: SIMD8<Int32>.self) &- SIMD8<Int32>(repeating: roundingMagicBits)
        let bits = (nBits &+ 127) &<< 23
        // NaN needs no case of its own: the clamp (compare and blend) keeps it, and it carries through p.
        return p * unsafeBitCast(bits, to: Vector.self)
    }

    /// Scalar reference for `exp(_: Vector)`: the same steps on one value, to the same bits.
    public static func exp(_ x: Float) -> Float {
        if x.isNaN { return x }
        let x = min(max(x, expMin), expMax)
        // Adding 1.5·2^23 rounds x·log2e to the nearest integer (ties to even, as `rounded` does for |v| < 2^22)
        // and leaves it in the low mantissa bits: no rintf call, no float-to-int conversion (both are long
        // software sequences on cores without them, such as Cortex-M4F).
        let shifted = x * log2e + roundingMagic
        let n = shifted - roundingMagic
        let r = x - n * ln2Hi - n * ln2Lo
        var p: Float = 1.9875691500e-4
        p = multiplyAdd(1.3981999507e-3, p, r)
        p = multiplyAdd(8.3334519073e-3, p, r)
        p = multiplyAdd(4.1665795894e-2, p, r)
        p = multiplyAdd(1.6666665459e-1, p, r)
        p = multiplyAdd(5.0000001201e-1, p, r)
        p = multiplyAdd(r + 1, p, r * r)
        let nBits = Int32(bitPattern: shifted.bitPattern) &- roundingMagicBits
        return p * Float(bitPattern: UInt32(bitPattern: (nBits &+ 127) &<< 23))
    }

    // MARK: sigmoid

    /// 1 / (1 + e^-x) for every lane.
    @inlinable @inline(__always)
    public static func sigmoid(_ x: Vector) -> Vector {
        1 / (1 + exp(-x))
    }

    /// Scalar reference for `sigmoid(_: Vector)`.
    public static func sigmoid(_ x: Float) -> Float {
        1 / (1 + exp(-x))
    }

    // MARK: tanh

    /// tanh x for every lane, as 2 · sigmoid(2x) − 1 (absolute error about 1e-7; ±1 beyond |x| ≈ 9).
    @inlinable @inline(__always)
    public static func tanh(_ x: Vector) -> Vector {
        2 * sigmoid(2 * x) - 1
    }

    /// Scalar reference for `tanh(_: Vector)`.
    public static func tanh(_ x: Float) -> Float {
        2 * sigmoid(2 * x) - 1
    }

    // MARK: log

    /// Natural logarithm of a positive, finite, normal float (0 and negatives are the caller's to avoid).
    public static func log(_ x: Float) -> Float {
        var e = Int32(truncatingIfNeeded: (x.bitPattern >> 23) & 0xff) - 126
        var m = Float(bitPattern: (x.bitPattern & 0x007f_ffff) | 0x3f00_0000)  // [0.5, 1)
        if m < 0.707106781186547524 {
            e -= 1
            m = m + m - 1
        } else {
            m = m - 1
        }
        let z = m * m
        var y: Float = 7.0376836292e-2
        y = y * m - 1.1514610310e-1
        y = y * m + 1.1676998740e-1
        y = y * m - 1.2420140846e-1
        y = y * m + 1.4249322787e-1
        y = y * m - 1.6668057665e-1
        y = y * m + 2.0000714765e-1
        y = y * m - 2.4999993993e-1
        y = y * m + 3.3333331174e-1
        y = y * m * z
        let fe = Float(e)
        y += ln2Lo * fe
        y += -0.5 * z
        return m + y + ln2Hi * fe
    }

    /// `log(_: Float)` for every lane (positive, finite, normal inputs).
    @inlinable @inline(__always)
    public static func log(_ x: Vector) -> Vector {
        let bits = unsafeBitCast(x, to: SIMD8<UInt32>.self)
        let small = unsafeBitCast((bits & 0x007f_ffff) | 0x3f00_0000, to: Vector.self) .< 0.707106781186547524
        var mantissa = unsafeBitCast((bits & 0x007f_ffff) | 0x3f00_0000, to: Vector.self)  // [0.5, 1)
        let biased = SIMD8<Int32>(truncatingIfNeeded: (bits &>> 23) & 0xff) &- 126
        var exponent = unsafeBitCast(biased &+ roundingMagicBits, to: Vector.self) - roundingMagic  // exact int-to-float
        exponent = exponent.replacing(with: exponent - 1, where: small)
        mantissa = (mantissa - 1) + mantissa.replacing(with: 0, where: .!small)  // 2m − 1 when small, else m − 1
        let m = mantissa
        let z = m * m
        var y = Vector(repeating: 7.0376836292e-2)
        y = multiplyAdd(Vector(repeating: -1.1514610310e-1), y, m)
        y = multiplyAdd(Vector(repeating: 1.1676998740e-1), y, m)
        y = multiplyAdd(Vector(repeating: -1.2420140846e-1), y, m)
        y = multiplyAdd(Vector(repeating: 1.4249322787e-1), y, m)
        y = multiplyAdd(Vector(repeating: -1.6668057665e-1), y, m)
        y = multiplyAdd(Vector(repeating: 2.0000714765e-1), y, m)
        y = multiplyAdd(Vector(repeating: -2.4999993993e-1), y, m)
        y = multiplyAdd(Vector(repeating: 3.3333331174e-1), y, m)
        y = y * m * z
        y = multiplyAdd(y, exponent, Vector(repeating: ln2Lo))
        y = multiplyAdd(y, z, Vector(repeating: -0.5))
        return m + y + exponent * ln2Hi
    }

    /// `log1p(_: Float)` for every lane (x >= 0).
    @inlinable @inline(__always)
    public static func log1p(_ x: Vector) -> Vector {
        let u = 1 + x
        let exact = u .== 1
        let safe = (u - 1).replacing(with: 1, where: exact)
        return (log(u) * (x / safe)).replacing(with: x, where: exact)
    }

    /// log(1 + x) for x >= 0, accurate for tiny x (Goldberg's correction of log(u) with u = 1 + x).
    public static func log1p(_ x: Float) -> Float {
        let u = 1 + x
        if u == 1 { return x }
        return log(u) * (x / (u - 1))
    }

    // MARK: sine and cosine

    /// (sin 2πt, cos 2πt) for any finite t; used by the Box–Muller transform.
    public static func sinCosTwoPi(_ t: Float) -> (sin: Float, cos: Float) {
        let turns = t - t.rounded(.toNearestOrEven)  // [-0.5, 0.5]
        let quarter = (turns * 4).rounded(.toNearestOrEven)  // -2 ... 2
        let r = (turns - quarter * 0.25) * (2 * Float.pi)  // [-π/4, π/4]
        let r2 = r * r
        let s = r + r * r2 * (-1.6666654611e-1 + r2 * (8.3321608736e-3 + r2 * -1.9515295891e-4))
        let c = 1 - 0.5 * r2 + r2 * r2 * (4.166664568298827e-2 + r2 * (-1.388731625493765e-3 + r2 * 2.443315711809948e-5))
        switch Int(quarter) & 3 {
        case 0: return (s, c)
        case 1: return (c, -s)
        case 2: return (-s, -c)
        default: return (-c, s)
        }
    }
}
