import VAECore

/// The trainable network: all weights and biases in one flat vector (so Adam and checkpoints see a
/// single array), with `Layer` views on it that run the same kernels as libvaert.
public final class Network: @unchecked Sendable {
    /// The autoencoder's architecture; nil for a network of other layers (a VQ-VAE's prior).
    public let architecture: Architecture?
    public let specs: [LayerSpec]
    /// Offset of each layer's weights in `parameters`; its bias follows the weights.
    public let offsets: [Int]
    public let parameters: FloatBuffer

    public convenience init(_ architecture: Architecture) { self.init(architecture.layers, architecture: architecture) }

    /// A network of `specs` (a VQ-VAE's prior).
    public init(_ specs: [LayerSpec], architecture: Architecture? = nil) {
        self.architecture = architecture
        self.specs = specs
        var offsets: [Int] = []
        var total = 0
        for s in specs {
            offsets.append(total)
            total += s.parameterCount
        }
        self.offsets = offsets
        parameters = FloatBuffer(count: total)
    }

    public var parameterCount: Int { parameters.count }

    /// Sets a masked convolution's masked taps ([outC, inC, k, k]) to 0: of its weights, or of their gradient.
    public static func zeroMaskedTaps(_ w: UnsafeMutablePointer<Float>, mask: ConvMask, dims: [Int]) {
        let k = dims[3]
        for n in 0..<(dims[0] * dims[1]) {
            for ky in 0..<k {
                for kx in 0..<k where !mask.keeps(ky, kx, kernel: k) { w[(n * k + ky) * k + kx] = 0 }
            }
        }
    }

    public func weights(_ layer: Int) -> UnsafeMutablePointer<Float> { parameters.pointer + offsets[layer] }
    public func bias(_ layer: Int) -> UnsafeMutablePointer<Float> { weights(layer) + specs[layer].weightCount }

    /// The layer as the runtime sees it, over this network's storage: built by the runtime's own code.
    public func layer(_ l: Int) -> Layer {
        Model.layer(specs[l].record(weight: 0, bias: 0), weights: .floats(weights(l)), bias: bias(l))
    }

    public func layerIndices(_ stack: StackRole) -> [Int] { specs.indices.filter { specs[$0].stack == stack } }

    /// PyTorch's default `nn.Linear` / `nn.Conv2d` / `nn.ConvTranspose2d` initialisation: weights and biases
    /// uniform in ±1/√fan_in, fan_in being what PyTorch computes from the weight's dimension 1 × kernel size.
    /// A codebook's K vectors are uniform in ±1/K (the VQ-VAE papers' reference code). A masked
    /// convolution starts as its full kernel would (PyTorch's masked `Conv2d`s), with the masked taps 0.
    public func initialize(seed: UInt64) {
        let stream = RandomStream(seed: seed, purpose: .initialization)
        for (l, s) in specs.enumerated() {
            let dims = s.weightDims
            let bound: Float
            switch s.kind {
            case .dense: bound = 1 / Float(s.inputs).squareRoot()
            case .conv2d, .convTranspose2d, .maskedConv2d: bound = 1 / Float(dims[1] * dims[2] * dims[3]).squareRoot()
            case .codebook: bound = 1 / Float(s.codebookSize)
            }
            let p = UnsafeMutableBufferPointer(start: weights(l), count: s.parameterCount)
            stream.uniforms(item: UInt64(l), into: p)
            for i in p.indices { p[i] = (2 * p[i] - 1) * bound }
            if let mask = s.mask { Network.zeroMaskedTaps(weights(l), mask: mask, dims: dims) }
        }
    }

    /// The weights file of this network: layer table, tensors, and the metadata the runtime needs.
    public func weightsFile(extraMetadata: [(ByteString, MetadataValue)] = []) -> WeightsFileBuilder {
        guard let a = architecture else { preconditionFailure("a prior network is written into its VQ-VAE's file (PriorFile)") }
        var b = WeightsFileBuilder()
        addLayers(to: &b)
        b.setMetadata(MetadataKey.kind, .string(a.kind.rawValue))
        b.setMetadata(MetadataKey.likelihood, .string(a.likelihood.rawValue))
        b.setMetadata(MetadataKey.latentDim, .u32(UInt32(a.latent)))
        b.setMetadata(MetadataKey.channels, .u32(UInt32(a.channels)))
        b.setMetadata(MetadataKey.height, .u32(UInt32(a.height)))
        b.setMetadata(MetadataKey.width, .u32(UInt32(a.width)))
        if a.classCount > 0 { b.setMetadata(MetadataKey.classCount, .u32(UInt32(a.classCount))) }
        for (k, v) in extraMetadata { b.setMetadata(k, v) }
        return b
    }

    /// Appends every layer, f32, with its tensors (named after the layers) to `b`.
    public func addLayers(to b: inout WeightsFileBuilder) {
        for (l, s) in specs.enumerated() {
            let w = b.addTensor("\(s.prefix).weight", dims: s.weightDims, values: Array(UnsafeBufferPointer(start: weights(l), count: s.weightCount)))
            let bias = s.biasCount == 0 ? nil
                : b.addTensor("\(s.prefix).bias", dims: [s.biasCount], values: Array(UnsafeBufferPointer(start: self.bias(l), count: s.biasCount)))
            b.addLayer(s.record(weight: w, bias: bias))
        }
    }

    /// Loads parameters from a parsed weights file written by `weightsFile` for the same architecture.
    public func load(from file: WeightsFile, bytes: UnsafeRawBufferPointer) throws(VaertError) {
        for (l, s) in specs.enumerated() {
            try copyTensor("\(s.prefix).weight", count: s.weightCount, into: weights(l), file: file, bytes: bytes)
            if s.biasCount > 0 { try copyTensor("\(s.prefix).bias", count: s.biasCount, into: bias(l), file: file, bytes: bytes) }
        }
    }
}

/// Copies tensor `name` of `file` (whose bytes are `bytes`) into `out`, checking its size.
func copyTensor(_ name: String, count: Int, into out: UnsafeMutablePointer<Float>, file: WeightsFile, bytes: UnsafeRawBufferPointer) throws(VaertError) {
    guard let t = file.tensors.first(where: { $0.name == ByteString(name) }) else { throw VaertError(.missingTensor, "tensor '\(name)' is missing") }
    guard t.elementCount == count else { throw VaertError(.malformed, "tensor '\(name)' has \(t.elementCount) values, expected \(count)") }
    TensorEncoding.decode(bytes.baseAddress! + file.dataOffset + t.offset, dims: t.dims, type: t.type, into: out)
}
