import ArgumentParser
import Dispatch
import Foundation
import VAECore
import VAECommandSupport
import VAERuntime
import VAETraining

struct CodecCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "codec",
        abstract: "The model as an image codec on the test set: bytes per image against PSNR and SSIM, for its code quantised (raw and arithmetic-coded; a VQ-VAE's grid of codebook indices) and for JPEG through libjpeg; a table, and an SVG plot.")

    @OptionGroup var source: ModelAndTestData
    @Option(help: "Test images to code.")
    var count = 10000
    @Option(help: "Training images whose codes calibrate the quantiser's ranges and the coder's frequencies (at most 60000).")
    var calibration = 10000
    @Option(help: "Bits per latent dimension, comma-separated.")
    var bits = "4,6,8"
    @Option(help: "JPEG qualities, comma-separated.")
    var qualities = "5,15,25,35,45,55,65,75,85,95"
    @Option(help: "Rate-distortion plot (SVG).")
    var out: String?
    @OptionGroup var threading: ThreadOptions

    static func list(_ text: String, _ option: String, in range: ClosedRange<Int>) throws -> [Int] {
        let values = text.split(separator: ",").map { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard !values.isEmpty, values.allSatisfy({ $0.map(range.contains) == true }) else {
            throw ValidationError("\(option) must be comma-separated integers from \(range.lowerBound) to \(range.upperBound), got '\(text)'")
        }
        return values.map { $0! }
    }

    func validate() throws {
        if let out, let problem = OutputPath.svgProblem(out, option: "--out") { throw ValidationError(problem) }
        guard count > 0 else { throw ValidationError("--count must be positive, got \(count)") }
        guard (1...60000).contains(calibration) else { throw ValidationError("--calibration must be 1 to 60000, got \(calibration)") }
        _ = try CodecCommand.list(bits, "--bits", in: 1...12)
        _ = try CodecCommand.list(qualities, "--qualities", in: 1...100)
    }

    struct Row {
        var codec: String, bytes: Double, payload: Double?, psnr: Double, ssim: Double
    }

    func run() throws {
        try reportingErrors {
            try threading.apply()
            let model = try source.model()
            guard !model.kind.isConditional else { fail("codec: \(source.weights) is a conditional model, whose decoder needs the class too; give an AE or a VAE") }
            let test = try source.testImages(for: model, limit: count)
            let folder = try Provenance.dataFolder(given: source.data, recordedIn: model.file)
            let train = try Dataset.open(folder: folder, split: .train, limit: calibration, shape: model.imageShape)
            var rows = [Row]()
            let learned = try model.codebook.map { try codeGridRows(model, $0, train: train, test: test, into: &rows) }
                ?? latentRows(model, train: train, test: test, into: &rows)
            var jpeg = RateDistortionPlot.Series(name: "JPEG (libjpeg), whole file", points: [])
            var payload = RateDistortionPlot.Series(name: "JPEG, entropy-coded payload only", points: [])
            for q in try CodecCommand.list(qualities, "--qualities", in: 1...100) {
                let r = try jpegQuality(q, test: test)
                rows.append(r)
                jpeg.points.append((r.bytes, r.psnr))
                payload.points.append((r.payload!, r.psnr))
            }
            let latent = model.codebook.map { "a \($0.positions)-code grid over \($0.codes) codes" } ?? "a \(model.latentDim)-d latent"
            print("\(test.count) test images, \(model.kind.rawValue) with \(latent); codes calibrated on \(train.count) training images")
            print("| codec | bytes per image | JPEG payload bytes | PSNR (dB) | SSIM |")
            print("| --- | --- | --- | --- | --- |")
            for r in rows {
                print(String(format: "| %@ | %.1f | %@ | %.2f | %.4f |", r.codec, r.bytes, r.payload.map { String(format: "%.1f", $0) } ?? "-", r.psnr, r.ssim))
            }
            if let out {
                let svg = RateDistortionPlot.svg(learned + [jpeg, payload], title: "\(test.count) test images: \(model.kind.rawValue) code against JPEG")
                try FileIO.writeAtomically(Array(svg.utf8), to: out)
                print("wrote \(out)")
            }
        }
    }

    /// The code quantised per dimension at each of `--bits`, raw and arithmetic-coded, and unquantised.
    func latentRows(_ model: Model, train: Dataset, test: Dataset, into rows: inout [Row]) throws -> [RateDistortionPlot.Series] {
        let d = model.latentDim, n = test.count
        var calibrationCodes = [Float](repeating: 0, count: train.count * d), codes = [Float](repeating: 0, count: n * d)
        try model.encode(inModelRange(train.images, model), batch: train.count, mu: &calibrationCodes, logVariance: nil)
        try model.encode(inModelRange(test.images, model), batch: n, mu: &codes, logVariance: nil)
        let float = try quality(decoding: codes, model: model, test: test)
        rows.append(Row(codec: "latent, f32 (unquantised)", bytes: Double(4 * d), payload: nil, psnr: float.psnr, ssim: float.ssim))
        var learned: [RateDistortionPlot.Series] = [.init(name: "latent, raw levels", points: []), .init(name: "latent, arithmetic-coded", points: [])]
        for b in try CodecCommand.list(bits, "--bits", in: 1...12) {
            let codec = LatentCodec(calibration: calibrationCodes, count: train.count, dim: d, bits: b)
            var quantised = [Float](), coded = 0
            for i in 0..<n {
                let symbols = codes.withUnsafeBufferPointer { codec.quantise($0.baseAddress! + i * d) }
                coded += try CodecCommand.codedBytes(symbols, codec.tables, image: i)
                quantised += codec.dequantise(symbols)
            }
            let q = try quality(decoding: quantised, model: model, test: test)
            rows.append(Row(codec: "latent, \(b) bits per dimension, raw", bytes: Double(codec.rawBytes), payload: nil, psnr: q.psnr, ssim: q.ssim))
            rows.append(Row(codec: "latent, \(b) bits per dimension, arithmetic-coded", bytes: Double(coded) / Double(n), payload: nil, psnr: q.psnr, ssim: q.ssim))
            learned[0].points.append((Double(codec.rawBytes), q.psnr))
            learned[1].points.append((Double(coded) / Double(n), q.psnr))
        }
        return learned
    }

    /// A VQ-VAE's grid of codebook indices: raw (⌈log2 K⌉ bits each) and arithmetic-coded with
    /// per-position frequencies of the training images' codes.
    func codeGridRows(_ model: Model, _ codebook: CodebookLayer, train: Dataset, test: Dataset, into rows: inout [Row]) throws -> [RateDistortionPlot.Series] {
        let (positions, k, n) = (codebook.positions, codebook.codes, test.count)
        guard train.count + k <= 1 << 16 else { fail("codec: --calibration \(train.count) with a codebook of \(k) codes: the two must add up to at most 65536") }
        var calibration = [Int32](repeating: 0, count: train.count * positions), codes = [Int32](repeating: 0, count: n * positions)
        try model.encodeCodes(inModelRange(train.images, model), batch: train.count, codes: &calibration)
        try model.encodeCodes(inModelRange(test.images, model), batch: n, codes: &codes)
        let tables = SymbolTables(calibration: calibration.map { Int($0) }, count: train.count, positions: positions, levels: k)
        var coded = 0
        for i in 0..<n { coded += try CodecCommand.codedBytes(codes[(i * positions)..<((i + 1) * positions)].map { Int($0) }, tables, image: i) }
        var pixels = [Float](repeating: 0, count: n * model.pixelCount)
        try model.decodeCodes(codes, batch: n, pixels: &pixels)
        let q = meanQuality(test, pixels.map { max(0, min(1, model.imageRange.toUnit($0))) })
        let bitsPerCode = Int.bitWidth - (k - 1).leadingZeroBitCount  // ⌈log2 K⌉ (K ≥ 2)
        let raw = Double((positions * bitsPerCode + 7) / 8), perImage = Double(coded) / Double(n)
        rows.append(Row(codec: "VQ codes, \(positions) × \(bitsPerCode) bits, raw", bytes: raw, payload: nil, psnr: q.psnr, ssim: q.ssim))
        rows.append(Row(codec: "VQ codes, arithmetic-coded", bytes: perImage, payload: nil, psnr: q.psnr, ssim: q.ssim))
        return [.init(name: "VQ codes, raw", points: [(raw, q.psnr)]), .init(name: "VQ codes, arithmetic-coded", points: [(perImage, q.psnr)])]
    }

    /// Bytes of one image's symbols arithmetic-coded, checked to decode to the same symbols.
    static func codedBytes(_ symbols: [Int], _ tables: SymbolTables, image: Int) throws -> Int {
        let bytes = tables.encoded(symbols)
        guard tables.decoded(bytes) == symbols else { fail("codec: the arithmetic coder did not give back image \(image)'s code (a bug in vaert)") }
        return bytes.count
    }

    /// Mean PSNR and SSIM of the test images against the decoded `codes`.
    func quality(decoding codes: [Float], model: Model, test: Dataset) throws -> (psnr: Double, ssim: Double) {
        var pixels = [Float](repeating: 0, count: test.count * model.pixelCount)
        try model.decode(codes, batch: test.count, pixels: &pixels)
        let unit = pixels.map { max(0, min(1, model.imageRange.toUnit($0))) }
        return meanQuality(test, unit)
    }

    func meanQuality(_ test: Dataset, _ decoded: [Float]) -> (psnr: Double, ssim: Double) {
        let p = test.pixelCount
        var psnr = 0.0, ssim = 0.0
        test.images.withUnsafeBufferPointer { a in
            decoded.withUnsafeBufferPointer { b in
                for i in 0..<test.count {
                    psnr += PSNR.decibels(a.baseAddress! + i * p, b.baseAddress! + i * p, count: p)
                    ssim += SSIM.index(a.baseAddress! + i * p, b.baseAddress! + i * p, shape: test.shape)
                }
            }
        }
        return (psnr / Double(test.count), ssim / Double(test.count))
    }

    /// Every test image through libjpeg at `quality`: mean file and payload bytes, PSNR and SSIM.
    func jpegQuality(_ quality: Int, test: Dataset) throws -> Row {
        let p = test.pixelCount, shape = test.shape
        var decoded = [Float](repeating: 0, count: test.count * p)
        var bytes = 0, payload = 0
        for i in 0..<test.count {
            let jpeg = try test.images.withUnsafeBufferPointer { try JPEG.encode($0.baseAddress! + i * p, shape: shape, quality: quality) }
            bytes += jpeg.count
            payload += CodecCommand.payloadBytes(jpeg)
            let image = try JPEG.decode(jpeg)
            // JPEG's samples are interleaved; the network's images are planar.
            for c in 0..<shape.channels {
                for k in 0..<shape.height * shape.width {
                    decoded[i * p + c * shape.height * shape.width + k] = Float(image.samples[k * shape.channels + c]) / 255
                }
            }
        }
        let q = meanQuality(test, decoded)
        return Row(codec: "JPEG, quality \(quality)", bytes: Double(bytes) / Double(test.count), payload: Double(payload) / Double(test.count), psnr: q.psnr, ssim: q.ssim)
    }

    /// The bytes of a baseline JPEG's entropy-coded data: after the start-of-scan header, before the end marker.
    static func payloadBytes(_ jpeg: [UInt8]) -> Int {
        var i = 2  // after SOI
        while i + 3 < jpeg.count, jpeg[i] == 0xFF {
            let marker = jpeg[i + 1], length = Int(jpeg[i + 2]) << 8 | Int(jpeg[i + 3])
            if marker == 0xDA { return jpeg.count - (i + 2 + length) - 2 }
            i += 2 + length
        }
        return jpeg.count
    }
}
