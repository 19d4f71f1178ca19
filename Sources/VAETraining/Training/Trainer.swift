import Foundation
import VAECore

/// Trains a `Network` autoencoder or VAE: forward through the shared kernels, backward, Adam.
/// All buffers are allocated once for the batch size; a step allocates nothing.
public final class Trainer: @unchecked Sendable {
    public let options: TrainingOptions
    public let net: Network
    public let gradient: FloatBuffer
    public let adam: Adam
    public let threads: Int
    /// Per-step (reconstruction, KL) per image, for the curves.
    public var history: [(reconstruction: Float, kl: Float)] = []
    /// The test set's (reconstruction, KL) per image after each epoch, for the curves.
    public var testHistory: [(epoch: Int, reconstruction: Float, kl: Float)] = []
    /// Completed epochs.
    public var epochsDone = 0

    let encoderLayers: [Int]
    let decoderLayers: [Int]
    /// encoderActivations[0] is the encoder's input (images, corrupted for a denoising AE, then the one-hot
    /// class for a CVAE); [i + 1] is the output of encoder layer i.
    let encoderActivations: [FloatBuffer]
    /// decoderActivations[0] is the decoder's input (z, then the one-hot class for a CVAE); [i + 1] is the
    /// output of decoder layer i (the last holds logits).
    let decoderActivations: [FloatBuffer]
    /// The clean images the reconstruction is scored against.
    let target: FloatBuffer
    /// The batch's class labels (CVAE).
    var labels: [Int]
    /// KL summed over the batch, per latent dimension, of the last forward pass.
    var klPerDimension: [Double]
    /// Steps in an epoch of the data being trained on (for the KL warm-up schedule).
    var stepsPerEpoch = 1
    let epsilon, logVariance, sigma, dDecoderInput, dCode, gradientA, gradientB, transposeScratch: FloatBuffer
    let convWork: ConvWorkspace
    /// The large dense layers' W and Wᵀ in the packed GEMM's panels, repacked before each pass.
    let panels: TrainingPanels
    /// Per-row reconstruction losses of the last forward pass.
    let rowLosses: DoubleBuffer
    /// A VQ-VAE's codebook: quantisation, its loss terms and updates.
    let codebookTraining: CodebookTraining?
    /// Tests: replaces a VQ-VAE's quantisation z_e → z_q (rows of z_e, z_q to write, rows), so that a
    /// surrogate with the straight-through estimator's gradient can be checked by finite differences.
    @_spi(Testing) public var quantisationOverride: ((UnsafePointer<Float>, UnsafeMutablePointer<Float>, Int) -> Void)?

    public init(options: TrainingOptions, threads: Int) {
        self.options = options
        self.threads = max(1, threads)
        let a = options.architecture
        let net = Network(a)
        net.initialize(seed: options.seed)
        self.net = net
        gradient = FloatBuffer(count: net.parameterCount)
        adam = Adam(parameterCount: net.parameterCount, learningRate: options.learningRate)
        let encoderLayers = net.layerIndices(.encoder)
        let decoderLayers = net.layerIndices(.decoder)
        self.encoderLayers = encoderLayers
        self.decoderLayers = decoderLayers
        let rows = options.batchSize
        encoderActivations = [FloatBuffer(count: rows * a.encoderInputs)] + encoderLayers.map { FloatBuffer(count: rows * net.specs[$0].outputs) }
        decoderActivations = [FloatBuffer(count: rows * a.decoderInputs)] + decoderLayers.map { FloatBuffer(count: rows * net.specs[$0].outputs) }
        target = FloatBuffer(count: rows * a.pixels)
        labels = [Int](repeating: 0, count: rows)
        klPerDimension = [Double](repeating: 0, count: a.latent)
        let widest = net.specs.map { max($0.inputs, $0.outputs) }.max() ?? 1
        (epsilon, logVariance, sigma) = (FloatBuffer(count: rows * a.latent), FloatBuffer(count: rows * a.latent), FloatBuffer(count: rows * a.latent))
        dDecoderInput = FloatBuffer(count: rows * a.decoderInputs)
        dCode = FloatBuffer(count: rows * a.codeSize)
        gradientA = FloatBuffer(count: rows * widest)
        gradientB = FloatBuffer(count: rows * widest)
        transposeScratch = FloatBuffer(count: net.specs.map(\.weightCount).max() ?? 1)
        convWork = ConvWorkspace(layers: net.specs.indices.map(net.layer), batch: rows, threads: max(1, threads))
        rowLosses = DoubleBuffer(count: rows)
        codebookTraining = net.specs.firstIndex { $0.kind == .codebook }.map {
            CodebookTraining(net: net, layer: $0, options: options, rows: rows, threads: max(1, threads))
        }
        let firstEncoderLayer = encoderLayers.first
        panels = TrainingPanels(net, needsInputGradient: { $0 != firstEncoderLayer })
    }

    var architecture: Architecture { options.architecture }
    /// Layers whose weights train on the packed GEMM's panels (`TrainingPanels`).
    public var packedLayerCount: Int { panels.layers.lazy.compactMap { $0 }.count }
    /// The encoder's input rows (batch × encoder inputs) that `forward` reads.
    public var input: UnsafeMutablePointer<Float> { encoderActivations[0].pointer }
    /// The clean images of the batch (batch × pixels).
    public var targets: UnsafeMutablePointer<Float> { target.pointer }
    /// The decoder's input of the last forward pass (batch × decoder inputs: z, then the class one-hot).
    public var latentBatch: UnsafeMutablePointer<Float> { decoderActivations[0].pointer }
    /// The encoder's output of the last forward pass (batch × code size: μ and log σ², or the code).
    public var codeBatch: UnsafeMutablePointer<Float> { encoderActivations.last!.pointer }
    /// The decoder's output logits of the last forward pass (batch × pixels).
    public var logits: UnsafeMutablePointer<Float> { decoderActivations.last!.pointer }

    /// The codes a VQ-VAE's last forward pass chose (batch × grid positions).
    @_spi(Testing) public var chosenCodes: UnsafePointer<Int32>? { codebookTraining.map { UnsafePointer($0.indices.pointer) } }
    /// A VQ-VAE's codebook vectors (K × D) and their place in `gradient`.
    @_spi(Testing) public var codebookOffset: Int? { codebookTraining.map { net.offsets[$0.layer] } }

    /// A VQ-VAE's codebook use in the epoch so far: the perplexity of the codes chosen and how many were.
    public var codebookStatistics: (perplexity: Double, inUse: Int) { codebookTraining?.epochStatistics ?? (0, 0) }

    /// Total loss the optimizer minimises for these sums.
    public func objective(_ s: LossSums) -> Double {
        s.reconstruction + Double(klWeight) * s.kl + Double(options.penaltyWeight) * s.penalty
    }

    /// The KL term's weight at the current step: β, times the warm-up factor. Linear warm-up ramps from 0
    /// to 1 over `klWarmup` epochs; cyclical repeats cycles of `klWarmup` epochs, ramping over the first half.
    public var klWeight: Float {
        guard let warmup = options.klWarmup, warmup > 0 else { return options.beta }
        let position = Double(adam.step) / Double(max(stepsPerEpoch, 1)) / Double(warmup)
        let factor = options.klSchedule == .cyclical ? min(1, 2 * (position - position.rounded(.down))) : min(1, position)
        return options.beta * Float(factor)
    }
}

/// Why training stopped early.
public enum TrainingError: Error, CustomStringConvertible {
    case nonFiniteLoss(step: Int, epoch: Int)

    public var description: String {
        switch self {
        case .nonFiniteLoss(let step, let epoch): return "the loss became NaN or infinite at step \(step) (epoch \(epoch))"
        }
    }
}
