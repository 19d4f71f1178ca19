import Foundation
import Testing
import TestSupport
import VAECore
import VAETraining

/// The losses at the edges: logits of ±1e4 and ±∞, log σ² far outside the clamp. Values are the exact
/// limits, gradients stay finite, and nothing is NaN unless an input is.
@Suite struct LossExtremesTests {
    /// (logit, target, loss, gradient σ(l) − x): closed forms.
    static let cases: [(Float, Float, Double, Float)] = [
        (1e4, 0, 1e4, 1), (1e4, 1, 0, 0), (1e4, 0.5, 5e3, 0.5),
        (-1e4, 0, 0, 0), (-1e4, 1, 1e4, -1), (-1e4, 0.5, 5e3, -0.5),
        (.infinity, 1, 0, 0), (.infinity, 0, .infinity, 1), (.infinity, 0.25, .infinity, 0.75),
        (-.infinity, 0, 0, 0), (-.infinity, 1, .infinity, -1), (-.infinity, 0.25, .infinity, -0.25),
    ]

    /// Runs `loss` on each case placed at every position of a 19-element buffer of zero-loss-ish
    /// entries, so that the vector body and the scalar tail both see it.
    func check(_ name: String, _ loss: (UnsafePointer<Float>, UnsafePointer<Float>, Int, UnsafeMutablePointer<Float>) -> Double) {
        let count = 19
        for (l, x, expected, expectedGradient) in Self.cases {
            for position in [0, 9, 17] {
                var logits = [Float](repeating: -30, count: count), targets = [Float](repeating: 0, count: count)
                logits[position] = l
                targets[position] = x
                var gradient = [Float](repeating: .nan, count: count)
                let background = Double(count - 1) * Double(FastMath.log1p(FastMath.exp(-30)))
                let total = loss(logits, targets, count, &gradient)
                if expected.isInfinite {
                    #expect(total == .infinity, "\(name) l=\(l) x=\(x) at \(position): \(total)")
                } else {
                    #expect(abs(total - background - expected) <= 1e-3, "\(name) l=\(l) x=\(x) at \(position): \(total)")
                }
                // (e^−|l| bottoms out at the smallest normal float rather than 0: σ(−1e4) is 1e-38, not 0.)
                #expect(abs(gradient[position] - expectedGradient) <= 1e-30, "\(name) gradient l=\(l) x=\(x): \(gradient[position])")
                #expect(gradient.allSatisfy { $0.isFinite })
            }
        }
    }

    @Test("BCE with logits at ±1e4 and ±∞: exact limits and finite gradients")
    func bce() {
        check("trainer kernel") { Losses.bceWithLogits(logits: $0, targets: $1, count: $2, gradient: $3) }
    }

    @Test("a NaN logit or target gives a NaN loss (which stops training), never a finite one")
    func nanPropagates() {
        for (l, x): (Float, Float) in [(.nan, 0.5), (0.3, .nan), (.infinity, .nan)] {
            let logits = [Float](repeating: l, count: 9), targets = [Float](repeating: x, count: 9)
            #expect(Losses.bceWithLogits(logits: logits, targets: targets, count: 9, gradient: nil).isNaN)
        }
    }

    @Test("KL at extreme log σ²: the closed form at the clamp bounds, +∞ beyond, finite μ gradient")
    func kl() {
        func kl(_ mu: Float, _ lv: Float) -> (Double, Float, Float) {
            var dMu: Float = 0, dLv: Float = 0
            let value = withUnsafePointer(to: mu) { m in withUnsafePointer(to: lv) { v in
                Losses.gaussianKL(mu: m, logVariance: v, count: 1, dMu: &dMu, dLogVariance: &dLv)
            } }
            return (value, dMu, dLv)
        }
        for lv in [logVarianceRange.lowerBound, logVarianceRange.upperBound] {
            let (value, dMu, dLv) = kl(0.5, lv)
            let exact = -0.5 * (1 + Double(lv) - 0.25 - Foundation.exp(Double(lv)))
            #expect(abs(value - exact) <= 1e-6 * abs(exact), "lv \(lv): \(value) vs \(exact)")
            #expect(dMu == 0.5 && abs(Double(dLv) - 0.5 * (Foundation.exp(Double(lv)) - 1)) <= 1e-6 * max(1, Foundation.exp(Double(lv))))
        }
        for lv: Float in [1e4, -1e4, .infinity, -.infinity] {
            let (value, dMu, _) = kl(0.5, lv)
            #expect(!value.isNaN && value > 1e3, "lv \(lv): \(value)")
            #expect(dMu == 0.5)
        }
        #expect(kl(.infinity, 0).0 == .infinity)
    }
}
