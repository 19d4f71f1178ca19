import VAEKernelTypes

/// Activation kernels over contiguous floats, SIMD with an explicit leftover loop.
public enum ActivationKernel {
    /// Applies `activation` to `count` floats at `p`, in place.
    public static func apply(_ activation: Activation, _ p: UnsafeMutablePointer<Float>, count: Int) {
        #if VAERT_COMPACT_KERNELS
        for i in 0..<count { p[i] = reference(activation, p[i]) }  // see GemmKernel.multiply
        #else
        switch activation {
        case .identity: return
        case .relu: relu(p, count: count)
        case .sigmoid: sigmoid(p, count: count)
        }
        #endif
    }

    public static func relu(_ p: UnsafeMutablePointer<Float>, count: Int) {
        var i = 0
        while i + vectorWidth <= count {
            store(maximum(load(p + i, as: Vector.self), Vector()), to: p + i)
            i += vectorWidth
        }
        while i < count {
            p[i] = max(p[i], 0)
            i += 1
        }
    }

    public static func sigmoid(_ p: UnsafeMutablePointer<Float>, count: Int) {
        var i = 0
        while i + vectorWidth <= count {
            store(FastMath.sigmoid(load(p + i, as: Vector.self)), to: p + i)
            i += vectorWidth
        }
        while i < count {
            p[i] = FastMath.sigmoid(p[i])
            i += 1
        }
    }

    /// Scalar reference: deliberately simple, for tests.
    public static func reference(_ activation: Activation, _ x: Float) -> Float {
        switch activation {
        case .identity: return x
        case .relu: return max(x, 0)
        case .sigmoid: return FastMath.sigmoid(x)
        }
    }
}
