import VAECore
// The loss kernel, compiled for the trainer's target; its copy of FastMath is the same code as VAEKernels'
// (names are qualified in this file).
internal import VAETrainingKernels

/// Loss values (summed, in Double) and their gradients. Each takes the network's raw outputs and
/// writes d(loss)/d(input) scaled by `scale` where a gradient pointer is given.
public enum Losses {
    /// Σ BCE(σ(l), x) computed from logits, and its gradient σ(l) − x (see `LossKernel.bceWithLogits`).
    public static func bceWithLogits(
        logits: UnsafePointer<Float>, targets: UnsafePointer<Float>, count: Int, gradient: UnsafeMutablePointer<Float>?, scale: Float = 1
    ) -> Double {
        LossKernel.bceWithLogits(logits: logits, targets: targets, count: count, gradient: gradient, scale: scale)
    }

    /// Σ (σ(l) − x)², the squared error of the sigmoid output. Gradient: 2(σ − x)·σ(1 − σ).
    public static func squaredError(
        logits: UnsafePointer<Float>, targets: UnsafePointer<Float>, count: Int, gradient: UnsafeMutablePointer<Float>?, scale: Float = 1
    ) -> Double {
        var total: Double = 0
        for i in 0..<count {
            let p = VAEKernels.FastMath.sigmoid(logits[i])
            let d = p - targets[i]
            total += Double(d * d)
            gradient?[i] = scale * 2 * d * p * (1 - p)
        }
        return total
    }

    /// The reconstruction loss of `likelihood`.
    public static func reconstruction(
        _ likelihood: Likelihood, logits: UnsafePointer<Float>, targets: UnsafePointer<Float>, count: Int,
        gradient: UnsafeMutablePointer<Float>?, scale: Float = 1
    ) -> Double {
        switch likelihood {
        case .bernoulli: return bceWithLogits(logits: logits, targets: targets, count: count, gradient: gradient, scale: scale)
        case .gaussian: return squaredError(logits: logits, targets: targets, count: count, gradient: gradient, scale: scale)
        }
    }

    /// KL(N(μ, e^lv) ‖ N(0, 1)) summed: −½ Σ (1 + lv − μ² − e^lv).
    /// Gradients (times `scale`) are *added* to `dMu` (μ) and `dLogVariance` (½(e^lv − 1)).
    public static func gaussianKL(
        mu: UnsafePointer<Float>, logVariance: UnsafePointer<Float>, count: Int,
        dMu: UnsafeMutablePointer<Float>?, dLogVariance: UnsafeMutablePointer<Float>?, scale: Float = 1
    ) -> Double {
        var total: Double = 0
        for i in 0..<count {
            let m = mu[i]
            let lv = logVariance[i]
            let v = VAEKernels.FastMath.exp(lv)
            // At log σ² = ±∞ the formula is ∞ − ∞; the limit is +∞ either way.
            total += lv.isInfinite ? .infinity : Double(VAECore.gaussianKL(mu: m, logVariance: lv, variance: v))
            dMu?[i] += scale * m
            dLogVariance?[i] += scale * 0.5 * (v - 1)
        }
        return total
    }
}
