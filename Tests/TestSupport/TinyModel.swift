import VAECore

/// Tiny models made with the weights writer alone, for the tests of the format and the runtime (which
/// must not need the trainer): 8 × 8 gray images, weights uniform in ±0.5 from a fixed stream.
public enum TinyModel {
    /// Dense layers: encoder 64 (+ classes) → 12 → 7 → code (μ and log σ² for a variational kind),
    /// decoder latent (+ classes) → 7 → 12 → 64 with a sigmoid out. Weights stored as `weights` (biases f32).
    public static func dense(kind: ModelKind = .vae, classes: Int = 0, latent: Int = 3, weights: ElementType = .f32) -> [UInt8] {
        var w = Writer(kind: kind, latent: latent, classes: classes)
        w.weightType = weights
        let code = kind.isVariational ? 2 * latent : latent
        w.dense(.encoder, 64 + classes, 12, .relu)
        w.dense(.encoder, 12, 7, .relu)
        w.dense(.encoder, 7, code, .identity)
        w.dense(.decoder, latent + classes, 7, .relu)
        w.dense(.decoder, 7, 12, .relu)
        w.dense(.decoder, 12, 64, .sigmoid)
        return w.bytes()
    }

    /// A convolutional VAE: conv 1×8×8 → 4×4×4, dense 64 → 12 → 2·latent; decoder dense latent → 12 →
    /// 64 (read as 4×4×4), transposed conv → 1×8×8 with a sigmoid out (kernel 4, stride 2, padding 1).
    public static func convolutional(latent: Int = 3) -> [UInt8] {
        var w = Writer(kind: .convVAE, latent: latent, classes: 0)
        let p = ConvParameters(kernelHeight: 4, kernelWidth: 4, stride: 2, padding: 1)
        let image = Shape3(channels: 1, height: 8, width: 8), feature = Shape3(channels: 4, height: 4, width: 4)
        w.layer(.conv2d, .encoder, image, feature, .relu, p)
        w.dense(.encoder, 64, 12, .relu)
        w.dense(.encoder, 12, 2 * latent, .identity)
        w.dense(.decoder, latent, 12, .relu)
        w.layer(.dense, .decoder, .vector(12), feature, .relu, nil)
        w.layer(.convTranspose2d, .decoder, feature, image, .sigmoid, p)
        return w.bytes()
    }

    struct Writer {
        var builder = WeightsFileBuilder()
        var seed: UInt64 = 11
        var weightType = ElementType.f32

        init(kind: ModelKind, latent: Int, classes: Int) {
            builder.setMetadata(MetadataKey.kind, .string(kind.rawValue))
            builder.setMetadata(MetadataKey.likelihood, .string("bernoulli"))
            builder.setMetadata(MetadataKey.latentDim, .u32(UInt32(latent)))
            builder.setMetadata(MetadataKey.channels, .u32(1))
            builder.setMetadata(MetadataKey.height, .u32(8))
            builder.setMetadata(MetadataKey.width, .u32(8))
            if classes > 0 { builder.setMetadata(MetadataKey.classCount, .u32(UInt32(classes))) }
            builder.setMetadata(MetadataKey.dataset, .string("tiny"))
        }

        mutating func dense(_ stack: StackRole, _ inputs: Int, _ outputs: Int, _ activation: Activation) {
            layer(.dense, stack, .vector(inputs), .vector(outputs), activation, nil)
        }

        mutating func layer(_ kind: LayerKind, _ stack: StackRole, _ input: Shape3, _ output: Shape3, _ activation: Activation,
                            _ parameters: ConvParameters?) {
            let index = builder.layers.count
            var record = LayerRecord(kind: kind, stack: stack, activation: activation, weight: 0, bias: nil, input: input, output: output,
                                     parameters: parameters)
            let weightDims = Array(record.weightDims)
            record.weight = builder.addTensor("l\(index).weight", dims: weightDims, values: values(weightDims.reduce(1, *)),
                                            type: kind == .dense ? weightType : .f32)
            record.bias = builder.addTensor("l\(index).bias", dims: [record.biasCount], values: values(record.biasCount))
            builder.addLayer(record)
        }

        mutating func values(_ count: Int) -> [Float] {
            seed += 1
            return TestSupport.randomFloats(count, seed: seed, in: -0.5...0.5)
        }

        func bytes() -> [UInt8] { builder.serialize() }
    }
}
