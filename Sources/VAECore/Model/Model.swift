/// An enum a weights file stores by name (`vaert.kind`, `vaert.likelihood`). The names are
/// `StaticString`s, so the loader compares bytes and needs no `String`.
public protocol NamedInFile: CaseIterable, Equatable {
    var name: StaticString { get }
}

extension NamedInFile {
    public init?(name: ByteString) {
        guard let match = Self.allCases.first(where: { name == $0.name }) else { return nil }
        self = match
    }

    public init?(rawValue: String) { self.init(name: ByteString(rawValue)) }
    public var rawValue: String { name.description }
}

/// The model families a weights file can hold.
public enum ModelKind: NamedInFile, Sendable {
    case vae
    case ae
    /// A VAE trained with β > 1 on the KL term.
    case betaVAE
    case convVAE
    case convAE
    /// Denoising autoencoder: trained to rebuild clean images from corrupted ones.
    case dae
    /// Sparse autoencoder: sigmoid code units pushed towards a mean activation ρ.
    case sparseAE
    /// Contractive autoencoder: one sigmoid layer whose Jacobian's Frobenius norm is penalised.
    case cae
    /// Conditional VAE: the class one-hot joins the encoder's and the decoder's inputs.
    case cvae
    /// Vector-quantised VAE: the encoder's grid of vectors snaps to a codebook (the decoder's first layer).
    case vqVAE

    /// The `vaert.kind` metadata string (a `StaticString`, so that the loader compares bytes, not Strings).
    public var name: StaticString {
        switch self {
        case .vae: return "vae"
        case .ae: return "ae"
        case .betaVAE: return "beta-vae"
        case .convVAE: return "conv-vae"
        case .convAE: return "conv-ae"
        case .dae: return "dae"
        case .sparseAE: return "sparse-ae"
        case .cae: return "cae"
        case .cvae: return "cvae"
        case .vqVAE: return "vq-vae"
        }
    }


    /// Whether the encoder outputs a distribution (μ and log σ²) rather than a code.
    public var isVariational: Bool { self == .vae || self == .betaVAE || self == .convVAE || self == .cvae }
    /// Whether encode and decode take a class label.
    public var isConditional: Bool { self == .cvae }
    /// Whether the architecture starts with convolution stages.
    public var isConvolutional: Bool { self == .convVAE || self == .convAE || self == .vqVAE }
    /// Whether the decoder starts with a codebook, and the code is a grid of indices into it.
    public var isVectorQuantised: Bool { self == .vqVAE }
}

/// How pixels are modelled given z: Bernoulli (BCE) or Gaussian with unit variance (MSE).
public enum Likelihood: NamedInFile, Sendable {
    case bernoulli
    case gaussian

    /// The `vaert.likelihood` metadata string.
    public var name: StaticString { self == .bernoulli ? "bernoulli" : "gaussian" }

}

/// The range of the decoder's pixel values (`vaert.image.range`; [0, 1] when absent): [0, 1] for a
/// sigmoid output, [−1, 1] for a tanh output (PyTorch decoders of RGB images in [−1, 1]).
public enum ImageRange: NamedInFile, Sendable {
    case unit
    case signed

    public var name: StaticString { self == .unit ? "[0, 1]" : "[-1, 1]" }
    public var low: Float { self == .unit ? 0 : -1 }
    public var high: Float { 1 }

    /// A pixel of [0, 1] (a dataset's, a JPEG's) in this range, and back.
    public func fromUnit(_ x: Float) -> Float { self == .unit ? x : 2 * x - 1 }
    public func toUnit(_ x: Float) -> Float { self == .unit ? x : (x + 1) / 2 }
}

/// A loaded, validated model: an immutable network built from the weights file alone.
///
/// Plain data over memory kept elsewhere: the file's bytes (the model's own copy, or the caller's when
/// used in place), and a block with the layer list and any tensors widened to f32 (`ModelLayout`). The
/// library allocates that block, and `memory` keeps it alive, or the caller gives it
/// (`initialize(inPlace:in:)`, for devices with no heap). Immutable, so any number of threads may run it
/// at once; each call brings its own scratch memory.
public struct Model: @unchecked Sendable {
    public let file: WeightsFile
    public let kind: ModelKind
    public let likelihood: Likelihood
    public let latentDim: Int
    public let imageShape: Shape3
    /// The range of the decoded pixels.
    public let imageRange: ImageRange
    /// Classes of a conditional model (0 otherwise): the one-hot width added to the encoder's and decoder's inputs.
    public let classCount: Int
    /// Empty when the file holds only a decoder.
    public let encoder: UnsafeBufferPointer<Layer>
    public let decoder: UnsafeBufferPointer<Layer>
    /// A VQ-VAE's PixelCNN prior over its code grids (masked convolutions); empty when the file has none.
    public let prior: UnsafeBufferPointer<Layer>
    /// Bytes of f32 copies of f16 and int8 tensors that are not computed on as stored: 0 for a dense
    /// model of f32, f16 or int8 panels used in place.
    public let widenedWeightBytes: Int
    /// What the library allocated for the model; nil for a model built in the caller's memory.
    let memory: ModelMemory?
    /// Whether the library allocated the model's memory (false: the caller gave it).
    public var ownsMemory: Bool { memory != nil }

    /// Validates `bytes` and copies them into 64-byte aligned memory owned by the model; large dense
    /// layers are packed into the GEMM's panel layout.
    public init(copying bytes: UnsafeRawBufferPointer) throws(VaertError) {
        let memory = ModelMemory(copying: bytes)
        let file = try WeightsFile.parse(UnsafeRawBufferPointer(start: memory.storage, count: bytes.count))
        let layout = ModelLayout(file, inPlace: false)
        memory.allocateBlock(layout.bytes)
        self = try Model(file, inPlace: false, layout: layout, block: memory.block!, memory: memory)
    }

    /// Validates `bytes` and runs the network on the weights where they lie (flash, ROM, a C array
    /// compiled in): nothing is copied or packed, and the bytes must outlive the model. They must be
    /// 64-byte aligned, the format's tensor alignment. The library allocates the layer list (and f32
    /// copies of what is not computed as stored: `widenedWeightBytes`).
    public init(inPlace bytes: UnsafeRawBufferPointer) throws(VaertError) {
        let file = try Model.parseInPlace(bytes)
        let layout = ModelLayout(file, inPlace: true)
        let memory = ModelMemory()
        memory.allocateBlock(layout.bytes)
        self = try Model(file, inPlace: true, layout: layout, block: memory.block!, memory: memory)
    }

    /// Bytes `initialize(inPlace:in:)` needs for the model of `bytes`: the model itself, its layer list
    /// and f32 copies of what is not computed as stored, with room to align them on any address.
    public static func staticBytes(inPlace bytes: UnsafeRawBufferPointer) throws(VaertError) -> Int {
        callerBytes(ModelLayout(try parseInPlace(bytes), inPlace: true))
    }

    /// Builds the model of `bytes` (used in place, as `init(inPlace:)`) in `memory`, which must hold
    /// `staticBytes(inPlace:)`, and returns where it lies. Allocates nothing; the model needs no release,
    /// and `memory` may be reused once no call uses the model.
    public static func initialize(inPlace bytes: UnsafeRawBufferPointer, in memory: UnsafeMutableRawBufferPointer) throws(VaertError)
        -> UnsafeMutablePointer<Model> {
        let file = try parseInPlace(bytes)
        let layout = ModelLayout(file, inPlace: true)
        let needed = callerBytes(layout)
        guard let base = memory.baseAddress, memory.count >= needed else {
            throw VaertError(.bufferTooSmall, "the model memory holds \(memory.count) bytes; this model needs \(needed) (vaert_model_size)")
        }
        let start = alignUp(Int(bitPattern: base), WeightsFormat.alignment)
        let header = UnsafeMutableRawPointer(bitPattern: start)!
        let model = try Model(file, inPlace: true, layout: layout, block: header + headerBytes, memory: nil)
        let pointer = header.bindMemory(to: Model.self, capacity: 1)
        pointer.initialize(to: model)
        return pointer
    }

    /// Caller memory for a model of `layout`: the `Model` value, the block, and room to align them.
    static func callerBytes(_ layout: ModelLayout) -> Int { WeightsFormat.alignment - 1 + headerBytes + layout.bytes }

    /// Bytes of the `Model` value at the start of caller memory, rounded to the block's alignment.
    static var headerBytes: Int { alignUp(MemoryLayout<Model>.size, WeightsFormat.alignment) }

    static func parseInPlace(_ bytes: UnsafeRawBufferPointer) throws(VaertError) -> WeightsFile {
        guard let base = bytes.baseAddress, Int(bitPattern: base) % WeightsFormat.alignment == 0 else {
            throw VaertError(.invalidArgument, "a model used in place must start on a 64-byte boundary")
        }
        return try WeightsFile.parse(bytes)
    }

    /// The network of `file`, its layers and widened tensors written into `block` (`layout.bytes`,
    /// 64-byte aligned). Dense weights in int8 panels (and in f16, in place) run where they lie; every
    /// other f16 or int8 tensor a layer uses is decoded to f32 once, here, in layer order.
    private init(_ file: WeightsFile, inPlace: Bool, layout: ModelLayout, block: UnsafeMutableRawPointer, memory: ModelMemory?) throws(VaertError) {
        precondition(_isPOD(Layer.self), "layers live in raw memory the model never deinitializes")
        (kind, likelihood, latentDim, imageShape, classCount) = try Model.readHeaderMetadata(file)
        imageRange = try Model.readImageRange(file)
        let layers = block.bindMemory(to: Layer.self, capacity: layout.layerCount)
        let widened = (block + layout.floatsOffset).bindMemory(to: Float.self, capacity: layout.widenedFloats)
        let data = UnsafeRawPointer(file.bytes.baseAddress! + file.dataOffset)
        var next = 0
        func floats(_ index: Int) -> UnsafePointer<Float> {
            let t = file.tensors[index]
            if t.type == .f32 { return (data + t.offset).assumingMemoryBound(to: Float.self) }
            TensorEncoding.decode(data + t.offset, dims: t.dims, type: t.type, into: widened + next)
            defer { next += t.elementCount }
            return UnsafePointer(widened + next)
        }
        var (encoderCount, decoderCount, priorCount) = (0, 0, 0)
        for record in file.layers {
            if record.kind == .maskedConv2d { try Model.checkMaskedTaps(record, floats(record.weight)) }
            let weight = file.tensors[record.weight]
            let start = data + weight.offset
            let bias = record.bias.map(floats)
            var layer: Layer
            if !Model.runsAsStored(record, file, inPlace: inPlace) || weight.type == .f32 {
                layer = Model.layer(record, weights: .floats(floats(record.weight)), bias: bias)
            } else if record.kind != .dense {
                layer = Model.layer(record, weights: .stored(StoredTensor(bytes: start, dims: weight.dims, type: weight.type)), bias: bias)
            } else if weight.type == .f16 {
                layer = .halfDense(HalfDenseLayer(inputCount: record.input.count, outputCount: record.output.count,
                                                  weights: start.assumingMemoryBound(to: Half.self), bias: bias, activation: record.activation))
            } else {
                let panels = Int8Panels(rows: weight.dims[0], columns: weight.dims[1], scales: start.assumingMemoryBound(to: Float.self),
                                        values: (start + Int8Panels.scaleBytes(columns: weight.dims[1])).assumingMemoryBound(to: Int8.self))
                layer = .quantizedDense(QuantizedDenseLayer(weights: panels, bias: bias, activation: record.activation))
            }
            if let memory, !inPlace, case .convTranspose(let transposed) = layer { layer = .convTranspose(memory.packing.pack(transposed)) }
            if let memory, !inPlace, WeightPacking.pays(inputs: record.input.count, outputs: record.output.count) {
                if case .dense(let dense) = layer { layer = .dense(memory.packing.pack(dense)) }
                #if !hasFeature(Embedded)
                if case .halfDense(let half) = layer { layer = .halfDense(memory.packing.pack(half)) }
                #endif
            }
            switch record.stack {
            case .encoder:
                (layers + encoderCount).initialize(to: layer)
                encoderCount += 1
            case .decoder:
                (layers + layout.encoderCount + decoderCount).initialize(to: layer)
                decoderCount += 1
            case .prior:
                (layers + layout.encoderCount + layout.decoderCount + priorCount).initialize(to: layer)
                priorCount += 1
            }
        }
        encoder = UnsafeBufferPointer(start: layers, count: encoderCount)
        decoder = UnsafeBufferPointer(start: layers + encoderCount, count: decoderCount)
        prior = UnsafeBufferPointer(start: layers + encoderCount + decoderCount, count: priorCount)
        let codeSize = kind.isVariational ? 2 * latentDim : latentDim
        try Model.checkChain(encoder, from: imageShape.count + classCount, to: codeSize, what: "encoder", optional: true)
        try Model.checkChain(decoder, from: latentDim + classCount, to: imageShape.count, what: "decoder", optional: false)
        try Model.checkCodebook(kind, encoder: encoder, decoder: decoder)
        try Model.checkPrior(file, prior, codebook: Model.codebook(decoder))
        try Model.checkPassSizes(encoder, what: "encoder")
        try Model.checkPassSizes(decoder, what: "decoder")
        try Model.checkPassSizes(prior, what: "prior")
        self.file = file
        self.widenedWeightBytes = 4 * layout.widenedFloats
        self.memory = memory
    }

    /// Whether a layer's weight is computed on as the file stores it: f32 always; int8 panels always (only a
    /// dense layer has them); a convolution's f16 or per-channel int8 weight in a model used in place (widened
    /// a block of rows at a time into the workspace: `ConvWeights`); a dense layer's f16 weight in a model used in place, where a copy would
    /// cost the RAM the caller keeps the weights out of, and in a copied model where the layer is packed
    /// and the kernels stream f16 panels faster than f32 ones (`Kernels.packsHalfPanels`). Elsewhere f16 is
    /// widened at load: a small layer stays in cache, and runs faster on f32 than widening f16 as it streams
    /// (the course VAE's int8 file, whose 20 → 400 layer is f16, decodes one image in 6.65 instead of
    /// 6.87 µs on Zen 3).
    static func runsAsStored(_ record: LayerRecord, _ file: WeightsFile, inPlace: Bool) -> Bool {
        switch file.tensors[record.weight].type {
        case .f32, .q8Panels: return true
        case .f16:
            return record.kind != .dense ? inPlace
                : inPlace || (Kernels.packsHalfPanels && WeightPacking.pays(inputs: record.input.count, outputs: record.output.count))
        case .q8Dim0, .q8Dim1: return record.kind != .dense && inPlace
        }
    }

    /// The runnable layer a (validated) record describes, over the given weights.
    public static func layer(_ r: LayerRecord, weights: ConvWeights, bias: UnsafePointer<Float>?) -> Layer {
        switch r.kind {
        case .dense:
            guard let weights = weights.floats else { preconditionFailure("a dense layer's weights are f32 here") }
            return .dense(DenseLayer(inputCount: r.input.count, outputCount: r.output.count, weights: weights, bias: bias, activation: r.activation))
        case .conv2d, .maskedConv2d:
            return .conv(ConvLayer(input: r.input, output: r.output, parameters: r.parameters!, weights: weights, bias: bias, activation: r.activation))
        case .convTranspose2d:
            return .convTranspose(ConvTransposeLayer(input: r.input, output: r.output, parameters: r.parameters!, weights: weights, bias: bias,
                                                     activation: r.activation))
        case .codebook:
            guard let vectors = weights.floats else { preconditionFailure("a codebook's vectors are f32") }
            return .codebook(CodebookLayer(grid: r.input, codes: r.codebookSize, vectors: vectors))
        }
    }

    static func readHeaderMetadata(_ file: WeightsFile) throws(VaertError) -> (ModelKind, Likelihood, Int, Shape3, Int) {
        func string(_ key: StaticString) throws(VaertError) -> ByteString {
            guard case .string(let s)? = file.metadataValue(key) else { throw VaertError(.malformed, "metadata '\(key)' is missing or not a string") }
            return s
        }
        func count(_ key: StaticString) throws(VaertError) -> Int {
            guard case .u32(let v)? = file.metadataValue(key), v > 0, v <= 1 << 16 else {
                throw VaertError(.malformed, "metadata '\(key)' is missing, not a u32, or not in 1...65536")
            }
            return Int(v)
        }
        let kindName = try string(MetadataKey.kind)
        guard let kind = ModelKind(name: kindName) else { throw VaertError(.unsupported, "model kind '\(kindName)' is not supported by this library") }
        let likelihoodName = try string(MetadataKey.likelihood)
        guard let likelihood = Likelihood(name: likelihoodName) else { throw VaertError(.unsupported, "likelihood '\(likelihoodName)' is not supported by this library") }
        let shape = Shape3(channels: try count(MetadataKey.channels), height: try count(MetadataKey.height), width: try count(MetadataKey.width))
        let classes = kind.isConditional ? try count(MetadataKey.classCount) : 0
        return (kind, likelihood, try count(MetadataKey.latentDim), shape, classes)
    }

    static func readImageRange(_ file: WeightsFile) throws(VaertError) -> ImageRange {
        guard let value = file.metadataValue(MetadataKey.imageRange) else { return .unit }
        guard case .string(let name) = value, let range = ImageRange(name: name) else {
            throw VaertError(.unsupported, "metadata '\(MetadataKey.imageRange)' must be the string \"[0, 1]\" or \"[-1, 1]\"")
        }
        return range
    }

    /// Rows processed per pass: scratch memory stays bounded however large the caller's batch.
    public static let rowsPerPass = 256

    /// A pass of `rowsPerPass` rows through each layer (its input, output and column matrix: 4 bytes a
    /// float, with a factor of 4 to spare for the ping-pong buffers) must be addressable on this platform,
    /// so that no size computed at run time can overflow: a small file can declare convolutions over
    /// huge images, and `Int` has 32 bits on the devices.
    static func checkPassSizes(_ layers: UnsafeBufferPointer<Layer>, what: StaticString) throws(VaertError) {
        for (i, layer) in layers.enumerated() {
            let column = layer.columnFloatsPerImage ?? Int.max
            let (perRow, o1) = column.addingReportingOverflow(layer.inputCount + layer.outputCount)
            let (bytes, o2) = perRow.multipliedReportingOverflow(by: 16 * rowsPerPass)
            guard !o1, !o2, bytes > 0 else {
                throw VaertError(.unsupported, "\(what) layer \(i) needs more scratch memory per pass of \(rowsPerPass) images than this platform can address")
            }
        }
    }

    /// Each layer's input must be the previous layer's output, from `first` features to `last`.
    static func checkChain(_ layers: UnsafeBufferPointer<Layer>, from first: Int, to last: Int, what: StaticString, optional: Bool) throws(VaertError) {
        if layers.isEmpty {
            if optional { return }
            throw VaertError(.missingTensor, "the file has no \(what) layers")
        }
        var features = first
        for (i, layer) in layers.enumerated() {
            guard layer.inputCount == features else {
                throw VaertError(.malformed, "\(what) layer \(i) takes \(layer.inputCount) inputs but receives \(features)")
            }
            features = layer.outputCount
        }
        guard features == last else { throw VaertError(.malformed, "\(what) ends with \(features) outputs, expected \(last)") }
    }

    /// A VQ-VAE's decoder starts with its codebook; no other layer of any model is one.
    static func checkCodebook(_ kind: ModelKind, encoder: UnsafeBufferPointer<Layer>, decoder: UnsafeBufferPointer<Layer>) throws(VaertError) {
        for (i, layer) in encoder.enumerated() {
            if case .codebook = layer { throw VaertError(.malformed, "encoder layer \(i) is a codebook; a codebook is a VQ-VAE decoder's first layer") }
        }
        for (i, layer) in decoder.enumerated() {
            guard case .codebook = layer else { continue }
            guard i == 0, kind.isVectorQuantised else {
                throw VaertError(.malformed, "decoder layer \(i) is a codebook; a codebook is a VQ-VAE decoder's first layer")
            }
        }
        if kind.isVectorQuantised && codebook(decoder) == nil { throw VaertError(.malformed, "a vq-vae's first decoder layer must be its codebook") }
    }

    /// The decoder's codebook, when it has one.
    static func codebook(_ decoder: UnsafeBufferPointer<Layer>) -> CodebookLayer? {
        if let first = decoder.first, case .codebook(let codebook) = first { return codebook }
        return nil
    }

    /// A VQ-VAE's codebook (nil for the other kinds).
    public var codebook: CodebookLayer? { Model.codebook(decoder) }

    public var hasEncoder: Bool { !encoder.isEmpty }
    public var pixelCount: Int { imageShape.count }

    // MARK: Running

    /// Floats of scratch a pass of `layers` needs for `batch` rows: two ping-pong buffers of the widest
    /// hidden layer, then the largest per-layer scratch (a convolution's column matrix).
    public static func scratchFloats(_ layers: UnsafeBufferPointer<Layer>, batch: Int) -> Int {
        var layerScratch = 0
        for layer in layers { layerScratch = max(layerScratch, layer.scratchFloats(batch: batch)) }
        return 2 * widestHidden(layers) * batch + layerScratch
    }

    /// Outputs of the widest layer but the last (loops, not `map`: running a model allocates nothing).
    static func widestHidden(_ layers: UnsafeBufferPointer<Layer>) -> Int {
        var widest = 0
        for i in 0..<max(layers.count - 1, 0) { widest = max(widest, layers[i].outputCount) }
        return widest
    }

    /// Runs `layers` on `batch` rows of `input` into `output`, using `scratch` (`scratchFloats` floats).
    /// (Not generic over the collection: an unspecialized generic call allocates, and the runtime's
    /// calls must not.)
    public static func run(
        _ layers: UnsafeBufferPointer<Layer>, input: UnsafePointer<Float>, batch: Int,
        output: UnsafeMutablePointer<Float>, scratch: UnsafeMutablePointer<Float>
    ) {
        let half = widestHidden(layers) * batch
        let layerScratch = scratch + 2 * half
        var x = input
        for i in 0..<layers.count {
            let y = i == layers.count - 1 ? output : scratch + (i % 2) * half
            layers[i].forward(x, batch: batch, into: y, scratch: layerScratch)
            x = UnsafePointer(y)
        }
    }

    /// Splits the encoder's output rows [μ | log σ²] (VAE) or [code] (AE) into the caller's arrays;
    /// log σ² is clamped to `logVarianceRange`, and is 0 for an AE.
    public func splitCode(_ code: UnsafePointer<Float>, batch: Int, mu: UnsafeMutablePointer<Float>, logVariance: UnsafeMutablePointer<Float>?) {
        let d = latentDim
        let stride = kind.isVariational ? 2 * d : d
        for row in 0..<batch {
            let src = code + row * stride
            (mu + row * d).update(from: src, count: d)
            guard let logVariance else { continue }
            for j in 0..<d {
                logVariance[row * d + j] = kind.isVariational ? clampLogVariance(src[d + j]) : 0
            }
        }
    }
}
