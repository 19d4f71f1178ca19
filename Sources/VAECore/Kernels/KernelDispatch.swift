@_exported import VAEKernelTypes
@_exported import VAEKernels
internal import _VaertCPU
#if canImport(VAEKernelsAVX2)
internal import VAEKernelsAVX2
#endif
#if canImport(VAEKernelsAVX512)
internal import VAEKernelsAVX512
#endif

/// The builds of the kernels this library carries.
///
/// On x86-64 the kernels (`VAEKernels`) are compiled three times from the same files: for any x86-64
/// (SSE2, separate multiply and add), for the Haswell level, AVX2 + FMA + F16C (`VAEKernelsAVX2`), and for
/// AVX-512 F/BW/DQ/VL (`VAEKernelsAVX512`: Skylake-SP, Ice Lake, Sapphire Rapids, Zen 4 and later), whose
/// GEMM tiles are 32 columns wide in 512-bit registers. Every element is the same sequential sum over k in
/// the AVX2 and AVX-512 builds, so they give the same bits. The choice is made once, from CPUID, so the shipped library runs on any x86-64 and at full speed where
/// it can. Elsewhere there is one build (on aarch64 it uses NEON's fused multiply-add).
public enum KernelSet: Sendable {
    case baseline
    case avx2
    case avx512
}

/// The kernels of the build this CPU runs: what VAECore and the trainer call. (`GemmKernel` and
/// `ActivationKernel` are one build's; both builds take the same `VAEKernelTypes` values, so a call
/// passes its arguments straight through.)
public enum Kernels {
    /// The build in use, chosen once from CPUID. `VAERT_KERNELS=baseline` or `VAERT_KERNELS=avx2` in the
    /// environment forces a narrower one.
    public static let active: KernelSet = {
        #if canImport(VAEKernelsAVX512)
        if vaert_cpu_has_avx512() != 0 { return .avx512 }
        #endif
        #if canImport(VAEKernelsAVX2)
        if vaert_cpu_has_avx2_fma() != 0 { return .avx2 }
        #endif
        return .baseline
    }()

    /// Whether a copied model keeps a large f16 layer as f16 panels, widened as the tiles stream them, rather
    /// than widening it to f32 panels at load: the AVX2 build (F16C) on any CPU but AMD family 17h.
    /// Measured with `tools/bench/bench.sh` on AMD Zen 3 (family 19h), course VAE decode: f16 panels make
    /// batch 1 faster than f32 (half the bytes from L3); on Zen 2 f16 panels ran slower, 50 against 27 µs
    /// per image at batch 1, bound by `vcvtph2ps`. The sums are the same either way.
    public static let packsHalfPanels: Bool = {
        #if canImport(VAEKernelsAVX2)
        return active != .baseline && vaert_cpu_is_amd_family_17h() == 0
        #else
        return false
        #endif
    }()

    /// A core's L2 cache in bytes, from CPUID on x86-64 (`vaert_cpu_cache_bytes`); 512 KB where the CPU does
    /// not say, and on other architectures (the device builds link no CPU probe).
    public static let level2CacheBytes: Int = {
        #if canImport(VAEKernelsAVX2)
        let bytes = Int(vaert_cpu_cache_bytes(2))
        #else
        let bytes = 0
        #endif
        return bytes > 0 ? bytes : 512 * 1024
    }()

    /// Panels of `rows` × 16 weights of `elementBytes` each that fit half the L2 cache together: the packed
    /// GEMM runs every row tile over one such block of panels before the next, so each block streams from
    /// memory or L3 once per batch, not once per tile of six rows. (The other half holds the rows of A and
    /// the tiles of C.)
    public static func panelsPerBlock(rows: Int, elementBytes: Int) -> Int {
        max(1, level2CacheBytes / 2 / max(1, rows * PackedMatrix.panelWidth * elementBytes))
    }

    /// Columns of a strided B of `k` rows that fit half the L2 cache: the strided GEMM's column blocks.
    /// (Not for the compact kernels of cores without caches to speak of.)
    public static func columnBlock(k: Int, elementBytes: Int) -> Int {
        #if VAERT_COMPACT_KERNELS
        return .max
        #else
        return level2CacheBytes / 2 / max(1, k * elementBytes)
        #endif
    }

    /// Rows of the GEMM's register tile; a batch split at multiples of it splits no tile.
    public static let tileRows = VAEKernels.GemmKernel.tileRows

    /// `C[m×n] = A[m×k] · B[k×n]`, then the epilogue. See `GemmKernel` for the algorithm and its
    /// guarantees (bit-identical rows whatever the batch size or split).
    public static func multiply(
        m: Int, n: Int, k: Int, a: MatrixView, b: UnsafePointer<Float>, bRowStride: Int,
        c: UnsafeMutablePointer<Float>, cRowStride: Int, epilogue: GemmEpilogue = .overwrite
    ) {
        let block = columnBlock(k: k, elementBytes: MemoryLayout<Float>.size)
        #if canImport(VAEKernelsAVX512)
        if active == .avx512 {
            return VAEKernelsAVX512.GemmKernel.multiply(m: m, n: n, k: k, a: a, b: b, bRowStride: bRowStride, c: c, cRowStride: cRowStride, epilogue: epilogue,
                                                      columnBlock: block)
        }
        #endif
        #if canImport(VAEKernelsAVX2)
        if active == .avx2 {
            return VAEKernelsAVX2.GemmKernel.multiply(m: m, n: n, k: k, a: a, b: b, bRowStride: bRowStride, c: c, cRowStride: cRowStride, epilogue: epilogue,
                                                      columnBlock: block)
        }
        #endif
        VAEKernels.GemmKernel.multiply(m: m, n: n, k: k, a: a, b: b, bRowStride: bRowStride, c: c, cRowStride: cRowStride, epilogue: epilogue, columnBlock: block)
    }

    /// The same with B in f16, widened as it streams (a file's weights used where they lie): the very sums of
    /// `multiply` over the widened values.
    public static func multiply(
        m: Int, n: Int, k: Int, a: MatrixView, b: UnsafePointer<Half>, bRowStride: Int,
        c: UnsafeMutablePointer<Float>, cRowStride: Int, epilogue: GemmEpilogue = .overwrite
    ) {
        let block = columnBlock(k: k, elementBytes: MemoryLayout<Half>.size)
        #if canImport(VAEKernelsAVX512)
        if active == .avx512 {
            return VAEKernelsAVX512.GemmKernel.multiply(m: m, n: n, k: k, a: a, b: b, bRowStride: bRowStride, c: c, cRowStride: cRowStride, epilogue: epilogue,
                                                      columnBlock: block)
        }
        #endif
        #if canImport(VAEKernelsAVX2)
        if active == .avx2 {
            return VAEKernelsAVX2.GemmKernel.multiply(m: m, n: n, k: k, a: a, b: b, bRowStride: bRowStride, c: c, cRowStride: cRowStride, epilogue: epilogue,
                                                      columnBlock: block)
        }
        #endif
        VAEKernels.GemmKernel.multiply(m: m, n: n, k: k, a: a, b: b, bRowStride: bRowStride, c: c, cRowStride: cRowStride, epilogue: epilogue, columnBlock: block)
    }

    /// The same with B packed (a loaded layer's weights); see `GemmKernel.multiply(m:a:packed:...)`.
    public static func multiply(m: Int, a: MatrixView, packed b: PackedMatrix, c: UnsafeMutablePointer<Float>, cRowStride: Int,
                                epilogue: GemmEpilogue = .overwrite) {
        #if canImport(VAEKernelsAVX512)
        if active == .avx512 { return VAEKernelsAVX512.GemmKernel.multiply(m: m, a: a, packed: b, c: c, cRowStride: cRowStride, epilogue: epilogue) }
        #endif
        #if canImport(VAEKernelsAVX2)
        if active == .avx2 { return VAEKernelsAVX2.GemmKernel.multiply(m: m, a: a, packed: b, c: c, cRowStride: cRowStride, epilogue: epilogue) }
        #endif
        VAEKernels.GemmKernel.multiply(m: m, a: a, packed: b, c: c, cRowStride: cRowStride, epilogue: epilogue)
    }

    /// Scalar reference of `multiply`: deliberately simple, for tests.
    public static func referenceMultiply(
        m: Int, n: Int, k: Int, a: MatrixView, b: UnsafePointer<Float>, bRowStride: Int,
        c: UnsafeMutablePointer<Float>, cRowStride: Int, epilogue: GemmEpilogue = .overwrite
    ) {
        VAEKernels.GemmKernel.reference(m: m, n: n, k: k, a: a, b: b, bRowStride: bRowStride, c: c, cRowStride: cRowStride, epilogue: epilogue)
    }

    /// Scalar reference of the f16 `multiply`, for tests.
    public static func referenceMultiply(
        m: Int, n: Int, k: Int, a: MatrixView, b: UnsafePointer<Half>, bRowStride: Int,
        c: UnsafeMutablePointer<Float>, cRowStride: Int, epilogue: GemmEpilogue = .overwrite
    ) {
        VAEKernels.GemmKernel.reference(m: m, n: n, k: k, a: a, b: b, bRowStride: bRowStride, c: c, cRowStride: cRowStride, epilogue: epilogue)
    }

    /// Applies `activation` to `count` contiguous floats in place.
    public static func apply(_ activation: Activation, _ p: UnsafeMutablePointer<Float>, count: Int) {
        #if canImport(VAEKernelsAVX512)
        if active == .avx512 { return VAEKernelsAVX512.ActivationKernel.apply(activation, p, count: count) }
        #endif
        #if canImport(VAEKernelsAVX2)
        if active == .avx2 { return VAEKernelsAVX2.ActivationKernel.apply(activation, p, count: count) }
        #endif
        VAEKernels.ActivationKernel.apply(activation, p, count: count)
    }

    /// Quantizes rows of floats for the integer kernels; see `Int8GemmKernel.quantize` (both builds give
    /// the same bytes: the arithmetic is exact but for one rounded multiply).
    @discardableResult
    public static func quantize(rows m: Int, k: Int, _ a: UnsafePointer<Float>, rowStride: Int,
                                into q: UnsafeMutablePointer<Int8>, scales: UnsafeMutablePointer<Float>) -> Bool {
        #if canImport(VAEKernelsAVX512)
        if active == .avx512 { return VAEKernelsAVX512.Int8GemmKernel.quantize(rows: m, k: k, a, rowStride: rowStride, into: q, scales: scales) }
        #endif
        #if canImport(VAEKernelsAVX2)
        if active == .avx2 { return VAEKernelsAVX2.Int8GemmKernel.quantize(rows: m, k: k, a, rowStride: rowStride, into: q, scales: scales) }
        #endif
        return VAEKernels.Int8GemmKernel.quantize(rows: m, k: k, a, rowStride: rowStride, into: q, scales: scales)
    }

    /// `C = activation(dequantize(A · B) + bias)` over int8 rows and int8 panels; see `Int8GemmKernel`.
    public static func multiply(m: Int, a: Int8Rows, b: Int8Panels, bias: UnsafePointer<Float>?, activation: Activation,
                                c: UnsafeMutablePointer<Float>, cRowStride: Int) {
        #if canImport(VAEKernelsAVX512)
        if active == .avx512 {
            return VAEKernelsAVX512.Int8GemmKernel.multiply(m: m, a: a, b: b, bias: bias, activation: activation, c: c, cRowStride: cRowStride)
        }
        #endif
        #if canImport(VAEKernelsAVX2)
        if active == .avx2 {
            return VAEKernelsAVX2.Int8GemmKernel.multiply(m: m, a: a, b: b, bias: bias, activation: activation, c: c, cRowStride: cRowStride)
        }
        #endif
        VAEKernels.Int8GemmKernel.multiply(m: m, a: a, b: b, bias: bias, activation: activation, c: c, cRowStride: cRowStride)
    }

    /// Scalar reference of the integer `multiply`, for tests.
    public static func referenceMultiply(m: Int, a: Int8Rows, b: Int8Panels, bias: UnsafePointer<Float>?, activation: Activation,
                                         c: UnsafeMutablePointer<Float>, cRowStride: Int) {
        VAEKernels.Int8GemmKernel.reference(m: m, a: a, b: b, bias: bias, activation: activation, c: c, cRowStride: cRowStride)
    }
}
