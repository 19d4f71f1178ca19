/// The diagonal Gaussian posterior q(z | x) = N(μ, σ²) of the variational models, in one place for
/// training, evaluation and the runtime.

/// The range log σ² is clamped to, in training and at run time alike, so that σ = exp(log σ² / 2)
/// never overflows or vanishes.
public let logVarianceRange: ClosedRange<Float> = -30...20

/// `x` clamped to `logVarianceRange`.
@inlinable
public func clampLogVariance(_ x: Float) -> Float { min(max(x, logVarianceRange.lowerBound), logVarianceRange.upperBound) }

/// KL(N(μ, σ²) ‖ N(0, 1)) of one dimension in closed form, −½ (1 + log σ² − μ² − σ²), in the caller's
/// precision: the trainer's loss in Float, scores and statistics in Double (each with its own e^lv).
@inlinable
public func gaussianKL<T: BinaryFloatingPoint>(mu: T, logVariance lv: T, variance: T) -> T { -0.5 * (1 + lv - mu * mu - variance) }
