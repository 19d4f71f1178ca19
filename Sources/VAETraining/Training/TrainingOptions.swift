import VAECore

/// Everything that determines a training run; saved in checkpoints so `--resume` continues the same run.
public struct TrainingOptions: Codable, Equatable, Sendable {
    public var architecture: Architecture
    public var beta: Float
    public var learningRate: Float
    public var batchSize: Int
    public var epochs: Int
    public var seed: UInt64
    public var trainLimit: Int?
    public var dataFolder: String
    /// Corruption of the encoder's input (denoising AE).
    public var noise: Corruption?
    /// Target mean activation ρ of the code units and the weight of Σ_j KL(ρ ‖ ρ̂_j) (sparse AE).
    public var sparsity: Float?
    public var sparsityWeight: Float?
    /// Weight λ of the encoder Jacobian's squared Frobenius norm (contractive AE).
    public var contractive: Float?
    /// KL warm-up length in epochs and its schedule (VAEs).
    public var klWarmup: Float?
    public var klSchedule: KLSchedule?
    /// Free bits: latent dimensions whose batch-mean KL is below this many nats get no KL gradient.
    public var freeBits: Float?
    /// A VQ-VAE's commitment weight β (0.25 when nil), and whether EMA updates move its codebook.
    public var commitment: Float?
    public var ema: Bool?

    public enum KLSchedule: String, Codable, Sendable {
        case linear
        case cyclical
    }

    /// The weight of the kind's penalty term in the objective (0 when it has none).
    public var penaltyWeight: Float {
        switch architecture.kind {
        case .sparseAE: return sparsityWeight ?? 0
        case .cae: return contractive ?? 0
        case .vqVAE: return 1  // β is inside the term (`CodebookTraining.loss`)
        default: return 0
        }
    }

    public init(architecture: Architecture, beta: Float = 1, learningRate: Float = 1e-3, batchSize: Int = 128, epochs: Int = 10,
                seed: UInt64 = 0, trainLimit: Int? = nil, dataFolder: String = Dataset.defaultFolder, noise: Corruption? = nil,
                sparsity: Float? = nil, sparsityWeight: Float? = nil, contractive: Float? = nil) {
        self.noise = noise
        self.sparsity = sparsity
        self.sparsityWeight = sparsityWeight
        self.contractive = contractive
        self.architecture = architecture
        self.beta = beta
        self.learningRate = learningRate
        self.batchSize = batchSize
        self.epochs = epochs
        self.seed = seed
        self.trainLimit = trainLimit
        self.dataFolder = dataFolder
    }
}

/// Loss parts summed over a set of images; per-image figures divide by `count`.
public struct LossSums: Sendable, Equatable {
    public var reconstruction: Double = 0
    public var kl: Double = 0
    /// The kind's penalty as the objective counts it, summed over images: the sparsity KL of each image's
    /// batch, or the contractive term.
    public var penalty: Double = 0
    public var count: Int = 0

    public init(reconstruction: Double = 0, kl: Double = 0, penalty: Double = 0, count: Int = 0) {
        self.reconstruction = reconstruction
        self.kl = kl
        self.penalty = penalty
        self.count = count
    }

    public var reconstructionPerImage: Double { reconstruction / Double(max(count, 1)) }
    public var klPerImage: Double { kl / Double(max(count, 1)) }
    /// Negative ELBO per image in nats (reconstruction + KL; for an AE, the reconstruction alone).
    public var negELBOPerImage: Double { reconstructionPerImage + klPerImage }

    public static func += (a: inout LossSums, b: LossSums) {
        a.reconstruction += b.reconstruction
        a.kl += b.kl
        a.penalty += b.penalty
        a.count += b.count
    }
}
