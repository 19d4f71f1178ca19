import VAEKernelTypes
#if VAERT_AVX2
import _Builtin_intrinsics.intel
#endif

/// The vector types and widths every kernel uses, kept in one place.
///
/// `Vector` is one AVX2 register (8 floats); `WideVector` is two, which the register-blocked GEMM
/// uses as its column tile (one register in the AVX-512 build, whose tiles take two side by side).
/// On aarch64 the same types map to NEON registers.
public typealias Vector = SIMD8<Float>
public typealias WideVector = SIMD16<Float>

/// Number of floats in `Vector`.
public let vectorWidth = Vector.scalarCount

/// `acc + a * b`, fused where the build targets a CPU with FMA (`VAERT_FMA`), plain otherwise.
///
/// Without FMA code generation a fused multiply-add becomes one libm `fmaf` call per lane,
/// so the baseline build must use separate multiply and add.
@inline(__always)
public func multiplyAdd<V: SIMD>(_ acc: V, _ a: V, _ b: V) -> V where V.Scalar == Float {
    #if VAERT_FMA
    return acc.addingProduct(a, b)
    #else
    return acc + a * b
    #endif
}

/// The scalar `acc + a * b`, fused or not as the vector one is, so that scalar references round as the
/// vector code does in every build.
@inline(__always)
public func multiplyAdd(_ acc: Float, _ a: Float, _ b: Float) -> Float {
    #if VAERT_FMA
    return acc.addingProduct(a, b)
    #else
    return acc + a * b
    #endif
}

/// Lane-wise maximum and minimum as a compare and a blend, on the concrete vector types: the standard
/// library's `pointwiseMax` / `pointwiseMin` are not inlined into hot loops, and any comparison written
/// for a generic `SIMD` type compiles to a loop over the lanes (both measured in the assembly).
/// A NaN lane in `a` stays NaN.
@inlinable @inline(__always)
public func maximum(_ a: Vector, _ b: Vector) -> Vector { a.replacing(with: b, where: a .< b) }

@inlinable @inline(__always)
public func minimum(_ a: Vector, _ b: Vector) -> Vector { a.replacing(with: b, where: b .< a) }

@inlinable @inline(__always)
public func maximum(_ a: WideVector, _ b: WideVector) -> WideVector { a.replacing(with: b, where: a .< b) }

/// The vector types the generic kernels are specialised for, with the concrete operations they need.
protocol KernelVector: SIMD where Scalar == Float {
    static func relu(_ v: Self) -> Self
    static func sigmoid(_ v: Self) -> Self
    static func exp(_ v: Self) -> Self
    /// `other` in the lanes where v < 0 (`belowZero`) or where v is not above 0 (a NaN lane takes `other`
    /// then, as the scalar `x > 0 ? x : …` does), `v` elsewhere.
    static func blend(_ v: Self, _ other: Self, belowZero: Bool) -> Self
    /// `scalarCount` f16 values at `p`, widened: F16C's `vcvtph2ps` on AVX2, `fcvtl` on AArch64, else one
    /// at a time.
    static func widening(_ p: UnsafePointer<Half>) -> Self
}

/// What a GEMM's B operand holds: f32, or f16 widened to f32 as it is loaded (never copied).
protocol GemmWeight {
    static func widened<V: KernelVector>(_ p: UnsafePointer<Self>, as _: V.Type) -> V
    var float: Float { get }
}

extension Float: GemmWeight {
    @inline(__always) static func widened<V: KernelVector>(_ p: UnsafePointer<Float>, as _: V.Type) -> V { load(p) }
    @inline(__always) var float: Float { self }
}

extension Half: GemmWeight {
    @inline(__always) static func widened<V: KernelVector>(_ p: UnsafePointer<Half>, as _: V.Type) -> V { V.widening(p) }
}

/// Eight f16 values widened.
@inline(__always)
func widen8(_ p: UnsafePointer<Half>) -> Vector {
    #if VAERT_AVX2
    return _mm256_cvtph_ps(UnsafeRawPointer(p).loadUnaligned(as: SIMD2<Int64>.self))
    #elseif arch(arm64)
    return Vector(UnsafeRawPointer(p).loadUnaligned(as: SIMD8<Float16>.self))
    #else
    var v = Vector()
    for i in 0..<8 { v[i] = p[i].float }
    return v
    #endif
}

extension SIMD8: KernelVector where Scalar == Float {
    @inline(__always) static func relu(_ v: Self) -> Self { maximum(v, Self()) }
    @inline(__always) static func sigmoid(_ v: Self) -> Self { FastMath.sigmoid(v) }
    @inline(__always) static func exp(_ v: Self) -> Self { FastMath.exp(v) }
    @inline(__always) static func blend(_ v: Self, _ other: Self, belowZero: Bool) -> Self {
        belowZero ? v.replacing(with: other, where: v .< 0) : v.replacing(with: other, where: .!(v .> 0))
    }
    @inline(__always) static func widening(_ p: UnsafePointer<Half>) -> Self { widen8(p) }
}

extension SIMD16: KernelVector where Scalar == Float {
    @inline(__always) static func relu(_ v: Self) -> Self { maximum(v, Self()) }
    @inline(__always) static func sigmoid(_ v: Self) -> Self {
        SIMD16(lowHalf: FastMath.sigmoid(v.lowHalf), highHalf: FastMath.sigmoid(v.highHalf))
    }
    @inline(__always) static func exp(_ v: Self) -> Self { SIMD16(lowHalf: FastMath.exp(v.lowHalf), highHalf: FastMath.exp(v.highHalf)) }
    @inline(__always) static func blend(_ v: Self, _ other: Self, belowZero: Bool) -> Self {
        belowZero ? v.replacing(with: other, where: v .< 0) : v.replacing(with: other, where: .!(v .> 0))
    }
    @inline(__always) static func widening(_ p: UnsafePointer<Half>) -> Self {
        #if VAERT_AVX512
        return _mm512_cvtph_ps(UnsafeRawPointer(p).loadUnaligned(as: SIMD4<Int64>.self))
        #else
        return SIMD16(lowHalf: widen8(p), highHalf: widen8(p + 8))
        #endif
    }
}

extension KernelVector {
    /// `activation` on every lane, as `ActivationKernel.reference` computes it on one value (the same
    /// operations, so the same bits; a NaN stays NaN).
    /// The course's three inline; tanh, ELU and SiLU through one copy (`rarer`), so that each epilogue
    /// does not carry three more exponentials (about 5 KB of code on Cortex-M, 12 KB on AArch64).
    @inline(__always)
    static func activated(_ v: Self, _ activation: Activation) -> Self {
        switch activation {
        case .identity: return v
        case .relu: return relu(v)
        case .sigmoid: return sigmoid(v)
        case .leakyRelu(let slope): return blend(v, v * slope, belowZero: true)
        case .tanh, .elu, .silu: return rarer(v, activation)
        }
    }

    @inline(never)
    static func rarer(_ v: Self, _ activation: Activation) -> Self {
        switch activation {
        case .tanh: return 2 * sigmoid(2 * v) - 1
        case .elu(let alpha): return blend(v, alpha * (exp(v) - 1), belowZero: false)
        case .silu: return v * sigmoid(v)
        default: return activated(v, activation)
        }
    }
}

@inline(__always)
func load<V: SIMD>(_ p: UnsafePointer<Float>, as _: V.Type = V.self) -> V where V.Scalar == Float {
    UnsafeRawPointer(p).loadUnaligned(as: V.self)
}

@inline(__always)
func store<V: SIMD>(_ v: V, to p: UnsafeMutablePointer<Float>) where V.Scalar == Float {
    UnsafeMutableRawPointer(p).storeBytes(of: v, as: V.self)
}
