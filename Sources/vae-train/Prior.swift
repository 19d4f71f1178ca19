import ArgumentParser
import Foundation
import VAECore
import VAETraining
import VAECommandSupport
import VAERuntime

struct Prior: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Train a VQ-VAE's PixelCNN prior over its code grids and store it in the weights file, so that decode-cli sample can draw from it.")

    @Option(help: "The VQ-VAE's weights file (f32, as vae-train wrote it).")
    var weights: String
    @Option(help: "Where to write the file with the prior (default: replace --weights, atomically).")
    var out: String?
    @Option(help: "Folder of IDX files or of JPEG images (default: the data the model was trained on).")
    var data: String?
    @Option(help: "Epochs over the training set's code grids.")
    var epochs = 10
    @Option(help: "Code grids per step.")
    var batchSize = 64
    @Option(help: "Adam's learning rate.")
    var learningRate: Float = 1e-3
    @Option(help: "Feature channels of the prior's hidden layers.")
    var channels = 64
    @Option(help: "Masked 3x3 type B layers after the first.")
    var layers = 4
    @Option(help: "Kernel side of the first (type A) layer; odd.")
    var firstKernel = 5
    @Option(help: "Seed of the initial weights and the shuffles.")
    var seed: UInt64 = 0
    @Option(help: "Train on the first N training images only.")
    var trainLimit: Int?
    @Option(help: "Evaluate on the first N test images only.")
    var testLimit: Int?
    @Option(help: "Worker threads.")
    var threads = defaultThreads()

    func validate() throws {
        for (value, name) in [(epochs, "--epochs"), (batchSize, "--batch-size"), (channels, "--channels"), (threads, "--threads")] {
            try requirePositive(value, name)
        }
        try requirePositive(trainLimit, "--train-limit")
        try requirePositive(testLimit, "--test-limit")
        guard layers >= 0 else { throw ValidationError("--layers must be 0 or more, got \(layers)") }
        guard firstKernel >= 3, firstKernel % 2 == 1, firstKernel < 64 else { throw ValidationError("--first-kernel must be odd, 3 to 63, got \(firstKernel)") }
        guard learningRate > 0, learningRate.isFinite else { throw ValidationError("--learning-rate must be positive") }
    }

    func run() throws { try CommandErrors.reporting("vae-train", train) }

    func train() throws {
        let model = try Model.open(path: weights)
        guard let codebook = model.codebook else { throw VaertError(.unsupported, "\(weights) is a \(model.kind.name) model: only a vq-vae has a prior over codes") }
        guard model.hasEncoder else { throw VaertError(.unsupported, "\(weights) holds no encoder: the prior trains on the training images' codes") }
        do throws(VaertError) { try PriorFile.checkAttachable(model.file) } catch { throw VaertError(error.status, "\(weights): \(error.message)") }
        let folder = try Provenance.dataFolder(given: data, weights: weights)
        let (trainSet, testSet) = try Dataset.openSplits(folder: folder, trainLimit: trainLimit, testLimit: testLimit, shape: model.imageShape,
                                                         skipBadImages: false)
        let trainCodes = try codes(model, trainSet), testCodes = try codes(model, testSet)
        let shape = PriorShape(grid: codebook.grid, codes: codebook.codes, channels: channels, hiddenLayers: layers, firstKernel: firstKernel)
        let trainer = PriorTrainer(shape: shape, codebook: Array(UnsafeBufferPointer(start: codebook.vectors, count: codebook.codes * codebook.dimension)),
                                   batchSize: batchSize, learningRate: learningRate, seed: seed, threads: threads)
        let uniform = Double(codebook.positions) * log(Double(codebook.codes))
        print("\(shape.summary), \(trainer.net.parameterCount) parameters")
        print(String(format: "%d training and %d test grids of %d codes; a uniform prior costs %.1f nats (%.0f bits) a grid",
                     trainSet.count, testSet.count, codebook.positions, uniform, uniform / log(2)))
        var test = 0.0
        try FloatMode.flushingDenormals { () throws(VaertError) in
            for epoch in 1...epochs {
                let bar = ProgressBar(title: "epoch \(epoch)/\(epochs)", total: trainSet.count)
                let train = trainer.trainEpoch(trainCodes, count: trainSet.count) { done, mean in bar.update(done, String(format: "nll %.2f", mean)) }
                bar.finish(String(format: "nll %.2f  %.1f s", train, bar.elapsed))
                test = trainer.evaluate(testCodes, count: testSet.count)
                print(String(format: "epoch %d: train %.2f nats a grid, test %.2f nats (%.1f bits, %.1f bytes)", epoch, train, test, test / log(2), test / log(2) / 8))
            }
        }
        let bytes = try FileIO.withContents(of: weights) { (bytes) throws(VaertError) in try PriorFile.attach(trainer, to: bytes, testNLL: test).serialize() }
        let path = out ?? weights
        try FileIO.writeAtomically(bytes, to: path)
        print("wrote \(path) (\(bytes.count) bytes): decode-cli sample --weights \(path) draws code grids from the prior")
    }

    /// The code grid of every image of `data` (count × positions).
    func codes(_ model: Model, _ data: Dataset) throws(VaertError) -> [Int32] {
        let positions = model.codebook!.positions
        var codes = [Int32](repeating: 0, count: data.count * positions)
        try data.images.withUnsafeBufferPointer { (images) throws(VaertError) in
            try codes.withUnsafeMutableBufferPointer { (codes) throws(VaertError) in
                try model.encodeCodes(images.baseAddress!, batch: data.count, codes: codes.baseAddress!)
            }
        }
        return codes
    }
}
