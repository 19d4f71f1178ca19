import Testing
import TestSupport
import VAECore

/// The integer kernels against their scalar reference, in the build this CPU runs (AVX2 where it has it)
/// and in the portable build, at every width from 1 to 2·32+1 columns (32: the AVX2 tile's four panels).
@Suite struct Int8GemmTests {
    /// Random int8 weights [k × n] in −127...127 packed into panels, with scales and a bias.
    struct Operands {
        var panels: [Int8]
        var scales: [Float]
        var bias: [Float]
        var x: [Float]
        let (n, k): (Int, Int)
        /// Rows: as many as x holds.
        var m: Int { x.count / k }

        init(m: Int, n: Int, k: Int, seed: UInt64) {
            (self.n, self.k) = (n, k)
            panels = [Int8](repeating: 0, count: Int8Panels.valueBytes(rows: k, columns: n))
            let q = TestSupport.randomFloats(k * n, seed: seed, in: -127.49...127.49)
            for r in 0..<k { for c in 0..<n { panels[Int8Panels.index(row: r, column: c, rows: k)] = Int8(q[r * n + c].rounded()) } }
            scales = TestSupport.randomFloats(n, seed: seed + 1, in: 0.001...0.01)
            bias = TestSupport.randomFloats(n, seed: seed + 2)
            x = TestSupport.randomFloats(m * k, seed: seed + 3, in: -3...3)
        }

        /// C from `kernel` (quantizing x first), with or without the bias.
        func run(activation: Activation, withBias: Bool,
                 _ kernel: (Int, Int8Rows, Int8Panels, UnsafePointer<Float>?, Activation, UnsafeMutablePointer<Float>, Int) -> Void) -> [Float] {
            let rowBytes = Int8Rows.rowBytes(k)
            var q = [Int8](repeating: 99, count: m * rowBytes), rowScales = [Float](repeating: 0, count: m)
            var c = [Float](repeating: .nan, count: m * n)
            let nonNegative = Kernels.quantize(rows: m, k: k, x, rowStride: k, into: &q, scales: &rowScales)
            panels.withUnsafeBufferPointer { p in
                scales.withUnsafeBufferPointer { s in
                    bias.withUnsafeBufferPointer { b in
                        q.withUnsafeBufferPointer { q in
                            rowScales.withUnsafeBufferPointer { rs in
                                let a = Int8Rows(values: q.baseAddress!, scales: rs.baseAddress!, rowBytes: rowBytes, nonNegative: nonNegative)
                                let w = Int8Panels(rows: k, columns: n, scales: s.baseAddress!, values: p.baseAddress!)
                                kernel(m, a, w, withBias ? b.baseAddress! : nil, activation, &c, n)
                            }
                        }
                    }
                }
            }
            return c
        }
    }

    static func dispatched(_ m: Int, _ a: Int8Rows, _ b: Int8Panels, _ bias: UnsafePointer<Float>?, _ f: Activation,
                           _ c: UnsafeMutablePointer<Float>, _ ldc: Int) {
        Kernels.multiply(m: m, a: a, b: b, bias: bias, activation: f, c: c, cRowStride: ldc)
    }

    static func portable(_ m: Int, _ a: Int8Rows, _ b: Int8Panels, _ bias: UnsafePointer<Float>?, _ f: Activation,
                         _ c: UnsafeMutablePointer<Float>, _ ldc: Int) {
        VAEKernels.Int8GemmKernel.multiply(m: m, a: a, b: b, bias: bias, activation: f, c: c, cRowStride: ldc)
    }

    static func reference(_ m: Int, _ a: Int8Rows, _ b: Int8Panels, _ bias: UnsafePointer<Float>?, _ f: Activation,
                          _ c: UnsafeMutablePointer<Float>, _ ldc: Int) {
        Kernels.referenceMultiply(m: m, a: a, b: b, bias: bias, activation: f, c: c, cRowStride: ldc)
    }

    @Test("both builds equal the scalar reference at widths 1 to 65, depths 1 to 9 and 17, 1 to 7 and 10 rows, signed and non-negative rows",
          arguments: [Activation.identity, .relu, .sigmoid, .leakyRelu(slope: 0.2), .tanh, .elu(alpha: 0.7), .silu])
    func matchesReference(activation: Activation) {
        // The sums are exact integers and the epilogue the same float operations: identity, ReLU and leaky
        // ReLU are equal bit for bit; with an exponential, the AVX2 build's fused multiply-adds may differ
        // from the baseline reference's in the last bit.
        let tolerance: Float = activation.isTranscendental ? 1e-6 : 0
        for n in 1...65 {
            for k in [1, 2, 3, 4, 5, 8, 9, 17] {
                for m in [1, 2, 3, 4, 5, 6, 7, 10] {
                    var o = Operands(m: m, n: n, k: k, seed: UInt64(n * 100 + k * 7 + m))
                    // Signed rows, and rows with no negative value (the AVX2 kernel skips the sign trick).
                    for nonNegative in [false, true] {
                        if nonNegative { o.x = o.x.map { abs($0) } }
                        let expected = o.run(activation: activation, withBias: n % 2 == 0, Self.reference)
                        for (name, kernel) in [("dispatched", Self.dispatched), ("portable", Self.portable)] {
                            let got = o.run(activation: activation, withBias: n % 2 == 0, kernel)
                            let error = TestSupport.maxAbsDifference(got, expected)
                            #expect(error <= tolerance, "\(name) m \(m) n \(n) k \(k) non-negative \(nonNegative): \(error)")
                        }
                    }
                }
            }
        }
    }

    @Test("the largest products (±127 × ±127) do not saturate: 400 of them sum exactly")
    func extremes() {
        let (k, n) = (400, 9)
        var o = Operands(m: 2, n: n, k: k, seed: 1)
        for i in o.panels.indices { o.panels[i] = 0 }
        for r in 0..<k { for c in 0..<n { o.panels[Int8Panels.index(row: r, column: c, rows: k)] = (r + c) % 2 == 0 ? 127 : -127 } }
        o.scales = [Float](repeating: 1, count: n)
        o.x = (0..<(2 * k)).map { i in i % 2 == 0 ? 1 : -1 }
        for kernel in [Self.dispatched, Self.portable] {
            let c = o.run(activation: .identity, withBias: false, kernel)
            // Column c sums 400 products of ±127·127 of one sign, (−1)^c; the row scale is 1/127.
            for col in 0..<n { #expect(c[col] == Float(col % 2 == 0 ? 400 * 127 * 127 : -400 * 127 * 127) * (Float(1) / 127)) }
        }
    }

    @Test("quantization: round half to even of x · 127 / max|x|, zero padding, zero and non-finite rows, non-negativity")
    func quantization() {
        let k = 6
        let x: [Float] = [1, -0.5, 0.25, 127.0 / 254, 0, -1,  0, 0, 0, 0, 0, 0,  1, .nan, 0, 0, 0, 0]
        var q = [Int8](repeating: 99, count: 3 * 8), scales = [Float](repeating: 9, count: 3)
        Kernels.quantize(rows: 3, k: k, x, rowStride: k, into: &q, scales: &scales)
        #expect(Array(q[0..<8]) == [127, -64, 32, 64, 0, -127, 0, 0])  // -63.5 → -64, 31.75 → 32, 63.5 → 64
        #expect(scales[0] == Float(1) / 127)
        #expect(Array(q[8..<16]) == [0, 0, 0, 0, 0, 0, 0, 0] && scales[1] == 0)
        #expect(Array(q[16..<24]) == [0, 0, 0, 0, 0, 0, 0, 0] && scales[2].isNaN)
        var positive = [Int8](repeating: 0, count: 8), scale: Float = 0
        #expect(Kernels.quantize(rows: 1, k: k, [0, 1, 2, 3, 4, 5], rowStride: k, into: &positive, scales: &scale))
        #expect(!Kernels.quantize(rows: 3, k: k, x, rowStride: k, into: &q, scales: &scales))
    }

    @Test("a row's result does not depend on the batch it is computed in")
    func batchInvariance() {
        let o = Operands(m: 7, n: 70, k: 33, seed: 9)
        let all = o.run(activation: .sigmoid, withBias: true, Self.dispatched)
        for row in 0..<7 {
            var one = o
            one.x = Array(o.x[(row * 33)..<((row + 1) * 33)])
            let single = one.run(activation: .sigmoid, withBias: true, Self.dispatched)
            #expect(single == Array(all[(row * 70)..<((row + 1) * 70)]), "row \(row)")
        }
    }
}
