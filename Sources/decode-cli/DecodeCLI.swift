import ArgumentParser
import Foundation
import VAECore
import VAETraining
import VAECommandSupport
import VAERuntime

@main
struct DecodeCLI: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "decode-cli",
        abstract: "Generate and look at images with a vaert model: samples, reconstructions, class grids, interpolations, latent traversals and maps, denoising, the model as a codec, and a page that decodes in the browser.",
        subcommands: [Sample.self, Reconstruct.self, Classes.self, Interpolate.self, Traverse.self, LatentMap.self, Denoise.self, CodecCommand.self, ExplorerCommand.self])
}

func fail(_ message: String) -> Never { CommandErrors.fail("decode-cli", message) }

func reportingErrors(_ body: () throws -> Void) throws { try CommandErrors.reporting("decode-cli", body) }

/// `--threads`: the library's pool (`vaert_set_threads`) for decoding, and the JPEG workers.
struct ThreadOptions: ParsableArguments {
    @Option(help: "Threads for decoding and JPEG encoding (the output is the same for any count).")
    var threads = max(1, ProcessInfo.processInfo.activeProcessorCount)

    func validate() throws {
        guard (1...256).contains(threads) else { throw ValidationError("--threads must be 1 to 256, got \(threads)") }
    }

    func apply() throws {
        try WorkerPool.resize(to: threads)
    }
}

/// An output option that must name a JPEG (.jpg or .jpeg), checked in `validate()`.
func checkJPEGName(_ path: String?, _ option: String) throws {
    if let path, let problem = OutputPath.jpegProblem(path, option: option) { throw ValidationError(problem) }
}

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

func writeGrid(_ pixels: [Float], count: Int, shape: Shape3, columns: Int, quality: Int, range: ImageRange = .unit, to path: String) throws {
    let grid = pixels.withUnsafeBufferPointer { ImageGrid.make($0, count: count, shape: shape, columns: columns) }
    try grid.pixels.withUnsafeBufferPointer { p in try JPEG.write(p.baseAddress!, shape: grid.shape, quality: quality, range: range, to: path) }
}

/// Names of the classes of a data set, for legends (Fashion-MNIST's when the model was trained on it).
func classNames(_ model: Model, count: Int) -> [String] {
    let fashion = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]
    if case .string(let name)? = model.file.metadataValue(MetadataKey.dataset), name == "fashion-mnist", count <= fashion.count {
        return Array(fashion.prefix(count))
    }
    return (0..<count).map { "class \($0)" }
}

/// The model and test data of the commands that look at data through a model.
struct ModelAndTestData: ParsableArguments {
    @Option(help: "Weights file.")
    var weights: String
    @Option(help: "Folder of IDX files or of JPEG images; the test split is used (default: the data the model was trained on, when its file records it, else Fashion-MNIST).")
    var data: String?

    func model() throws -> Model { try Model.open(path: weights) }

    /// The first `limit` test images, as the model takes them.
    func testImages(for model: Model, limit: Int? = nil) throws -> Dataset {
        let folder = try Provenance.dataFolder(given: data, recordedIn: model.file)
        return try Dataset.open(folder: folder, split: .test, limit: limit, shape: model.imageShape)
    }
}

/// Images of [0, 1] (a dataset's) as `model`'s encoder takes them: the same, or mapped to [-1, 1].
func inModelRange(_ images: [Float], _ model: Model) -> [Float] {
    model.imageRange == .unit ? images : images.map(model.imageRange.fromUnit)
}

extension Dataset {
    var labels32: [Int32] { labels.map { Int32($0) } }
}

/// `--class` must name a class of a conditional model, and only of one.
func checkClass(_ label: Int32?, for model: Model, weights: String) throws {
    guard let label else { return }
    guard model.kind.isConditional else { fail("--class is for conditional models; \(weights) is a \(model.kind.rawValue)") }
    guard (0..<Int32(model.classCount)).contains(label) else { fail("--class \(label): \(weights) has classes 0 to \(model.classCount - 1)") }
}

/// The labels argument for a model: the given ones for a conditional model, nil otherwise.
func labelsIfConditional(_ model: Model, _ labels: [Int32]) -> [Int32]? { model.kind.isConditional ? labels : nil }
