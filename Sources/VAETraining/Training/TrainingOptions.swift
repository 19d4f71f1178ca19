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

    public init(architecture: Architecture, beta: Float = 1, learningRate: Float = 1e-3, batchSize: Int = 128, epochs: Int = 10,
                seed: UInt64 = 0, trainLimit: Int? = nil, dataFolder: String = Dataset.defaultFolder) {
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
    public var count: Int = 0

    public init(reconstruction: Double = 0, kl: Double = 0, count: Int = 0) {
        self.reconstruction = reconstruction
        self.kl = kl
        self.count = count
    }

    public var reconstructionPerImage: Double { reconstruction / Double(max(count, 1)) }
    public var klPerImage: Double { kl / Double(max(count, 1)) }
    /// Negative ELBO per image in nats (reconstruction + KL; for an AE, the reconstruction alone).
    public var negELBOPerImage: Double { reconstructionPerImage + klPerImage }

    public static func += (a: inout LossSums, b: LossSums) {
        a.reconstruction += b.reconstruction
        a.kl += b.kl
        a.count += b.count
    }
}
