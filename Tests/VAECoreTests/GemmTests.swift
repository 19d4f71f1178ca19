import Testing
import TestSupport
import VAECore

@Suite struct GemmTests {
    /// Runs the SIMD GEMM and the scalar reference on the same operands and returns the normalised error.
    func compare(m: Int, n: Int, k: Int, transposedA: Bool, epilogue: (UnsafePointer<Float>) -> GemmEpilogue) -> Float {
        let a = TestSupport.randomFloats(m * k, seed: UInt64(m * 1000 + k))
        let b = TestSupport.randomFloats(k * n, seed: UInt64(n * 1000 + k + 7))
        let bias = TestSupport.randomFloats(n, seed: 3)
        let start = TestSupport.randomFloats(m * n, seed: 5)
        var fast = start, slow = start
        a.withUnsafeBufferPointer { a in
            b.withUnsafeBufferPointer { b in
                bias.withUnsafeBufferPointer { bias in
                    let view = transposedA ? MatrixView(a.baseAddress!, rowStride: 1, columnStride: m) : MatrixView(a.baseAddress!, rowStride: k)
                    Kernels.multiply(m: m, n: n, k: k, a: view, b: b.baseAddress!, bRowStride: n, c: &fast, cRowStride: n, epilogue: epilogue(bias.baseAddress!))
                    Kernels.referenceMultiply(m: m, n: n, k: k, a: view, b: b.baseAddress!, bRowStride: n, c: &slow, cRowStride: n, epilogue: epilogue(bias.baseAddress!))
                }
            }
        }
        // Normalised by the size of the sum (k terms of magnitude < 1).
        return TestSupport.maxAbsDifference(fast, slow) / Float(k)
    }

    @Test("SIMD GEMM matches the scalar reference at sizes 1 to 2·width+1 and beyond")
    func matchesReference() {
        for m in [1, 2, 5, 6, 7, 13] {
            for n in [1, 7, 8, 9, 15, 16, 17, 33, 64, 65, 80] {
                for k in [1, 3, 17] {
                    for transposed in [false, true] {
                        let error = compare(m: m, n: n, k: k, transposedA: transposed) { _ in .overwrite }
                        #expect(error < 1e-6, "m \(m) n \(n) k \(k) transposed \(transposed): \(error)")
                    }
                }
            }
        }
    }

    @Test("epilogues: accumulate, bias, and every activation",
          arguments: [Activation.identity, .relu, .sigmoid, .leakyRelu(slope: 0.2), .tanh, .elu(alpha: 0.7), .silu])
    func epilogues(activation: Activation) {
        for n in [5, 16, 24, 70] {
            let error = compare(m: 7, n: n, k: 9, transposedA: false) { GemmEpilogue(accumulate: true, bias: $0, activation: activation) }
            #expect(error < 1e-6, "n \(n): \(error)")
        }
    }

    @Test("a row's result does not depend on the batch it is computed in")
    func batchInvariance() {
        let (n, k) = (70, 33)
        let x = TestSupport.randomFloats(13 * k, seed: 11)
        let w = TestSupport.randomFloats(k * n, seed: 12)
        var all = [Float](repeating: 0, count: 13 * n)
        Kernels.multiply(m: 13, n: n, k: k, a: MatrixView(x, rowStride: k), b: w, bRowStride: n, c: &all, cRowStride: n)
        for row in 0..<13 {
            var one = [Float](repeating: 0, count: n)
            x.withUnsafeBufferPointer { x in
                Kernels.multiply(m: 1, n: n, k: k, a: MatrixView(x.baseAddress! + row * k, rowStride: k), b: w, bRowStride: n, c: &one, cRowStride: n)
            }
            #expect(one == Array(all[(row * n)..<((row + 1) * n)]), "row \(row)")
        }
    }

    @Test("dense layer forward equals x·W + b through the activation")
    func denseForward() {
        let (batch, inputs, outputs) = (3, 5, 4)
        let x = TestSupport.randomFloats(batch * inputs, seed: 21)
        let w = TestSupport.randomFloats(inputs * outputs, seed: 22)
        let b = TestSupport.randomFloats(outputs, seed: 23)
        var y = [Float](repeating: 0, count: batch * outputs)
        DenseLayer(inputCount: inputs, outputCount: outputs, weights: w, bias: b, activation: .relu).forward(x, batch: batch, into: &y)
        for r in 0..<batch {
            for o in 0..<outputs {
                var s = b[o]
                for i in 0..<inputs { s += x[r * inputs + i] * w[i * outputs + o] }
                #expect(abs(y[r * outputs + o] - max(s, 0)) < 1e-6)
            }
        }
    }
}

@Suite struct HalfGemmTests {
    @Test("f16 weights widened as they stream give the f32 kernel's very bits on the widened values, in both builds, at sizes 1 to 2·64+1")
    func sameAsWidened() {
        for m in [1, 2, 5, 6, 7] {
            for n in [1, 7, 8, 9, 16, 17, 63, 64, 65, 129] {
                for k in [1, 3, 17] {
                    let values = TestSupport.randomFloats(m * k, seed: UInt64(m * 100 + k))
                    let a = UnsafeMutableBufferPointer<Float>.allocate(capacity: m * k)
                    defer { a.deallocate() }
                    _ = a.initialize(from: values)
                    let halves = TestSupport.randomFloats(k * n, seed: UInt64(n + 3), in: -2...2).map { Half(bits: TensorEncoding.halfBits($0)) }
                    let widened = halves.map(\.float)
                    let bias = UnsafeMutableBufferPointer<Float>.allocate(capacity: n)
                    defer { bias.deallocate() }
                    _ = bias.initialize(from: TestSupport.randomFloats(n, seed: 4))
                    var expected = [Float](repeating: 0, count: m * n), fast = expected, portable = expected, slow = expected
                    let epilogue = GemmEpilogue(bias: UnsafePointer(bias.baseAddress!), activation: .sigmoid)
                    Kernels.multiply(m: m, n: n, k: k, a: MatrixView(UnsafePointer(a.baseAddress!), rowStride: k), b: widened, bRowStride: n, c: &expected, cRowStride: n, epilogue: epilogue)
                    Kernels.multiply(m: m, n: n, k: k, a: MatrixView(UnsafePointer(a.baseAddress!), rowStride: k), b: halves, bRowStride: n, c: &fast, cRowStride: n, epilogue: epilogue)
                    VAEKernels.GemmKernel.multiply(m: m, n: n, k: k, a: MatrixView(UnsafePointer(a.baseAddress!), rowStride: k), b: halves, bRowStride: n, c: &portable, cRowStride: n,
                                                   epilogue: epilogue)
                    Kernels.referenceMultiply(m: m, n: n, k: k, a: MatrixView(UnsafePointer(a.baseAddress!), rowStride: k), b: halves, bRowStride: n, c: &slow, cRowStride: n, epilogue: epilogue)
                    #expect(fast == expected, "m \(m) n \(n) k \(k)")
                    #expect(TestSupport.maxAbsDifference(portable, slow) < 1e-5 && TestSupport.maxAbsDifference(fast, slow) < 1e-5, "m \(m) n \(n) k \(k)")
                }
            }
        }
    }

    @Test("f16 panels give the f32 panels' very bits on the widened values, in both builds, at 1 to 13 rows and widths 1 to 4·16+1")
    func halfPanels() {
        for m in [1, 2, 5, 6, 7, 13] {
            for n in [1, 15, 16, 17, 48, 64, 65] {
                for k in [1, 3, 17] {
                    let a = TestSupport.randomFloats(m * k, seed: UInt64(m * 100 + k))
                    let halves = TestSupport.randomFloats(k * n, seed: UInt64(n + 3), in: -2...2).map { Half(bits: TensorEncoding.halfBits($0)) }
                    let widened = halves.map(\.float)
                    let count = PackedMatrix.elementCount(rows: k, columns: n)
                    var packedHalves = [Half](repeating: Half(bits: 0), count: count), packedFloats = [Float](repeating: 0, count: count)
                    PackedMatrix.pack(halves, rows: k, columns: n, into: &packedHalves, zero: Half(bits: 0))
                    PackedMatrix.pack(widened, rows: k, columns: n, into: &packedFloats, zero: 0)
                    let padded = PackedMatrix.panels(n) * PackedMatrix.panelWidth
                    let bias = TestSupport.randomFloats(n, seed: 4) + [Float](repeating: 0, count: padded - n)
                    var expected = [Float](repeating: 0, count: m * n), fast = expected, portable = expected, slow = expected
                    a.withUnsafeBufferPointer { a in
                        bias.withUnsafeBufferPointer { bias in
                            let view = MatrixView(a.baseAddress!, rowStride: k)
                            let epilogue = GemmEpilogue(bias: bias.baseAddress!, activation: .sigmoid)
                            packedHalves.withUnsafeBufferPointer { halves in
                                packedFloats.withUnsafeBufferPointer { floats in
                                    let h = PackedMatrix(rows: k, columns: n, halves: halves.baseAddress!)
                                    let f = PackedMatrix(rows: k, columns: n, values: floats.baseAddress!)
                                    Kernels.multiply(m: m, a: view, packed: f, c: &expected, cRowStride: n, epilogue: epilogue)
                                    Kernels.multiply(m: m, a: view, packed: h, c: &fast, cRowStride: n, epilogue: epilogue)
                                    VAEKernels.GemmKernel.multiply(m: m, a: view, packed: h, c: &portable, cRowStride: n, epilogue: epilogue)
                                }
                            }
                            Kernels.referenceMultiply(m: m, n: n, k: k, a: view, b: widened, bRowStride: n, c: &slow, cRowStride: n, epilogue: epilogue)
                        }
                    }
                    #expect(fast == expected, "m \(m) n \(n) k \(k)")
                    #expect(TestSupport.maxAbsDifference(portable, slow) < 1e-5 && TestSupport.maxAbsDifference(fast, slow) < 1e-5, "m \(m) n \(n) k \(k)")
                }
            }
        }
    }

    @Test("blocks of panels (the L2 blocking) give the unblocked bits at every block size, with a sigmoid pass, leftover rows and accumulation, in both builds")
    func panelBlocks() {
        for (m, n, k) in [(13, 65, 9), (6, 80, 5), (256, 50, 3), (4, 33, 7)] {
            let a = TestSupport.randomFloats(m * k, seed: UInt64(m + k))
            let weights = TestSupport.randomFloats(k * n, seed: UInt64(n), in: -2...2)
            var packed = [Float](repeating: 0, count: PackedMatrix.elementCount(rows: k, columns: n))
            PackedMatrix.pack(weights, rows: k, columns: n, into: &packed, zero: 0)
            let bias = TestSupport.randomFloats(PackedMatrix.panels(n) * PackedMatrix.panelWidth, seed: 5)
            let start = TestSupport.randomFloats(m * n, seed: 6)
            for epilogue in [GemmEpilogue.overwrite, GemmEpilogue(accumulate: true), GemmEpilogue(bias: nil, activation: .sigmoid)] {
                bias.withUnsafeBufferPointer { bias in
                    var e = epilogue
                    if e.activation == .sigmoid { e = GemmEpilogue(bias: bias.baseAddress!, activation: .sigmoid) }
                    packed.withUnsafeBufferPointer { p in
                        a.withUnsafeBufferPointer { a in
                            let view = MatrixView(a.baseAddress!, rowStride: k)
                            var whole = PackedMatrix(rows: k, columns: n, values: p.baseAddress!)
                            var expected = start, portableExpected = start
                            Kernels.multiply(m: m, a: view, packed: whole, c: &expected, cRowStride: n, epilogue: e)
                            VAEKernels.GemmKernel.multiply(m: m, a: view, packed: whole, c: &portableExpected, cRowStride: n, epilogue: e)
                            for block in 1...whole.panels {
                                whole.panelsPerBlock = block
                                var fast = start, portable = start
                                Kernels.multiply(m: m, a: view, packed: whole, c: &fast, cRowStride: n, epilogue: e)
                                VAEKernels.GemmKernel.multiply(m: m, a: view, packed: whole, c: &portable, cRowStride: n, epilogue: e)
                                #expect(fast == expected && portable == portableExpected, "m \(m) n \(n) k \(k) block \(block) \(e.activation)")
                            }
                        }
                    }
                }
            }
        }
    }

    @Test("column blocks of a strided B (the L2 blocking) give the unblocked bits at every block size, with bias, leftover rows and columns and accumulation, f32 and f16 (both builds compile these same files)")
    func columnBlocks() {
        for (m, n, k) in [(13, 70, 9), (7, 33, 4), (40, 100, 3)] {
            let a = TestSupport.randomFloats(m * k, seed: UInt64(m * k))
            let weights = TestSupport.randomFloats(k * n, seed: UInt64(n + 1), in: -2...2)
            let halves = weights.map { Half(bits: TensorEncoding.halfBits($0)) }
            let bias = TestSupport.randomFloats(n, seed: 8), start = TestSupport.randomFloats(m * n, seed: 9)
            bias.withUnsafeBufferPointer { bias in
                for e in [GemmEpilogue(bias: bias.baseAddress!, activation: .relu), GemmEpilogue(accumulate: true, activation: .tanh)] {
                    a.withUnsafeBufferPointer { a in
                        let view = MatrixView(a.baseAddress!, rowStride: k)
                        var expected = start, expectedHalf = start
                        VAEKernels.GemmKernel.multiply(m: m, n: n, k: k, a: view, b: weights, bRowStride: n, c: &expected, cRowStride: n, epilogue: e)
                        VAEKernels.GemmKernel.multiply(m: m, n: n, k: k, a: view, b: halves, bRowStride: n, c: &expectedHalf, cRowStride: n, epilogue: e)
                        for block in [1, 16, 17, 32, 48, 64] {
                            var portable = start, half = start
                            VAEKernels.GemmKernel.multiply(m: m, n: n, k: k, a: view, b: weights, bRowStride: n, c: &portable, cRowStride: n, epilogue: e, columnBlock: block)
                            VAEKernels.GemmKernel.multiply(m: m, n: n, k: k, a: view, b: halves, bRowStride: n, c: &half, cRowStride: n, epilogue: e, columnBlock: block)
                            #expect(portable == expected && half == expectedHalf, "m \(m) n \(n) k \(k) block \(block)")
                        }
                    }
                }
            }
        }
    }

    @Test("every binary16 value widens to its exact f32 value (halfBits round-trips)")
    func widening() {
        for bits in 0...UInt16.max {
            let value = Half(bits: bits).float
            if value.isNaN { #expect(bits & 0x7c00 == 0x7c00 && bits & 0x3ff != 0); continue }
            #expect(TensorEncoding.halfBits(value) == bits)
        }
    }
}
