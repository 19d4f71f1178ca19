/// Packs a loaded dense layer's weights into the GEMM's panel layout, once, at load.
///
/// The panels hold f32 (an f16 or int8 file's weights as decoded at load); the bias is copied into whole
/// panels, zero-padded.
struct WeightPacking {
    /// The buffers the packed layers point into; the model frees them.
    private(set) var buffers: [UnsafeMutableRawPointer] = []

    /// Packing pays for large layers (measured: 400→784 runs 2% faster at batch 256 and 1.5x at batch 1);
    /// a small layer's weights stay in cache anyway, and its short panels ran slower (20→400: 23 vs 32 GFLOP/s).
    /// Never with the compact kernels of cores without SIMD units, which do not use panels.
    static func pays(_ layer: DenseLayer) -> Bool {
        #if VAERT_COMPACT_KERNELS
        return false
        #else
        return layer.inputCount * layer.outputCount >= 1 << 16
        #endif
    }

    mutating func pack(_ layer: DenseLayer) -> DenseLayer {
        let (k, n) = (layer.inputCount, layer.outputCount)
        let elements = PackedMatrix.elementCount(rows: k, columns: n)
        let paddedColumns = PackedMatrix.panels(n) * PackedMatrix.panelWidth
        let weightBytes = (elements * 4 + 63) / 64 * 64
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: weightBytes + paddedColumns * 4, alignment: WeightsFormat.alignment)
        buffers.append(buffer)
        let values = buffer.bindMemory(to: Float.self, capacity: elements)
        PackedMatrix.pack(layer.weights, rows: k, columns: n, into: values)
        var bias: UnsafePointer<Float>? = nil
        if let source = layer.bias {
            let padded = (buffer + weightBytes).bindMemory(to: Float.self, capacity: paddedColumns)
            padded.update(from: source, count: n)
            (padded + n).update(repeating: 0, count: paddedColumns - n)
            bias = UnsafePointer(padded)
        }
        return DenseLayer(inputCount: k, outputCount: n, weights: layer.weights, bias: layer.bias, activation: layer.activation,
                          packed: (PackedMatrix(rows: k, columns: n, values: UnsafePointer(values)), bias))
    }

    func free() {
        for buffer in buffers { buffer.deallocate() }
    }
}
