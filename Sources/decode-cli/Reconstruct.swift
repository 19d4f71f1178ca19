import ArgumentParser
import Foundation
import VAECore
import VAETraining
import VAECommandSupport
import VAERuntime

struct Reconstruct: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Originals next to their reconstructions (decoded posterior means): rows of originals, each followed by its reconstructions.")

    @OptionGroup var source: ModelAndTestData
    @Option(help: "Number of test images.")
    var count = 32
    @Option(help: "Output JPEG.")
    var grid: String
    @OptionGroup var image: ImageOptions
    @OptionGroup var threading: ThreadOptions

    func validate() throws {
        try checkJPEGName(grid, "--grid")
        guard count > 0 else { throw ValidationError("--count must be positive") }
    }

    func run() throws {
        try reportingErrors {
            try threading.apply()
            let model = try source.model()
            let test = try source.testImages(for: model, limit: count)
            let labels = labelsIfConditional(model, test.labels32)
            let n = test.count
            let p = model.pixelCount
            var mu = [Float](repeating: 0, count: n * model.latentDim)
            var recon = [Float](repeating: 0, count: n * p)
            try inModelRange(test.images, model).withUnsafeBufferPointer { x in
                try mu.withUnsafeMutableBufferPointer { m in
                    try model.encode(x.baseAddress!, labels: labels, batch: n, mu: m.baseAddress!, logVariance: nil)
                    try recon.withUnsafeMutableBufferPointer { r in try model.decode(m.baseAddress!, labels: labels, batch: n, pixels: r.baseAddress!) }
                }
            }
            recon = recon.map(model.imageRange.toUnit)  // shown beside the [0, 1] originals
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
