import ArgumentParser
import Foundation
import VAECore
import VAETraining
import VAECommandSupport
import VAERuntime

struct Eval: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Evaluate a weights file on the test set: negative ELBO and importance-weighted NLL (VAEs), reconstruction loss (AEs), PSNR gain (dae), code statistics (sparse-ae, cae), class accuracy of samples (cvae).")

    @Option(help: "Weights file (an export or a checkpoint).")
    var weights: String
    @Option(help: "Folder of IDX files or of JPEG images; the test split is used (default: the data the model was trained on, else Fashion-MNIST).")
    var data: String?
    @Option(help: "Importance samples per image for the NLL estimate (e.g. 1000); 0 skips it.")
    var iwSamples = 0
    @Option(help: "Images used for the importance-weighted estimate (the first N test images).")
    var iwImages = 1000
    @Option(help: "Seed of the evaluation noise.")
    var seed: UInt64 = 0
    @Option(help: "Evaluate on the first N test images only.")
    var testLimit: Int?
    @Option(help: "Corruption for a dae's evaluation.")
    var noise = "saltpepper:0.3"
    @Flag(help: "Conditional models: train a classifier on the real training images (2 epochs) and report the share of 100 samples per class it labels with their class.")
    var classAccuracy = false
    @Flag(help: "Models that sample (VAEs, a vq-vae with a prior): train the classifier on the real training images (2 epochs) and report how it labels 1000 samples: the spread over classes (entropy in bits) and its mean confidence, against the real test images'.")
    var sampleClasses = false
    @Flag(help: "Print one JSON object instead of text.")
    var json = false
    @Option(help: "Worker threads.")
    var threads = defaultThreads()

    func validate() throws {
        guard iwSamples >= 0 else { throw ValidationError("--iw-samples must be 0 or more, got \(iwSamples)") }
        try requirePositive(iwImages, "--iw-images")
        try requirePositive(threads, "--threads")
        try requirePositive(testLimit, "--test-limit")
        guard Corruption(noise) != nil else { throw ValidationError("--noise must be saltpepper:P or gaussian:S") }
    }

    func run() throws { try CommandErrors.reporting("vae-train", evaluate) }

    func evaluate() throws {
        let trainer = try Evaluation.trainer(weightsPath: weights, batchSize: 500, seed: seed, threads: threads, noise: Corruption(noise))
        let folder = try Provenance.dataFolder(given: data, weights: weights)
        let testSet = try Dataset.open(folder: folder, split: .test, limit: testLimit, shape: trainer.options.architecture.image)
        let sums = trainer.evaluate(testSet)
        let a = trainer.options.architecture
        var iw: Double? = nil
        if iwSamples > 0 && a.kind.isVariational {
            iw = try Evaluation.importanceWeightedNLL(trainer, data: testSet, samples: iwSamples, images: iwImages, threads: threads)
        }
        var extra: [(String, Double)] = []
        switch a.kind {
        case .dae:
            let result = try DenoisingEvaluation.run(try Model.open(path: weights), on: testSet, corruption: Corruption(noise)!, seed: seed)
            extra = [("psnr_corrupted_db", result.noisyPSNR), ("psnr_denoised_db", result.denoisedPSNR), ("psnr_gain_db", result.denoisedPSNR - result.noisyPSNR)]
        case .sparseAE:
            extra = [("mean_code_activation", trainer.meanCodeActivation(testSet))]
        case .cae:
            extra = [("contractive_term", sums.penalty / Double(max(sums.count, 1)))]
        case .vqVAE:
            let model = try Model.open(path: weights), codebook = model.codebook!
            var codes = [Int32](repeating: 0, count: testSet.count * codebook.positions), counts = [Int](repeating: 0, count: codebook.codes)
            try model.encodeCodes(testSet.images, batch: testSet.count, codes: &codes)
            for c in codes { counts[Int(c)] += 1 }
            let (perplexity, inUse) = CodebookTraining.usageStatistics(counts)
            extra = [("codebook_perplexity", perplexity), ("codes_in_use", Double(inUse))]
        default:
            break
        }
        if classAccuracy {
            let train = try Dataset.open(folder: folder, split: .train, shape: a.image)
            let result = try ClassAccuracy.measure(try Model.open(path: weights), train: train, test: testSet)
            extra += [("classifier_accuracy_real", result.real), ("class_accuracy_samples", result.samples)]
        }
        if sampleClasses {
            let train = try Dataset.open(folder: folder, split: .train, shape: a.image)
            let result = try SampleClasses.measure(try Model.open(path: weights), train: train, test: testSet)
            extra += [("classifier_accuracy_real", result.classifierAccuracy),
                      ("sample_class_entropy_bits", result.samples.entropyBits), ("sample_largest_class_share", result.samples.largestShare),
                      ("sample_mean_confidence", result.samples.meanConfidence),
                      ("real_class_entropy_bits", result.real.entropyBits), ("real_largest_class_share", result.real.largestShare),
                      ("real_mean_confidence", result.real.meanConfidence)]
            if !json { say("sample classes (of 1000, as the classifier labels them): \(result.samples.counts.map(String.init).joined(separator: " "))") }
        }
        if json {
            var fields = ["\"weights\": \(jsonString(weights))", "\"kind\": \(jsonString(a.kind.rawValue))", "\"test_images\": \(sums.count)",
                          "\"reconstruction\": \(sums.reconstructionPerImage)"]
            if a.kind.isVariational { fields += ["\"neg_elbo\": \(sums.negELBOPerImage)", "\"kl\": \(sums.klPerImage)"] }
            if let iw { fields += ["\"iw_nll\": \(iw)", "\"iw_samples\": \(iwSamples)", "\"iw_images\": \(min(iwImages, testSet.count))"] }
            fields += extra.map { "\"\($0.0)\": \($0.1)" }
            say("{" + fields.joined(separator: ", ") + "}")
        } else if a.kind.isVariational {
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
