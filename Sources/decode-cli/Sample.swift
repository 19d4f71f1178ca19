import ArgumentParser
import Foundation
import VAECore
import VAETraining
import VAECommandSupport
import VAERuntime

struct Sample: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Decode samples z ~ N(0, I); sample i depends only on (seed, i).",
        discussion: """
            Generates in passes of bounded memory, on every core, whatever --count is. --out DIR writes one JPEG per sample \
            (--format jpeg) or tar shards in the WebDataset layout (--format tar: NNNNNNNNN.jpg and NNNNNNNNN.json per sample); \
            files are written to temporary names and renamed, and the data is synced once, at the end. --resume continues a \
            killed job in DIR and ends byte-identical to an uninterrupted one. A conditional model (cvae) samples every class \
            in turn: sample i gets class i mod K (K classes), unless --class gives one class for all.
            """)

    @Option(help: "Weights file.")
    var weights: String
    @Option(help: "Number of samples (of the whole job, all shards together).")
    var count = 64
    @Option(help: "Seed of the latent noise.")
    var seed: UInt64 = 0
    @Option(help: "Output folder: one JPEG per sample (sample-<index>.jpg), or tar shards with --format tar.")
    var out: String?
    @Option(help: "Output layout in --out: jpeg (one file per sample) or tar (samples-<n>.tar shards).")
    var format = "jpeg"
    @Option(help: "Samples per tar shard (--format tar).")
    var shardSize = 10_000
    @Flag(help: "Also write the latent vectors as float32 .npy: one per tar shard, or latents.npy for the folder.")
    var latents = false
    @Option(help: "One JPEG (.jpg) with all samples in a grid (at most \(SampleJob.maxKeptImages)).")
    var grid: String?
    @Option(help: "Generate only part k of n of the job (k/n, k from 0): the parts together equal the whole run. With --format tar, whole tar shards.")
    var shard: String?
    @Option(name: .customLong("class"), help: "Class of every sample (conditional models; default: sample i gets class i mod K).")
    var classLabel: Int32?
    @Flag(help: "Continue the job in --out: keep the complete files, make the rest (the options must be the job's).")
    var resume = false
    @OptionGroup var image: ImageOptions
    @OptionGroup var threading: ThreadOptions

    func validate() throws {
        try checkJPEGName(grid, "--grid")
        guard count > 0 else { throw ValidationError("--count must be positive, got \(count)") }
        guard out != nil || grid != nil else { throw ValidationError("give --out DIR, --grid FILE.jpg, or both") }
        guard let format = SampleJob.Format(rawValue: format) else { throw ValidationError("--format must be jpeg or tar, got \(format)") }
        guard shardSize > 0 else { throw ValidationError("--shard-size must be positive, got \(shardSize)") }
        if out == nil && (resume || latents || format == .tar) { throw ValidationError("--resume, --latents and --format tar need --out DIR") }
        let (k, n) = try shardParts()
        var o = SampleJob.Options(count: count)
        (o.shard, o.shards, o.format, o.shardSize) = (k, n, format, shardSize)
        let samples = SampleJob.indices(o).count
        if grid != nil && samples > SampleJob.maxKeptImages {
            throw ValidationError("--grid: \(samples) images are more than \(SampleJob.maxKeptImages) in one grid; ask for fewer, or write them with --out")
        }
    }

    /// k and n of --shard (0 and 1 without it).
    func shardParts() throws -> (Int, Int) {
        guard let shard else { return (0, 1) }
        let parts = shard.split(separator: "/").compactMap { Int($0) }
        guard parts.count == 2, parts[1] > 0, (0..<parts[1]).contains(parts[0]) else { throw ValidationError("--shard must be k/n with 0 <= k < n") }
        return (parts[0], parts[1])
    }

    func run() throws {
        try reportingErrors {
            try threading.apply()
            let model = try Model.open(path: weights)
            try checkClass(classLabel, for: model, weights: weights)
            var options = SampleJob.Options(count: count)
            (options.shard, options.shards) = try shardParts()
            options.seed = seed
            options.classLabel = classLabel
            options.folder = out
            options.format = SampleJob.Format(rawValue: format)!
            options.shardSize = shardSize
            options.latents = latents
            options.quality = image.quality
            options.threads = threading.threads
            options.keepPixels = grid != nil
            options.resume = resume
            let job = try SampleJob(model: model, modelPath: weights, options: options)
            let bar = ProgressBar(title: "sampling", total: job.range.count, logEvery: 10)
            let summary = try job.run { bar.update($0, "") }
            if job.range.count > 4 * 1024 { bar.finish("") }
            if let grid {
                try writeGrid(job.pixels, count: job.range.count, shape: model.imageShape, columns: image.nrow, quality: image.quality, range: model.imageRange, to: grid)
            }
            var wrote: [String] = []
            if let out {
                let files = options.format == .tar ? "\(job.range.count) samples in tar shards of \(shardSize)" : "\(job.range.count) JPEGs"
                let kept = summary.kept > 0 ? " (\(summary.kept) already complete, kept)" : ""
                wrote.append("\(files) in \(out)\(kept), synced")
            }
            if let grid { wrote.append("grid \(grid)") }
            let rate = Double(summary.made) / max(summary.seconds, 1e-9)
            print("samples \(job.range.lowerBound)..<\(job.range.upperBound) of seed \(seed): wrote \(wrote.joined(separator: " and ")); "
                  + String(format: "%d made in %.2f s, %.0f images/s", summary.made, summary.seconds, rate))
        }
    }
}
