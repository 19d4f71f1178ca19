import Foundation
import Testing
import TestSupport
import VAECore
import VAERuntime
import vaert
@_spi(Testing) import VAETraining

/// A VQ-VAE's PixelCNN prior: masked convolutions in the format, their training, and sampling code grids
/// through the runtime and the C API, on CodebookTests' hand-built model (a 4 × 4 grid of 4-vectors, 6 codes).
@Suite struct PriorTests {
    static let shape = PriorShape(grid: CodebookTests.grid, codes: CodebookTests.codes, channels: 8, hiddenLayers: 2, firstKernel: 3)

    static func trainer(seed: UInt64 = 1, batch: Int = 8) -> PriorTrainer {
        PriorTrainer(shape: shape, codebook: CodebookTests.vectors, batchSize: batch, learningRate: 3e-3, seed: seed, threads: 2)
    }

    static func randomCodes(_ grids: Int, seed: UInt64) -> [Int32] {
        TestSupport.randomFloats(grids * shape.positions, seed: seed, in: 0...0.999).map { Int32($0 * Float(shape.codes)) }
    }

    /// The hand-built VQ-VAE's file with `prior`'s layers, their records changed by `change` first.
    static func file(with prior: PriorTrainer, change: (inout [LayerRecord]) -> Void = { _ in }) throws -> [UInt8] {
        let vq = CodebookTests.file()
        var b = try vq.withUnsafeBytes { raw in try Export.rebuild(try WeightsFile.parse(raw), bytes: raw, part: .all, dtype: .f32) }
        var records: [LayerRecord] = []
        for (l, s) in prior.net.specs.enumerated() {
            let w = b.addTensor("prior.\(l).weight", dims: s.weightDims, values: Array(UnsafeBufferPointer(start: prior.net.weights(l), count: s.weightCount)))
            let bias = b.addTensor("prior.\(l).bias", dims: [s.biasCount], values: Array(UnsafeBufferPointer(start: prior.net.bias(l), count: s.biasCount)))
            records.append(s.record(weight: w, bias: bias))
        }
        change(&records)
        for r in records { b.addLayer(r) }
        return b.serialize()
    }

    static func open(_ bytes: [UInt8]) throws -> Model {
        try bytes.withUnsafeBytes { raw in try Model(copying: raw) }
    }

    @Test("the logits at a position depend only on the codes before it: changing code q leaves positions 0...q bit for bit, in the trainer and in the loaded model")
    func causal() throws {
        let prior = PriorTests.trainer()
        let model = try PriorTests.open(try PriorTests.file(with: prior))
        let (k, hw) = (PriorTests.shape.codes, PriorTests.shape.positions)
        let base = PriorTests.randomCodes(1, seed: 5)
        func logits(_ codes: [Int32]) throws -> [Float] {
            prior.forward(codes, rows: 1)
            let trained = Array(UnsafeBufferPointer(start: prior.outputs.last!.pointer, count: k * hw))
            var grid = [Float](repeating: 0, count: PriorTests.shape.grid.count), out = [Float](repeating: 0, count: k * hw)
            model.codebook!.lookup(codes, batch: 1, into: &grid)
            var scratch = [Float](repeating: 0, count: Model.scratchFloats(model.prior, batch: 1))
            Model.run(model.prior, input: grid, batch: 1, output: &out, scratch: &scratch)
            #expect(out == trained, "the runtime's prior computes the trainer's logits")
            return trained
        }
        let before = try logits(base)
        for q in [0, 5, 10, 15] {
            var changed = base
            changed[q] = (changed[q] + 1) % Int32(k)
            let after = try logits(changed)
            for p in 0...q { #expect((0..<k).allSatisfy { before[$0 * hw + p] == after[$0 * hw + p] }, "position \(p) moved when code \(q) did") }
            if q < hw - 1 { #expect((0..<k).contains { before[$0 * hw + q + 1] != after[$0 * hw + q + 1] }, "position \(q + 1) does not see code \(q)") }
        }
    }

    @Test("every layer's gradient matches central differences of the mean cross-entropy; the masked taps' gradient is 0")
    func gradients() throws {
        let prior = PriorTests.trainer(batch: 3)
        let codes = PriorTests.randomCodes(3, seed: 7)
        prior.forward(codes, rows: 3)
        _ = prior.loss(codes, rows: 3, gradient: true)
        prior.backward(rows: 3)
        func meanLoss() -> Double {
            prior.forward(codes, rows: 3)
            return prior.loss(codes, rows: 3, gradient: false) / 3
        }
        for (l, s) in prior.net.specs.enumerated() {
            let k = s.weightDims[3], taps = k * k
            let kept = (0..<s.weightCount).filter { s.mask!.keeps($0 % taps / k, $0 % k, kernel: k) }
            let masked = (0..<s.weightCount).filter { !s.mask!.keeps($0 % taps / k, $0 % k, kernel: k) }
            for i in masked { #expect(prior.gradient[prior.net.offsets[l] + i] == 0 && prior.net.weights(l)[i] == 0) }
            let checked = [kept[0], kept[kept.count / 2], kept[kept.count - 1], s.weightCount, s.parameterCount - 1]
            for i in checked {
                let p = prior.net.parameters.pointer + prior.net.offsets[l] + i
                let (saved, h) = (p.pointee, Float(2e-3))
                p.pointee = saved + h
                let up = meanLoss()
                p.pointee = saved - h
                let down = meanLoss()
                p.pointee = saved
                let numeric = (up - down) / Double(2 * h), analytic = Double(prior.gradient[prior.net.offsets[l] + i])
                #expect(abs(numeric - analytic) <= 2e-3 + 0.02 * abs(numeric), "layer \(l) parameter \(i): \(analytic) vs \(numeric)")
            }
        }
    }

    @Test("trained on grids where each code is the one before it plus 1, the prior's test cost falls from the uniform 16 log 6 nats to near the first code's log 6")
    func learns() throws {
        let prior = PriorTests.trainer(batch: 32)
        let (k, hw) = (PriorTests.shape.codes, PriorTests.shape.positions)
        func grids(_ count: Int, seed: UInt64) -> [Int32] {
            let starts = PriorTests.randomCodes(count, seed: seed)
            return (0..<count * hw).map { (starts[$0 / hw * hw] + Int32($0 % hw)) % Int32(k) }
        }
        let (train, test) = (grids(256, seed: 11), grids(64, seed: 12))
        let uniform = Double(hw) * log(Double(k))
        #expect(abs(prior.evaluate(test, count: 64) - uniform) < 0.25 * uniform, "an untrained prior is near uniform")
        for _ in 0..<25 { _ = prior.trainEpoch(train, count: 256) }
        let nll = prior.evaluate(test, count: 64)
        #expect(nll < 0.25 * uniform, "test cost \(nll) nats a grid; uniform \(uniform), ideal \(log(Double(k)))")
    }

    @Test("sampling: a prior whose logits are its last bias draws codes at softmax(bias)'s rates (4 sigma), never a code of probability 0")
    func rates() throws {
        let prior = PriorTests.trainer()
        prior.net.parameters.pointer.update(repeating: 0, count: prior.net.parameterCount)
        let last = prior.net.specs.count - 1
        let logits: [Float] = [0.9, 0, -0.4, 0.3, -1.2, -200]
        prior.net.bias(last).update(from: logits, count: logits.count)
        let model = try PriorTests.open(try PriorTests.file(with: prior))
        let (grids, hw) = (500, PriorTests.shape.positions)
        var codes = [Int32](repeating: -1, count: grids * hw)
        try model.sampleCodes(seed: 3, first: 0, count: grids, codes: &codes)
        let z = logits.map { exp(Double($0)) }.reduce(0, +)
        for c in 0..<logits.count {
            let p = exp(Double(logits[c])) / z, n = Double(grids * hw)
            let rate = Double(codes.filter { $0 == c }.count) / n
            #expect(abs(rate - p) <= 4 * (p * (1 - p) / n).squareRoot() + 1e-12, "code \(c): drawn at \(rate), softmax \(p)")
        }
    }

    @Test("sampled grid i depends only on (seed, i) at any batch and thread count; vaert_sample decodes vaert_sample_codes' grids (sampleCodeVectors gives their vectors; vaert_sample_latent refuses), the workspace call the same pixels")
    func cAPI() throws {
        let bytes = try PriorTests.file(with: PriorTests.trainer(seed: 4))
        var handle: OpaquePointer? = nil
        #expect(bytes.withUnsafeBytes { vaert_open_memory($0.baseAddress, $0.count, &handle) } == 0)
        defer { vaert_close(handle) }
        let (hw, n, pixels) = (PriorTests.shape.positions, 20, CodebookTests.image.count)
        var all = [Int32](repeating: -1, count: n * hw), one = [Int32](repeating: -1, count: hw)
        #expect(vaert_sample_codes(handle, 9, 100, n, &all) == 0)
        #expect(Set(all).count > 3, "codes drawn: \(Set(all).sorted())")
        for i in [0, 7, 19] {
            #expect(vaert_sample_codes(handle, 9, 100 + UInt64(i), 1, &one) == 0)
            #expect(one == Array(all[(i * hw)..<((i + 1) * hw)]), "grid \(i) alone")
        }
        var pooled = all
        let threads = vaert_get_threads()
        #expect(vaert_set_threads(threads == 1 ? 2 : 1) == 0)
        #expect(vaert_sample_codes(handle, 9, 100, n, &pooled) == 0)
        #expect(vaert_set_threads(threads) == 0)
        #expect(pooled == all, "another thread count draws the same grids")
        var sampled = [Float](repeating: 0, count: n * pixels), decoded = sampled
        #expect(vaert_sample(handle, 9, 100, n, &sampled) == 0)
        #expect(vae_decode_codes(handle, all, n, &decoded) == 0)
        #expect(sampled == decoded)
        var z = [Float](repeating: 0, count: n * PriorTests.shape.grid.count), vectors = z
        let model = try PriorTests.open(bytes)
        try model.sampleCodeVectors(seed: 9, first: 100, count: n, into: &z)
        model.codebook!.lookup(all, batch: n, into: &vectors)
        #expect(z == vectors)
        #expect(vaert_sample_latent(handle, 9, 100, n, &z) == Status.unsupported.rawValue)
        #expect(String(cString: vaert_last_error()).contains("vaert_sample_codes draws them"))
        var size = 0
        #expect(vaert_workspace_size(handle, 3, n, &size) == 0)
        var workspace = [UInt8](repeating: 0, count: size), inWorkspace = [Float](repeating: 0, count: n * pixels)
        #expect(vaert_sample_ws(handle, 9, 100, n, nil, &inWorkspace, &workspace, size) == 0)
        #expect(inWorkspace == sampled)
        #expect(vaert_sample_ws(handle, 9, 100, n, nil, &inWorkspace, &workspace, size - 64) != 0, "a workspace too small is refused")
        var vq: OpaquePointer? = nil
        let plain = CodebookTests.file()
        #expect(plain.withUnsafeBytes { vaert_open_memory($0.baseAddress, $0.count, &vq) } == 0)
        defer { vaert_close(vq) }
        #expect(vaert_sample_codes(vq, 9, 0, 1, &one) == Status.unsupported.rawValue)
        #expect(String(cString: vaert_last_error()).contains("vae-train prior"))
    }

    @Test("the format: the prior stack's layers and mask types are kept; a nonzero masked tap, type B first, a prior without a codebook or not ending in K linear channels are refused")
    func format() throws {
        let prior = PriorTests.trainer()
        let bytes = try PriorTests.file(with: prior)
        try bytes.withUnsafeBytes { raw in
            let layers = try WeightsFile.parse(raw).layers.filter { $0.stack == .prior }
            #expect(layers.map(\.kind) == [.maskedConv2d, .maskedConv2d, .maskedConv2d, .maskedConv2d] && layers.map(\.mask) == [.a, .b, .b, .b])
            #expect(layers[0].parameters == ConvParameters(kernelHeight: 3, kernelWidth: 3, stride: 1, padding: 1))
        }
        #expect(try PriorTests.open(bytes).hasPrior && !(try CodebookTests.model().hasPrior))
        func refused(_ bytes: [UInt8], _ message: String) {
            do {
                _ = try PriorTests.open(bytes)
                Issue.record("accepted; expected: \(message)")
            } catch let error as VaertError {
                #expect(error.status == .malformed && error.message.contains(message), "\(error.message)")
            } catch {
                Issue.record("\(error)")
            }
        }
        refused(try PriorTests.file(with: prior) { $0[0].mask = .b }, "must be masked type A")
        refused(try PriorTests.file(with: prior) { $0[1].mask = .a }, "masked tap (1, 1)")  // a type B kernel called A: its centres
        for n in 0..<64 { prior.net.weights(1)[n * 9 + 4] = 0 }
        refused(try PriorTests.file(with: prior) { $0[1].mask = .a }, "must be masked type B")
        refused(try PriorTests.file(with: prior) { $0[3].activation = .relu }, "linear channels")
        prior.net.weights(1)[8] = 0.5  // kernel 0's tap (2, 2): below the centre
        refused(try PriorTests.file(with: prior), "masked tap (2, 2)")
        prior.net.weights(1)[8] = 0
        var conv = WeightsFileBuilder()
        let w = conv.addTensor("w", dims: [6, 4, 1, 1], values: [Float](repeating: 0.1, count: 24))
        conv.addLayer(LayerRecord(kind: .maskedConv2d, stack: .decoder, activation: .identity, weight: w, bias: nil, input: CodebookTests.grid,
                                  output: Shape3(channels: 6, height: 4, width: 4), parameters: ConvParameters(kernelHeight: 1, kernelWidth: 1, stride: 1, padding: 0),
                                  mask: .b))
        conv.setMetadata(MetadataKey.kind, .string("conv-ae"))
        conv.setMetadata(MetadataKey.likelihood, .string("bernoulli"))
        for (key, v) in [(MetadataKey.latentDim, 64), (MetadataKey.channels, 6), (MetadataKey.height, 4), (MetadataKey.width, 4)] { conv.setMetadata(key, .u32(UInt32(v))) }
        refused(conv.serialize(), "the prior stack holds masked convolutions, and only it does")
        // A prior in an autoencoder's file (no codebook): CodebookTests' decoder-only conv-ae with the prior's layers.
        var ae = try CodebookTests.file(.decoderAlone).withUnsafeBytes { raw in try Export.rebuild(try WeightsFile.parse(raw), bytes: raw, part: .all, dtype: .f32) }
        prior.net.addLayers(to: &ae)
        refused(ae.serialize(), "only a vq-vae has a prior")
    }
}
