import TestSupport
import VAECore
import VAETraining

/// Test helpers that need the trainer: synthetic data sets and tiny trainers.
extension TestSupport {
    /// A small synthetic image set: smooth blobs whose position depends on the label, values in [0, 1].
    public static func blobs(count: Int, shape: Shape3 = Shape3(channels: 1, height: 8, width: 8), seed: UInt64 = 1) -> Dataset {
        var images = [Float](repeating: 0, count: count * shape.count)
        var labels = [UInt8](repeating: 0, count: count)
        let noise = randomFloats(count * 2, seed: seed, in: -0.15...0.15)
        for i in 0..<count {
            let label = i % 4
            labels[i] = UInt8(label)
            let cy = Float(label / 2) * 0.5 + 0.25 + noise[2 * i], cx = Float(label % 2) * 0.5 + 0.25 + noise[2 * i + 1]
            for y in 0..<shape.height {
                for x in 0..<shape.width {
                    let dy = Float(y) / Float(shape.height) - cy, dx = Float(x) / Float(shape.width) - cx
                    images[i * shape.count + y * shape.width + x] = FastMath.exp(-(dx * dx + dy * dy) * 30)
                }
            }
        }
        return Dataset(images: images, labels: labels, shape: shape, name: "blobs")
    }

    /// A trainer for a tiny network over `shape` images, initialised from `seed`.
    public static func tinyTrainer(kind: ModelKind = .vae, likelihood: Likelihood = .bernoulli, shape: Shape3 = Shape3(channels: 1, height: 8, width: 8),
                                   hidden: [Int] = [12, 7], latent: Int = 3, batch: Int = 16, seed: UInt64 = 7, threads: Int = 1, beta: Float = 1,
                                   conv: [Int] = [], classes: Int = 0) -> Trainer {
        let a = Architecture(kind: kind, likelihood: likelihood, image: shape, hidden: hidden, latent: latent, conv: conv, classes: classes)
        let options = TrainingOptions(architecture: a, beta: beta, batchSize: batch, seed: seed,
                                      noise: kind == .dae ? Corruption(kind: .saltpepper, amount: 0.3) : nil,
                                      sparsity: kind == .sparseAE ? 0.1 : nil, sparsityWeight: kind == .sparseAE ? 3 : nil,
                                      contractive: kind == .cae ? 0.5 : nil)
        return Trainer(options: options, threads: threads)
    }
}
