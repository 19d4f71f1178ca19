/// Builds a weights file in memory: add tensors, layers and metadata, then `serialize()`.
public struct WeightsFileBuilder: Sendable {
    public private(set) var layers: [LayerRecord] = []
    public private(set) var tensors: [(name: String, dims: [Int], values: [Float], type: ElementType)] = []
    /// Bytes given ready-encoded (int8 panels quantized by the caller), by tensor index.
    private var encodedTensors: [Int: [UInt8]] = [:]
    public private(set) var metadata: [(key: ByteString, value: MetadataValue)] = []

    public init() {}

    /// Adds a tensor and returns its index for the layer table.
    @discardableResult
    public mutating func addTensor(_ name: String, dims: [Int], values: [Float], type: ElementType = .f32) -> Int {
        precondition(!name.isEmpty && name.utf8.count <= WeightsFormat.maxNameBytes, "tensor name '\(name)' must be 1 to 23 bytes")
        precondition(dims.reduce(1, *) == values.count, "tensor '\(name)': \(values.count) values for shape \(dims)")
        precondition(!tensors.contains { $0.name.utf8.elementsEqual(name.utf8) }, "tensor '\(name)' added twice")
        precondition((1...TensorField.maxRank).contains(dims.count) && type.byteCount(dims: TensorDims(dims)) != nil, "tensor '\(name)': \(type.name) needs rank 2 or more")
        precondition(tensors.count < WeightsFormat.maxTableEntries, "at most \(WeightsFormat.maxTableEntries) tensors")
        tensors.append((name, dims, values, type))
        return tensors.count - 1
    }

    /// Adds a dense weight [k, n] as int8 panels the caller quantized (`values` row-major in −127...127,
    /// one scale per column), and returns its index.
    @discardableResult
    public mutating func addPanels(_ name: String, rows k: Int, columns n: Int, values: [Int8], scales: [Float]) -> Int {
        let floats = values.indices.map { Float(values[$0]) * scales[$0 % n] }
        let index = addTensor(name, dims: [k, n], values: floats, type: .q8Panels)
        encodedTensors[index] = TensorEncoding.panels(values, scales: scales, rows: k, columns: n)
        return index
    }

    public mutating func addLayer(_ layer: LayerRecord) { layers.append(layer) }

    /// Sets a metadata entry, replacing an earlier value of the same key.
    /// The builder keeps its own copies: `key` and `value` may borrow the bytes of a file being read.
    public mutating func setMetadata(_ key: ByteString, _ value: MetadataValue) {
        if let i = metadata.firstIndex(where: { $0.key == key }) {
            metadata[i].value = value.owned
        } else {
            precondition(metadata.count < WeightsFormat.maxTableEntries, "at most \(WeightsFormat.maxTableEntries) metadata entries")
            metadata.append((key.owned, value.owned))
        }
    }

    public mutating func setMetadata(_ key: StaticString, _ value: MetadataValue) { setMetadata(ByteString(key), value) }
    public mutating func setMetadata(_ key: String, _ value: MetadataValue) { setMetadata(ByteString(key), value) }

    /// The file's bytes: header, layer table, tensor table, metadata, 64-byte aligned data; CRC last.
    /// Fixed-size fields go where `HeaderField`, `LayerField` and `TensorField` put them; padding is zeros.
    public func serialize() -> [UInt8] {
        // The layers' activation parameters are the builder's to write, under their layers' indices now
        // (a copied file's keys would name the old ones).
        var entries = metadata.filter { MetadataKey.activationParameterLayer($0.key) == nil }
        for (i, layer) in layers.enumerated() {
            if let parameter = layer.activation.parameter { entries.append((MetadataKey.activationParameter(layer: i), .f32(parameter))) }
        }
        var metadataBytes: [UInt8] = []
        for (key, value) in entries {
            metadataBytes.appendString(key)
            metadataBytes.appendLE(value.type.rawValue)
            switch value {
            case .u32(let v): metadataBytes.appendLE(v)
            case .f32(let v): metadataBytes.appendLE(v.bitPattern)
            case .string(let s): metadataBytes.appendString(s)
            case .f64(let v): metadataBytes.appendLE(v.bitPattern)
            }
        }
        let sections = WeightsFormat.Sections(layerCount: layers.count, tensorCount: tensors.count, metadataSize: metadataBytes.count)
        var offsets: [Int] = []
        var dataSize = 0
        let encoded = tensors.indices.map { encodedTensors[$0] ?? TensorEncoding.encode(tensors[$0].values, dims: tensors[$0].dims, as: tensors[$0].type) }
        for bytes in encoded {
            offsets.append(dataSize)
            dataSize = alignUp(dataSize + bytes.count, WeightsFormat.alignment)
        }
        let fileSize = sections.data + dataSize

        var out = [UInt8](repeating: 0, count: fileSize)
        WeightsFormat.magic.withUTF8Buffer { out.replaceSubrange(HeaderField.magic..<(HeaderField.magic + $0.count), with: $0) }
        out.storeLE(WeightsFormat.version, at: HeaderField.version)
        out.storeLE(UInt32(HeaderField.size), at: HeaderField.headerSize)
        out.storeLE(UInt64(fileSize), at: HeaderField.fileSize)
        out.storeLE(UInt32(layers.count), at: HeaderField.layerCount)
        out.storeLE(UInt32(tensors.count), at: HeaderField.tensorCount)
        out.storeLE(UInt32(entries.count), at: HeaderField.metadataCount)
        out.storeLE(UInt64(sections.layerTable), at: HeaderField.layerTableOffset)
        out.storeLE(UInt64(sections.tensorTable), at: HeaderField.tensorTableOffset)
        out.storeLE(UInt64(sections.metadata), at: HeaderField.metadataOffset)
        out.storeLE(UInt64(metadataBytes.count), at: HeaderField.metadataSize)
        out.storeLE(UInt64(sections.data), at: HeaderField.dataOffset)
        out.storeLE(UInt64(dataSize), at: HeaderField.dataSize)

        for (i, layer) in layers.enumerated() {
            let o = sections.layerTable + i * LayerField.size
            out.storeLE(layer.kind.rawValue, at: o + LayerField.kind)
            out.storeLE(layer.stack.rawValue, at: o + LayerField.stack)
            out.storeLE(layer.activation.formatCode, at: o + LayerField.activation)
            out.storeLE(UInt32(layer.weight), at: o + LayerField.weight)
            out.storeLE(layer.bias.map { UInt32($0) } ?? WeightsFormat.noTensor, at: o + LayerField.bias)
            out.storeShape(layer.input, at: o + LayerField.inputShape)
            out.storeShape(layer.output, at: o + LayerField.outputShape)
            let p = layer.parameters
            let first = layer.kind == .codebook ? layer.codebookSize : p?.kernelHeight
            let last = layer.kind == .maskedConv2d ? layer.mask.map { Int($0.rawValue) } : p?.outputPadding
            for (j, v) in [first, p?.kernelWidth, p?.stride, p?.padding, last].enumerated() {
                out.storeLE(UInt32(v ?? 0), at: o + LayerField.parameters + 4 * j)
            }
        }
        for (i, t) in tensors.enumerated() {
            let o = sections.tensorTable + i * TensorField.size
            out.replaceSubrange((o + TensorField.name)..<(o + TensorField.name + t.name.utf8.count), with: Array(t.name.utf8))
            out.storeLE(t.type.rawValue, at: o + TensorField.elementType)
            out.storeLE(UInt32(t.dims.count), at: o + TensorField.rank)
            for (d, dim) in t.dims.enumerated() { out.storeLE(UInt32(dim), at: o + TensorField.dims + 4 * d) }
            out.storeLE(UInt64(offsets[i]), at: o + TensorField.offset)
            out.storeLE(UInt64(encoded[i].count), at: o + TensorField.byteCount)
        }
        out.replaceSubrange(sections.metadata..<(sections.metadata + metadataBytes.count), with: metadataBytes)
        for i in tensors.indices {
            let start = sections.data + offsets[i]
            out.replaceSubrange(start..<(start + encoded[i].count), with: encoded[i])
        }
        let crc = out.withUnsafeBytes { WeightsFile.checksum($0) }
        out.storeLE(crc, at: HeaderField.crc32)
        return out
    }
}

extension Array where Element == UInt8 {
    mutating func appendLE<T: FixedWidthInteger>(_ v: T) {
        Swift.withUnsafeBytes(of: v.littleEndian) { append(contentsOf: $0) }
    }

    /// Stores `v` little-endian at byte `offset` (inside the array).
    mutating func storeLE<T: FixedWidthInteger>(_ v: T, at offset: Int) {
        withUnsafeMutableBytes { $0.storeBytes(of: v.littleEndian, toByteOffset: offset, as: T.self) }
    }

    mutating func storeShape(_ s: Shape3, at offset: Int) {
        for (i, v) in [s.channels, s.height, s.width].enumerated() { storeLE(UInt32(v), at: offset + 4 * i) }
    }

    mutating func appendString(_ s: ByteString) {
        appendLE(UInt32(s.utf8.count))
        append(contentsOf: s.utf8)
    }
}
