import VAECore

/// The shape of an autoencoder: image size, convolution stages, hidden widths, latent size, and what it
/// is trained as. Nothing in vaert is fixed to 784-400-20; that is only the default.
public struct Architecture: Codable, Equatable, Sendable {
    public var kind: ModelKind
    public var likelihood: Likelihood
    public var channels: Int
    public var height: Int
    public var width: Int
    public var hidden: [Int]
    public var latent: Int
    /// Output channels of the encoder's convolution stages (kernel 4, stride 2, padding 1: each halves
    /// the image); the decoder mirrors them with transposed convolutions. Nil or empty: an MLP.
    public var conv: [Int]?
    /// Classes of a conditional model; their one-hot joins the encoder's and the decoder's inputs.
    public var classes: Int?
    /// The hidden layers' activation (every layer but the code and the output) by name, with its
    /// parameter: `vae-train --activation`. Nil: ReLU (as every run before the option).
    public var activation: String?
    public var activationParameter: Float?
    /// A VQ-VAE's codebook size K; its vectors have the last convolution stage's channels D, and the
    /// latent is that stage's D × H × W grid.
    public var codebook: Int?

    public init(kind: ModelKind, likelihood: Likelihood, image: Shape3, hidden: [Int], latent: Int, conv: [Int] = [], classes: Int = 0) {
        self.classes = classes > 0 ? classes : nil
        self.kind = kind
        self.likelihood = likelihood
        channels = image.channels
        height = image.height
        width = image.width
        self.hidden = hidden
        self.latent = latent
        self.conv = conv.isEmpty ? nil : conv
    }

    public var image: Shape3 { Shape3(channels: channels, height: height, width: width) }
    public var pixels: Int { channels * height * width }
    /// Encoder output width: μ and log σ² side by side for a VAE, the code for an AE.
    public var codeSize: Int { kind.isVariational ? 2 * latent : latent }
    public var classCount: Int { classes ?? 0 }
    /// Encoder input width: the image, then the class one-hot.
    public var encoderInputs: Int { pixels + classCount }
    /// Decoder input width: z, then the class one-hot.
    public var decoderInputs: Int { latent + classCount }
    /// The hidden layers' activation.
    public var hiddenActivation: Activation { activation.flatMap { Activation(name: $0, parameter: activationParameter) } ?? .relu }
    /// A VQ-VAE of `codebook` vectors over the grid of the last of the `conv` stages.
    public static func vectorQuantised(likelihood: Likelihood, image: Shape3, conv: [Int], codebook: Int) -> Architecture {
        var a = Architecture(kind: .vqVAE, likelihood: likelihood, image: image, hidden: [], latent: 1, conv: conv)
        a.codebook = codebook
        a.latent = a.convShapes?.last?.count ?? 1
        return a
    }

    /// The code layer's activation: sigmoid units for the sparse and contractive AEs, linear otherwise.
    public var codeActivation: Activation { kind == .sparseAE || kind == .cae ? .sigmoid : .identity }

    /// The convolution stages' geometry: kernel 4, stride 2, padding 1.
    public static let convParameters = ConvParameters(kernelHeight: 4, kernelWidth: 4, stride: 2, padding: 1)

    /// The shapes after each convolution stage, starting with the image; nil when a stage does not fit.
    public var convShapes: [Shape3]? {
        var shapes = [image]
        let p = Architecture.convParameters
        for c in conv ?? [] {
            let s = shapes.last!
            guard let h = p.convolutionOutput(s.height, kernel: p.kernelHeight), let w = p.convolutionOutput(s.width, kernel: p.kernelWidth),
                  h > 0, w > 0 else { return nil }
            shapes.append(Shape3(channels: c, height: h, width: w))
        }
        return shapes
    }

    /// Every layer in order: the encoder (convolutions, hidden dense layers, code) then the decoder
    /// (dense layers back to the last convolution's shape, transposed convolutions back to the image).
    public var layers: [LayerSpec] {
        var out: [LayerSpec] = []
        let shapes = convShapes ?? [image]
        let p = Architecture.convParameters
        func add(_ stack: StackRole, _ kind: LayerKind, _ input: Shape3, _ output: Shape3, _ activation: Activation, _ parameters: ConvParameters? = nil) {
            out.append(LayerSpec(stack: stack, index: out.filter { $0.stack == stack }.count, kind: kind, input: input, output: output,
                                 parameters: parameters, activation: activation, codebookSize: kind == .codebook ? codebook ?? 0 : 0))
        }
        let hidden = hiddenActivation
        if kind.isVectorQuantised {
            // The grid is the last stage's linear output; the decoder starts by snapping it to the codebook.
            for i in 1..<shapes.count { add(.encoder, .conv2d, shapes[i - 1], shapes[i], i == shapes.count - 1 ? .identity : hidden, p) }
            add(.decoder, .codebook, shapes.last!, shapes.last!, .identity)
            addTransposedStages(&out, shapes, hidden)
            return out
        }
        for i in 1..<shapes.count { add(.encoder, .conv2d, shapes[i - 1], shapes[i], hidden, p) }
        let encoderWidths = [shapes.last!.count + classCount] + self.hidden + [codeSize]
        for i in 0..<(encoderWidths.count - 1) {
            add(.encoder, .dense, .vector(encoderWidths[i]), .vector(encoderWidths[i + 1]), i == encoderWidths.count - 2 ? codeActivation : hidden)
        }
        let decoderWidths = [decoderInputs] + self.hidden.reversed() + [shapes.last!.count]
        for i in 0..<(decoderWidths.count - 1) {
            let last = i == decoderWidths.count - 2
            add(.decoder, .dense, .vector(decoderWidths[i]), last ? shapes.last! : .vector(decoderWidths[i + 1]), last && shapes.count == 1 ? .sigmoid : hidden)
        }
        addTransposedStages(&out, shapes, hidden)
        return out
    }

    /// The decoder's transposed convolutions from the last stage's shape back to the image.
    func addTransposedStages(_ out: inout [LayerSpec], _ shapes: [Shape3], _ hidden: Activation) {
        let p = Architecture.convParameters
        for i in stride(from: shapes.count - 1, to: 0, by: -1) {
            var q = p
            q.outputPadding = shapes[i - 1].height - p.transposedOutput(shapes[i].height, kernel: p.kernelHeight)
            out.append(LayerSpec(stack: .decoder, index: out.filter { $0.stack == .decoder }.count, kind: .convTranspose2d, input: shapes[i],
                                 output: shapes[i - 1], parameters: q, activation: i == 1 ? .sigmoid : hidden))
        }
    }

    /// Checks the options make a network: positive sizes, convolution stages that fit the image, an
    /// activation the trainer can train.
    public func validate() throws(VaertError) {
        if let activation {
            guard let a = Activation(name: activation, parameter: activationParameter), a.trainable, a != .identity, a != .sigmoid else {
                throw VaertError(.invalidArgument, "the hidden activation must be relu, leaky_relu, tanh or elu (got \(activation))")
            }
            guard a.parameter?.isFinite ?? true else { throw VaertError(.invalidArgument, "\(activation)'s parameter must be finite") }
        }
        guard latent > 0, hidden.allSatisfy({ $0 > 0 }), (conv ?? []).allSatisfy({ $0 > 0 }) else {
            throw VaertError(.invalidArgument, "layer sizes must be positive")
        }
        guard let shapes = convShapes else { throw VaertError(.invalidArgument, "\(conv!.count) convolution stages do not fit a \(image) image") }
        if kind == .cae && !(hidden.isEmpty && (conv ?? []).isEmpty) {
            throw VaertError(.invalidArgument, "cae has one sigmoid encoder layer (the closed-form contractive term): use --hidden \"\"")
        }
        if classCount > 0 && !(conv ?? []).isEmpty { throw VaertError(.invalidArgument, "a conditional model is an MLP") }
        if kind.isVectorQuantised {
            guard let k = codebook, (2...65536).contains(k) else { throw VaertError(.invalidArgument, "a vq-vae's codebook holds 2 to 65536 vectors") }
            guard !(conv ?? []).isEmpty, hidden.isEmpty, latent == shapes.last!.count else {
                throw VaertError(.invalidArgument, "a vq-vae is convolution stages to a grid (its latent), with no dense layers")
            }
        }
        let p = Architecture.convParameters
        for i in stride(from: shapes.count - 1, to: 0, by: -1) {
            let pad = shapes[i - 1].height - p.transposedOutput(shapes[i].height, kernel: p.kernelHeight)
            let padW = shapes[i - 1].width - p.transposedOutput(shapes[i].width, kernel: p.kernelWidth)
            guard pad == padW, (0..<p.stride).contains(pad) else {
                throw VaertError(.invalidArgument, "the decoder cannot mirror the convolution from \(shapes[i - 1]) to \(shapes[i])")
            }
        }
    }

    public var summary: String {
        let convPart = (conv ?? []).map { "c\($0)" }
        if let k = codebook, let grid = convShapes?.last {
            return "\(kind.rawValue) \(([String(pixels)] + convPart).joined(separator: "-")) to a \(grid.height)x\(grid.width) grid of \(k) codes of \(grid.channels) (\(likelihood.rawValue))"
        }
        return "\(kind.rawValue) \(([String(pixels)] + convPart + hidden.map(String.init)).joined(separator: "-"))-\(latent) (\(likelihood.rawValue))"
    }
}

/// One layer of an architecture.
public struct LayerSpec: Equatable, Sendable {
    public var stack: StackRole
    public var index: Int
    public var kind: LayerKind
    public var input: Shape3
    public var output: Shape3
    public var parameters: ConvParameters?
    /// The activation the runtime applies. The decoder's final sigmoid is folded into the loss in training.
    public var activation: Activation
    /// A codebook's K (0 for the other kinds).
    public var codebookSize = 0
    /// A masked convolution's mask (nil for the other kinds).
    public var mask: ConvMask?

    public init(stack: StackRole, index: Int, kind: LayerKind, input: Shape3, output: Shape3, parameters: ConvParameters?, activation: Activation,
                codebookSize: Int = 0, mask: ConvMask? = nil) {
        (self.stack, self.index, self.kind, self.input, self.output) = (stack, index, kind, input, output)
        (self.parameters, self.activation, self.codebookSize, self.mask) = (parameters, activation, codebookSize, mask)
    }

    public var prefix: String {
        switch stack {
        case .encoder: return "encoder.\(index)"
        case .decoder: return "decoder.\(index)"
        case .prior: return "prior.\(index)"
        }
    }
    public var inputs: Int { input.count }
    public var outputs: Int { output.count }

    /// The file's record of this layer (tensor indices filled in by the caller).
    public func record(weight: Int, bias: Int?) -> LayerRecord {
        LayerRecord(kind: kind, stack: stack, activation: activation, weight: weight, bias: kind == .codebook ? nil : bias, input: input, output: output,
                    parameters: parameters, codebookSize: codebookSize, mask: mask)
    }

    public var weightDims: [Int] { Array(record(weight: 0, bias: 0).weightDims) }
    public var weightCount: Int { weightDims.reduce(1, *) }
    public var biasCount: Int { record(weight: 0, bias: 0).biasCount }
    public var parameterCount: Int { weightCount + biasCount }
}

extension Activation {
    /// Whether the trainer can train a layer ending in it: its backward pass reads the layer's output
    /// only, which SiLU's derivative cannot be computed from.
    public var trainable: Bool { self != .silu }
}
