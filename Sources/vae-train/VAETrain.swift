import ArgumentParser
import Foundation
import VAECore
import VAETraining
import vaert

@main
struct VAETrain: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "vae-train",
        abstract: "Train autoencoders and variational autoencoders on IDX image data, and evaluate them.",
        subcommands: [Train.self, Eval.self, InspectData.self],
        defaultSubcommand: Train.self)
}

func fail(_ message: String) -> Never { CommandErrors.fail("vae-train", message) }

/// "HxW" and a channel count (1 or 3) as a shape, or nil.
func parseImageShape(_ text: String, channels: Int) -> Shape3? {
    let parts = text.lowercased().split(separator: "x").compactMap { Int($0) }
    guard parts.count == 2, (1...4096).contains(parts[0]), (1...4096).contains(parts[1]), channels == 1 || channels == 3 else { return nil }
    return Shape3(channels: channels, height: parts[0], width: parts[1])
}

struct InspectData: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "inspect-data", abstract: "Write a grid of training images as the trainer sees them.")

    @Option(help: "Folder of IDX files or of JPEG images.")
    var data = Dataset.defaultFolder
    @Option(help: "Size JPEG images are resized to, HxW.")
    var imageSize = "28x28"
    @Option(help: "Channels of JPEG images as the model sees them: 1 or 3.")
    var channels = 1
    @Option(help: "Images in the grid.")
    var count = 64
    @Option(help: "Images per row.")
    var nrow = 8
    @Option(help: "Output JPEG.")
    var grid: String

    func validate() throws {
        guard count > 0, nrow > 0 else { throw ValidationError("--count and --nrow must be positive") }
        guard parseImageShape(imageSize, channels: channels) != nil else { throw ValidationError("--image-size must be HxW and --channels 1 or 3") }
    }

    func run() throws {
        try CommandErrors.reporting("vae-train") {
            let shape = ImageFolder.isImageFolder(data) ? parseImageShape(imageSize, channels: channels) : nil
            let set = try Dataset.open(folder: data, split: .train, limit: count, shape: shape)
            let tiles = set.images.withUnsafeBufferPointer { ImageGrid.make($0, count: set.count, shape: set.shape, columns: nrow) }
            try tiles.pixels.withUnsafeBufferPointer { p in try JPEG.write(p.baseAddress!, shape: tiles.shape, quality: 90, to: grid) }
            let classes = Set(set.labels).count
            say("wrote \(grid): \(set.count) training images of \(set.name), \(set.shape), \(classes) classes among them")
        }
    }
}

func defaultThreads() -> Int { max(1, ProcessInfo.processInfo.activeProcessorCount) }

/// Writes one line to standard output at once (unbuffered), so per-epoch lines reach a log file as they happen.
func say(_ line: String) { FileHandle.standardOutput.write(Data((line + "\n").utf8)) }

struct Train: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Train a model and export it as a weights file (the default command).")

    @Option(help: "Folder of IDX files (train-/t10k-images-idx3-ubyte[.gz] and labels), or of JPEG images (one sub-folder per class).")
    var data = Dataset.defaultFolder
    @Option(help: "Size JPEG images are resized to, HxW (IDX images keep theirs).")
    var imageSize = "28x28"
    @Option(help: "Channels of JPEG images as the model sees them: 1 (gray) or 3 (RGB).")
    var channels = 1
    @Option(help: "Model: vae, beta-vae, cvae, conv-vae, ae, conv-ae, dae, sparse-ae or cae.")
    var model = "vae"
    @Option(help: "Reconstruction loss: bce (Bernoulli) or mse.")
    var loss = "bce"
    @Option(help: "Weight of the KL term (default 1; 4 for beta-vae). A vae with beta other than 1 is stored as beta-vae.")
    var beta: Float?
    @Option(help: "Adam learning rate.")
    var lr: Float = 1e-3
    @Option(help: "Images per step.")
    var batchSize = 128
    @Option(help: "Epochs to train (with --resume: the total to reach).")
    var epochs = 10
    @Option(help: "Seed of every random choice (initialisation, order, noise): a run is reproducible.")
    var seed: UInt64 = 0
    @Option(help: "Hidden dense layer widths, encoder order, comma separated (default 400 for MLPs, none after convolutions).")
    var hidden: String?
    @Option(help: "Output channels of the convolution stages (kernel 4, stride 2, padding 1), for conv-vae and conv-ae (default 32,64).")
    var conv: String?
    @Option(help: "Input corruption of a dae: saltpepper:P (a fraction P of pixels set to random values) or gaussian:S (default saltpepper:0.3).")
    var noise: String?
    @Option(help: "Target mean activation rho of a sparse-ae's code units.")
    var sparsity: Float = 0.05
    @Option(help: "Weight of a sparse-ae's sparsity term sum_j KL(rho || rho_hat_j).")
    var sparsityWeight: Float = 3
    @Option(help: "Weight lambda of a cae's contractive term ||dh/dx||_F^2.")
    var contractive: Float = 10
    @Option(help: "KL warm-up over this many epochs (VAEs): beta ramps up from 0.")
    var klWarmup: Float?
    @Option(help: "KL warm-up schedule: linear (once) or cyclical (every --kl-warmup epochs, ramping over each cycle's first half).")
    var klSchedule = "linear"
    @Option(help: "Free bits (VAEs): latent dimensions with batch-mean KL below this many nats get no KL gradient.")
    var freeBits: Float?
    @Option(help: "Latent dimensions.")
    var latent = 20
    @Option(help: "Train on the first N training images only.")
    var trainLimit: Int?
    @Option(help: "Evaluate on the first N test images only.")
    var testLimit: Int?
    @Option(help: "Output weights file.")
    var out = "vae.vaert"
    @Option(help: "Checkpoint file, written at every epoch end (default: OUT with .ckpt).")
    var checkpoint: String?
    @Flag(help: "Continue from the checkpoint.")
    var resume = false
    @Option(help: "Worker threads.")
    var threads = defaultThreads()

    func validate() throws {
        guard ModelKind(rawValue: model) != nil else { throw ValidationError("--model must be one of: \(ModelKind.allCases.map(\.rawValue).joined(separator: ", "))") }
        guard ["bce", "mse"].contains(loss) else { throw ValidationError("--loss must be bce or mse") }
        guard batchSize > 0, epochs > 0, latent > 0, threads > 0 else { throw ValidationError("--batch-size, --epochs, --latent and --threads must be positive") }
        guard effectiveBeta >= 0, effectiveBeta.isFinite, lr > 0, lr.isFinite else { throw ValidationError("--beta must be >= 0 and --lr > 0") }
        if modelKind == .betaVAE && effectiveBeta <= 1 { throw ValidationError("beta-vae needs --beta above 1") }
        guard parseImageShape(imageSize, channels: channels) != nil else { throw ValidationError("--image-size must be HxW (e.g. 28x28) and --channels 1 or 3") }
        if noise != nil && modelKind != .dae { throw ValidationError("--noise is for dae") }
        if modelKind == .dae && corruption == nil { throw ValidationError("--noise must be saltpepper:P with P in [0, 1] or gaussian:S with S >= 0") }
        guard TrainingOptions.KLSchedule(rawValue: klSchedule) != nil else { throw ValidationError("--kl-schedule must be linear or cyclical") }
        guard (klWarmup ?? 1) > 0, (freeBits ?? 0) >= 0 else { throw ValidationError("--kl-warmup must be positive and --free-bits >= 0") }
        if (klWarmup != nil || freeBits != nil) && !modelKind.isVariational { throw ValidationError("--kl-warmup and --free-bits are for VAEs") }
        guard sparsity > 0, sparsity < 1, sparsityWeight >= 0, contractive >= 0 else {
            throw ValidationError("--sparsity must be in (0, 1); --sparsity-weight and --contractive >= 0")
        }
        guard (try? widths(hidden, default: defaultHidden)) != nil else {
            throw ValidationError("--hidden must be positive integers separated by commas, e.g. 512,256")
        }
        if conv != nil && !modelKind.isConvolutional { throw ValidationError("--conv is for conv-vae and conv-ae") }
        guard let stages = try? widths(conv, default: "32,64"), !stages.isEmpty else {
            throw ValidationError("--conv must be positive integers separated by commas, e.g. 32,64")
        }
        guard out.hasSuffix(".vaert") else { throw ValidationError("--out must end in .vaert") }
    }

    var modelKind: ModelKind { ModelKind(rawValue: model) ?? .vae }
    /// 400 for MLPs; none after convolutions, and none for the cae's single sigmoid layer.
    var defaultHidden: String { modelKind.isConvolutional || modelKind == .cae ? "" : "400" }
    var corruption: Corruption? { Corruption(noise ?? "saltpepper:0.3") }
    var effectiveBeta: Float { beta ?? (modelKind == .betaVAE ? 4 : 1) }
    /// The kind stored in the file: a vae trained with beta other than 1 is a beta-vae.
    var storedKind: ModelKind { modelKind == .vae && effectiveBeta != 1 ? .betaVAE : modelKind }

    /// Comma-separated positive integers ("" is none).
    func widths(_ text: String?, default fallback: String) throws -> [Int] {
        let text = text ?? fallback
        if text.isEmpty { return [] }
        let values = text.split(separator: ",", omittingEmptySubsequences: false).map { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard values.allSatisfy({ ($0 ?? 0) > 0 }) else { throw ValidationError("bad list \(text)") }
        return values.map { $0! }
    }

    var checkpointPath: String { checkpoint ?? String(out.dropLast(".vaert".count)) + ".ckpt" }
    var curvesPath: String { String(out.dropLast(".vaert".count)) + ".curves.svg" }

    func run() throws { try CommandErrors.reporting("vae-train", train) }

    func train() throws {
        let shape = ImageFolder.isImageFolder(data) ? parseImageShape(imageSize, channels: channels) : nil
        let trainSet = try Dataset.open(folder: data, split: .train, limit: trainLimit, shape: shape)
        let testSet = try Dataset.open(folder: data, split: .test, limit: testLimit, shape: trainSet.shape)
        let trainer: Trainer
        if resume {
            trainer = try Checkpoint.load(path: checkpointPath, threads: threads)
            guard trainer.options.architecture.image == trainSet.shape else {
                fail("\(checkpointPath): the checkpoint's images are \(trainer.options.architecture.image), the data's \(trainSet.shape)")
            }
            say("resuming \(checkpointPath): \(trainer.epochsDone) epochs done, step \(trainer.adam.step)")
        } else {
            let classes = modelKind.isConditional ? Int(trainSet.labels.max() ?? 0) + 1 : 0
            let architecture = Architecture(kind: storedKind, likelihood: loss == "bce" ? .bernoulli : .gaussian, image: trainSet.shape,
                                            hidden: try widths(hidden, default: defaultHidden), latent: latent,
                                            conv: modelKind.isConvolutional ? try widths(conv, default: "32,64") : [], classes: classes)
            try architecture.validate()
            var options = TrainingOptions(architecture: architecture, beta: effectiveBeta, learningRate: lr, batchSize: batchSize, epochs: epochs,
                                          seed: seed, trainLimit: trainLimit, dataFolder: data,
                                          noise: modelKind == .dae ? corruption : nil,
                                          sparsity: modelKind == .sparseAE ? sparsity : nil, sparsityWeight: modelKind == .sparseAE ? sparsityWeight : nil,
                                          contractive: modelKind == .cae ? contractive : nil)
            options.klWarmup = klWarmup
            options.klSchedule = klWarmup == nil ? nil : TrainingOptions.KLSchedule(rawValue: klSchedule)
            options.freeBits = freeBits
            trainer = Trainer(options: options, threads: threads)
        }
        let a = trainer.options.architecture
        say("\(a.summary), \(trainer.net.parameterCount) parameters; \(trainSet.count) training images of \(trainSet.name), \(testSet.count) test; \(threads) threads")
        var lastTest: LossSums? = nil
        while trainer.epochsDone < epochs {
            let epoch = trainer.epochsDone + 1
            let bar = ProgressBar(title: "epoch \(epoch)/\(epochs)", total: trainSet.count)
            let sums: LossSums
            do {
                sums = try trainer.trainEpoch(trainSet) { done, s in
                    bar.update(done, String(format: "rec %.2f kl %.2f", s.reconstructionPerImage, s.klPerImage))
                }
            } catch {
                let kept = FileManager.default.fileExists(atPath: checkpointPath) ? "the last good checkpoint is \(checkpointPath)" : "no checkpoint was written yet"
                fail("\(error); training stopped and \(kept)")
            }
            let seconds = bar.elapsed
            bar.finish(String(format: "rec %.2f kl %.2f  %.1f s", sums.reconstructionPerImage, sums.klPerImage, seconds))
            let test = trainer.evaluate(testSet)
            lastTest = test
            if a.modelKind.isVariational {
                say(String(format: "epoch %d: test negative ELBO %.2f nats/image (reconstruction %.2f + KL %.2f)", epoch,
                             test.negELBOPerImage, test.reconstructionPerImage, test.klPerImage))
                let stats = trainer.latentStatistics(testSet)
                let active = stats.activity.filter { $0 > 0.01 }.count
                say("  active units \(active)/\(a.latent); KL per dimension: " + stats.kl.map { String(format: "%.2f", $0) }.joined(separator: " "))
            } else {
                var line = String(format: "epoch %d: test reconstruction loss %.2f per image", epoch, test.reconstructionPerImage)
                switch a.modelKind {
                case .dae: line += " (clean images from corrupted \(trainer.options.noise!))"
                case .sparseAE: line += String(format: "; mean code activation %.4f (target %.4f)", trainer.meanCodeActivation(testSet), sparsity)
                case .cae: line += String(format: "; contractive term %.4f per image", test.penalty / Double(max(test.count, 1)))
                default: break
                }
                say(line)
            }
            try Checkpoint.save(trainer, to: checkpointPath, datasetName: trainSet.name, evaluation: test)
            try writeCurves(trainer)
        }
        if lastTest == nil { lastTest = trainer.evaluate(testSet) }
        let file = trainer.net.weightsFile(extraMetadata: Checkpoint.exportMetadata(datasetName: trainSet.name, evaluation: lastTest))
        try FileIO.writeAtomically(file.serialize(), to: out)
        say("wrote \(out) (checkpoint \(checkpointPath), curves \(curvesPath))")
    }

    func writeCurves(_ trainer: Trainer) throws {
        let svg = LossCurves.svg(history: trainer.history, title: "\(trainer.options.architecture.summary): loss per step")
        try FileIO.writeAtomically(Array(svg.utf8), to: curvesPath)
    }
}

struct Eval: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Evaluate a weights file on the test set: negative ELBO and importance-weighted NLL (VAEs), reconstruction loss (AEs), PSNR gain (dae), code statistics (sparse-ae, cae).")

    @Option(help: "Weights file (an export or a checkpoint).")
    var weights: String
    @Option(help: "Folder of IDX files or of JPEG images; the test split is used.")
    var data = Dataset.defaultFolder
    @Option(help: "Importance samples per image for the NLL estimate (e.g. 1000); 0 skips it.")
    var iwSamples = 0
    @Option(help: "Images used for the importance-weighted estimate (the first N test images).")
    var iwImages = 1000
    @Option(help: "Seed of the evaluation noise.")
    var seed: UInt64 = 0
    @Option(help: "Evaluate on the first N test images only.")
    var testLimit: Int?
    @Option(help: "Corruption for a dae's evaluation (default saltpepper:0.3).")
    var noise = "saltpepper:0.3"
    @Flag(help: "Print one JSON object instead of text.")
    var json = false
    @Option(help: "Worker threads.")
    var threads = defaultThreads()

    func validate() throws {
        guard iwSamples >= 0, iwImages > 0, threads > 0 else { throw ValidationError("--iw-samples must be >= 0, --iw-images and --threads > 0") }
        guard Corruption(noise) != nil else { throw ValidationError("--noise must be saltpepper:P or gaussian:S") }
    }

    func run() throws { try CommandErrors.reporting("vae-train", evaluate) }

    func evaluate() throws {
        let trainer = try Evaluation.trainer(weightsPath: weights, batchSize: 500, seed: seed, threads: threads, noise: Corruption(noise))
        let testSet = try Dataset.open(folder: data, split: .test, limit: testLimit, shape: trainer.options.architecture.image)
        let sums = trainer.evaluate(testSet)
        let a = trainer.options.architecture
        var iw: Double? = nil
        if iwSamples > 0 && a.modelKind.isVariational {
            iw = try Evaluation.importanceWeightedNLL(trainer, data: testSet, samples: iwSamples, images: iwImages, threads: threads)
        }
        var extra: [(String, Double)] = []
        switch a.modelKind {
        case .dae:
            let result = try DenoisingEvaluation.run(try Model.open(path: weights), on: testSet, corruption: Corruption(noise)!, seed: seed)
            extra = [("psnr_corrupted_db", result.noisyPSNR), ("psnr_denoised_db", result.denoisedPSNR), ("psnr_gain_db", result.denoisedPSNR - result.noisyPSNR)]
        case .sparseAE:
            extra = [("mean_code_activation", trainer.meanCodeActivation(testSet))]
        case .cae:
            extra = [("contractive_term", sums.penalty / Double(max(sums.count, 1)))]
        default:
            break
        }
        if json {
            var fields = ["\"weights\": \(jsonString(weights))", "\"kind\": \(jsonString(a.kind))", "\"test_images\": \(sums.count)",
                          "\"reconstruction\": \(sums.reconstructionPerImage)"]
            if a.modelKind.isVariational { fields += ["\"neg_elbo\": \(sums.negELBOPerImage)", "\"kl\": \(sums.klPerImage)"] }
            if let iw { fields += ["\"iw_nll\": \(iw)", "\"iw_samples\": \(iwSamples)", "\"iw_images\": \(min(iwImages, testSet.count))"] }
            fields += extra.map { "\"\($0.0)\": \($0.1)" }
            say("{" + fields.joined(separator: ", ") + "}")
        } else if a.modelKind.isVariational {
            say(String(format: "%@ on %d test images: negative ELBO %.2f nats/image (reconstruction %.2f + KL %.2f)",
                         a.summary, sums.count, sums.negELBOPerImage, sums.reconstructionPerImage, sums.klPerImage))
            if let iw {
                say(String(format: "importance-weighted NLL (k = %d, first %d images): %.2f nats/image", iwSamples, min(iwImages, testSet.count), iw))
            }
        } else {
            say(String(format: "%@ on %d test images: reconstruction loss %.2f per image", a.summary, sums.count, sums.reconstructionPerImage))
        }
        if !json { for (name, value) in extra { say(String(format: "%@: %.4f", name.replacingOccurrences(of: "_", with: " "), value)) } }
    }

    func jsonString(_ s: String) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .withoutEscapingSlashes
        let data = try! encoder.encode(s)
        return String(decoding: data, as: UTF8.self)
    }
}
