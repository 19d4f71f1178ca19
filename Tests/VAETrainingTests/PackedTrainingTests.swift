import Testing
import TestSupport
import TrainingTestSupport
import VAECore
import VAETraining

/// The trainer's large layers on the packed GEMM's panels, and its steps with denormals flushed.
@Suite struct PackedTrainingTests {
    /// 16 × 16 images and a 256-unit hidden layer: the encoder's 256 → 256 and the decoder's 256 → 256
    /// layers have 2¹⁶ weights each, enough to train on panels (W for both, Wᵀ for the decoder's).
    func trainer(threads: Int) -> Trainer {
        TestSupport.tinyTrainer(shape: Shape3(channels: 1, height: 16, width: 16), hidden: [256], latent: 3, batch: 12, threads: threads)
    }

    @Test("packed layers: sampled gradients match finite differences, and 1 and 2 threads train the same bits")
    func packedLayers() throws {
        let data = TestSupport.blobs(count: 36, shape: Shape3(channels: 1, height: 16, width: 16))
        let t = trainer(threads: 1)
        #expect(t.packedLayerCount == 2)
        let stream = RandomStream(seed: 5, purpose: .reparameterization)
        t.loadBatch(data, indices: 0..<4)
        func objective() -> Double { t.objective(t.forward(rows: 4, stream: stream, firstItem: 0, training: true)) }
        _ = objective()
        t.backward(rows: 4)
        let params = t.net.parameters
        // Every 997th parameter: weights of all four layers and their biases.
        for i in stride(from: 3, to: params.count, by: 997) {
            let numeric = TestSupport.finiteDifference(params.pointer + i, objective)
            #expect(TestSupport.gradientsAgree(Double(t.gradient[i]), numeric), "parameter \(i): \(t.gradient[i]) vs \(numeric)")
        }

        let (one, two) = (trainer(threads: 1), trainer(threads: 2))
        for trainer in [one, two] {
            for _ in 0..<2 { _ = try trainer.trainEpoch(data) { _, _ in } }
        }
        #expect(one.net.parameters.array == two.net.parameters.array)
        #expect(one.evaluate(data).negELBOPerImage < trainer(threads: 1).evaluate(data).negELBOPerImage)
    }

    @Test("flushing denormals holds on the caller and on the threads a parallel GEMM runs on, and ends with the scope")
    func denormalsFlushed() {
        // 24 rows × 256 × 256: enough work for ParallelGemm to split the rows across two threads. Each
        // product is 1e-21 · 1e-21 = 1e-42, and the sum of 256 of them 2.6e-40, below the smallest normal Float.
        let (m, n, k) = (24, 256, 256)
        let a = [Float](repeating: 1e-21, count: m * k), b = [Float](repeating: 1e-21, count: k * n)
        func multiply(threads: Int) -> [Float] {
            var c = [Float](repeating: -1, count: m * n)
            a.withUnsafeBufferPointer { a in
                b.withUnsafeBufferPointer { b in
                    c.withUnsafeMutableBufferPointer { c in
                        ParallelGemm.multiply(m: m, n: n, k: k, a: MatrixView(a.baseAddress!, rowStride: k), b: b.baseAddress!, bRowStride: n,
                                              c: c.baseAddress!, cRowStride: n, threads: threads)
                    }
                }
            }
            return c
        }
        let ieee = multiply(threads: 2)
        #expect(ieee.allSatisfy { $0 > 0 && $0 < Float.leastNormalMagnitude })
        let flushed = FloatMode.flushingDenormals { () -> [Float] in multiply(threads: 2) }
        #expect(flushed.allSatisfy { $0 == 0 })
        #expect(multiply(threads: 2) == ieee)
    }
}
