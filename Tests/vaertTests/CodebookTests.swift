import Foundation
import Testing
import TestSupport
import TrainingTestSupport
import VAECore
import VAERuntime
import vaert
@_spi(Testing) import VAETraining

/// A VQ-VAE's codebook layer in the format, the runtime and the C API, on a small model built by hand:
/// 1 × 8 × 8 images, a conv2d to a 4 × 4 grid of 4-vectors, a codebook of 6, a conv_transpose2d back.
@Suite struct CodebookTests {
    static let image = Shape3(channels: 1, height: 8, width: 8), grid = Shape3(channels: 4, height: 4, width: 4), codes = 6
    static let geometry = ConvParameters(kernelHeight: 4, kernelWidth: 4, stride: 2, padding: 1)
    static let vectors = TestSupport.randomFloats(codes * grid.channels, seed: 3, in: -1...1)

    enum Variant { case vq, codebookInEncoder, codebookWithBias, halfCodebook, noCodebook, decoderAlone }

    /// The file of the test model (or of one broken as `variant` says).
    static func file(_ variant: Variant = .vq) -> [UInt8] {
        var b = WeightsFileBuilder()
        let convW = b.addTensor("encoder.0.weight", dims: [4, 1, 4, 4], values: TestSupport.randomFloats(64, seed: 1, in: -0.5...0.5))
        let convB = b.addTensor("encoder.0.bias", dims: [4], values: [0.1, -0.2, 0.05, 0])
        let book = b.addTensor("decoder.0.weight", dims: [codes, grid.channels], values: vectors, type: variant == .halfCodebook ? .f16 : .f32)
        let bookBias = b.addTensor("decoder.0.bias", dims: [4], values: [0, 0, 0, 0])
        let upW = b.addTensor("decoder.1.weight", dims: [4, 1, 4, 4], values: TestSupport.randomFloats(64, seed: 2, in: -0.5...0.5))
        let upB = b.addTensor("decoder.1.bias", dims: [1], values: [0.02])
        if variant != .decoderAlone {
            b.addLayer(LayerRecord(kind: .conv2d, stack: .encoder, activation: .identity, weight: convW, bias: convB, input: image, output: grid,
                                   parameters: geometry))
        }
        let codebook = LayerRecord(kind: .codebook, stack: variant == .codebookInEncoder ? .encoder : .decoder, activation: .identity, weight: book,
                                   bias: variant == .codebookWithBias ? bookBias : nil, input: grid, output: grid, codebookSize: codes)
        if variant != .noCodebook && variant != .decoderAlone { b.addLayer(codebook) }
        b.addLayer(LayerRecord(kind: .convTranspose2d, stack: .decoder, activation: .sigmoid, weight: upW, bias: upB, input: grid, output: image,
                               parameters: geometry))
        b.setMetadata(MetadataKey.kind, .string(variant == .decoderAlone ? "conv-ae" : "vq-vae"))
        b.setMetadata(MetadataKey.likelihood, .string("bernoulli"))
        b.setMetadata(MetadataKey.latentDim, .u32(UInt32(grid.count)))
        b.setMetadata(MetadataKey.channels, .u32(1))
        b.setMetadata(MetadataKey.height, .u32(8))
        b.setMetadata(MetadataKey.width, .u32(8))
        return b.serialize()
    }

    static func model(_ variant: Variant = .vq) throws -> Model {
        try file(variant).withUnsafeBytes { try Model(copying: $0) }
    }

    @Test("encode_codes picks each position's nearest code vector (a double-precision search); decode_codes equals decode(encode) bit for bit, and the transposed convolution alone on the looked-up vectors")
    func codesRoundTrip() throws {
        let m = try CodebookTests.model()
        #expect(m.kind == .vqVAE && m.latentDim == 64 && m.codebook?.codes == 6 && m.codebook?.positions == 16)
        let n = 300  // more than one pass
        let images = TestSupport.randomFloats(n * 64, seed: 7, in: 0...1)
        var codes = [Int32](repeating: -1, count: n * 16), z = [Float](repeating: 0, count: n * 64)
        try m.encodeCodes(images, batch: n, codes: &codes)
        try m.encode(images, batch: n, mu: &z, logVariance: nil)
        let d = CodebookTests.grid.channels, v = CodebookTests.vectors
        var used = Set<Int32>()
        for i in 0..<n {
            for p in 0..<16 {
                let x = (0..<d).map { Double(z[i * 64 + $0 * 16 + p]) }
                let distances = (0..<6).map { k in (0..<d).map { (x[$0] - Double(v[k * d + $0])) * (x[$0] - Double(v[k * d + $0])) }.reduce(0, +) }
                #expect(Int(codes[i * 16 + p]) == distances.indices.min { distances[$0] < distances[$1] }!, "image \(i), position \(p)")
                used.insert(codes[i * 16 + p])
            }
        }
        #expect(used.count >= 3, "the test's codebook should be exercised: codes used \(used.sorted())")
        var fromCodes = [Float](repeating: 0, count: n * 64), fromVectors = fromCodes, alone = fromCodes
        try m.decodeCodes(codes, batch: n, pixels: &fromCodes)
        try m.decode(z, batch: n, pixels: &fromVectors)
        #expect(fromCodes == fromVectors)
        // The looked-up grid (channel j of position p is vector[code][j]) through the decoder without its codebook.
        var looked = [Float](repeating: 0, count: n * 64)
        for i in 0..<n { for p in 0..<16 { for j in 0..<d { looked[i * 64 + j * 16 + p] = v[Int(codes[i * 16 + p]) * d + j] } } }
        try CodebookTests.model(.decoderAlone).decode(looked, batch: n, pixels: &alone)
        #expect(fromCodes == alone)
    }

    @Test("the C API: vaert_get_codebook, vae_encode_codes and vae_decode_codes as the Swift calls; bad codes, sampling and other kinds refused with a status")
    func cAPI() throws {
        let bytes = CodebookTests.file()
        var handle: OpaquePointer? = nil
        #expect(bytes.withUnsafeBytes { vaert_open_memory($0.baseAddress, $0.count, &handle) } == 0)
        defer { vaert_close(handle) }
        var (k, positions, kind) = (0, 0, Int32(0))
        #expect(vaert_get_codebook(handle, &k, &positions) == 0 && k == 6 && positions == 16)
        #expect(vaert_get_kind(handle, &kind) == 0 && kind == 10)
        let images = TestSupport.randomFloats(5 * 64, seed: 8, in: 0...1)
        var codes = [Int32](repeating: 0, count: 5 * 16), swiftCodes = codes
        #expect(vae_encode_codes(handle, images, 5, &codes) == 0)
        try CodebookTests.model().encodeCodes(images, batch: 5, codes: &swiftCodes)
        #expect(codes == swiftCodes)
        var pixels = [Float](repeating: 0, count: 5 * 64), swiftPixels = pixels
        #expect(vae_decode_codes(handle, codes, 5, &pixels) == 0)
        try CodebookTests.model().decodeCodes(codes, batch: 5, pixels: &swiftPixels)
        #expect(pixels == swiftPixels && pixels.allSatisfy { $0 > 0 && $0 < 1 })
        codes[17] = 6
        #expect(vae_decode_codes(handle, codes, 5, &pixels) == Status.invalidArgument.rawValue)
        #expect(String(cString: vaert_last_error()).contains("codes[17] is 6; the codebook has codes 0 to 5"))
        #expect(vaert_sample(handle, 0, 0, 1, &pixels) == Status.unsupported.rawValue)
        #expect(String(cString: vaert_last_error()).contains("prior"))
        var vae: OpaquePointer? = nil
        #expect(vaert_open_file(TestSupport.readyModel, &vae) == 0)
        defer { vaert_close(vae) }
        #expect(vaert_get_codebook(vae, &k, &positions) == 0 && k == 0 && positions == 0)
        #expect(vae_encode_codes(vae, images, 1, &codes) == Status.unsupported.rawValue)
        #expect(String(cString: vaert_last_error()).contains("only a vq-vae can encode to codes; this is a vae model"))
    }

    @Test("a trained VQ-VAE's file through the C API: vae_encode_codes gives the trainer's codes, vae_decode_codes its decoder's pixels within 1e-5")
    func trainedRoundTrip() throws {
        let a = Architecture.vectorQuantised(likelihood: .bernoulli, image: Shape3(channels: 1, height: 8, width: 8), conv: [4, 3], codebook: 16)
        let trainer = Trainer(options: TrainingOptions(architecture: a, batchSize: 32, seed: 3), threads: 1)
        let data = TestSupport.blobs(count: 32)
        trainer.loadBatch(data, indices: 0..<32)
        for _ in 0..<150 { _ = try trainer.step(rows: 32) }  // past a dead-code restart
        trainer.forward(rows: 32, stream: RandomStream(seed: 0, purpose: .evaluation), firstItem: 0)
        let expectedCodes = Array(UnsafeBufferPointer(start: trainer.chosenCodes!, count: 32 * 4))
        let expectedPixels = (0..<32 * 64).map { 1 / (1 + exp(-Double(trainer.logits[$0]))) }
        #expect(Set(expectedCodes).count >= 3, "codes used: \(Set(expectedCodes).sorted())")
        let bytes = trainer.net.weightsFile().serialize()
        var handle: OpaquePointer? = nil
        #expect(bytes.withUnsafeBytes { vaert_open_memory($0.baseAddress, $0.count, &handle) } == 0)
        defer { vaert_close(handle) }
        var codes = [Int32](repeating: -1, count: 32 * 4), pixels = [Float](repeating: 0, count: 32 * 64)
        #expect(vae_encode_codes(handle, data.images, 32, &codes) == 0)
        #expect(codes == expectedCodes)
        #expect(vae_decode_codes(handle, codes, 32, &pixels) == 0)
        let error = zip(pixels, expectedPixels).map { abs(Double($0) - $1) }.max()!
        #expect(error <= 1e-5, "largest pixel difference \(error)")
    }

    @Test("the file keeps the codebook's size; a codebook in the encoder, with a bias or in f16, and a vq-vae without one, are refused")
    func format() throws {
        let bytes = CodebookTests.file()
        try bytes.withUnsafeBytes { raw in  // a parsed file is a view of its bytes: read it while they live
            let layer = try WeightsFile.parse(raw).layers[1]
            #expect(layer.kind == .codebook && layer.codebookSize == 6 && layer.weightDims == TensorDims(6, 4))
        }
        let refusals: [(Variant, String)] = [
            (.codebookInEncoder, "encoder layer 1 is a codebook"), (.codebookWithBias, "no activation and no bias"),
            (.halfCodebook, "a codebook's vectors are f32"), (.noCodebook, "a vq-vae's first decoder layer must be its codebook"),
        ]
        for (variant, message) in refusals {
            #expect { _ = try CodebookTests.model(variant) } throws: { ($0 as? VaertError).map { $0.status == .malformed && $0.message.contains(message) } == true }
        }
    }
}
