import Foundation
import Testing
import VAECore
import VAERuntime
@_spi(Testing) import VAETraining

/// The pieces of `decode-cli codec`: the arithmetic coder, the latent quantiser, and SSIM.
@Suite struct CodecTests {
    @Test("the arithmetic coder gives back every symbol, in the information's bits plus at most 2, rounded up to bytes")
    func arithmeticRoundTrip() {
        // A skewed table over 5 symbols, and messages of 1 to 400 symbols drawn from it.
        let frequencies: [UInt32] = [6000, 3000, 500, 30, 1]
        var cumulative: [UInt32] = [0]
        for f in frequencies { cumulative.append(cumulative.last! + f) }
        let total = cumulative.last!
        let stream = RandomStream(seed: 2, purpose: .shuffle)
        for length in [1, 2, 7, 64, 400] {
            let message = (0..<length).map { k -> Int in
                let u = UInt32(RandomStream.below(Int(total), word: stream.bits(item: UInt64(length), block: UInt32(k))[0]))
                return (0..<5).last { cumulative[$0] <= u }!
            }
            var encoder = ArithmeticEncoder()
            for s in message { encoder.encode(start: cumulative[s], end: cumulative[s + 1], total: total) }
            let bytes = encoder.finish()
            var decoder = ArithmeticDecoder(bytes)
            let decoded = message.map { _ -> Int in
                let target = decoder.target(total: total)
                let s = (0..<5).last { cumulative[$0] <= target }!
                decoder.consume(start: cumulative[s], end: cumulative[s + 1], total: total)
                return s
            }
            #expect(decoded == message, "length \(length)")
            let information = message.map { -log2(Double(frequencies[$0]) / Double(total)) }.reduce(0, +)
            let bits = Double(bytes.count * 8)
            #expect(bits >= information - 1e-6, "length \(length): \(bytes.count) bytes for \(information) bits")
            #expect(bits <= ((information + 2.01) / 8).rounded(.up) * 8, "length \(length): \(bytes.count) bytes for \(information) bits")
        }
    }

    @Test("the latent codec: levels over the calibrated range, raw size dim·bits/8, and coded codes that decode to the same levels")
    func latentCodec() {
        // Dimension 0 uniform over [-2, 2], dimension 1 mostly 0 (a sparse unit), dimension 2 constant.
        let count = 4000, dim = 3
        var codes = [Float]()
        for i in 0..<count { codes += [-2 + 4 * Float(i) / Float(count - 1), i % 10 == 0 ? 1 : 0, 0.5] }
        let codec = LatentCodec(calibration: codes, count: count, dim: dim, bits: 6)
        #expect(codec.rawBytes == 3 && LatentCodec(calibration: codes, count: count, dim: dim, bits: 5).rawBytes == 2)
        let x: [Float] = [0.3, 0, 0.5]
        let symbols = codec.quantise(x)
        let back = codec.dequantise(symbols)
        #expect(abs(back[0] - 0.3) <= 0.5 * 4 * 0.998 / 64 + 1e-6, "\(back)")
        #expect(codec.quantise([9, -9, 0.5]) == [63, 0, 0])  // clamped to the range
        #expect(codec.entropyDecoded(codec.entropyCoded(symbols)) == symbols)
        // The sparse and constant dimensions cost little: far below the raw 18 bits.
        let sparse = codec.informationBits([codec.quantise([0.3, 0, 0.5])[0], 0, 0])
        #expect(sparse < 6 + 1 + 0.01, "\(sparse) bits")
        #expect(codec.entropyCoded(symbols).count <= Int(((codec.informationBits(symbols) + 2.01) / 8).rounded(.up)))
    }

    @Test("JPEG from memory: a quality-95 image comes back within 3 levels; truncated or empty bytes are refused, saying so")
    func jpegInMemory() throws {
        let shape = Shape3(channels: 1, height: 28, width: 28)
        let x = (0..<784).map { Float(($0 % 28) * 9) / 255 }  // a smooth horizontal ramp
        let jpeg = try JPEG.encode(x, shape: shape, quality: 95)
        let image = try JPEG.decode(jpeg)
        #expect(image.width == 28 && image.height == 28 && image.components == 1)
        #expect(zip(x, image.samples).allSatisfy { abs($0 * 255 - Float($1)) <= 3 })
        for bytes in [Array(jpeg.prefix(20)), []] {
            #expect { _ = try JPEG.decode(bytes) } throws: { ($0 as? VaertError).map { $0.status == .jpeg && $0.message.hasPrefix("JPEG data: ") } == true }
        }
    }

    @Test("SSIM: 1 for the same image, the luminance formula for two constant ones, and scikit-image's value for two patterns")
    func ssim() {
        let shape = Shape3(channels: 1, height: 28, width: 28)
        let x = (0..<784).map { Float($0 * 37 % 256) / 255 }
        let y = (0..<784).map { max(0, min(1, x[$0] + Float(0.1 * sin(Double($0) * 0.3)))) }
        #expect(SSIM.index(x, x, shape: shape) == 1)
        let a = [Float](repeating: 0.2, count: 784), b = [Float](repeating: 0.7, count: 784)
        let c1 = 0.0001, expected = (2 * 0.2 * 0.7 + c1) / (0.04 + 0.49 + c1)
        #expect(abs(SSIM.index(a, b, shape: shape) - expected) < 1e-6)
        // skimage.metrics.structural_similarity(x, y, gaussian_weights=True, sigma=1.5,
        // use_sample_covariance=False, data_range=1.0) in float64 of the same float32 pixels (scikit-image 0.25).
        #expect(abs(SSIM.index(x, y, shape: shape) - 0.9667981723110063) < 1e-6)
        #expect(abs(SSIM.index(x, y, shape: shape) - SSIM.index(y, x, shape: shape)) < 1e-12)
        let colour = Shape3(channels: 3, height: 20, width: 16)
        let p = (0..<960).map { Float($0 * 53 % 256) / 255 }, q = p.map { max(0, min(1, $0 * 0.8 + 0.1)) }
        #expect(abs(SSIM.index(p, q, shape: colour) - 0.9757497754989456) < 1e-6)  // channel_axis=0
    }
}
