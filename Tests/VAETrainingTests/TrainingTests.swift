import Foundation
import Testing
import TestSupport
import TrainingTestSupport
import VAECore
import VAETraining
import VAERuntime

@Suite struct TrainingTests {
    func train(_ trainer: Trainer, _ data: Dataset, epochs: Int) throws {
        while trainer.epochsDone < epochs { _ = try trainer.trainEpoch(data) { _, _ in } }
    }

    @Test("training lowers the test loss on synthetic data")
    func learns() throws {
        let data = TestSupport.blobs(count: 256)
        let trainer = TestSupport.tinyTrainer(hidden: [32], latent: 2, batch: 32)
        let before = trainer.evaluate(data).negELBOPerImage
        try train(trainer, data, epochs: 30)
        let after = trainer.evaluate(data).negELBOPerImage
        #expect(after < 0.8 * before, "negative ELBO \(before) -> \(after)")
    }

    @Test("a run is reproducible, and the thread count does not change a single bit")
    func deterministic() throws {
        let data = TestSupport.blobs(count: 100)
        let a = TestSupport.tinyTrainer(batch: 24, threads: 1), b = TestSupport.tinyTrainer(batch: 24, threads: 2)
        try train(a, data, epochs: 2)
        try train(b, data, epochs: 2)
        #expect(a.net.parameters.array == b.net.parameters.array)
        let c = TestSupport.tinyTrainer(batch: 24, seed: 8)
        try train(c, data, epochs: 2)
        #expect(a.net.parameters.array != c.net.parameters.array)
    }

    @Test("resuming from a checkpoint ends bit-identical to an uninterrupted run")
    func resume() throws {
        try TestSupport.withTemporaryFolder { folder in
            let data = TestSupport.blobs(count: 90)
            let whole = TestSupport.tinyTrainer(batch: 16)
            try train(whole, data, epochs: 3)
            let first = TestSupport.tinyTrainer(batch: 16)
            try train(first, data, epochs: 1)
            try Checkpoint.save(first, to: "\(folder)/run.ckpt", datasetName: "blobs", evaluation: nil)
            let resumed = try Checkpoint.load(path: "\(folder)/run.ckpt", threads: 1)
            #expect(resumed.epochsDone == 1 && resumed.adam.step == first.adam.step && resumed.history.count == first.history.count)
            try train(resumed, data, epochs: 3)
            #expect(resumed.net.parameters.array == whole.net.parameters.array)
            #expect(resumed.adam.v.array == whole.adam.v.array)
        }
    }

    @Test("a non-finite loss stops training with the step number, before any update")
    func nanGuard() throws {
        var data = TestSupport.blobs(count: 40)
        data.images[5] = .nan
        let trainer = TestSupport.tinyTrainer(batch: 40)
        let before = trainer.net.parameters.array
        #expect(throws: TrainingError.self) { try trainer.trainEpoch(data) { _, _ in } }
        do {
            _ = try trainer.trainEpoch(data) { _, _ in }
        } catch {
            #expect("\(error)".contains("step 1"))
        }
        #expect(trainer.net.parameters.array.elementsEqual(before) { $0 == $1 || ($0.isNaN && $1.isNaN) })
    }

    @Test("log σ² is clamped: extreme encoder outputs give finite losses and zero gradient past the clamp")
    func logVarianceClamp() {
        let shape = Shape3(channels: 1, height: 2, width: 2)
        let trainer = TestSupport.tinyTrainer(shape: shape, hidden: [3], latent: 1, batch: 1)
        let data = TestSupport.blobs(count: 1, shape: shape)
        trainer.loadBatch(data, indices: 0..<1)
        // Encoder output layer (index 1): make the log σ² output huge through its bias.
        trainer.net.bias(1)[1] = 500
        let sums = trainer.forward(rows: 1, stream: RandomStream(seed: 1, purpose: .reparameterization), firstItem: 0, training: true)
        #expect(sums.reconstruction.isFinite && sums.kl.isFinite)
        trainer.backward(rows: 1)
        #expect(trainer.gradient[trainer.net.offsets[1] + trainer.net.specs[1].weightCount + 1] == 0)
    }

    @Test("the trainer's decoder and libvaert's decode of the exported file agree within 1e-5")
    func exportParity() throws {
        let data = TestSupport.blobs(count: 64)
        let trainer = TestSupport.tinyTrainer(batch: 64)
        try train(trainer, data, epochs: 3)
        let bytes = trainer.net.weightsFile().serialize()
        let model = try bytes.withUnsafeBytes { p in Result { () throws(VaertError) in try Model(copying: p) } }.get()
        trainer.loadBatch(data, indices: 0..<64)
        trainer.forward(rows: 64, stream: RandomStream(seed: 3, purpose: .evaluation), firstItem: 0)
        let z = trainer.decoderInput(rows: 64)
        let expected = trainer.logitsArray(rows: 64).map { FastMath.sigmoid($0) }
        var pixels = [Float](repeating: 0, count: 64 * 64)
        try z.withUnsafeBufferPointer { z in try model.decode(z.baseAddress!, batch: 64, pixels: &pixels) }
        #expect(TestSupport.maxAbsDifference(pixels, expected) <= 1e-5)
    }
}

extension Trainer {
    func decoderInput(rows: Int) -> [Float] {
        Array(UnsafeBufferPointer(start: latentBatch, count: rows * options.architecture.latent))
    }
    func logitsArray(rows: Int) -> [Float] { Array(UnsafeBufferPointer(start: logits, count: rows * options.architecture.pixels)) }
}

@Suite struct TrainingAidTests {
    func trainer(_ configure: (inout TrainingOptions) -> Void) -> Trainer {
        let base = TestSupport.tinyTrainer(batch: 8, beta: 2)
        var options = base.options
        configure(&options)
        return Trainer(options: options, threads: 1)
    }

    @Test("KL warm-up: linear ramps β over the warm-up epochs, cyclical ramps over each cycle's first half")
    func warmup() throws {
        let data = TestSupport.blobs(count: 32)  // 4 steps per epoch
        let linear = trainer { $0.klWarmup = 4; $0.klSchedule = .linear }
        #expect(linear.klWeight == 0)
        _ = try linear.trainEpoch(data) { _, _ in }
        #expect(abs(linear.klWeight - 2 * 0.25) < 1e-6)
        for _ in 0..<4 { _ = try linear.trainEpoch(data) { _, _ in } }
        #expect(linear.klWeight == 2)
        let cyclical = trainer { $0.klWarmup = 4; $0.klSchedule = .cyclical }
        _ = try cyclical.trainEpoch(data) { _, _ in }
        #expect(abs(cyclical.klWeight - 2 * 0.5) < 1e-6)
        for _ in 0..<3 { _ = try cyclical.trainEpoch(data) { _, _ in } }
        #expect(cyclical.klWeight == 0)  // a new cycle starts
    }

    @Test("free bits: dimensions below the floor get no KL gradient (a floor above every KL equals β = 0)")
    func freeBits() {
        let data = TestSupport.blobs(count: 8)
        let floored = trainer { $0.freeBits = 1e6 }
        let noKL = trainer { $0.beta = 0 }
        for t in [floored, noKL] {
            t.loadBatch(data, indices: 0..<8)
            t.forward(rows: 8, stream: RandomStream(seed: 1, purpose: .reparameterization), firstItem: 0, training: true)
            t.backward(rows: 8)
        }
        #expect(floored.gradient.array == noKL.gradient.array)
        let plain = trainer { _ in }
        plain.loadBatch(data, indices: 0..<8)
        plain.forward(rows: 8, stream: RandomStream(seed: 1, purpose: .reparameterization), firstItem: 0, training: true)
        plain.backward(rows: 8)
        #expect(plain.gradient.array != noKL.gradient.array)
    }

    @Test("latent statistics: per-dimension KL is non-negative and sums to the evaluated KL; activity is a variance")
    func statistics() throws {
        let data = TestSupport.blobs(count: 64)
        let t = TestSupport.tinyTrainer(batch: 16)
        _ = try t.trainEpoch(data) { _, _ in }
        let stats = t.latentStatistics(data)
        #expect(stats.kl.count == 3 && stats.kl.allSatisfy { $0 >= 0 } && stats.activity.allSatisfy { $0 >= 0 })
    }
}

@Suite struct LossCurvesTests {
    @Test("loss curves: a dot per epoch's test figures, a dashed line per epoch end, and a y axis the first steps do not squash")
    func curves() {
        // 4 epochs of 50 steps: the first steps start at 600, the rest fall from 300 to 250.
        let history = (0..<200).map { step -> (reconstruction: Float, kl: Float) in
            (step < 5 ? 600 - Float(step) * 50 : 300 - Float(step) / 4, 10 + Float(step) / 40)
        }
        let tests = (1...4).map { (epoch: $0, reconstruction: Float(300 - 12 * $0), kl: Float(12)) }
        let svg = LossCurves.svg(history: history, tests: tests, stepsPerEpoch: 50, title: "t")
        #expect(svg.components(separatedBy: "<circle").count - 1 == 2 * (4 + 1))  // 4 points and the legend, per panel
        #expect(svg.components(separatedBy: "stroke-dasharray").count - 1 == 2 * 3)  // epoch ends 1 to 3, per panel
        #expect(svg.contains(">epoch 3</text>") && svg.contains("first steps off the axis (from 600)"))
        // The top tick of the reconstruction panel is the later steps' range, not the first step's 600.
        let ticks = svg.components(separatedBy: "text-anchor=\"end\">").dropFirst().compactMap { Double($0.prefix { $0 != "<" }) }
        #expect(ticks.count >= 5 && ticks[4] < 320, "\(ticks)")
    }
}
