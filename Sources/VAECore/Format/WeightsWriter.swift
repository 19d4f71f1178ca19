/// Builds a weights file in memory: add tensors, layers and metadata, then `serialize()`.
public struct WeightsFileBuilder: Sendable {
    public private(set) var layers: [LayerRecord] = []
    public private(set) var tensors: [(name: String, dims: [Int], values: [Float], type: ElementType)] = []
    public private(set) var metadata: [(key: ByteString, value: MetadataValue)] = []

    public init() {}

    /// Adds a tensor and returns its index for the layer table.
    @discardableResult
    public mutating func addTensor(_ name: String, dims: [Int], values: [Float], type: ElementType = .f32) -> Int {
        precondition(!name.isEmpty && name.utf8.count <= WeightsFormat.maxNameBytes, "tensor name '\(name)' must be 1 to 23 bytes")
        precondition(dims.reduce(1, *) == values.count, "tensor '\(name)': \(values.count) values for shape \(dims)")
        precondition(!tensors.contains { $0.name.utf8.elementsEqual(name.utf8) }, "tensor '\(name)' added twice")
        precondition(type.byteCount(dims: dims) != nil, "tensor '\(name)': \(type.name) needs rank 2 or more")
        precondition(tensors.count < WeightsFormat.maxTableEntries, "at most \(WeightsFormat.maxTableEntries) tensors")
        tensors.append((name, dims, values, type))
        return tensors.count - 1
    }

    public mutating func addLayer(_ layer: LayerRecord) { layers.append(layer) }

    /// Sets a metadata entry, replacing an earlier value of the same key.
    public mutating func setMetadata(_ key: ByteString, _ value: MetadataValue) {
        if let i = metadata.firstIndex(where: { $0.key == key }) {
            metadata[i].value = value
        } else {
            precondition(metadata.count < WeightsFormat.maxTableEntries, "at most \(WeightsFormat.maxTableEntries) metadata entries")
            metadata.append((key, value))
        }
    }

    public mutating func setMetadata(_ key: StaticString, _ value: MetadataValue) { setMetadata(ByteString(key), value) }
    public mutating func setMetadata(_ key: String, _ value: MetadataValue) { setMetadata(ByteString(key), value) }

    /// The file's bytes: header, layer table, tensor table, metadata, 64-byte aligned data; CRC last.
    public func serialize() -> [UInt8] {
        var metadataBytes: [UInt8] = []
        for (key, value) in metadata {
            metadataBytes.appendString(key)
            metadataBytes.appendLE(value.typeCode)
            switch value {
            case .u32(let v): metadataBytes.appendLE(v)
            case .f32(let v): metadataBytes.appendLE(v.bitPattern)
            case .string(let s): metadataBytes.appendString(s)
            case .f64(let v): metadataBytes.appendLE(v.bitPattern)
            }
        }
        let tensorTable = WeightsFormat.headerSize + layers.count * WeightsFormat.layerRecordSize
        let metadataStart = tensorTable + tensors.count * WeightsFormat.tensorRecordSize
        let dataOffset = alignUp(metadataStart + metadataBytes.count, WeightsFormat.alignment)
        var offsets: [Int] = []
        var dataSize = 0
        let encoded = tensors.map { TensorEncoding.encode($0.values, dims: $0.dims, as: $0.type) }
        for bytes in encoded {
            offsets.append(dataSize)
            dataSize = alignUp(dataSize + bytes.count, WeightsFormat.alignment)
        }
        let fileSize = dataOffset + dataSize

        var out: [UInt8] = []
        out.reserveCapacity(fileSize)
        out.append(contentsOf: WeightsFormat.magic)
        out.appendLE(WeightsFormat.version)
        out.appendLE(UInt32(WeightsFormat.headerSize))
        out.appendLE(UInt64(fileSize))
        out.appendLE(UInt32(0))  // CRC, filled in last
        out.appendLE(UInt32(0))  // flags
        out.appendLE(UInt32(layers.count))
        out.appendLE(UInt32(tensors.count))
        out.appendLE(UInt32(metadata.count))
        out.appendLE(UInt32(0))  // reserved
        out.appendLE(UInt64(WeightsFormat.headerSize))
        out.appendLE(UInt64(tensorTable))
        out.appendLE(UInt64(metadataStart))
        out.appendLE(UInt64(metadataBytes.count))
        out.appendLE(UInt64(dataOffset))
        out.appendLE(UInt64(dataSize))

        for layer in layers {
            out.appendLE(layer.kind.rawValue)
            out.appendLE(layer.stack.rawValue)
            out.appendLE(layer.activation.rawValue)
            out.appendLE(UInt32(layer.weight))
            out.appendLE(layer.bias.map { UInt32($0) } ?? WeightsFormat.noTensor)
            for s in [layer.input, layer.output] {
                out.appendLE(UInt32(s.channels))
                out.appendLE(UInt32(s.height))
                out.appendLE(UInt32(s.width))
            }
            let p = layer.parameters
            for v in [p?.kernelHeight, p?.kernelWidth, p?.stride, p?.padding, p?.outputPadding] { out.appendLE(UInt32(v ?? 0)) }
        }
        for (i, t) in tensors.enumerated() {
            var name = Array(t.name.utf8)
            name.append(contentsOf: [UInt8](repeating: 0, count: WeightsFormat.maxNameBytes + 1 - name.count))
            out.append(contentsOf: name)
            out.appendLE(t.type.rawValue)
            out.appendLE(UInt32(t.dims.count))
            for d in 0..<4 { out.appendLE(UInt32(d < t.dims.count ? t.dims[d] : 0)) }
            out.appendLE(UInt64(offsets[i]))
            out.appendLE(UInt64(encoded[i].count))
        }
        out.append(contentsOf: metadataBytes)
        out.append(contentsOf: [UInt8](repeating: 0, count: dataOffset - out.count))
        for i in tensors.indices {
            out.append(contentsOf: [UInt8](repeating: 0, count: dataOffset + offsets[i] - out.count))
            out.append(contentsOf: encoded[i])
        }
        out.append(contentsOf: [UInt8](repeating: 0, count: fileSize - out.count))
        let crc = out.withUnsafeBytes { WeightsFile.checksum($0) }
        out.withUnsafeMutableBytes { $0.storeBytes(of: crc.littleEndian, toByteOffset: WeightsFormat.crcOffset, as: UInt32.self) }
        return out
    }
}

extension Array where Element == UInt8 {
    mutating func appendLE<T: FixedWidthInteger>(_ v: T) {
        Swift.withUnsafeBytes(of: v.littleEndian) { append(contentsOf: $0) }
    }

    mutating func appendString(_ s: ByteString) {
        appendLE(UInt32(s.utf8.count))
        append(contentsOf: s.utf8)
    }
}
