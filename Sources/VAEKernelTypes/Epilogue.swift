/// The element-wise activations a layer can end with. (The weights format's codes for them are the
/// format's: `Activation.formatCode` in VAECore.)
public enum Activation: Sendable, Equatable {
    case identity
    /// max(x, 0).
    case relu
    /// 1 / (1 + e^−x).
    case sigmoid
    /// x for x ≥ 0, slope · x below (PyTorch's `LeakyReLU(negative_slope)`).
    case leakyRelu(slope: Float)
    /// tanh x, computed as 2 · sigmoid(2x) − 1.
    case tanh
    /// x for x > 0, alpha · (e^x − 1) otherwise (PyTorch's `ELU(alpha)`).
    case elu(alpha: Float)
    /// x · sigmoid(x) (PyTorch's `SiLU`).
    case silu

    /// The name `vae-train --activation`, the import descriptions and `export-weights inspect` use.
    public var name: String {
        switch self {
        case .identity: return "identity"
        case .relu: return "relu"
        case .sigmoid: return "sigmoid"
        case .leakyRelu: return "leaky_relu"
        case .tanh: return "tanh"
        case .elu: return "elu"
        case .silu: return "silu"
        }
    }

    /// The activation named `name` (as `name` spells it), with `parameter` for the two that take one
    /// (leaky_relu's slope, default 0.01; elu's alpha, default 1: PyTorch's defaults).
    public init?(name: String, parameter: Float? = nil) {
        switch name {
        case "identity": self = .identity
        case "relu": self = .relu
        case "sigmoid": self = .sigmoid
        case "leaky_relu": self = .leakyRelu(slope: parameter ?? 0.01)
        case "tanh": self = .tanh
        case "elu": self = .elu(alpha: parameter ?? 1)
        case "silu": self = .silu
        default: return nil
        }
    }

    /// Every name `init(name:)` takes.
    public static let names = ["identity", "relu", "sigmoid", "leaky_relu", "tanh", "elu", "silu"]

    /// leaky_relu's slope or elu's alpha; nil for the others.
    public var parameter: Float? {
        switch self {
        case .leakyRelu(let slope): return slope
        case .elu(let alpha): return alpha
        default: return nil
        }
    }

    /// Whether it costs an exponential per value (the GEMMs then run it as a pass of its own over
    /// finished rows, which measured faster than in the tile epilogue).
    public var isTranscendental: Bool {
        switch self {
        case .sigmoid, .tanh, .elu, .silu: return true
        default: return false
        }
    }
}

/// What happens to a finished tile of C before it is stored. (Applied by each kernel build's GEMM:
/// `GemmEpilogue.finish` in VAEKernels.)
public struct GemmEpilogue: @unchecked Sendable {
    /// Add the product to what C already holds instead of overwriting it.
    public var accumulate: Bool
    /// Added to every row of C (`n` floats, one per column), or nil.
    public var bias: UnsafePointer<Float>?
    /// Added to every column of C (`m` floats, one per row: a convolution's per-channel bias), or nil.
    public var rowBias: UnsafePointer<Float>?
    public var activation: Activation

    @inlinable
    public init(accumulate: Bool = false, bias: UnsafePointer<Float>? = nil, rowBias: UnsafePointer<Float>? = nil, activation: Activation = .identity) {
        self.accumulate = accumulate
        self.bias = bias
        self.rowBias = rowBias
        self.activation = activation
    }

    @inlinable public static var overwrite: GemmEpilogue { GemmEpilogue() }
    @inlinable public static var accumulate: GemmEpilogue { GemmEpilogue(accumulate: true) }
}
