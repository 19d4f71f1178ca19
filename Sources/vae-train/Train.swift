import ArgumentParser
import Foundation
import VAECore
import VAETraining
import VAECommandSupport
import VAERuntime

/// Training options are optional here, so that `--resume` can tell the options a user gave from the
/// defaults: a given option must agree with the checkpoint. Defaults are stated in the help text.
struct Train: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Train a model and export it as a weights file (the default command).")

    @Option(help: "Folder of IDX files (train-/t10k-images-idx3-ubyte[.gz] and labels), or of JPEG images (one sub-folder per class). Default: \(Dataset.defaultFolder).")
    var data: String?
    @Option(help: "Size JPEG images are resized to, HxW (IDX images keep theirs). Default: 28x28.")
    var imageSize: String?
    @Option(help: "Channels of JPEG images as the model sees them: 1 (gray) or 3 (RGB). Default: 1.")
    var channels: Int?
    @Option(help: "Model: vae, beta-vae, cvae, conv-vae, ae, conv-ae, dae, sparse-ae, cae or vq-vae. Default: vae.")
    var model: String?
    @Option(help: "Reconstruction loss: bce (Bernoulli) or mse. Default: bce.")
    var loss: String?
    @Option(help: "Weight of the KL term. Default: 1; 4 for beta-vae; 2 for cvae (keeps class information out of z). A vae with beta other than 1 is stored as beta-vae.")
    var beta: Float?
    @Option(help: "Adam learning rate. Default: 1e-3.")
    var lr: Float?
    @Option(help: "Images per step. Default: 128.")
    var batchSize: Int?
    @Option(help: "Epochs to train (with --resume: the total to reach). Default: 10.")
    var epochs: Int?
    @Option(help: "Seed of every random choice (initialisation, order, noise): a run is reproducible. Default: 0.")
    var seed: UInt64?
    @Option(help: "Hidden dense layer widths, encoder order, comma separated. Default: 400 for MLPs, none after convolutions and for cae.")
    var hidden: String?
    @Option(help: "Hidden layers' activation: relu, leaky_relu[:SLOPE] (slope 0.01 when not given), tanh or elu[:ALPHA] (alpha 1 when not given). Default: relu.")
    var activation: String?
    @Option(help: "Output channels of the convolution stages (kernel 4, stride 2, padding 1), for conv-vae, conv-ae and vq-vae (whose last stage's channels are the code vectors' size). Default: 32,64.")
    var conv: String?
    @Option(help: "Code vectors in a vq-vae's codebook. Default: 512.")
    var codebookSize: Int?
    @Option(help: "Weight beta of a vq-vae's commitment term ||z_e - sg(z_q)||^2. Default: 0.25.")
    var commitment: Float?
    @Flag(help: "Move a vq-vae's codebook by exponential moving averages (decay 0.99) instead of its loss term's gradient.")
    var ema = false
    @Option(help: "Input corruption of a dae: saltpepper:P (a fraction P of pixels set to random values) or gaussian:S. Default: saltpepper:0.3.")
    var noise: String?
    @Option(help: "Target mean activation rho of a sparse-ae's code units. Default: 0.05.")
    var sparsity: Float?
    @Option(help: "Weight of a sparse-ae's sparsity term sum_j KL(rho || rho_hat_j). Default: 3.")
    var sparsityWeight: Float?
    @Option(help: "Weight lambda of a cae's contractive term ||dh/dx||_F^2. Default: 10.")
    var contractive: Float?
    @Option(help: "KL warm-up over this many epochs (VAEs): beta ramps up from 0.")
    var klWarmup: Float?
    @Option(help: "KL warm-up schedule: linear (once) or cyclical (every --kl-warmup epochs, ramping over each cycle's first half). Default: linear.")
    var klSchedule: String?
    @Option(help: "Free bits (VAEs): latent dimensions with batch-mean KL below this many nats get no KL gradient.")
    var freeBits: Float?
    @Option(help: "Latent dimensions. Default: 20.")
    var latent: Int?
    @Option(help: "Train on the first N training images only.")
    var trainLimit: Int?
    @Option(help: "Evaluate on the first N test images only.")
    var testLimit: Int?
    @Flag(help: "Leave out JPEG files that do not decode (their count is in the summary) instead of stopping before training.")
    var skipBadImages = false
    @Option(help: "Output weights file.")
    var out = "vae.vaert"
    @Option(help: "Checkpoint file, written at every epoch end (default: OUT with .ckpt).")
    var checkpoint: String?
    @Flag(help: "Continue from the checkpoint; options given must agree with it (--epochs may grow).")
    var resume = false
    @Option(help: "Worker threads.")
    var threads = defaultThreads()

    func validate() throws {
        guard ModelKind(rawValue: modelName) != nil else { throw ValidationError("--model must be one of: \(ModelKind.allCases.map(\.rawValue).joined(separator: ", "))") }
        guard ["bce", "mse"].contains(lossName) else { throw ValidationError("--loss must be bce or mse") }
        try requirePositive(batchSize, "--batch-size")
        try requirePositive(epochs, "--epochs")
        try requirePositive(latent, "--latent")
        try requirePositive(threads, "--threads")
        try requirePositive(trainLimit, "--train-limit")
        try requirePositive(testLimit, "--test-limit")
        guard effectiveBeta >= 0, effectiveBeta.isFinite else { throw ValidationError("--beta must be 0 or more, got \(effectiveBeta)") }
        guard learningRate > 0, learningRate.isFinite else { throw ValidationError("--lr must be positive, got \(learningRate)") }
        if modelKind == .betaVAE && effectiveBeta <= 1 { throw ValidationError("beta-vae needs --beta above 1") }
        guard imageShape != nil else { throw ValidationError("--image-size must be HxW (e.g. 28x28) and --channels 1 or 3") }
        if noise != nil && modelKind != .dae { throw ValidationError("--noise is for dae") }
        if modelKind == .dae && corruption == nil { throw ValidationError("--noise must be saltpepper:P with P in [0, 1] or gaussian:S with S >= 0") }
        guard TrainingOptions.KLSchedule(rawValue: klSchedule ?? "linear") != nil else { throw ValidationError("--kl-schedule must be linear or cyclical") }
        try requirePositive(klWarmup, "--kl-warmup")
        if let freeBits, freeBits < 0 { throw ValidationError("--free-bits must be 0 or more, got \(freeBits)") }
        if (klWarmup != nil || freeBits != nil) && !modelKind.isVariational { throw ValidationError("--kl-warmup and --free-bits are for VAEs") }
        guard (0...1).contains(rho) && rho != 0 && rho != 1 else { throw ValidationError("--sparsity must be between 0 and 1, got \(rho)") }
        guard (sparsityWeight ?? 0) >= 0, (contractive ?? 0) >= 0 else { throw ValidationError("--sparsity-weight and --contractive must be 0 or more") }
        guard (try? widths(hidden, default: defaultHidden)) != nil else {
            throw ValidationError("--hidden must be positive integers separated by commas, e.g. 512,256")
        }
        if let activation { _ = try Self.activationOption(activation) }
        if conv != nil && !modelKind.isConvolutional { throw ValidationError("--conv is for conv-vae, conv-ae and vq-vae") }
        if (codebookSize != nil || commitment != nil || ema) && !modelKind.isVectorQuantised {
            throw ValidationError("--codebook-size, --commitment and --ema are for vq-vae")
        }
        if modelKind.isVectorQuantised && (latent != nil || hidden != nil) {
            throw ValidationError("a vq-vae's latent is its last convolution stage's grid: set --conv, not --latent or --hidden")
        }
        if let codebookSize, !(2...65536).contains(codebookSize) { throw ValidationError("--codebook-size must be 2 to 65536, got \(codebookSize)") }
        if let commitment, !(commitment >= 0 && commitment.isFinite) { throw ValidationError("--commitment must be 0 or more, got \(commitment)") }
        guard let stages = try? widths(conv, default: "32,64"), !stages.isEmpty else {
            throw ValidationError("--conv must be positive integers separated by commas, e.g. 32,64")
        }
        guard out.hasSuffix(".vaert") else { throw ValidationError("--out must end in .vaert") }
    }

    /// `--activation NAME[:PARAMETER]`.
    static func activationOption(_ text: String) throws -> (String, Float?) {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        let parameter = parts.count == 2 ? Float(parts[1]) : nil
        guard parts.count == 1 || (parts.count == 2 && parameter?.isFinite == true && ["leaky_relu", "elu"].contains(parts[0])),
              ["relu", "leaky_relu", "tanh", "elu"].contains(parts[0]) else {
            throw ValidationError("--activation must be relu, leaky_relu[:SLOPE], tanh or elu[:ALPHA], got \(text)")
        }
        return (parts[0], parameter)
    }

    // The options with their defaults filled in.
    var modelName: String { model ?? "vae" }
    var lossName: String { loss ?? "bce" }
    var modelKind: ModelKind { ModelKind(rawValue: modelName) ?? .vae }
    var learningRate: Float { lr ?? 1e-3 }
    var rho: Float { sparsity ?? 0.05 }
    var imageShape: Shape3? { ShapeOption.image(imageSize ?? "28x28", channels: channels ?? 1) }
    /// 400 for MLPs; none after convolutions, and none for the cae's single sigmoid layer.
    var defaultHidden: String { modelKind.isConvolutional || modelKind == .cae ? "" : "400" }
    var corruption: Corruption? { Corruption(noise ?? "saltpepper:0.3") }
    /// β 2 for a cvae: at β 1 the class information leaks into z, and samples ignore the class they are given.
    var effectiveBeta: Float { beta ?? (modelKind == .betaVAE ? 4 : modelKind == .cvae ? 2 : 1) }
    /// The kind stored in the file: a vae trained with beta other than 1 is a beta-vae.
    var storedKind: ModelKind { modelKind == .vae && effectiveBeta != 1 ? .betaVAE : modelKind }
    var dataFolder: String { absolute(data ?? Dataset.defaultFolder) }

    /// Comma-separated positive integers ("" is none).
    func widths(_ text: String?, default fallback: String) throws -> [Int] {
        let text = text ?? fallback
        if text.isEmpty { return [] }
        let values = text.split(separator: ",", omittingEmptySubsequences: false).map { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard values.allSatisfy({ ($0 ?? 0) > 0 }) else { throw ValidationError("bad list \(text)") }
        return values.map { $0! }
    }

    func absolute(_ path: String) -> String { URL(fileURLWithPath: path).standardizedFileURL.path }

    var checkpointPath: String { checkpoint ?? String(out.dropLast(".vaert".count)) + ".ckpt" }
    var curvesPath: String { String(out.dropLast(".vaert".count)) + ".curves.svg" }

    func run() throws { try CommandErrors.reporting("vae-train", train) }

    /// The options of a fresh run.
    func freshOptions(imageShape: Shape3, classes: Int) throws -> TrainingOptions {
        let likelihood: Likelihood = lossName == "bce" ? .bernoulli : .gaussian
        var architecture = modelKind.isVectorQuantised
            ? Architecture.vectorQuantised(likelihood: likelihood, image: imageShape, conv: try widths(conv, default: "32,64"), codebook: codebookSize ?? 512)
            : Architecture(kind: storedKind, likelihood: likelihood, image: imageShape, hidden: try widths(hidden, default: defaultHidden), latent: latent ?? 20,
                           conv: modelKind.isConvolutional ? try widths(conv, default: "32,64") : [], classes: classes)
        if let activation {
            let (name, parameter) = try Self.activationOption(activation)
            architecture.activation = name
            architecture.activationParameter = parameter
        }
        try architecture.validate()
        var options = TrainingOptions(architecture: architecture, beta: effectiveBeta, learningRate: learningRate, batchSize: batchSize ?? 128,
                                      epochs: epochs ?? 10, seed: seed ?? 0, trainLimit: trainLimit, dataFolder: dataFolder,
                                      noise: modelKind == .dae ? corruption : nil,
                                      sparsity: modelKind == .sparseAE ? rho : nil, sparsityWeight: modelKind == .sparseAE ? sparsityWeight ?? 3 : nil,
                                      contractive: modelKind == .cae ? contractive ?? 10 : nil)
        options.klWarmup = klWarmup
        options.klSchedule = klWarmup == nil ? nil : TrainingOptions.KLSchedule(rawValue: klSchedule ?? "linear")
        options.freeBits = freeBits
        if modelKind.isVectorQuantised {
            options.commitment = commitment ?? 0.25
            options.ema = ema
        }
        return options
    }

    func train() throws {
        let resumed = resume ? try Checkpoint.load(path: checkpointPath, threads: threads) : nil
        if let resumed { try checkAgreement(with: resumed) }
        // A resumed run reads the data it was trained on, unless --data names it again.
        let folder = resumed?.options.dataFolder ?? dataFolder
        let jpegShape = ImageFolder.isImageFolder(folder) ? (resumed?.options.architecture.image ?? imageShape) : nil
        let (trainSet, testSet) = try Dataset.openSplits(folder: folder, trainLimit: resumed?.options.trainLimit ?? trainLimit, testLimit: testLimit,
                                                         shape: jpegShape, skipBadImages: skipBadImages)
        let trainer: Trainer
        if let resumed {
            trainer = resumed
            guard trainer.options.architecture.image == trainSet.shape else {
                fail("\(checkpointPath): the checkpoint's images are \(trainer.options.architecture.image), the data's \(trainSet.shape)")
            }
            say("resuming \(checkpointPath): \(trainer.epochsDone) epochs done, step \(trainer.adam.step)")
        } else {
            let classes = modelKind.isConditional ? Int(trainSet.labels.max() ?? 0) + 1 : 0
            trainer = Trainer(options: try freshOptions(imageShape: trainSet.shape, classes: classes), threads: threads)
        }
        let a = trainer.options.architecture
        let betaPart = a.kind.isVariational ? ", β = \(String(format: "%g", trainer.options.beta))" : ""
        say("\(a.summary)\(betaPart), \(trainer.net.parameterCount) parameters; \(trainSet.count) training images of \(trainSet.name)\(trainSet.skippedSummary), \(testSet.count) test\(testSet.skippedSummary); \(threads) threads")
        let epochs = self.epochs ?? trainer.options.epochs
        let run = TrainingRun(trainer: trainer, trainSet: trainSet, testSet: testSet,
                              paths: TrainingRun.Paths(weights: out, checkpoint: checkpointPath, curves: curvesPath))
        do {
            try run.run(epochs: epochs, observer: EpochReport(command: self, trainer: trainer, testSet: testSet))
        } catch let stopped as TrainingRun.Stopped {
            fail(stopped.description)
        }
        say("wrote \(out) (checkpoint \(checkpointPath), curves \(curvesPath))")
    }

    func reportEpoch(_ epoch: Int, test: LossSums, trainer: Trainer, testSet: Dataset) {
        let a = trainer.options.architecture
        if a.kind.isVariational {
            say(String(format: "epoch %d: test negative ELBO %.2f nats/image (reconstruction %.2f + KL %.2f)", epoch,
                         test.negELBOPerImage, test.reconstructionPerImage, test.klPerImage))
            let stats = trainer.latentStatistics(testSet)
            let active = stats.activity.filter { $0 > 0.01 }.count
            say("  active units \(active)/\(a.latent); KL per dimension: " + stats.kl.map { String(format: "%.2f", $0) }.joined(separator: " "))
            return
        }
        var line = String(format: "epoch %d: test reconstruction loss %.2f per image", epoch, test.reconstructionPerImage)
        switch a.kind {
        case .dae: line += " (clean images from corrupted \(trainer.options.noise!))"
        case .sparseAE: line += String(format: "; mean code activation %.4f (target %.4f)", trainer.meanCodeActivation(testSet), trainer.options.sparsity ?? 0)
        case .cae: line += String(format: "; contractive term %.4f per image", test.penalty / Double(max(test.count, 1)))
        case .vqVAE:
            let (perplexity, inUse) = trainer.codebookStatistics
            line += String(format: "; codebook perplexity %.1f, %d of %d codes in use (this epoch's training)", perplexity, inUse, a.codebook ?? 0)
        default: break
        }
        say(line)
    }

    /// With --resume, every option given must agree with the checkpoint's (--epochs may grow): a run
    /// that silently trained another model than the one asked for would be worse than an error.
    func checkAgreement(with trainer: Trainer) throws {
        let o = trainer.options, a = o.architecture
        var conflicts: [String] = []
        func check<T: Equatable>(_ option: String, _ given: T?, _ recorded: T?, _ shown: String? = nil) {
            if let given, given != recorded { conflicts.append("\(option) \(given) (the checkpoint's is \(shown ?? recorded.map { "\($0)" } ?? "unset"))") }
        }
        // vae and beta-vae name one family: a vae trained with beta 4 is stored as beta-vae.
        let family: (String) -> String = { $0 == "beta-vae" ? "vae" : $0 }
        if let model, family(model) != family(a.kind.rawValue) { conflicts.append("--model \(model) (the checkpoint's is \(a.kind.rawValue))") }
        check("--loss", loss, a.likelihood == .bernoulli ? "bce" : "mse")
        check("--beta", beta, o.beta)
        check("--lr", lr, o.learningRate)
        check("--batch-size", batchSize, o.batchSize)
        check("--seed", seed, o.seed)
        check("--latent", latent, a.latent)
        check("--hidden", try hidden.map { try widths($0, default: "") }, a.hidden, a.hidden.map(String.init).joined(separator: ","))
        check("--conv", try conv.map { try widths($0, default: "") }, a.conv ?? [], (a.conv ?? []).map(String.init).joined(separator: ","))
        check("--noise", noise.flatMap(Corruption.init), o.noise)
        check("--sparsity", sparsity, o.sparsity)
        check("--sparsity-weight", sparsityWeight, o.sparsityWeight)
        check("--contractive", contractive, o.contractive)
        check("--kl-warmup", klWarmup, o.klWarmup)
        check("--kl-schedule", klSchedule, o.klSchedule?.rawValue)
        check("--free-bits", freeBits, o.freeBits)
        check("--codebook-size", codebookSize, a.codebook)
        check("--commitment", commitment, o.commitment)
        if ema && o.ema != true { conflicts.append("--ema (the checkpoint's codebook moves by its gradient)") }
        check("--train-limit", trainLimit, o.trainLimit)
        check("--data", data.map(absolute), o.dataFolder)
        if imageSize != nil || channels != nil, let shape = imageShape, ImageFolder.isImageFolder(o.dataFolder), shape != a.image {
            conflicts.append("--image-size/--channels \(shape) (the checkpoint's images are \(a.image))")
        }
        if let epochs, epochs < trainer.epochsDone { conflicts.append("--epochs \(epochs) (the checkpoint has \(trainer.epochsDone) done)") }
        guard conflicts.isEmpty else {
            fail("--resume: \(checkpointPath) was trained with other options: \(conflicts.joined(separator: "; ")); leave them out to continue its run, or start afresh without --resume")
        }
    }
}

/// The run's progress bar and epoch lines on the terminal.
final class EpochReport: TrainingObserver {
    let command: Train
    let trainer: Trainer
    let testSet: Dataset
    var bar: ProgressBar?

    init(command: Train, trainer: Trainer, testSet: Dataset) {
        (self.command, self.trainer, self.testSet) = (command, trainer, testSet)
    }

    func epochStarted(_ epoch: Int, of epochs: Int, images: Int) {
        bar = ProgressBar(title: "epoch \(epoch)/\(epochs)", total: images)
    }

    func stepDone(images: Int, sums: LossSums) {
        bar?.update(images, losses(sums))
    }

    func epochTrained(_ epoch: Int, sums: LossSums) {
        if let bar { bar.finish(losses(sums) + String(format: "  %.1f s", bar.elapsed)) }
    }

    /// The running losses per image: reconstruction, and KL (a VQ-VAE: its codebook and commitment terms).
    func losses(_ sums: LossSums) -> String {
        let vq = trainer.options.architecture.kind.isVectorQuantised
        return String(format: vq ? "rec %.2f vq %.2f" : "rec %.2f kl %.2f", sums.reconstructionPerImage,
                      vq ? sums.penalty / Double(max(sums.count, 1)) : sums.klPerImage)
    }

    func epochEvaluated(_ epoch: Int, test: LossSums) {
        command.reportEpoch(epoch, test: test, trainer: trainer, testSet: testSet)
    }
}
