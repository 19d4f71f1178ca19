import Testing
import TestSupport
import VAECore
import VAETraining

@Suite struct OutputAwareQuantizationTests {
    /// ‖X (W − Q)‖² / ‖X W‖²: the relative output error of quantized weights on inputs X [m, k].
    func outputError(_ x: [Float], _ w: [Float], _ q: [Int8], _ scales: [Float], k: Int, n: Int) -> Double {
        var error = 0.0, total = 0.0
        for r in 0..<(x.count / k) {
            for c in 0..<n {
                var exact = 0.0, quantized = 0.0
                for i in 0..<k {
                    exact += Double(x[r * k + i]) * Double(w[i * n + c])
                    quantized += Double(x[r * k + i]) * Double(q[i * n + c]) * Double(scales[c])
                }
                error += (exact - quantized) * (exact - quantized)
                total += exact * exact
            }
        }
        return error / total
    }

    @Test("on correlated inputs the output error is well below rounding to nearest; scales and range are the format's")
    func beatsNearestRounding() {
        let (m, k, n, rank) = (600, 48, 24, 6)
        // Inputs that co-vary, as a hidden layer's do: a few factors mixed into k features, plus noise.
        let factors = TestSupport.randomFloats(m * rank, seed: 1, in: -1...1)
        let mixing = TestSupport.randomFloats(rank * k, seed: 2, in: -1...1)
        let noise = TestSupport.randomFloats(m * k, seed: 3, in: -0.05...0.05)
        var x = [Float](repeating: 0, count: m * k)
        for r in 0..<m {
            for i in 0..<k {
                var v = noise[r * k + i]
                for f in 0..<rank { v += factors[r * rank + f] * mixing[f * k + i] }
                x[r * k + i] = max(v, 0)  // ReLU outputs
            }
        }
        let w = TestSupport.randomFloats(k * n, seed: 4, in: -0.3...0.3)
        let (q, scales) = OutputAwareQuantization.quantize(weights: w, rows: k, columns: n, inputs: x)
        let nearestScales = TensorEncoding.channelScales(w, channels: n, inner: 1)
        let nearest = w.indices.map { TensorEncoding.quantized(w[$0], nearestScales[$0 % n]) }
        #expect(scales == nearestScales)
        #expect(q.allSatisfy { $0 >= -127 && $0 <= 127 })
        let (aware, rounded) = (outputError(x, w, q, scales, k: k, n: n), outputError(x, w, nearest, nearestScales, k: k, n: n))
        #expect(aware < 0.5 * rounded, "output-aware \(aware), nearest \(rounded)")
    }

    @Test("inputs that never move leave rounding to nearest")
    func zeroInputs() {
        let w = TestSupport.randomFloats(8 * 4, seed: 9, in: -1...1)
        let (q, scales) = OutputAwareQuantization.quantize(weights: w, rows: 8, columns: 4, inputs: [Float](repeating: 0, count: 16 * 8))
        #expect(q == w.indices.map { TensorEncoding.quantized(w[$0], scales[$0 % 4]) })
    }
}
