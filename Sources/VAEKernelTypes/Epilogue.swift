/// The element-wise activations a layer can end with. (The weights format's codes for them are the
/// format's: `Activation.formatCode` in VAECore.)
public enum Activation: Sendable, CaseIterable {
    case identity
    case relu
    case sigmoid

    public var name: String {
        switch self {
        case .identity: return "identity"
        case .relu: return "relu"
        case .sigmoid: return "sigmoid"
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
