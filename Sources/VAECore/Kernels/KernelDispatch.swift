@_exported import VAEKernels
internal import _VaertCPU
#if canImport(VAEKernelsAVX2)
internal import VAEKernelsAVX2
#endif

/// The builds of the kernels this library carries, and the one this CPU runs.
///
/// On x86-64 the kernels (`VAEKernels`) are compiled twice from the same files: once for any x86-64
/// (SSE2, separate multiply and add) and once for the Haswell level, AVX2 + FMA + F16C (`VAEKernelsAVX2`). The choice is made
/// once, from CPUID, so the shipped library runs on any x86-64 and at full speed where it can.
/// Elsewhere there is one build (on aarch64 it uses NEON's fused multiply-add).
public enum KernelSet: Sendable {
    case baseline
    case avx2

    /// The build in use. `VAERT_KERNELS=baseline` in the environment forces the portable one.
    public static let active: KernelSet = {
        #if canImport(VAEKernelsAVX2)
        if vaert_cpu_has_avx2_fma() != 0 { return .avx2 }
        #endif
        return .baseline
    }()

}

/// Single-precision matrix multiply on the active kernel build: `C[m×n] = A[m×k] · B[k×n]`, then the
/// epilogue. See `VAEKernels.GemmKernel` for the algorithm and its guarantees (bit-identical rows whatever the batch
/// size or split).
public enum Gemm {
    public static let tileRows = VAEKernels.GemmKernel.tileRows

    public static func multiply(
        m: Int, n: Int, k: Int, a: VAEKernels.MatrixView, b: UnsafePointer<Float>, bRowStride: Int,
        c: UnsafeMutablePointer<Float>, cRowStride: Int, epilogue: VAEKernels.GemmEpilogue = .overwrite
    ) {
        #if canImport(VAEKernelsAVX2)
        if KernelSet.active == .avx2 {
            VAEKernelsAVX2.GemmKernel.multiply(m: m, n: n, k: k, a: a.avx2, b: b, bRowStride: bRowStride, c: c, cRowStride: cRowStride,
                                               epilogue: epilogue.avx2)
            return
        }
        #endif
        VAEKernels.GemmKernel.multiply(m: m, n: n, k: k, a: a, b: b, bRowStride: bRowStride, c: c, cRowStride: cRowStride, epilogue: epilogue)
    }

    /// The same with B packed (a loaded layer's weights); see `VAEKernels.GemmKernel.multiply(m:a:packed:...)`.
    public static func multiply(m: Int, a: VAEKernels.MatrixView, packed b: VAEKernels.PackedMatrix, c: UnsafeMutablePointer<Float>, cRowStride: Int,
                                epilogue: VAEKernels.GemmEpilogue = .overwrite) {
        #if canImport(VAEKernelsAVX2)
        if KernelSet.active == .avx2 {
            VAEKernelsAVX2.GemmKernel.multiply(m: m, a: a.avx2, packed: b.avx2, c: c, cRowStride: cRowStride, epilogue: epilogue.avx2)
            return
        }
        #endif
        VAEKernels.GemmKernel.multiply(m: m, a: a, packed: b, c: c, cRowStride: cRowStride, epilogue: epilogue)
    }

    /// Scalar reference of `multiply`: deliberately simple, for tests.
    public static func reference(
        m: Int, n: Int, k: Int, a: VAEKernels.MatrixView, b: UnsafePointer<Float>, bRowStride: Int,
        c: UnsafeMutablePointer<Float>, cRowStride: Int, epilogue: VAEKernels.GemmEpilogue = .overwrite
    ) {
        VAEKernels.GemmKernel.reference(m: m, n: n, k: k, a: a, b: b, bRowStride: bRowStride, c: c, cRowStride: cRowStride, epilogue: epilogue)
    }
}

/// Activation kernels over contiguous floats on the active kernel build.
public enum ActivationKernels {
    public static func apply(_ activation: VAEKernels.Activation, _ p: UnsafeMutablePointer<Float>, count: Int) {
        #if canImport(VAEKernelsAVX2)
        if KernelSet.active == .avx2 {
            VAEKernelsAVX2.ActivationKernel.apply(activation.avx2, p, count: count)
            return
        }
        #endif
        VAEKernels.ActivationKernel.apply(activation, p, count: count)
    }
}

/// Loss kernels on the active kernel build.
public enum LossKernels {
    /// Σ BCE(σ(l), x) from logits, with the gradient scale·(σ(l) − x) when `gradient` is given.
    public static func bceWithLogits(logits: UnsafePointer<Float>, targets: UnsafePointer<Float>, count: Int,
                                     gradient: UnsafeMutablePointer<Float>?, scale: Float) -> Double {
        #if canImport(VAEKernelsAVX2)
        if KernelSet.active == .avx2 {
            return VAEKernelsAVX2.LossKernel.bceWithLogits(logits: logits, targets: targets, count: count, gradient: gradient, scale: scale)
        }
        #endif
        return VAEKernels.LossKernel.bceWithLogits(logits: logits, targets: targets, count: count, gradient: gradient, scale: scale)
    }
}

#if canImport(VAEKernelsAVX2)
// The AVX2 build's copies of the kernel types: same fields, converted field by field.
extension VAEKernels.MatrixView {
    var avx2: VAEKernelsAVX2.MatrixView { VAEKernelsAVX2.MatrixView(base, rowStride: rowStride, columnStride: columnStride) }
}

extension VAEKernels.Activation {
    var avx2: VAEKernelsAVX2.Activation { VAEKernelsAVX2.Activation(rawValue: rawValue)! }
}

extension VAEKernels.GemmEpilogue {
    var avx2: VAEKernelsAVX2.GemmEpilogue {
        VAEKernelsAVX2.GemmEpilogue(accumulate: accumulate, bias: bias, rowBias: rowBias, activation: activation.avx2)
    }
}

extension VAEKernels.PackedMatrix {
    var avx2: VAEKernelsAVX2.PackedMatrix { VAEKernelsAVX2.PackedMatrix(rows: rows, columns: columns, values: values) }
}
#endif
