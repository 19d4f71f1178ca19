/// The trainer's per-pixel reconstruction loss and gradient over contiguous floats. A kernel of the trainer
/// only, compiled for its AVX2 target with the math it needs (FastMath and Vector, linked from VAEKernels).
public enum LossKernel {
    /// Σ BCE(σ(l), x) computed from logits: max(l, 0) − l·x + log(1 + e^−|l|), stable for any finite l.
    /// Gradient: σ(l) − x. Vectorised, with the same formula for the leftover elements.
    public static func bceWithLogits(
        logits: UnsafePointer<Float>, targets: UnsafePointer<Float>, count: Int, gradient: UnsafeMutablePointer<Float>?, scale: Float = 1
    ) -> Double {
        var total: Double = 0
        var lanes = Vector()
        var i = 0
        var sinceFlush = 0
        while i + vectorWidth <= count {
            let l: Vector = UnsafeRawPointer(logits + i).loadUnaligned(as: Vector.self)
            let x: Vector = UnsafeRawPointer(targets + i).loadUnaligned(as: Vector.self)
            let e = FastMath.exp(minimum(l, -l))  // e^−|l|
            var loss = maximum(l, Vector()) - l * x + FastMath.log1p(e)
            if any(maximum(l, -l) .== Vector(repeating: .infinity)) { loss = infiniteLogitLimits(loss, l, x) }
            lanes += loss
            if let gradient {
                let r = 1 / (1 + e)
                let p = r.replacing(with: e * r, where: l .< 0)
                UnsafeMutableRawPointer(gradient + i).storeBytes(of: scale * (p - x), as: Vector.self)
            }
            i += vectorWidth
            sinceFlush += 1
            if sinceFlush == 64 {  // keep the float partial sums short
                total += Double(lanes.sum())
                lanes = Vector()
                sinceFlush = 0
            }
        }
        total += Double(lanes.sum())
        while i < count {
            let l = logits[i], x = targets[i]
            let e = FastMath.exp(-abs(l))
            total += Double(l.isInfinite ? infiniteLogitLimit(l, x) : max(l, 0) - l * x + FastMath.log1p(e))
            if let gradient {
                let p = l >= 0 ? 1 / (1 + e) : e / (1 + e)
                gradient[i] = scale * (p - x)
            }
            i += 1
        }
        return total
    }

    /// BCE at an infinite logit, where l·x is ∞ − ∞ or ∞ · 0: its limit, 0 when the target is the
    /// certain outcome (1 for +∞, 0 for −∞), +∞ otherwise, NaN for a NaN target. (The gradient σ(l) − x
    /// is finite as computed.)
    static func infiniteLogitLimit(_ l: Float, _ x: Float) -> Float { x == (l > 0 ? 1 : 0) ? 0 : x.isNaN ? x : .infinity }

    @inline(never)
    static func infiniteLogitLimits(_ loss: Vector, _ l: Vector, _ x: Vector) -> Vector {
        var out = loss
        for k in 0..<Vector.scalarCount where l[k].isInfinite { out[k] = infiniteLogitLimit(l[k], x[k]) }
        return out
    }
}
