import Foundation
import Testing
import TestSupport
import VAECore
import VAETraining
import VAERuntime

/// The committed Fashion-MNIST models (tools/train-model-zoo.sh) against what each kind promises.
/// Needs Fashion-MNIST at its Debian path.
@Suite(.serialized) struct ModelZooTests {
    static func model(_ name: String) -> String { "\(TestSupport.root)/tools/models/fashion-\(name).vaert" }
    /// The Fashion-MNIST test set, loaded once; a missing data set fails the tests with its message.
    static let loaded = Result { () throws(VaertError) in try Dataset.load(folder: Dataset.defaultFolder, split: .test) }
    static var test: Dataset { get throws { try loaded.get() } }

    func evaluate(_ name: String) throws -> (Trainer, LossSums) {
        let trainer = try Evaluation.trainer(weightsPath: Self.model(name), batchSize: 500, seed: 0, threads: 2,
                                             noise: Corruption(kind: .saltpepper, amount: 0.3))
        return (trainer, trainer.evaluate(try Self.test))
    }

    @Test("conv-vae reaches a lower test negative ELBO than the MLP VAE after the same 10 epochs")
    func convBeatsMLP() throws {
        let mlp = try evaluate("vae").1.negELBOPerImage, conv = try evaluate("conv-vae").1.negELBOPerImage
        #expect(conv < mlp, "conv-vae \(conv), vae \(mlp)")
    }

    @Test("micro-vae (784-256-16, for microcontrollers) is within 2 nats of the course VAE's test negative ELBO; its int8 file within 0.2 of its f32 one")
    func microVAE() throws {
        let course = try evaluate("vae").1.negELBOPerImage, micro = try evaluate("micro-vae").1.negELBOPerImage
        let int8 = try evaluate("micro-vae-int8").1.negELBOPerImage
        #expect(micro - course < 2 && abs(int8 - micro) < 0.2, "course \(course), micro \(micro), micro int8 \(int8)")
    }

    @Test("dae with saltpepper:0.3 gains at least 8 dB PSNR over the corrupted input on the test set")
    func denoising() throws {
        let result = try DenoisingEvaluation.run(try Model.open(path: Self.model("dae")), on: try Self.test,
                                                 corruption: Corruption(kind: .saltpepper, amount: 0.3), seed: 0)
        #expect(result.denoisedPSNR - result.noisyPSNR >= 8, "corrupted \(result.noisyPSNR) dB, denoised \(result.denoisedPSNR) dB")
    }

    @Test("sparse-ae: mean code activation within 0.02 of rho = 0.05 on the test set")
    func sparsity() throws {
        let (trainer, _) = try evaluate("sparse-ae")
        let mean = trainer.meanCodeActivation(try Self.test)
        #expect(abs(mean - 0.05) <= 0.02, "mean activation \(mean)")
    }

    @Test("cae: the contractive term of the trained model is below that of its initialisation")
    func contraction() throws {
        let (trained, sums) = try evaluate("cae")
        let initial = Trainer(options: trained.options, threads: 2).evaluate(try Self.test)
        let after = sums.penalty / Double(sums.count), before = initial.penalty / Double(initial.count)
        #expect(after < before, "contractive term per image: initial \(before), trained \(after)")
    }

    @Test("cvae: a classifier trained on real images labels at least 80% of generated samples with their requested class")
    func conditionalGeneration() throws {
        let train = try Dataset.load(folder: Dataset.defaultFolder, split: .train)
        let result = try ClassAccuracy.measure(try Model.open(path: Self.model("cvae")), train: train, test: try Self.test)
        #expect(result.real >= 0.8, "classifier accuracy on real test images \(result.real)")
        #expect(result.samples >= 0.8 && result.sampleCount == 1000, "\(result.samples) of \(result.sampleCount) samples classified as requested")
    }
}
