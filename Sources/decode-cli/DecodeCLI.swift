import ArgumentParser
import Foundation
import VAECore
import VAETraining
import vaert

@main
struct DecodeCLI: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "decode-cli",
        abstract: "Generate images with a vaert model: samples from the prior, reconstructions of data.",
        subcommands: [Sample.self, Reconstruct.self])
}

func fail(_ message: String) -> Never { CommandErrors.fail("decode-cli", message) }

func reportingErrors(_ body: () throws -> Void) throws { try CommandErrors.reporting("decode-cli", body) }

struct ImageOptions: ParsableArguments {
    @Option(help: "Images per row of a grid.")
    var nrow = 8
    @Option(help: "JPEG quality, 1 to 100.")
    var quality = 90

    func validate() throws {
        guard nrow > 0 else { throw ValidationError("--nrow must be positive") }
        guard (1...100).contains(quality) else { throw ValidationError("--quality must be 1 to 100") }
    }
}

func writeGrid(_ pixels: [Float], count: Int, shape: Shape3, columns: Int, quality: Int, to path: String) throws {
    let grid = pixels.withUnsafeBufferPointer { ImageGrid.make($0, count: count, shape: shape, columns: columns) }
    try grid.pixels.withUnsafeBufferPointer { p in try JPEG.write(p.baseAddress!, shape: grid.shape, quality: quality, to: path) }
}

struct Sample: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Decode samples z ~ N(0, I); sample i depends only on (seed, i).")

    @Option(help: "Weights file.")
    var weights: String
    @Option(help: "Number of samples.")
    var count = 64
    @Option(help: "Seed of the latent noise.")
    var seed: UInt64 = 0
    @Option(help: "Folder for one JPEG per sample (sample-<index>.jpg).")
    var out: String?
    @Option(help: "One JPEG with all samples in a grid.")
    var grid: String?
    @Option(help: "Generate only part k of n of the samples (k/n, k from 0): the parts together equal the whole run.")
    var shard: String?
    @OptionGroup var image: ImageOptions

    func validate() throws {
        guard count > 0 else { throw ValidationError("--count must be positive") }
        guard out != nil || grid != nil else { throw ValidationError("give --out DIR, --grid FILE.jpg, or both") }
        if shard != nil { _ = try shardRange() }
    }

    /// The sample indices of this shard: a contiguous block, so shards tile 0..<count.
    func shardRange() throws -> Range<Int> {
        guard let shard else { return 0..<count }
        let parts = shard.split(separator: "/").compactMap { Int($0) }
        guard parts.count == 2, parts[1] > 0, (0..<parts[1]).contains(parts[0]) else { throw ValidationError("--shard must be k/n with 0 <= k < n") }
        return (parts[0] * count / parts[1])..<((parts[0] + 1) * count / parts[1])
    }

    func run() throws {
        try reportingErrors {
            let model = try Model.open(path: weights)
            let range = try shardRange()
            if let out { try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true) }
            let p = model.pixelCount
            var pixels = [Float](repeating: 0, count: range.count * p)
            let bar = ProgressBar(title: "sampling", total: range.count)
            try pixels.withUnsafeMutableBufferPointer { buffer in
                var done = 0
                while done < range.count {
                    let n = min(Model.rowsPerPass, range.count - done)
                    let first = range.lowerBound + done
                    let rows = buffer.baseAddress! + done * p
                    try model.sample(seed: seed, first: UInt64(first), count: n, pixels: rows)
                    if let out {
                        let digits = max(6, String(count - 1).count)
                        for j in 0..<n {
                            let name = String(first + j)
                            let path = "\(out)/sample-\(String(repeating: "0", count: max(0, digits - name.count)) + name).jpg"
                            try JPEG.write(rows + j * p, shape: model.imageShape, quality: image.quality, to: path)
                        }
                    }
                    done += n
                    bar.update(done, "")
                }
            }
            if range.count > Model.rowsPerPass { bar.finish(String(format: "%.2f s", bar.elapsed)) }
            if let grid { try writeGrid(pixels, count: range.count, shape: model.imageShape, columns: image.nrow, quality: image.quality, to: grid) }
            var wrote: [String] = []
            if let out { wrote.append("\(range.count) JPEGs in \(out)") }
            if let grid { wrote.append("grid \(grid)") }
            print("samples \(range.lowerBound)..<\(range.upperBound) of seed \(seed): wrote \(wrote.joined(separator: " and "))")
        }
    }
}

struct Reconstruct: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Originals next to their reconstructions (decoded posterior means): rows of originals, each followed by its reconstructions.")

    @Option(help: "Weights file.")
    var weights: String
    @Option(help: "Folder of IDX files; the test split is used.")
    var data = Dataset.defaultFolder
    @Option(help: "Number of test images.")
    var count = 32
    @Option(help: "Output JPEG.")
    var grid: String
    @OptionGroup var image: ImageOptions

    func validate() throws {
        guard count > 0 else { throw ValidationError("--count must be positive") }
    }

    func run() throws {
        try reportingErrors {
            let model = try Model.open(path: weights)
            let test = try Dataset.load(folder: data, split: .test, limit: count)
            guard test.shape == model.imageShape else { fail("\(data): images are \(test.shape) but the model takes \(model.imageShape)") }
            let n = test.count
            let p = model.pixelCount
            var mu = [Float](repeating: 0, count: n * model.latentDim)
            var recon = [Float](repeating: 0, count: n * p)
            try test.images.withUnsafeBufferPointer { x in
                try mu.withUnsafeMutableBufferPointer { m in
                    try model.encode(x.baseAddress!, batch: n, mu: m.baseAddress!, logVariance: nil)
                    try recon.withUnsafeMutableBufferPointer { r in try model.decode(m.baseAddress!, batch: n, pixels: r.baseAddress!) }
                }
            }
            // Interleave: nrow originals, then their nrow reconstructions.
            var tiles: [Float] = []
            var tileCount = 0
            for start in stride(from: 0, to: n, by: image.nrow) {
                let end = min(start + image.nrow, n)
                for source in [test.images, recon] {
                    for k in start..<(start + image.nrow) {
                        tiles += k < end ? Array(source[(k * p)..<((k + 1) * p)]) : [Float](repeating: 0, count: p)
                        tileCount += 1
                    }
                }
            }
            try writeGrid(tiles, count: tileCount, shape: model.imageShape, columns: image.nrow, quality: image.quality, to: grid)
            print("wrote \(grid): \(n) test images (odd rows) and their reconstructions (even rows)")
        }
    }
}
