/// Packs a loaded dense layer's weights into the GEMM's panel layout, once, at load.
///
/// An f32 layer's panels hold f32; an f16 layer's hold its f16 values as the file stores them (half the
/// bytes to stream; `Kernels.packsHalfPanels` says where that is the faster choice). The bias is copied
/// into whole panels, zero-padded.
struct WeightPacking {
    /// The buffers the packed layers point into; the model frees them.
    private(set) var buffers: [UnsafeMutableRawPointer] = []

    /// Packing pays for large layers (measured: 400→784 runs 2% faster at batch 256 and 1.5x at batch 1);
    /// a small layer's weights stay in cache anyway, and its short panels ran slower (20→400: 23 vs 32 GFLOP/s).
    /// Never with the compact kernels of cores without SIMD units, which do not use panels.
    static func pays(inputs: Int, outputs: Int) -> Bool {
        #if VAERT_COMPACT_KERNELS
        return false
        #else
        return inputs * outputs >= 1 << 16
        #endif
    }

    mutating func pack(_ layer: DenseLayer) -> DenseLayer {
        let (weights, bias) = pack(layer.weights, rows: layer.inputCount, columns: layer.outputCount, bias: layer.bias, zero: Float(0))
        var packed = PackedMatrix(rows: layer.inputCount, columns: layer.outputCount, values: weights)
        packed.panelsPerBlock = Kernels.panelsPerBlock(rows: layer.inputCount, elementBytes: 4)
        return DenseLayer(inputCount: layer.inputCount, outputCount: layer.outputCount, weights: layer.weights, bias: layer.bias,
                          activation: layer.activation, packed: (packed, bias))
    }

    /// A transposed convolution's stride phases (`ConvTransposePhases.pack`), when it runs by them.
    mutating func pack(_ layer: ConvTransposeLayer) -> ConvTransposeLayer {
        guard layer.runsByPhases else { return layer }
        let phases = ConvTransposePhases(layer)
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: 4 * phases.packedFloats, alignment: WeightsFormat.alignment)
        buffers.append(buffer)
        let packed = buffer.bindMemory(to: Float.self, capacity: phases.packedFloats)
        phases.pack(layer.weights, bias: layer.bias, into: packed)
        return ConvTransposeLayer(input: layer.input, output: layer.output, parameters: layer.parameters, weights: layer.weights, bias: layer.bias,
                                  activation: layer.activation, packedPhases: UnsafePointer(packed))
    }

    #if !hasFeature(Embedded)
    mutating func pack(_ layer: HalfDenseLayer) -> HalfDenseLayer {
        let (weights, bias) = pack(layer.weights, rows: layer.inputCount, columns: layer.outputCount, bias: layer.bias, zero: Half(bits: 0))
        var packed = PackedMatrix(rows: layer.inputCount, columns: layer.outputCount, halves: weights)
        packed.panelsPerBlock = Kernels.panelsPerBlock(rows: layer.inputCount, elementBytes: 2)
        return HalfDenseLayer(inputCount: layer.inputCount, outputCount: layer.outputCount, weights: layer.weights, bias: layer.bias,
                              activation: layer.activation, packed: (packed, bias))
    }
    #endif

    /// One buffer: the packed weights, then the padded bias (64-byte aligned both).
    private mutating func pack<T>(_ source: UnsafePointer<T>, rows k: Int, columns n: Int, bias: UnsafePointer<Float>?, zero: T)
        -> (UnsafePointer<T>, UnsafePointer<Float>?) {
        let elements = PackedMatrix.elementCount(rows: k, columns: n)
        let paddedColumns = PackedMatrix.panels(n) * PackedMatrix.panelWidth
        let weightBytes = (elements * MemoryLayout<T>.stride + 63) / 64 * 64
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: weightBytes + paddedColumns * 4, alignment: WeightsFormat.alignment)
        buffers.append(buffer)
        let values = buffer.bindMemory(to: T.self, capacity: elements)
        PackedMatrix.pack(source, rows: k, columns: n, into: values, zero: zero)
        guard let bias else { return (UnsafePointer(values), nil) }
        let padded = (buffer + weightBytes).bindMemory(to: Float.self, capacity: paddedColumns)
        padded.initialize(from: bias, count: n)
        (padded + n).initialize(repeating: 0, count: paddedColumns - n)
        return (UnsafePointer(values), UnsafePointer(padded))
    }

    func free() {
        for buffer in buffers { buffer.deallocate() }
    }
}
