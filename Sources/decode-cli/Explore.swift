import ArgumentParser
import Foundation
import VAECore
import VAETraining
import VAECommandSupport
import VAERuntime

struct Classes: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "A conditional model's classes: one row per class, the same latent noise down each column.")

    @Option(help: "Weights file of a conditional model (cvae).")
    var weights: String
    @Option(help: "Samples per class (columns).")
    var perClass = 8
    @Option(help: "Seed of the latent noise.")
    var seed: UInt64 = 0
    @Option(help: "Output JPEG.")
    var grid: String
    @Option(help: "JPEG quality, 1 to 100.")
    var quality = 90
    @OptionGroup var threading: ThreadOptions

    func validate() throws {
        try checkJPEGName(grid, "--grid")
        guard perClass > 0, (1...100).contains(quality) else { throw ValidationError("--per-class must be positive and --quality 1 to 100") }
    }

    func run() throws {
        try reportingErrors {
            try threading.apply()
            let model = try Model.open(path: weights)
            guard model.kind.isConditional else { fail("\(weights) is a \(model.kind.rawValue), not a conditional model") }
            let k = model.classCount
            var z = [Float](repeating: 0, count: perClass * model.latentDim)
            try model.sampleLatents(seed: seed, first: 0, count: perClass, into: &z)
            // Row c repeats the same perClass latent vectors with label c.
            let zs = Array((0..<k).map { _ in z }.joined())
            let labels = (0..<k).flatMap { c in [Int32](repeating: Int32(c), count: perClass) }
            var pixels = [Float](repeating: 0, count: k * perClass * model.pixelCount)
            try model.decode(zs, labels: labels, batch: k * perClass, pixels: &pixels)
            try writeGrid(pixels, count: k * perClass, shape: model.imageShape, columns: perClass, quality: quality, range: model.imageRange, to: grid)
            print("wrote \(grid): \(k) rows (\(classNames(model, count: k).joined(separator: ", "))), \(perClass) columns")
        }
    }
}

struct Interpolate: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "The decoded path between the latent means of two test images, as one strip.")

    @OptionGroup var source: ModelAndTestData
    @Option(help: "Index of the first test image.")
    var from = 0
    @Option(help: "Index of the second test image.")
    var to = 1
    @Option(help: "Images along the path, both ends included.")
    var steps = 10
    @Option(help: "Output JPEG.")
    var grid: String
    @Option(help: "JPEG quality, 1 to 100.")
    var quality = 90
    @OptionGroup var threading: ThreadOptions

    func validate() throws {
        try checkJPEGName(grid, "--grid")
        guard from >= 0, to >= 0, steps >= 2, (1...100).contains(quality) else { throw ValidationError("--from/--to >= 0, --steps >= 2, --quality 1 to 100") }
    }

    func run() throws {
        try reportingErrors {
            try threading.apply()
            let model = try source.model()
            let test = try source.testImages(for: model, limit: max(from, to) + 1)
            guard max(from, to) < test.count else { fail("the test set has \(test.count) images; --from and --to must be below that") }
            let d = model.latentDim, p = model.pixelCount
            let pair = Array(test.images[(from * p)..<((from + 1) * p)]) + Array(test.images[(to * p)..<((to + 1) * p)])
            let pairLabels = labelsIfConditional(model, [test.labels32[from], test.labels32[to]])
            var mu = [Float](repeating: 0, count: 2 * d)
            try model.encode(inModelRange(pair, model), labels: pairLabels, batch: 2, mu: &mu, logVariance: nil)
            var path = [Float]()
            for s in 0..<steps {
                let t = Float(s) / Float(steps - 1)
                path += (0..<d).map { (1 - t) * mu[$0] + t * mu[d + $0] }
            }
            // A conditional model keeps the first image's class along the path.
            let labels = labelsIfConditional(model, [Int32](repeating: test.labels32[from], count: steps))
            var pixels = [Float](repeating: 0, count: steps * p)
            try model.decode(path, labels: labels, batch: steps, pixels: &pixels)
            try writeGrid(pixels, count: steps, shape: model.imageShape, columns: steps, quality: quality, range: model.imageRange, to: grid)
            print("wrote \(grid): \(steps) decodes from test image \(from) to test image \(to)")
        }
    }
}

struct Traverse: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Decodes over a regular grid of two latent dimensions (the others 0): columns vary the first, rows the second.")

    @Option(help: "Weights file.")
    var weights: String
    @Option(help: "The two latent dimensions, e.g. 0,1.")
    var dims = "0,1"
    @Option(help: "Each dimension runs over [-range, range].")
    var range: Float = 3
    @Option(help: "Values per dimension.")
    var steps = 10
    @Option(name: .customLong("class"), help: "Class of every decode (conditional models).")
    var classLabel: Int32?
    @Option(help: "Output JPEG.")
    var grid: String
    @Option(help: "JPEG quality, 1 to 100.")
    var quality = 90
    @OptionGroup var threading: ThreadOptions

    func validate() throws {
        try checkJPEGName(grid, "--grid")
        guard steps >= 2, range > 0, range.isFinite, (1...100).contains(quality) else { throw ValidationError("--steps >= 2, --range > 0, --quality 1 to 100") }
        guard dims.split(separator: ",").compactMap({ Int($0) }).count == 2 else { throw ValidationError("--dims must be two indices, e.g. 0,1") }
    }

    func run() throws {
        try reportingErrors {
            try threading.apply()
            let model = try Model.open(path: weights)
            let pair = dims.split(separator: ",").compactMap { Int($0) }
            guard pair.allSatisfy({ (0..<model.latentDim).contains($0) }), pair[0] != pair[1] else {
                fail("--dims must be two different dimensions below \(model.latentDim)")
            }
            if model.kind.isConditional && classLabel == nil { fail("\(weights) is a conditional model: give --class K (0 to \(model.classCount - 1))") }
            try checkClass(classLabel, for: model, weights: weights)
            let d = model.latentDim
            var z = [Float](repeating: 0, count: steps * steps * d)
            for row in 0..<steps {
                for column in 0..<steps {
                    let k = row * steps + column
                    z[k * d + pair[0]] = -range + 2 * range * Float(column) / Float(steps - 1)
                    z[k * d + pair[1]] = range - 2 * range * Float(row) / Float(steps - 1)  // top row is +range
                }
            }
            let labels = model.kind.isConditional ? [Int32](repeating: classLabel!, count: steps * steps) : nil
            var pixels = [Float](repeating: 0, count: steps * steps * model.pixelCount)
            try model.decode(z, labels: labels, batch: steps * steps, pixels: &pixels)
            try writeGrid(pixels, count: steps * steps, shape: model.imageShape, columns: steps, quality: quality, range: model.imageRange, to: grid)
            print("wrote \(grid): dimension \(pair[0]) across, \(pair[1]) down (top = +\(range)), over [-\(range), \(range)]")
        }
    }
}

enum ProjectionMethod: String, ExpressibleByArgument, CaseIterable {
    case pca, tsne
}

struct LatentMap: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "The test set's latent means in 2-d (directly for a 2-d latent, else PCA or Barnes-Hut t-SNE), one dot per image coloured by class, as SVG.")

    @OptionGroup var source: ModelAndTestData
    @Option(help: "Test images to plot.")
    var count = 5000
    @Option(help: "Output SVG.")
    var out: String
    @Option(help: "Projection of a latent of more than 2 dimensions: pca (fast) or tsne.")
    var method = ProjectionMethod.pca
    @Option(help: "t-SNE: perplexity of each point's neighbourhood.")
    var perplexity = 30.0
    @Option(help: "t-SNE: gradient steps (the first 250 with early exaggeration 12).")
    var iterations = 1000
    @Option(help: "t-SNE: starting layout, pca or random (from --seed).")
    var initialization = TSNE.Initialization.pca
    @Option(help: "t-SNE: seed of a random start.")
    var seed: UInt64 = 0
    @Option(help: "Also write index, label, the 2-d point and the latent mean of each image as CSV.")
    var coords: String?
    @OptionGroup var threading: ThreadOptions

    var tsneOptions: TSNE.Options {
        var options = TSNE.Options()
        options.perplexity = perplexity
        options.iterations = iterations
        options.initialization = initialization
        options.seed = seed
        return options
    }

    func validate() throws {
        if let problem = OutputPath.svgProblem(out, option: "--out") { throw ValidationError(problem) }
        guard count > 0 else { throw ValidationError("--count must be positive, got \(count)") }
        if method == .tsne, let problem = tsneOptions.problem(count: count) { throw ValidationError(problem) }
    }

    func run() throws {
        try reportingErrors {
            try threading.apply()
            let model = try source.model()
            let test = try source.testImages(for: model, limit: count)
            let d = model.latentDim
            var mu = [Float](repeating: 0, count: test.count * d)
            try model.encode(inModelRange(test.images, model), labels: labelsIfConditional(model, test.labels32), batch: test.count, mu: &mu, logVariance: nil)
            let (points, projection) = projectLatents(mu, count: test.count, dim: d, method: method, tsne: tsneOptions, threads: threading.threads)
            let classes = Int(test.labels.max() ?? 0) + 1
            let svg = ScatterPlot.svg(points: points, labels: test.labels.map(Int.init), classNames: classNames(model, count: classes),
                                      title: "latent means of \(test.count) test images (\(projection), \(model.kind.rawValue))",
                                      xLabel: d == 2 ? "z0" : method == .pca ? "principal component 1" : "t-SNE 1",
                                      yLabel: d == 2 ? "z1" : method == .pca ? "principal component 2" : "t-SNE 2")
            if let coords {
                var csv = "index,label,x,y" + (0..<d).map { ",z\($0)" }.joined() + "\n"
                for (i, p) in points.enumerated() {
                    csv += "\(i),\(test.labels[i]),\(p.x),\(p.y)" + (0..<d).map { ",\(mu[i * d + $0])" }.joined() + "\n"
                }
                try FileIO.writeAtomically(Array(csv.utf8), to: coords)
            }
            try FileIO.writeAtomically(Array(svg.utf8), to: out)
            print("wrote \(out): \(test.count) points, \(classes) classes" + (coords.map { "; \($0)" } ?? ""))
        }
    }
}

extension TSNE.Initialization: ExpressibleByArgument {}

/// `count` latent means of `dim` dimensions in 2-d: the means themselves for a 2-d latent, else their PCA or
/// t-SNE (which prints its time and KL divergence); with the projection's name.
func projectLatents(_ mu: [Float], count: Int, dim: Int, method: ProjectionMethod, tsne: TSNE.Options,
                    threads: Int) -> (points: [(x: Float, y: Float)], name: String) {
    if dim == 2 || method == .pca {
        return (PCA.project(mu, count: count, dim: dim), dim == 2 ? "z" : "PCA of z")
    }
    if let problem = tsne.problem(count: count) { fail(problem) }
    let start = Date()
    let embedding = TSNE.embed(mu, count: count, dim: dim, options: tsne, threads: threads)
    print(String(format: "t-SNE of %d points: %.2f s, KL divergence %.4f", count, Date().timeIntervalSince(start), embedding.klDivergence))
    return (embedding.points, "t-SNE of z, perplexity \(tsne.perplexity.formatted())")
}

struct Denoise: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Corrupted test images, their reconstructions and the originals (rows in that order); prints PSNR of noisy and denoised.")

    @OptionGroup var source: ModelAndTestData
    @Option(help: "Corruption: saltpepper:P or gaussian:S.")
    var noise = "saltpepper:0.3"
    @Option(help: "Test images over which PSNR is averaged.")
    var count = 10000
    @Option(help: "Output JPEG with the first --nrow images.")
    var grid: String?
    @Option(help: "Seed of the corruption.")
    var seed: UInt64 = 0
    @OptionGroup var image: ImageOptions
    @OptionGroup var threading: ThreadOptions

    func validate() throws {
        try checkJPEGName(grid, "--grid")
        guard Corruption(noise) != nil else { throw ValidationError("--noise must be saltpepper:P or gaussian:S") }
        guard count > 0 else { throw ValidationError("--count must be positive") }
    }

    func run() throws {
        try reportingErrors {
            try threading.apply()
            let model = try source.model()
            let test = try source.testImages(for: model, limit: count)
            let result = try DenoisingEvaluation.run(model, on: test, corruption: Corruption(noise)!, seed: seed)
            print(String(format: "PSNR over %d test images (%@): corrupted %.2f dB, denoised %.2f dB, gain %.2f dB",
                         test.count, noise, result.noisyPSNR, result.denoisedPSNR, result.denoisedPSNR - result.noisyPSNR))
            if let grid {
                let n = min(image.nrow, test.count), p = model.pixelCount
                let tiles = Array(result.noisy[0..<(n * p)]) + Array(result.denoised[0..<(n * p)]) + Array(test.images[0..<(n * p)])
                try writeGrid(tiles, count: 3 * n, shape: model.imageShape, columns: n, quality: image.quality, to: grid)
                print("wrote \(grid): corrupted, denoised and original rows")
            }
        }
    }
}
