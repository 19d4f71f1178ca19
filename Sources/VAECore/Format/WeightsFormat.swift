/// Constants and records of the vaert weights file, version 1. The specification is
/// `Sources/VAECore/WEIGHTS_FORMAT.md`; the numbers here are the ones it gives.
public enum WeightsFormat {
    /// "VAERT\r\n\x1A": the CR-LF and Ctrl-Z catch text-mode transfers, as in PNG.
    public static let magic: StaticString = "VAERT\r\n\u{1A}"
    public static let version: UInt32 = 1
    /// Tensor data (and the data section) start at multiples of this many bytes.
    public static let alignment = 64
    /// Tensor names are at most this many UTF-8 bytes (the record holds 24 with a NUL).
    public static let maxNameBytes = TensorField.nameBytes - 1
    public static let noTensor: UInt32 = 0xFFFF_FFFF
    /// Largest number of layers, tensors or metadata entries a file may declare.
    public static let maxTableEntries = 4096
}

/// What a layer computes. Raw values are the file's codes and are never reused.
public enum LayerKind: UInt32, Sendable {
    case dense = 1
    /// Conv2d: weights [outC, inC, kH, kW]; parameters kH, kW, stride, padding, 0.
    case conv2d = 2
    /// ConvTranspose2d: weights [inC, outC, kH, kW]; parameters kH, kW, stride, padding, output padding.
    case convTranspose2d = 3
    /// A VQ-VAE's codebook: weights [K, D] (f32); parameters K, 0, 0, 0, 0; input and output the same
    /// D × H × W grid, no bias, no activation. Each position's vector becomes its nearest code vector.
    case codebook = 4
    /// A PixelCNN prior's masked Conv2d: weights [outC, inC, k, k] (f32), k odd; parameters k, k, 1, k / 2,
    /// mask (1 = type A, 2 = type B). Output the input's grid; the masked taps must hold 0.
    case maskedConv2d = 5

    /// The kind's name in WEIGHTS_FORMAT.md.
    public var name: StaticString {
        switch self {
        case .dense: return "dense"
        case .conv2d: return "conv2d"
        case .convTranspose2d: return "conv_transpose2d"
        case .codebook: return "codebook"
        case .maskedConv2d: return "masked_conv2d"
        }
    }
}

/// Which kernel taps a masked convolution keeps (PixelCNN, van den Oord et al. 2016): those before the
/// centre in raster order, and for type B the centre too. A type A layer's output at a position depends
/// only on the inputs at earlier positions; type B layers after it keep that.
public enum ConvMask: UInt32, Sendable {
    case a = 1
    case b = 2

    /// Whether tap (ky, kx) of a k × k kernel is kept.
    public func keeps(_ ky: Int, _ kx: Int, kernel k: Int) -> Bool {
        let c = k / 2
        return ky < c || (ky == c && (kx < c || (kx == c && self == .b)))
    }
}

/// The format's codes for the activations (layer record field `activation`); never reused. Leaky ReLU's
/// slope and ELU's alpha are the f32 metadata entry `vaert.layer.<i>.activation_parameter` of layer i
/// (`MetadataKey.isActivationParameter`), which the writer adds and the reader requires.
extension Activation {
    /// The activation of `formatCode`, with its parameter where it takes one (nil: none given).
    public init?(formatCode: UInt32, parameter: Float?) {
        switch formatCode {
        case 0: self = .identity
        case 1: self = .relu
        case 2: self = .sigmoid
        case 3: guard let parameter else { return nil }; self = .leakyRelu(slope: parameter)
        case 4: self = .tanh
        case 5: guard let parameter else { return nil }; self = .elu(alpha: parameter)
        case 6: self = .silu
        default: return nil
        }
    }

    /// Whether `formatCode` is an activation this library runs.
    public static func isKnown(formatCode: UInt32) -> Bool { formatCode <= 6 }

    /// Whether the activation of `formatCode` takes a parameter.
    public static func takesParameter(formatCode: UInt32) -> Bool { formatCode == 3 || formatCode == 5 }

    public var formatCode: UInt32 {
        switch self {
        case .identity: return 0
        case .relu: return 1
        case .sigmoid: return 2
        case .leakyRelu: return 3
        case .tanh: return 4
        case .elu: return 5
        case .silu: return 6
        }
    }
}

/// Which half of the model a layer belongs to.
public enum StackRole: UInt32, Sendable {
    case encoder = 0
    case decoder = 1
    /// A VQ-VAE's prior over its code grids (masked convolutions from the grid's code vectors to K logits a position).
    case prior = 2

    public var name: StaticString {
        switch self {
        case .encoder: return "encoder"
        case .decoder: return "decoder"
        case .prior: return "prior"
        }
    }
}

/// Element types of tensor data. Raw values are the file's codes and are never reused.
public enum ElementType: UInt32, Sendable, CaseIterable {
    /// IEEE 754 binary32.
    case f32 = 0
    /// IEEE 754 binary16.
    case f16 = 1
    /// 8-bit integers with one f32 scale per index of dimension 0: the scales first, then the values;
    /// value = scale[i0] · q.
    case q8Dim0 = 2
    /// As `q8Dim0` with the scales over dimension 1 (rank 2 or more).
    case q8Dim1 = 3
    /// A dense layer's int8 weights [k, n] laid out for the integer kernels (`Int8Panels`): n f32 scales
    /// padded to 64 bytes, then panels of 8 columns × groups of 4 rows, zero-padded (rank 2, k ≤ 2¹⁷).
    case q8Panels = 4

    /// The file's name for the type (inspect output, command options).
    public var name: StaticString {
        switch self {
        case .f32: return "f32"
        case .f16: return "f16"
        case .q8Dim0: return "int8 (scales over dim 0)"
        case .q8Dim1: return "int8 (scales over dim 1)"
        case .q8Panels: return "int8 (panels)"
        }
    }

    /// Bytes a tensor of this type and shape occupies, or nil when the type does not fit the rank.
    public func byteCount(dims: TensorDims) -> Int? {
        let n = dims.elementCount
        switch self {
        case .f32: return 4 * n
        case .f16: return 2 * n
        case .q8Dim0: return 4 * dims[0] + n
        case .q8Dim1: return dims.count >= 2 ? 4 * dims[1] + n : nil
        case .q8Panels:
            guard dims.count == 2, dims[0] <= Int8Panels.maxRows else { return nil }
            let (values, overflow) = (Int8Panels.panels(dims[1]) * Int8Panels.groupBytes).multipliedReportingOverflow(by: Int8Panels.groups(dims[0]))
            let (total, overflow2) = values.addingReportingOverflow(Int8Panels.scaleBytes(columns: dims[1]))
            return overflow || overflow2 ? nil : total
        }
    }
}

/// Channels × height × width. A dense layer's vector of n features is (n, 1, 1).
public struct Shape3: Equatable, Sendable, CustomStringConvertible {
    public var channels: Int
    public var height: Int
    public var width: Int

    public init(channels: Int, height: Int, width: Int) {
        self.channels = channels
        self.height = height
        self.width = width
    }

    public static func vector(_ n: Int) -> Shape3 { Shape3(channels: n, height: 1, width: 1) }

    public var count: Int { channels * height * width }
    public var description: String { "\(channels)x\(height)x\(width)" }

    /// The format's limits on a layer's input or output: no side empty, at most 2^24 channels, 2^16 rows
    /// and columns, 2^28 values (so sizes and their products cannot overflow anywhere).
    public var isWithinFormatLimits: Bool {
        channels > 0 && height > 0 && width > 0 && channels <= 1 << 24 && height <= 1 << 16 && width <= 1 << 16 && count <= 1 << 28
    }
}

/// One row of the layer table.
public struct LayerRecord: Equatable, Sendable {
    public var kind: LayerKind
    public var stack: StackRole
    public var activation: Activation
    public var weight: Int
    public var bias: Int?
    public var input: Shape3
    public var output: Shape3
    /// Kernel, stride and padding of a convolution; nil for a dense layer or a codebook.
    public var parameters: ConvParameters?
    /// A codebook's K code vectors (0 for the other kinds).
    public var codebookSize: Int
    /// A masked convolution's mask (nil for the other kinds).
    public var mask: ConvMask?

    public init(kind: LayerKind, stack: StackRole, activation: Activation, weight: Int, bias: Int?, input: Shape3, output: Shape3,
                parameters: ConvParameters? = nil, codebookSize: Int = 0, mask: ConvMask? = nil) {
        self.codebookSize = codebookSize
        self.mask = mask
        self.kind = kind
        self.stack = stack
        self.activation = activation
        self.weight = weight
        self.bias = bias
        self.input = input
        self.output = output
        self.parameters = parameters
    }

    /// The shape the weight tensor must have.
    public var weightDims: TensorDims {
        switch kind {
        case .dense: return TensorDims(input.count, output.count)
        case .conv2d, .maskedConv2d: return TensorDims(output.channels, input.channels, parameters?.kernelHeight ?? 0, parameters?.kernelWidth ?? 0)
        case .convTranspose2d: return TensorDims(input.channels, output.channels, parameters?.kernelHeight ?? 0, parameters?.kernelWidth ?? 0)
        case .codebook: return TensorDims(codebookSize, input.channels)
        }
    }

    /// Bias length: one per output feature (dense) or output channel (convolutions); a codebook has none.
    public var biasCount: Int {
        switch kind {
        case .dense: return output.count
        case .conv2d, .convTranspose2d, .maskedConv2d: return output.channels
        case .codebook: return 0
        }
    }
}

/// One row of the tensor table. `offset` is relative to the data section.
public struct TensorRecord: Equatable, Sendable {
    public var name: ByteString
    public var type: ElementType
    public var dims: TensorDims
    public var offset: Int
    public var byteCount: Int

    public init(name: ByteString, type: ElementType = .f32, dims: TensorDims, offset: Int, byteCount: Int) {
        self.name = name
        self.type = type
        self.dims = dims
        self.offset = offset
        self.byteCount = byteCount
    }

    public var elementCount: Int { dims.elementCount }
}

/// A tensor's shape: 1 to 4 dimensions, held inline (reading a file's tables allocates nothing).
public struct TensorDims: RandomAccessCollection, Equatable, Sendable, ExpressibleByArrayLiteral {
    private var values: (Int, Int, Int, Int) = (0, 0, 0, 0)
    public private(set) var count = 0

    public init(_ a: Int) { append(a) }
    public init(_ a: Int, _ b: Int) { append(a); append(b) }
    public init(_ a: Int, _ b: Int, _ c: Int, _ d: Int) { append(a); append(b); append(c); append(d) }
    /// `dims`, of rank 1 to 4.
    public init(_ dims: [Int]) {
        precondition((1...TensorField.maxRank).contains(dims.count), "a tensor has 1 to 4 dimensions")
        for d in dims { append(d) }
    }
    public init(arrayLiteral dims: Int...) { self.init(dims) }
    init() {}

    mutating func append(_ d: Int) {
        withUnsafeMutableBytes(of: &values) { $0.storeBytes(of: d, toByteOffset: count * MemoryLayout<Int>.stride, as: Int.self) }
        count += 1
    }

    public var startIndex: Int { 0 }
    public var endIndex: Int { count }
    public subscript(i: Int) -> Int {
        precondition(i >= 0 && i < count, "dimension index out of range")
        return withUnsafeBytes(of: values) { $0.load(fromByteOffset: i * MemoryLayout<Int>.stride, as: Int.self) }
    }
    /// The product of the dimensions.
    public var elementCount: Int { reduce(1, *) }

    public static func == (a: TensorDims, b: TensorDims) -> Bool { a.elementsEqual(b) }
}

/// A metadata value.
public enum MetadataValue: Equatable, Sendable {
    case u32(UInt32)
    case f32(Float)
    case string(ByteString)
    case f64(Double)

    public static func string(_ text: String) -> MetadataValue { .string(ByteString(text)) }

    /// The same value owning its bytes (a string read from a file borrows them).
    public var owned: MetadataValue {
        if case .string(let s) = self { return .string(s.owned) }
        return self
    }

    var type: MetadataType {
        switch self {
        case .u32: return .u32
        case .f32: return .f32
        case .string: return .string
        case .f64: return .f64
        }
    }
}

/// Metadata keys vaert writes and reads.
public enum MetadataKey {
    /// `vaert.layer.<layer>.activation_parameter`: whether `key` is one, and of which layer (`<layer>` in
    /// decimal with no leading zero). Read without allocating.
    public static func activationParameterLayer(_ key: ByteString) -> Int? {
        key.withBytes { b -> Int? in
            let prefix: StaticString = "vaert.layer.", suffix: StaticString = ".activation_parameter"
            let (p, q) = (prefix.utf8CodeUnitCount, suffix.utf8CodeUnitCount)
            guard b.count > p + q,
                  UnsafeRawBufferPointer(start: prefix.utf8Start, count: p).elementsEqual(b[0..<p]),
                  UnsafeRawBufferPointer(start: suffix.utf8Start, count: q).elementsEqual(b[(b.count - q)...]) else { return nil }
            let digits = b[p..<(b.count - q)]
            guard digits.count <= 6, digits.allSatisfy({ (48...57).contains($0) }), digits.first != 48 || digits.count == 1 else { return nil }
            return digits.reduce(0) { $0 * 10 + Int($1 - 48) }
        }
    }

    /// The key of layer `layer`'s activation parameter.
    public static func activationParameter(layer: Int) -> ByteString {
        let prefix: StaticString = "vaert.layer.", suffix: StaticString = ".activation_parameter"
        var digits: [UInt8] = []
        var n = layer
        repeat { digits.insert(UInt8(48 + n % 10), at: 0); n /= 10 } while n > 0
        return ByteString(owning: Array(UnsafeBufferPointer(start: prefix.utf8Start, count: prefix.utf8CodeUnitCount)) + digits
                              + Array(UnsafeBufferPointer(start: suffix.utf8Start, count: suffix.utf8CodeUnitCount)))
    }

    public static let kind: StaticString = "vaert.kind"
    public static let latentDim: StaticString = "vaert.latent_dim"
    public static let channels: StaticString = "vaert.image.channels"
    public static let height: StaticString = "vaert.image.height"
    public static let width: StaticString = "vaert.image.width"
    /// "[0, 1]" (the default) or "[-1, 1]": the decoded pixels' range (`ImageRange`).
    public static let imageRange: StaticString = "vaert.image.range"
    public static let likelihood: StaticString = "vaert.likelihood"
    public static let dataset: StaticString = "vaert.dataset"
    public static let testNegELBO: StaticString = "vaert.test_neg_elbo"
    /// Number of classes of a conditional model (u32, required for cvae).
    public static let classCount: StaticString = "vaert.num_classes"
}
