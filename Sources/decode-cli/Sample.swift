import ArgumentParser
import Foundation
import VAECore
import VAETraining
import vaert

struct Sample: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Decode samples z ~ N(0, I); sample i depends only on (seed, i).",
        discussion: "A conditional model (cvae) samples every class in turn: sample i gets class i mod K (K classes), unless --class gives one class for all.")

    @Option(help: "Weights file.")
    var weights: String
    @Option(help: "Number of samples.")
    var count = 64
    @Option(help: "Seed of the latent noise.")
    var seed: UInt64 = 0
    @Option(help: "Folder for one JPEG per sample (sample-<index>.jpg).")
    var out: String?
    @Option(help: "One JPEG (.jpg) with all samples in a grid.")
    var grid: String?
    @Option(help: "Generate only part k of n of the samples (k/n, k from 0): the parts together equal the whole run.")
    var shard: String?
    @Option(name: .customLong("class"), help: "Class of every sample (conditional models; default: sample i gets class i mod K).")
    var classLabel: Int32?
    @OptionGroup var image: ImageOptions

    func validate() throws {
        try checkJPEGName(grid, "--grid")
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
            try checkClass(classLabel, for: model, weights: weights)
            var labels = model.kind.isConditional ? [Int32](repeating: 0, count: Model.rowsPerPass) : nil
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
                    // Sample i has class i mod K (or --class): the same images whatever the shard.
                    for j in 0..<n where labels != nil { labels![j] = classLabel ?? Int32((first + j) % model.classCount) }
                    try model.sample(seed: seed, first: UInt64(first), count: n, labels: labels, pixels: rows)
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

