/// One runnable layer of a network, whatever its kind.
public enum Layer: @unchecked Sendable {
    case dense(DenseLayer)
    case conv(ConvLayer)
    case convTranspose(ConvTransposeLayer)
    /// A dense layer over int8 panels, computed with the integer kernels (a loaded model's only).
    case quantizedDense(QuantizedDenseLayer)
    /// A dense layer over the file's f16 weights, widened as they stream (a model used in place).
    case halfDense(HalfDenseLayer)
    /// A VQ-VAE's codebook: each grid position's vector becomes its nearest code vector.
    case codebook(CodebookLayer)

    public var inputCount: Int {
        switch self {
        case .dense(let l): return l.inputCount
        case .conv(let l): return l.input.count
        case .convTranspose(let l): return l.input.count
        case .quantizedDense(let l): return l.inputCount
        case .halfDense(let l): return l.inputCount
        case .codebook(let l): return l.grid.count
        }
    }

    public var outputCount: Int {
        switch self {
        case .dense(let l): return l.outputCount
        case .conv(let l): return l.output.count
        case .convTranspose(let l): return l.output.count
        case .quantizedDense(let l): return l.outputCount
        case .halfDense(let l): return l.outputCount
        case .codebook(let l): return l.grid.count
        }
    }

    /// Floats of a convolution's column matrix per image (0 for a dense layer), or nil when the product
    /// does not fit an `Int`: the load-time bound on `scratchFloats` (see `Model.checkPassSizes`).
    var columnFloatsPerImage: Int? {
        let (positions, rows): (Int, Int)
        switch self {
        case .dense, .halfDense: return 0
        case .quantizedDense(let l): return l.scratchFloatsPerRow
        case .codebook(let l): (positions, rows) = (l.positions, l.codes + 1)  // the scores, the indices
        case .conv(let l): (positions, rows) = (l.window.positions, l.window.patchSize + l.output.channels)
        case .convTranspose(let l):
            // A block's rows (at most 48 or one channel's taps) × input pixels, plus the input and a block's output.
            (positions, rows) = (l.window.positions, l.channelsPerBlock * l.taps)
            return positions.multipliedReportingOverflow(by: rows).overflow ? nil : l.scratchFloatsPerImage
        }
        let (product, overflow) = positions.multipliedReportingOverflow(by: rows)
        return overflow ? nil : product
    }

    /// Scratch floats `forward` needs besides its input and output for `batch` rows.
    public func scratchFloats(batch: Int) -> Int {
        switch self {
        case .dense, .halfDense: return 0
        case .conv(let l): return l.scratchFloats(batch: batch)
        case .convTranspose(let l): return l.scratchFloats(batch: batch)
        case .quantizedDense(let l): return l.scratchFloats(batch: batch)
        case .codebook(let l): return l.scratchFloats(batch: batch)
        }
    }

    /// `y[batch × outputCount] = layer(x[batch × inputCount])`; `activation` overrides the layer's own.
    public func forward(_ x: UnsafePointer<Float>, batch: Int, into y: UnsafeMutablePointer<Float>, scratch: UnsafeMutablePointer<Float>,
                        activation: Activation? = nil) {
        switch self {
        case .dense(let l): l.forward(x, batch: batch, into: y, activation: activation)
        case .conv(let l): l.forward(x, batch: batch, into: y, scratch: scratch, activation: activation)
        case .convTranspose(let l): l.forward(x, batch: batch, into: y, scratch: scratch, activation: activation)
        case .quantizedDense(let l): l.forward(x, batch: batch, into: y, scratch: scratch, activation: activation)
        case .halfDense(let l): l.forward(x, batch: batch, into: y, activation: activation)
        case .codebook(let l): l.forward(x, batch: batch, into: y, scratch: scratch)
        }
    }

    /// The same layer with another activation (the trainer runs the output layer to logits).
    public func with(activation: Activation) -> Layer {
        switch self {
        case .dense(let l):
            return .dense(l.with(activation: activation))
        case .conv(let l):
            return .conv(ConvLayer(input: l.input, output: l.output, parameters: l.parameters, weights: l.weights, bias: l.bias, activation: activation))
        case .convTranspose(let l):
            return .convTranspose(ConvTransposeLayer(input: l.input, output: l.output, parameters: l.parameters, weights: l.weights, bias: l.bias,
                                                     activation: activation, packedPhases: l.packedPhases))
        case .quantizedDense(let l):
            return .quantizedDense(QuantizedDenseLayer(weights: l.weights, bias: l.bias, activation: activation))
        case .halfDense(let l):
            return .halfDense(l.with(activation: activation))
        case .codebook:
            return self  // a codebook has no activation
        }
    }
}

extension ConvLayer {
    public var parameters: ConvParameters {
        ConvParameters(kernelHeight: window.kernelHeight, kernelWidth: window.kernelWidth, stride: window.stride, padding: window.padding)
    }
}

extension ConvTransposeLayer {
    public var parameters: ConvParameters {
        ConvParameters(kernelHeight: window.kernelHeight, kernelWidth: window.kernelWidth, stride: window.stride, padding: window.padding,
                       outputPadding: output.height - ((input.height - 1) * window.stride - 2 * window.padding + window.kernelHeight))
    }
}
