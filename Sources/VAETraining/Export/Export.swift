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
                               int8Everywhere: Bool = false) throws(VaertError) -> WeightsFileBuilder {
        var b = WeightsFileBuilder()
        let outputLayer = file.layers.lastIndex { $0.stack == .decoder }
        for (index, layer) in file.layers.enumerated() where part == .all || (part == .encoder) == (layer.stack == .encoder) {
            var record = layer
            let w = file.tensors[layer.weight]
            let type = dtype == .int8 && !int8Everywhere && !int8Pays(layer, isPixelLayer: index == outputLayer) ? ElementType.f16 : weightType(dtype, layer.kind)
            record.weight = b.addTensor(w.name.description, dims: Array(w.dims), values: floats(file, bytes, layer.weight), type: type)
            if let bias = layer.bias {
                record.bias = b.addTensor(file.tensors[bias].name.description, dims: Array(file.tensors[bias].dims), values: floats(file, bytes, bias))
            }
            b.addLayer(record)
        }
        guard !b.layers.isEmpty else { throw VaertError(.missingTensor, "the file has no \(part.rawValue) layers") }
        for (key, value) in file.metadata where !key.description.hasPrefix("train.") { b.setMetadata(key, value) }
        if part == .encoder { b.setMetadata("vaert.part", .string("encoder-only")) }
        return b
    }

    /// Tensor `index` of `file` as floats, whatever its stored type.
    static func floats(_ file: WeightsFile, _ bytes: UnsafeRawBufferPointer, _ index: Int) -> [Float] {
        let t = file.tensors[index]
        var out = [Float](repeating: 0, count: t.elementCount)
        out.withUnsafeMutableBufferPointer { TensorEncoding.decode(bytes.baseAddress! + file.dataOffset + t.offset, dims: t.dims, type: t.type, into: $0.baseAddress!) }
        return out
    }

    /// Whether `--dtype int8` stores a layer's weight as int8 (else f16). Not the layer that makes the pixels:
    /// its error goes straight into the image (0.06 max pixel error on the course VAE with a scale per
    /// column, 0.018 with one per 16 rows). Not a layer of fewer than 2¹⁴ weights: it saves a few KB and
    /// little time, and its error is the largest (the course VAE's 20 → 400 decoder layer, its 20 inputs
    /// quantized with one scale: 0.025 max pixel error, against 0.0005 as f16; numpy, 1000 samples).
    static func int8Pays(_ layer: LayerRecord, isPixelLayer: Bool) -> Bool {
        !isPixelLayer && layer.weightDims.reduce(1, *) >= 1 << 14
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
