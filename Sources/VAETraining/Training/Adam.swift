import Foundation
import VAECore

/// Adam (Kingma & Ba) with PyTorch's arithmetic: θ −= lr/(1 − β1^t) · m / (√v / √(1 − β2^t) + ε).
/// Element-wise, so vectorising it and splitting it across threads changes no result.
public final class Adam: @unchecked Sendable {
    public var learningRate: Float
    public let beta1: Float = 0.9
    public let beta2: Float = 0.999
    public let epsilon: Float = 1e-8
    public let m: FloatBuffer
    public let v: FloatBuffer
    /// Updates taken so far.
    public var step: Int = 0

    public init(parameterCount: Int, learningRate: Float) {
        self.learningRate = learningRate
        m = FloatBuffer(count: parameterCount)
        v = FloatBuffer(count: parameterCount)
    }

    public func update(_ parameters: FloatBuffer, gradient: FloatBuffer, threads: Int = 1) {
        step += 1
        let t = Double(step)
        let stepSize = Float(Double(learningRate) / (1 - pow(Double(beta1), t)))
        let correction2 = Float((1 - pow(Double(beta2), t)).squareRoot())
        let count = parameters.count
        let chunks = max(1, min(threads, count / 65536))
        let (p, g, m, v) = (parameters.pointer, gradient.pointer, self.m.pointer, self.v.pointer)
        let (b1, b2, eps) = (beta1, beta2, epsilon)
        // Runs of whole vectors; an element's update is the same in a vector or in the scalar tail.
        RowParallel.forEachRun(count: count, workers: chunks, granule: vectorWidth) { _, run in
            let end = run.upperBound
            var i = run.lowerBound
            while i + vectorWidth <= end {
                let gi: Vector = UnsafeRawPointer(g + i).loadUnaligned(as: Vector.self)
                let mi = b1 * UnsafeRawPointer(m + i).loadUnaligned(as: Vector.self) + (1 - b1) * gi
                let vi = b2 * UnsafeRawPointer(v + i).loadUnaligned(as: Vector.self) + (1 - b2) * gi * gi
                let pi: Vector = UnsafeRawPointer(p + i).loadUnaligned(as: Vector.self) - stepSize * mi / (vi.squareRoot() / correction2 + eps)
                UnsafeMutableRawPointer(m + i).storeBytes(of: mi, as: Vector.self)
                UnsafeMutableRawPointer(v + i).storeBytes(of: vi, as: Vector.self)
                UnsafeMutableRawPointer(p + i).storeBytes(of: pi, as: Vector.self)
                i += vectorWidth
            }
            while i < end {
                let gi = g[i]
                m[i] = b1 * m[i] + (1 - b1) * gi
                v[i] = b2 * v[i] + (1 - b2) * gi * gi
                p[i] -= stepSize * m[i] / (v[i].squareRoot() / correction2 + eps)
                i += 1
            }
        }
    }
}
