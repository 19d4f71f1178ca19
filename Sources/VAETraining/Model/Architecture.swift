import VAECore

/// The shape of an MLP autoencoder: image size, hidden widths, latent size, and what it is trained as.
/// Nothing in vaert is fixed to 784-400-20; that is only the default here.
public struct Architecture: Codable, Equatable, Sendable {
    public var kind: String
    public var likelihood: String
    public var channels: Int
    public var height: Int
    public var width: Int
    public var hidden: [Int]
    public var latent: Int

    public init(kind: ModelKind, likelihood: Likelihood, image: Shape3, hidden: [Int], latent: Int) {
        self.kind = kind.rawValue
        self.likelihood = likelihood.rawValue
        channels = image.channels
        height = image.height
        width = image.width
        self.hidden = hidden
        self.latent = latent
    }

    public var modelKind: ModelKind { ModelKind(rawValue: kind) ?? .vae }
    public var modelLikelihood: Likelihood { Likelihood(rawValue: likelihood) ?? .bernoulli }
    public var image: Shape3 { Shape3(channels: channels, height: height, width: width) }
    public var pixels: Int { channels * height * width }
    /// Encoder output width: μ and log σ² side by side for a VAE, the code for an AE.
    public var codeSize: Int { modelKind.isVariational ? 2 * latent : latent }

    /// Every layer in order: encoder pixels → hidden... → code, decoder latent → hidden reversed → pixels.
    public var layers: [LayerSpec] {
        var out: [LayerSpec] = []
        let encoderWidths = [pixels] + hidden + [codeSize]
        for i in 0..<(encoderWidths.count - 1) {
            out.append(LayerSpec(stack: .encoder, index: i, inputs: encoderWidths[i], outputs: encoderWidths[i + 1],
                                 activation: i == encoderWidths.count - 2 ? .identity : .relu))
        }
        let decoderWidths = [latent] + hidden.reversed() + [pixels]
        for i in 0..<(decoderWidths.count - 1) {
            out.append(LayerSpec(stack: .decoder, index: i, inputs: decoderWidths[i], outputs: decoderWidths[i + 1],
                                 activation: i == decoderWidths.count - 2 ? .sigmoid : .relu))
        }
        return out
    }

    public var summary: String {
        "\(kind) \(([pixels] + hidden).map(String.init).joined(separator: "-"))-\(latent) (\(likelihood))"
    }
}

/// One dense layer of an architecture, with its place in the flat parameter vector.
public struct LayerSpec: Equatable, Sendable {
    public var stack: StackRole
    public var index: Int
    public var inputs: Int
    public var outputs: Int
    /// The activation the runtime applies. The decoder's final sigmoid is folded into the loss in training.
    public var activation: Activation

    public var prefix: String { "\(stack == .encoder ? "encoder" : "decoder").\(index)" }
    public var weightCount: Int { inputs * outputs }
    public var parameterCount: Int { inputs * outputs + outputs }
}
