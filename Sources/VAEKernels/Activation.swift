import VAEKernelTypes

/// Activation kernels over contiguous floats, SIMD with an explicit leftover loop. Every form of an
/// activation (this scalar reference, the vectors' `activated`, the GEMM epilogues) is the same operations
/// in the same order, so they give the same bits.
public enum ActivationKernel {
    /// Applies `activation` to `count` floats at `p`, in place.
    public static func apply(_ activation: Activation, _ p: UnsafeMutablePointer<Float>, count: Int) {
        if activation == .identity { return }
        #if VAERT_COMPACT_KERNELS
        for i in 0..<count { p[i] = scalar(activation, p[i]) }  // see GemmKernel.multiply
        #else
        var i = 0
        while i + vectorWidth <= count {
            store(Vector.activated(load(p + i, as: Vector.self), activation), to: p + i)
            i += vectorWidth
        }
        while i < count {
            p[i] = scalar(activation, p[i])
            i += 1
        }
        #endif
    }

    /// `reference`, with the course's three and leaky ReLU inlined into the caller (the scalar epilogues of
    /// the compact builds, where a call per value cost 4% of a decode on Cortex-M4), the rest called.
    @inline(__always)
    public static func scalar(_ activation: Activation, _ x: Float) -> Float {
        switch activation {
        case .identity: return x
        case .relu: return x < 0 ? 0 : x
        case .sigmoid: return FastMath.sigmoid(x)
        case .leakyRelu(let slope): return x < 0 ? x * slope : x
        case .tanh, .elu, .silu: return reference(activation, x)
        }
    }

    /// Scalar reference: deliberately simple, for tests; one copy, which `scalar` calls for the rarer ones.
    @inline(never)
    public static func reference(_ activation: Activation, _ x: Float) -> Float {
        switch activation {
        case .identity: return x
        case .relu: return x < 0 ? 0 : x  // as the vectors' blend: −0 and NaN stay
        case .sigmoid: return FastMath.sigmoid(x)
        case .leakyRelu(let slope): return x < 0 ? x * slope : x
        case .tanh: return FastMath.tanh(x)
        case .elu(let alpha): return x > 0 ? x : alpha * (FastMath.exp(x) - 1)
        case .silu: return x * FastMath.sigmoid(x)
        }
    }
}
