import VAECore

/// Loss values (summed, in Double) and their gradients. Each takes the network's raw outputs and
/// writes d(loss)/d(input) scaled by `scale` where a gradient pointer is given.
public enum Losses {
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
            lanes += maximum(l, Vector()) - l * x + FastMath.log1p(e)
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
            total += Double(max(l, 0) - l * x + FastMath.log1p(e))
            if let gradient {
                let p = l >= 0 ? 1 / (1 + e) : e / (1 + e)
                gradient[i] = scale * (p - x)
            }
            i += 1
        }
        return total
    }

    /// Σ (σ(l) − x)², the squared error of the sigmoid output. Gradient: 2(σ − x)·σ(1 − σ).
    public static func squaredError(
        logits: UnsafePointer<Float>, targets: UnsafePointer<Float>, count: Int, gradient: UnsafeMutablePointer<Float>?, scale: Float = 1
    ) -> Double {
        var total: Double = 0
        for i in 0..<count {
            let p = FastMath.sigmoid(logits[i])
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
            let v = FastMath.exp(lv)
            total += Double(-0.5 * (1 + lv - m * m - v))
            dMu?[i] += scale * m
            dLogVariance?[i] += scale * 0.5 * (v - 1)
        }
        return total
    }
}
