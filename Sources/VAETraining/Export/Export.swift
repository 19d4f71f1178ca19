import Foundation
import VAECore

/// Re-encodes a weights file (an export, a checkpoint, or an import): keep the encoder, the decoder or
/// both, store weights as f32, f16 or int8, drop training state.
public enum Export {
    /// Which layers to keep. A decoder-only file is what a device that only generates needs; an
    /// encoder-only file is for tools (libvaert needs a decoder to open a model).
    public enum Part: String, Sendable { case all, encoder, decoder }
    public enum DType: String, Sendable, CaseIterable { case f32, f16, int8 }

    public static func rebuild(_ file: WeightsFile, bytes: UnsafeRawBufferPointer, part: Part, dtype: DType,
                               int8Everywhere: Bool = false, keepPrior: Bool = true) throws(VaertError) -> WeightsFileBuilder {
        var b = WeightsFileBuilder()
        // The rows each decoder layer sees, for output-aware int8 (made when a decoder layer needs them).
        var calibration: [[Float]]? = nil
        var decoderIndex = 0
        for layer in file.layers where (part == .all || (part == .encoder) == (layer.stack == .encoder)) && (keepPrior || layer.stack != .prior) {
            var record = layer
            let w = file.tensors[layer.weight]
            // A codebook stays f32: the format takes no other type for the vectors the distances compare;
            // so does a prior's masked convolution, whose masked taps the loader checks are exactly 0.
            let type = layer.kind == .codebook || layer.kind == .maskedConv2d ? ElementType.f32
                : dtype == .int8 && !int8Everywhere && !int8Pays(layer) ? .f16 : weightType(dtype, layer.kind)
            let values = floats(file, bytes, layer.weight)
            if type == .q8Panels && layer.stack == .decoder {
                if calibration == nil { calibration = try decoderInputs(bytes) }
                let (q, scales) = OutputAwareQuantization.quantize(weights: values, rows: w.dims[0], columns: w.dims[1],
                                                                   inputs: calibration![decoderIndex])
                record.weight = b.addPanels(w.name.description, rows: w.dims[0], columns: w.dims[1], values: q, scales: scales)
            } else {
                record.weight = b.addTensor(w.name.description, dims: Array(w.dims), values: values, type: type)
            }
            if let bias = layer.bias {
                record.bias = b.addTensor(file.tensors[bias].name.description, dims: Array(file.tensors[bias].dims), values: floats(file, bytes, bias))
            }
            if layer.stack == .decoder { decoderIndex += 1 }
            b.addLayer(record)
        }
        guard !b.layers.isEmpty else { throw VaertError(.missingTensor, "the file has no \(part.rawValue) layers") }
        // (Activation parameters are the builder's: it writes them under the layers' new indices.)
        for (key, value) in file.metadata where !key.description.hasPrefix("train.") && MetadataKey.activationParameterLayer(key) == nil {
            b.setMetadata(key, value)
        }
        if part == .encoder { b.setMetadata("vaert.part", .string("encoder-only")) }
        return b
    }

    /// Rows of calibration for output-aware int8: samples of the prior (`vaert_sample_latent`'s seed
    /// `calibrationSeed`, samples 0 ..< `calibrationRows`; classes in turn for a conditional model) run
    /// through the f32 decoder, giving each decoder layer's input rows in turn.
    static func decoderInputs(_ bytes: UnsafeRawBufferPointer) throws(VaertError) -> [[Float]] {
        let model = try Model(copying: bytes)
        let m = calibrationRows, d = model.latentDim, classes = model.classCount
        var x = [Float](repeating: 0, count: m * (d + classes))
        let stream = RandomStream(seed: calibrationSeed, purpose: .latentSample)
        x.withUnsafeMutableBufferPointer { x in
            for r in 0..<m {
                stream.normals(item: UInt64(r), into: UnsafeMutableBufferPointer(rebasing: x[(r * (d + classes))..<(r * (d + classes) + d)]))
                if classes > 0 { x[r * (d + classes) + d + r % classes] = 1 }
            }
        }
        var inputs: [[Float]] = []
        // The layers point into the model's memory (packed weights among it): keep it until the last one ran.
        defer { withExtendedLifetime(model) {} }
        for layer in model.decoder {
            inputs.append(x)
            var y = [Float](repeating: 0, count: m * layer.outputCount)
            var scratch = [Float](repeating: 0, count: max(layer.scratchFloats(batch: m), 1))
            x.withUnsafeBufferPointer { x in
                y.withUnsafeMutableBufferPointer { y in
                    scratch.withUnsafeMutableBufferPointer { layer.forward(x.baseAddress!, batch: m, into: y.baseAddress!, scratch: $0.baseAddress!) }
                }
            }
            x = y
        }
        return inputs
    }

    /// Prior samples that calibrate output-aware int8: enough rows for H = XᵀX of a 400-input layer.
    static let calibrationRows = 4096
    static let calibrationSeed: UInt64 = 0x5EED_0CA1

    /// Tensor `index` of `file` as floats, whatever its stored type.
    public static func floats(_ file: WeightsFile, _ bytes: UnsafeRawBufferPointer, _ index: Int) -> [Float] {
        let t = file.tensors[index]
        var out = [Float](repeating: 0, count: t.elementCount)
        out.withUnsafeMutableBufferPointer { TensorEncoding.decode(bytes.baseAddress! + file.dataOffset + t.offset, dims: t.dims, type: t.type, into: $0.baseAddress!) }
        return out
    }

    /// Whether `--dtype int8` stores a layer's weight as int8 (else f16): not a layer of fewer than 2¹⁴
    /// weights. It saves a few KB and little time, and its error is the largest: the course VAE's 20 → 400
    /// decoder layer quantizes its 20 inputs with one scale per row (0.025 max pixel error, against 0.0005
    /// as f16; numpy, 1000 samples). The pixel layer is int8: output-aware quantization
    /// (`OutputAwareQuantization`) keeps its error at 0.015, where rounding each weight gave 0.058.
    static func int8Pays(_ layer: LayerRecord) -> Bool {
        layer.weightDims.elementCount >= 1 << 14
    }

    /// int8 scales run over the output-channel axis: dim 1 of a dense [in, out] or transposed-conv
    /// [in, out, kH, kW] weight, dim 0 of a conv [out, in, kH, kW] weight.
    static func weightType(_ dtype: DType, _ kind: LayerKind) -> ElementType {
        switch dtype {
        case .f32: return .f32
        case .f16: return .f16
        case .int8: return kind == .conv2d ? .q8Dim0 : kind == .dense ? .q8Panels : .q8Dim1
        }
    }

    /// A C source and header holding `bytes` as `_Alignas(64) const unsigned char NAME[]` and `NAME_size`,
    /// for firmware that links the model in and opens it with `vaert_open_memory`.
    public static func cArray(_ bytes: [UInt8], name: String, header: String) -> (header: String, source: String) {
        let guardName = name.uppercased() + "_H"
        let h = """
        /* \(name): a vaert weights file compiled in. Open it with vaert_open_memory(\(name), \(name)_size, &model). */
        #ifndef \(guardName)
        #define \(guardName)
        #include <stddef.h>
        #ifdef __cplusplus
        extern "C" {
        #endif
        extern const unsigned char \(name)[];
        extern const size_t \(name)_size;
        #ifdef __cplusplus
        }
        #endif
        #endif

        """
        var c = "#include \"\(header)\"\n\n/* 64-byte aligned: the alignment vaert's tensor data is laid out for. */\n"
        c += "_Alignas(64) const unsigned char \(name)[\(bytes.count)] = {\n"
        var line = ""
        for (i, byte) in bytes.enumerated() {
            line += "0x" + String(byte, radix: 16, uppercase: false).leftPadded(2) + ","
            if i % 16 == 15 { c += "    " + line + "\n"; line = "" }
        }
        if !line.isEmpty { c += "    " + line + "\n" }
        c += "};\nconst size_t \(name)_size = \(bytes.count);\n"
        return (h, c)
    }
}

extension String {
    func leftPadded(_ width: Int) -> String { String(repeating: "0", count: max(0, width - count)) + self }
}
