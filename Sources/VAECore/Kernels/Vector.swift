/// The vector types and widths every kernel uses, kept in one place.
///
/// `Vector` is one AVX2 register (8 floats); `WideVector` is two, which the register-blocked GEMM
/// uses as its column tile. On aarch64 the same types map to NEON registers.
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

@inline(__always)
func load<V: SIMD>(_ p: UnsafePointer<Float>, as _: V.Type = V.self) -> V where V.Scalar == Float {
    UnsafeRawPointer(p).loadUnaligned(as: V.self)
}

@inline(__always)
func store<V: SIMD>(_ v: V, to p: UnsafeMutablePointer<Float>) where V.Scalar == Float {
    UnsafeMutableRawPointer(p).storeBytes(of: v, as: V.self)
}
