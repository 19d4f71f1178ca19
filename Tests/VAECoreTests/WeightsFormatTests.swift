import Testing
import TestSupport
import VAECore

@Suite struct WeightsFormatTests {
    func status(of bytes: [UInt8]) -> Status {
        let result = bytes.withUnsafeBytes { b in Result { () throws(VaertError) in try Model(copying: b) } }
        switch result {
        case .success: return .ok
        case .failure(let error): return error.status
        }
    }

    @Test("a written file reads back: layers, tensors, metadata, data alignment")
    func roundTrip() throws {
        var b = WeightsFileBuilder()
        let w = b.addTensor("w", dims: [3, 2], values: [1, 2, 3, 4, 5, 6])
        let bias = b.addTensor("b", dims: [2], values: [0.5, -0.5])
        b.addLayer(LayerRecord(kind: .dense, stack: .decoder, activation: .sigmoid, weight: w, bias: bias, input: .vector(3), output: .vector(2)))
        b.setMetadata("x.text", .string("héllo"))
        b.setMetadata("x.f64", .f64(-1.25))
        let bytes = b.serialize()
        #expect(bytes.count % WeightsFormat.alignment == 0)
        let file = try bytes.withUnsafeBytes { p in Result { () throws(VaertError) in try WeightsFile.parse(p) } }.get()
        #expect(file.layers.count == 1 && file.layers[0].activation == .sigmoid && file.layers[0].bias == 1)
        #expect(file.tensors.map(\.name) == ["w", "b"])
        #expect(file.tensors.allSatisfy { (file.dataOffset + $0.offset) % 64 == 0 })
        #expect(file.metadataValue("x.text") == .string("héllo"))
        #expect(file.metadataValue("x.f64") == .f64(-1.25))
        let values = bytes.withUnsafeBytes { p in
            (0..<6).map { p.load(fromByteOffset: file.dataOffset + file.tensors[0].offset + 4 * $0, as: Float.self) }
        }
        #expect(values == [1, 2, 3, 4, 5, 6])
    }

    @Test("activation parameters: leaky ReLU's slope and ELU's alpha travel as vaert.layer.<i>.activation_parameter; a file missing one is malformed")
    func activationParameters() throws {
        func file(_ activations: [Activation], dropParameters: Bool = false) -> [UInt8] {
            var b = WeightsFileBuilder()
            for (i, activation) in activations.enumerated() {
                let w = b.addTensor("w\(i)", dims: [2, 2], values: [1, 2, 3, 4])
                b.addLayer(LayerRecord(kind: .dense, stack: .decoder, activation: activation, weight: w, bias: nil, input: .vector(2), output: .vector(2)))
            }
            var bytes = b.serialize()
            if dropParameters {
                // Rename the keys (same length) and mend the CRC: the layers then lack their parameters.
                let key = Array("vaert.layer.".utf8)
                for i in 0..<(bytes.count - key.count) where Array(bytes[i..<(i + key.count)]) == key { bytes[i] = UInt8(ascii: "x") }
                let crc = bytes.withUnsafeBytes { WeightsFile.checksum($0) }
                withUnsafeBytes(of: crc.littleEndian) { bytes.replaceSubrange(HeaderField.crc32..<(HeaderField.crc32 + 4), with: $0) }
            }
            return bytes
        }
        let activations: [Activation] = [.tanh, .leakyRelu(slope: 0.2), .silu, .elu(alpha: 0.75), .relu]
        // A WeightsFile is a view of the bytes: read it inside their pointer's scope (ASan: use after free).
        try file(activations).withUnsafeBytes { p in
            let parsed = try Result { () throws(VaertError) in try WeightsFile.parse(p) }.get()
            #expect(parsed.layers.map(\.activation) == activations)
            #expect(parsed.metadataValue("vaert.layer.1.activation_parameter") == .f32(0.2))
            #expect(parsed.metadataValue("vaert.layer.3.activation_parameter") == .f32(0.75))
            #expect(parsed.metadata.count == 2, "only the two layers that take one")
        }
        let broken = file(activations, dropParameters: true)
        let error = broken.withUnsafeBytes { p in Result { () throws(VaertError) in try WeightsFile.parse(p) } }
        guard case .failure(let e) = error else { Issue.record("a leaky ReLU layer without its slope parsed"); return }
        #expect(e.status == .malformed && e.message.contains("vaert.layer.1.activation_parameter"), "\(e.message)")
        #expect(MetadataKey.activationParameterLayer("vaert.layer.12.activation_parameter") == 12)
        #expect(MetadataKey.activationParameterLayer("vaert.layer.012.activation_parameter") == nil)
        #expect(MetadataKey.activationParameterLayer("vaert.layer..activation_parameter") == nil)
        #expect(MetadataKey.activationParameter(layer: 40) == "vaert.layer.40.activation_parameter")
    }

    @Test("a model file opens and reports its shape")
    func opens() throws {
        let bytes = TinyModel.dense()
        let model = try bytes.withUnsafeBytes { p in Result { () throws(VaertError) in try Model(copying: p) } }.get()
        #expect(model.kind == .vae && model.latentDim == 3 && model.imageShape == Shape3(channels: 1, height: 8, width: 8))
        #expect(model.encoder.map(\.outputCount) == [12, 7, 6] && model.decoder.map(\.outputCount) == [7, 12, 64])
    }

    @Test("every truncation is reported as truncated or bad magic, never a crash")
    func truncations() {
        let bytes = TinyModel.dense()
        for length in stride(from: 0, to: bytes.count, by: 7) {
            let s = status(of: Array(bytes[0..<length]))
            #expect(s == .truncated || (length == 0 && s == .truncated), "length \(length): \(s)")
        }
    }

    @Test("damaged headers and tables give their own status")
    func damaged() {
        let good = TinyModel.dense()
        #expect(status(of: good) == .ok)
        func damaged(_ change: (inout [UInt8]) -> Void, reseal: Bool = true) -> Status {
            var b = good
            change(&b)
            if reseal { TestSupport.resealCRC(&b) }
            return status(of: b)
        }
        #expect(damaged({ $0[0] = 0x47 }) == .badMagic)
        #expect(damaged({ TestSupport.storeLE(UInt32(2), at: HeaderField.version, in: &$0) }) == .unsupportedVersion)
        #expect(damaged({ TestSupport.storeLE(UInt32(1).byteSwapped, at: HeaderField.version, in: &$0) }) == .byteOrder)
        #expect(damaged({ $0[$0.count - 1] ^= 0xff }, reseal: false) == .checksum)
        #expect(damaged({ $0.append(0) }) == .malformed)  // trailing byte: size disagrees with the header
        let sections = WeightsFormat.Sections(layerCount: 6, tensorCount: 0, metadataSize: 0)
        let (layer0, layer1, tensorTable) = (sections.layerTable, sections.layerTable + LayerField.size, sections.tensorTable)
        let tensor1 = tensorTable + TensorField.size
        // Tensor 0's offset moved off the 64-byte grid.
        #expect(damaged({ TestSupport.storeLE(UInt64(4), at: tensorTable + TensorField.offset, in: &$0) }) == .malformed)
        // Dimensions whose product overflows.
        #expect(damaged({
            TestSupport.storeLE(UInt32(0xffff_ffff), at: tensorTable + TensorField.dims, in: &$0)
            TestSupport.storeLE(UInt32(0xffff_ffff), at: tensorTable + TensorField.dims + 4, in: &$0)
        }) == .malformed)
        // Tensor 1 placed on top of tensor 0.
        #expect(damaged({ TestSupport.storeLE(UInt64(0), at: tensor1 + TensorField.offset, in: &$0) }) == .malformed)
        // A layer pointing at a tensor that does not exist.
        #expect(damaged({ TestSupport.storeLE(UInt32(500), at: layer0 + LayerField.weight, in: &$0) }) == .missingTensor)
        // A layer whose input does not follow from the previous one.
        #expect(damaged({ TestSupport.storeLE(UInt32(9), at: layer1 + LayerField.inputShape, in: &$0) }) == .malformed)
        // An activation code this library does not know: a file from a newer writer, not a damaged one.
        #expect(damaged({ TestSupport.storeLE(UInt32(77), at: layer0 + LayerField.activation, in: &$0) }) == .unsupported)
        #expect(damaged({ TestSupport.storeLE(UInt32(9), at: layer0 + LayerField.kind, in: &$0) }) == .unsupported)  // layer kind 9
        #expect(damaged({ TestSupport.storeLE(UInt32(9), at: tensorTable + TensorField.elementType, in: &$0) }) == .unsupported)  // element type 9
        // header_size other than 96 and a type-3 (scales over dimension 1) tensor of rank 1.
        #expect(damaged({ TestSupport.storeLE(UInt32(128), at: HeaderField.headerSize, in: &$0) }) == .malformed)
        #expect(damaged({ TestSupport.storeLE(UInt32(3), at: tensor1 + TensorField.elementType, in: &$0) }) == .malformed)
        // A huge layer count.
        #expect(damaged({ TestSupport.storeLE(UInt32(1 << 30), at: HeaderField.layerCount, in: &$0) }) == .malformed)
    }

    @Test("a file without the decoder or its metadata is refused")
    func incomplete() {
        var b = WeightsFileBuilder()
        b.setMetadata(MetadataKey.kind, .string("vae"))
        #expect(status(of: b.serialize()) == .malformed)
        b.setMetadata(MetadataKey.likelihood, .string("bernoulli"))
        for key in [MetadataKey.latentDim, MetadataKey.channels, MetadataKey.height, MetadataKey.width] { b.setMetadata(key, .u32(2)) }
        #expect(status(of: b.serialize()) == .missingTensor)
        b.setMetadata(MetadataKey.kind, .string("gan"))
        #expect(status(of: b.serialize()) == .unsupported)
    }
}
