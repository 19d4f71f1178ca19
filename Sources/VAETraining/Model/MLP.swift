import VAECore

/// The trainable network: all weights and biases in one flat vector (so Adam and checkpoints see a
/// single array), with `DenseLayer` views on it that run the same kernels as libvaert.
public final class MLP: @unchecked Sendable {
    public let architecture: Architecture
    public let specs: [LayerSpec]
    /// Offset of each layer's weights in `parameters`; its bias follows the weights.
    public let offsets: [Int]
    public let parameters: FloatBuffer

    public init(_ architecture: Architecture) {
        self.architecture = architecture
        specs = architecture.layers
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

    public func weights(_ layer: Int) -> UnsafeMutablePointer<Float> { parameters.pointer + offsets[layer] }
    public func bias(_ layer: Int) -> UnsafeMutablePointer<Float> { weights(layer) + specs[layer].weightCount }

    /// The layer as the runtime kernel sees it, over this network's (or a gradient's) storage.
    public func dense(_ layer: Int) -> DenseLayer {
        let s = specs[layer]
        return DenseLayer(inputCount: s.inputs, outputCount: s.outputs, weights: weights(layer), bias: bias(layer), activation: s.activation)
    }

    public func layerIndices(_ stack: StackRole) -> [Int] { specs.indices.filter { specs[$0].stack == stack } }

    /// PyTorch's default `nn.Linear` initialisation: weights and biases uniform in ±1/√fan_in.
    public func initialize(seed: UInt64) {
        let stream = RandomStream(seed: seed, purpose: .initialization)
        for (l, s) in specs.enumerated() {
            let bound = 1 / Float(s.inputs).squareRoot()
            let p = UnsafeMutableBufferPointer(start: weights(l), count: s.parameterCount)
            stream.uniforms(item: UInt64(l), into: p)
            for i in p.indices { p[i] = (2 * p[i] - 1) * bound }
        }
    }

    /// The weights file of this network: layer table, tensors, and the metadata the runtime needs.
    public func weightsFile(extraMetadata: [(String, MetadataValue)] = []) -> WeightsFileBuilder {
        var b = WeightsFileBuilder()
        for (l, s) in specs.enumerated() {
            let w = b.addTensor("\(s.prefix).weight", dims: [s.inputs, s.outputs],
                                values: Array(UnsafeBufferPointer(start: weights(l), count: s.weightCount)))
            let bias = b.addTensor("\(s.prefix).bias", dims: [s.outputs], values: Array(UnsafeBufferPointer(start: self.bias(l), count: s.outputs)))
            b.addLayer(LayerRecord(kind: .dense, stack: s.stack, activation: s.activation, weight: w, bias: bias,
                                   input: .vector(s.inputs), output: .vector(s.outputs)))
        }
        let a = architecture
        b.setMetadata(MetadataKey.kind, .string(a.kind))
        b.setMetadata(MetadataKey.likelihood, .string(a.likelihood))
        b.setMetadata(MetadataKey.latentDim, .u32(UInt32(a.latent)))
        b.setMetadata(MetadataKey.channels, .u32(UInt32(a.channels)))
        b.setMetadata(MetadataKey.height, .u32(UInt32(a.height)))
        b.setMetadata(MetadataKey.width, .u32(UInt32(a.width)))
        for (k, v) in extraMetadata { b.setMetadata(k, v) }
        return b
    }

    /// Loads parameters from a parsed weights file written by `weightsFile` for the same architecture.
    public func load(from file: WeightsFile, bytes: UnsafeRawBufferPointer) throws(VaertError) {
        for (l, s) in specs.enumerated() {
            try copyTensor("\(s.prefix).weight", count: s.weightCount, into: weights(l), file: file, bytes: bytes)
            try copyTensor("\(s.prefix).bias", count: s.outputs, into: bias(l), file: file, bytes: bytes)
        }
    }
}

/// Copies tensor `name` of `file` (whose bytes are `bytes`) into `out`, checking its size.
func copyTensor(_ name: String, count: Int, into out: UnsafeMutablePointer<Float>, file: WeightsFile, bytes: UnsafeRawBufferPointer) throws(VaertError) {
    guard let t = file.tensors.first(where: { $0.name == name }) else { throw VaertError(.missingTensor, "tensor '\(name)' is missing") }
    guard t.elementCount == count else { throw VaertError(.malformed, "tensor '\(name)' has \(t.elementCount) values, expected \(count)") }
    UnsafeMutableRawPointer(out).copyMemory(from: bytes.baseAddress! + file.dataOffset + t.offset, byteCount: count * 4)
}
