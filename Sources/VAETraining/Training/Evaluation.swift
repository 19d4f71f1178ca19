import Foundation
import VAECore
import VAERuntime

/// Evaluation of a trained model: the test negative ELBO and the importance-weighted NLL estimate.
public enum Evaluation {
    /// A trainer holding the network of the weights file at `path` (an export or a checkpoint).
    public static func trainer(weightsPath path: String, batchSize: Int, seed: UInt64, threads: Int, noise: Corruption? = nil) throws(VaertError) -> Trainer {
        try FileIO.withContents(of: path) { (bytes) throws(VaertError) in
            do throws(VaertError) {
                let file = try WeightsFile.parse(bytes)
                let model = try Model(copying: bytes)  // checks the network is complete and consistent
                guard model.hasEncoder else { throw VaertError(.unsupported, "the file holds no encoder: evaluation needs one") }
                let conv = file.layers.filter { $0.stack == .encoder && $0.kind == .conv2d }.map(\.output.channels)
                let hidden = file.layers.filter { $0.stack == .encoder && $0.kind == .dense }.dropLast().map(\.output.count)
                let architecture = model.codebook.map {
                    Architecture.vectorQuantised(likelihood: model.likelihood, image: model.imageShape, conv: conv, codebook: $0.codes)
                } ?? Architecture(kind: model.kind, likelihood: model.likelihood, image: model.imageShape,
                                  hidden: hidden, latent: model.latentDim, conv: conv, classes: model.classCount)
                let options = TrainingOptions(architecture: architecture, batchSize: batchSize, seed: seed, noise: model.kind == .dae ? noise : nil)
                let trainer = Trainer(options: options, threads: threads)
                // Same layers in the same order; a dense layer's shapes only count by their sizes.
                func structure(_ r: LayerRecord) -> [Int] {
                    [Int(r.kind.rawValue), Int(r.stack.rawValue), Int(r.activation.formatCode), r.input.count, r.output.count] + r.weightDims
                }
                // (A VQ-VAE's prior is trained and evaluated on its own: `vae-train prior`.)
                guard trainer.net.specs.map({ structure($0.record(weight: 0, bias: 0)) }) == file.layers.filter({ $0.stack != .prior }).map(structure) else {
                    throw VaertError(.unsupported, "the network is not one of the architectures vae-train makes")
                }
                try trainer.net.load(from: file, bytes: bytes)
                return trainer
            } catch {
                throw VaertError(error.status, "\(path): \(error.message)")
            }
        }
    }

    /// −log p(x) estimated with K importance samples from q(z | x) (Burda et al. 2016), averaged over
    /// the first `images` images of `data`: −log (1/K Σ_k p(x | z_k) p(z_k) / q(z_k | x)).
    /// Sample k of image i uses ε from (seed, evaluation stream, item i·K + k). Bernoulli likelihood only.
    public static func importanceWeightedNLL(_ trainer: Trainer, data: Dataset, samples: Int, images: Int, threads: Int) throws(VaertError) -> Double {
        let a = trainer.options.architecture
        guard a.kind.isVariational, a.likelihood == .bernoulli else {
            throw VaertError(.unsupported, "the importance-weighted NLL needs a VAE with a Bernoulli likelihood")
        }
        let net = trainer.net
        let encoder = net.layerIndices(.encoder).map(net.layer)
        var decoder = net.layerIndices(.decoder).map(net.layer)
        decoder.append(decoder.removeLast().with(activation: .identity))
        let n = min(images, data.count)
        let d = a.latent
        let p = a.pixels
        let stream = RandomStream(seed: trainer.options.seed, purpose: .evaluation)
        let logTwoPi = Foundation.log(2 * Double.pi)
        // One −log p(x) per image, summed in image order: the same estimate for any thread count.
        var perImage = [Double](repeating: 0, count: n)
        // The layer lists as buffers that outlive the loop (Model.run takes buffers).
        let encoderLayers = UnsafeMutableBufferPointer<Layer>.allocate(capacity: encoder.count)
        let decoderLayers = UnsafeMutableBufferPointer<Layer>.allocate(capacity: decoder.count)
        _ = encoderLayers.initialize(from: encoder)
        _ = decoderLayers.initialize(from: decoder)
        defer {
            encoderLayers.deallocate()
            decoderLayers.deallocate()
        }
        perImage.withUnsafeMutableBufferPointer { perImage in
            let perImage = perImage
            RowParallel.forEachRun(count: n, workers: threads) { _, run in
                let code = FloatBuffer(count: 2 * d)
                let z = FloatBuffer(count: samples * d)
                let eps = FloatBuffer(count: samples * d)
                let logits = FloatBuffer(count: samples * p)
                let scratch = FloatBuffer(count: max(Model.scratchFloats(UnsafeBufferPointer(encoderLayers), batch: 1), Model.scratchFloats(UnsafeBufferPointer(decoderLayers), batch: samples)))
                var weights = [Double](repeating: 0, count: samples)
                data.images.withUnsafeBufferPointer { all in
                    for i in run {
                        let x = all.baseAddress! + i * p
                        Model.run(UnsafeBufferPointer(encoderLayers), input: x, batch: 1, output: code.pointer, scratch: scratch.pointer)
                        for k in 0..<samples {
                            stream.normals(item: UInt64(i * samples + k), into: UnsafeMutableBufferPointer(start: eps.pointer + k * d, count: d))
                        }
                        var logQConstant = 0.0
                        for j in 0..<d {
                            let lv = clampLogVariance(code[d + j])
                            logQConstant += Double(lv)
                            let s = Foundation.exp(0.5 * lv)
                            for k in 0..<samples { z[k * d + j] = code[j] + s * eps[k * d + j] }
                        }
                        Model.run(UnsafeBufferPointer(decoderLayers), input: z.pointer, batch: samples, output: logits.pointer, scratch: scratch.pointer)
                        for k in 0..<samples {
                            let logPx = -Losses.bceWithLogits(logits: logits.pointer + k * p, targets: x, count: p, gradient: nil)
                            var logPz = 0.0, logQz = 0.0
                            for j in 0..<d {
                                logPz += Double(z[k * d + j] * z[k * d + j])
                                logQz += Double(eps[k * d + j] * eps[k * d + j])
                            }
                            weights[k] = logPx - 0.5 * (logPz + Double(d) * logTwoPi) + 0.5 * (logQz + Double(d) * logTwoPi + logQConstant)
                        }
                        let top = weights.max()!
                        let lse = top + Foundation.log(weights.reduce(0) { $0 + Foundation.exp($1 - top) })
                        perImage[i] = -(lse - Foundation.log(Double(samples)))
                    }
                }
            }
        }
        return perImage.reduce(0, +) / Double(n)
    }
}
