/// Adam (Kingma & Ba) with PyTorch's arithmetic: θ −= lr/(1 − β1^t) · m / (√v / √(1 − β2^t) + ε).
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

    public func update(_ parameters: FloatBuffer, gradient: FloatBuffer) {
        step += 1
        let t = Double(step)
        let stepSize = Float(Double(learningRate) / (1 - pow(Double(beta1), t)))
        let correction2 = Float((1 - pow(Double(beta2), t)).squareRoot())
        let (p, g, m, v) = (parameters.pointer, gradient.pointer, self.m.pointer, self.v.pointer)
        let (b1, b2, eps) = (beta1, beta2, epsilon)
        for i in 0..<parameters.count {
            let gi = g[i]
            m[i] = b1 * m[i] + (1 - b1) * gi
            v[i] = b2 * v[i] + (1 - b2) * gi * gi
            p[i] -= stepSize * m[i] / (v[i].squareRoot() / correction2 + eps)
        }
    }
}

import Foundation
