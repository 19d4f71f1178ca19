/// A parsed weights file: its tables, checked against each other and against the bytes, before any
/// tensor is touched. Parsing trusts nothing in the file: every count is checked against the bytes
/// there are, every product for overflow, every tensor for alignment, extent and overlap.
public struct WeightsFile: Sendable {
    public var layers: [LayerRecord]
    public var tensors: [TensorRecord]
    public var metadata: [(key: ByteString, value: MetadataValue)]
    /// Byte offset of the data section from the start of the file.
    public var dataOffset: Int
    /// The file's CRC-32 (checked): names the exact file, e.g. in a batch job's manifest.
    public var crc32: UInt32

    public func metadataValue(_ key: ByteString) -> MetadataValue? {
        metadata.first { $0.key == key }?.value
    }

    public func metadataValue(_ key: StaticString) -> MetadataValue? {
        metadata.first { $0.key == key }?.value
    }

    public func metadataValue(_ key: String) -> MetadataValue? { metadataValue(ByteString(key)) }

    /// Parses and validates `bytes`, a whole weights file.
    public static func parse(_ bytes: UnsafeRawBufferPointer) throws(VaertError) -> WeightsFile {
        var r = ByteReader(bytes)
        let magic = WeightsFormat.magic
        let prefix = min(bytes.count, magic.count)
        for i in 0..<prefix where bytes[i] != magic[i] {
            throw VaertError(.badMagic, "not a vaert weights file: bad magic at byte \(i)")
        }
        if bytes.count < HeaderField.size {
            throw VaertError(.truncated, "truncated: \(bytes.count) bytes, the header alone is \(HeaderField.size)")
        }
        let version = r.u32(HeaderField.version)
        if version != WeightsFormat.version {
            if version.byteSwapped == WeightsFormat.version {
                throw VaertError(.byteOrder, "big-endian weights file: vaert files are little-endian")
            }
            throw VaertError(.unsupportedVersion, "weights file version \(version); this library reads version \(WeightsFormat.version)")
        }
        guard r.u32(HeaderField.headerSize) == UInt32(HeaderField.size) else {
            throw VaertError(.malformed, "header_size is \(r.u32(HeaderField.headerSize)), expected \(HeaderField.size)")
        }
        let fileSize = r.u64(HeaderField.fileSize)
        if fileSize > UInt64(bytes.count) {
            throw VaertError(.truncated, "truncated: header says \(fileSize) bytes, only \(bytes.count) present")
        }
        if fileSize < UInt64(bytes.count) {
            throw VaertError(.malformed, "\(bytes.count) bytes given but the header says the file is \(fileSize)")
        }
        let storedCRC = r.u32(HeaderField.crc32)
        let actualCRC = WeightsFile.checksum(bytes)
        guard storedCRC == actualCRC else {
            throw VaertError(.checksum, "CRC-32 is \(hex: actualCRC), the header says \(hex: storedCRC)")
        }
        guard r.u32(HeaderField.flags) == 0, r.u32(HeaderField.reserved) == 0 else {
            throw VaertError(.malformed, "flags and reserved header fields must be 0 in version 1")
        }
        let layerCount = Int(r.u32(HeaderField.layerCount))
        let tensorCount = Int(r.u32(HeaderField.tensorCount))
        let metadataCount = Int(r.u32(HeaderField.metadataCount))
        // Bounded tables keep validation linear in the file size (the duplicate checks sort).
        guard layerCount <= WeightsFormat.maxTableEntries, tensorCount <= WeightsFormat.maxTableEntries,
              metadataCount <= WeightsFormat.maxTableEntries
        else {
            throw VaertError(.malformed, "\(layerCount) layers, \(tensorCount) tensors, \(metadataCount) metadata entries: at most \(WeightsFormat.maxTableEntries) each")
        }
        // The sections follow each other in a fixed order; every offset must be where that order puts it.
        let metadataSize = r.u64(HeaderField.metadataSize)
        guard metadataSize <= UInt64(bytes.count) else {
            throw VaertError(.malformed, "metadata_size \(metadataSize) exceeds the file size \(bytes.count)")
        }
        let sections = WeightsFormat.Sections(layerCount: layerCount, tensorCount: tensorCount, metadataSize: Int(metadataSize))
        let (layerTable, tensorTable, metadataStart, dataOffset) = (sections.layerTable, sections.tensorTable, sections.metadata, sections.data)
        try expect(r.u64(HeaderField.layerTableOffset), Int64(layerTable), "layer_table_offset")
        try expect(r.u64(HeaderField.tensorTableOffset), Int64(tensorTable), "tensor_table_offset")
        try expect(r.u64(HeaderField.metadataOffset), Int64(metadataStart), "metadata_offset")
        let metadataEnd = metadataStart + Int(metadataSize)
        try expect(r.u64(HeaderField.dataOffset), Int64(dataOffset), "data_offset")
        guard dataOffset <= bytes.count else {
            throw VaertError(.truncated, "truncated: the tables end at byte \(dataOffset), the file at \(bytes.count)")
        }
        let dataSize = bytes.count - dataOffset
        try expect(r.u64(HeaderField.dataSize), Int64(dataSize), "data_size")

        var tensors: [TensorRecord] = []
        tensors.reserveCapacity(tensorCount)
        for t in 0..<tensorCount {
            tensors.append(try readTensor(&r, at: tensorTable + t * TensorField.size, index: t, dataSize: dataSize))
        }
        try checkTensorsDisjoint(tensors)
        for t in tensors where t.type == .q8Panels {
            try checkPanels(t, UnsafeRawBufferPointer(rebasing: bytes[(dataOffset + t.offset)...]))
        }
        var layers: [LayerRecord] = []
        layers.reserveCapacity(layerCount)
        for l in 0..<layerCount {
            layers.append(try readLayer(&r, at: layerTable + l * LayerField.size, index: l, tensors: tensors))
        }
        let metadata = try readMetadata(&r, from: metadataStart, to: metadataEnd, count: metadataCount)
        return WeightsFile(layers: layers, tensors: tensors, metadata: metadata, dataOffset: dataOffset, crc32: storedCRC)
    }

    /// CRC-32 of a whole file with its CRC field taken as zero.
    public static func checksum(_ bytes: UnsafeRawBufferPointer) -> UInt32 {
        let at = HeaderField.crc32
        let zeros: [UInt8] = [0, 0, 0, 0]
        var crc = CRC32.update(0, UnsafeRawBufferPointer(rebasing: bytes[0..<at]))
        crc = zeros.withUnsafeBytes { CRC32.update(crc, $0) }
        return CRC32.update(crc, UnsafeRawBufferPointer(rebasing: bytes[(at + 4)...]))
    }

    static func readTensor(_ r: inout ByteReader, at o: Int, index: Int, dataSize: Int) throws(VaertError) -> TensorRecord {
        let name = try r.name(o + TensorField.name, count: TensorField.nameBytes, what: "tensor \(index)")
        let where_: ErrorMessage = "tensor '\(name)'"
        guard let type = ElementType(rawValue: r.u32(o + TensorField.elementType)) else {
            throw VaertError(.unsupported, "\(where_): element type \(r.u32(o + TensorField.elementType)) is not one this library knows (a newer writer?)")
        }
        let rank = Int(r.u32(o + TensorField.rank))
        guard (1...TensorField.maxRank).contains(rank) else { throw VaertError(.malformed, "\(where_): rank \(rank) (must be 1 to 4)") }
        var dims: [Int] = []
        var elements = 1
        for d in 0..<TensorField.maxRank {
            let dim = Int(r.u32(o + TensorField.dims + 4 * d))
            if d < rank {
                guard dim > 0 else { throw VaertError(.malformed, "\(where_): dimension \(d) is 0") }
                let (product, overflow) = elements.multipliedReportingOverflow(by: dim)
                guard !overflow, product <= dataSize else {
                    throw VaertError(.malformed, "\(where_): \(elements) x \(dim) elements do not fit in the data section")
                }
                elements = product
                dims.append(dim)
            } else if dim != 0 {
                throw VaertError(.malformed, "\(where_): unused dimension \(d) is \(dim), must be 0")
            }
        }
        let offset = r.u64(o + TensorField.offset)
        let byteCount = r.u64(o + TensorField.byteCount)
        guard let expected = type.byteCount(dims: dims), byteCount == UInt64(expected) else {
            throw VaertError(.malformed, "\(where_): \(byteCount) bytes do not hold \(elements) elements of \(type.name) in shape \(dims)")
        }
        guard offset % UInt64(WeightsFormat.alignment) == 0 else {
            throw VaertError(.malformed, "\(where_): offset \(offset) is not a multiple of \(WeightsFormat.alignment)")
        }
        guard offset <= UInt64(dataSize), byteCount <= UInt64(dataSize) - offset else {
            throw VaertError(.malformed, "\(where_): bytes \(offset)..<\(offset &+ byteCount) lie outside the data section of \(dataSize) bytes")
        }
        return TensorRecord(name: name, type: type, dims: dims, offset: Int(offset), byteCount: Int(byteCount))
    }

    /// An int8 panel tensor's kernels rely on two facts, checked here byte by byte: no value is −128 (the
    /// AVX2 sign trick negates values), and the padding (after the scales, past row k or column n) is 0.
    static func checkPanels(_ t: TensorRecord, _ bytes: UnsafeRawBufferPointer) throws(VaertError) {
        let (k, n) = (t.dims[0], t.dims[1])
        let scaleBytes = Int8Panels.scaleBytes(columns: n)
        for i in (4 * n)..<scaleBytes where bytes[i] != 0 {
            throw VaertError(.malformed, "tensor '\(t.name)': byte \(i) pads the scales and must be 0")
        }
        let groups = Int8Panels.groups(k)
        for i in 0..<Int8Panels.valueBytes(rows: k, columns: n) {
            let value = bytes[scaleBytes + i]
            let (block, within) = (i / Int8Panels.groupBytes, i % Int8Panels.groupBytes)
            let row = (block % groups) * Int8Panels.groupDepth + within % Int8Panels.groupDepth
            let column = (block / groups) * Int8Panels.panelWidth + within / Int8Panels.groupDepth
            if row >= k || column >= n {
                guard value == 0 else { throw VaertError(.malformed, "tensor '\(t.name)': padding byte \(scaleBytes + i) is not 0") }
            } else if value == 0x80 {
                throw VaertError(.malformed, "tensor '\(t.name)': value (\(row), \(column)) is -128; int8 panels hold -127...127")
            }
        }
    }

    static func checkTensorsDisjoint(_ tensors: [TensorRecord]) throws(VaertError) {
        if let i = ByteString.firstRepeated(tensors.map { $0.name }) {
            throw VaertError(.malformed, "tensor name '\(tensors[i].name)' appears twice")
        }
        let byOffset = tensors.sorted { $0.offset < $1.offset }
        for i in byOffset.indices.dropFirst() where byOffset[i - 1].offset + byOffset[i - 1].byteCount > byOffset[i].offset {
            throw VaertError(.malformed, "tensors '\(byOffset[i - 1].name)' and '\(byOffset[i].name)' overlap")
        }
    }

    static func readLayer(_ r: inout ByteReader, at o: Int, index: Int, tensors: [TensorRecord]) throws(VaertError) -> LayerRecord {
        let where_: ErrorMessage = "layer \(index)"
        guard let kind = LayerKind(rawValue: r.u32(o + LayerField.kind)) else {
            throw VaertError(.unsupported, "\(where_): layer kind \(r.u32(o + LayerField.kind)) is not one this library runs (a newer writer?)")
        }
        guard let stack = StackRole(rawValue: r.u32(o + LayerField.stack)) else {
            throw VaertError(.malformed, "\(where_): unknown stack \(r.u32(o + LayerField.stack))")
        }
        guard let activation = Activation(formatCode: r.u32(o + LayerField.activation)) else {
            throw VaertError(.unsupported, "\(where_): activation \(r.u32(o + LayerField.activation)) is not one this library runs (a newer writer?)")
        }
        let weight = Int(r.u32(o + LayerField.weight))
        guard weight < tensors.count else { throw VaertError(.missingTensor, "\(where_): weight tensor index \(weight) of \(tensors.count)") }
        let biasCode = r.u32(o + LayerField.bias)
        var bias: Int? = nil
        if biasCode != WeightsFormat.noTensor {
            guard Int(biasCode) < tensors.count else { throw VaertError(.missingTensor, "\(where_): bias tensor index \(biasCode) of \(tensors.count)") }
            bias = Int(biasCode)
        }
        let input = try r.shape(o + LayerField.inputShape, what: "\(where_) input")
        let output = try r.shape(o + LayerField.outputShape, what: "\(where_) output")
        let values = (0..<LayerField.parameterCount).map { Int(r.u32(o + LayerField.parameters + 4 * $0)) }
        var parameters: ConvParameters? = nil
        switch kind {
        case .dense:
            guard values.allSatisfy({ $0 == 0 }) else { throw VaertError(.malformed, "\(where_): a dense layer's parameters must be 0") }
        case .conv2d, .convTranspose2d:
            let p = ConvParameters(kernelHeight: values[0], kernelWidth: values[1], stride: values[2], padding: values[3], outputPadding: values[4])
            guard p.isWithinFormatLimits else { throw VaertError(.malformed, "\(where_): kernel \(p.kernelHeight)x\(p.kernelWidth), stride \(p.stride), padding \(p.padding), output padding \(p.outputPadding) are out of range") }
            let expected: Shape3
            if kind == .conv2d {
                guard p.outputPadding == 0, let h = p.convolutionOutput(input.height, kernel: p.kernelHeight),
                      let w = p.convolutionOutput(input.width, kernel: p.kernelWidth)
                else { throw VaertError(.malformed, "\(where_): the kernel does not fit the \(input) input") }
                expected = Shape3(channels: output.channels, height: h, width: w)
            } else {
                expected = Shape3(channels: output.channels, height: p.transposedOutput(input.height, kernel: p.kernelHeight),
                                  width: p.transposedOutput(input.width, kernel: p.kernelWidth))
            }
            guard output == expected else { throw VaertError(.malformed, "\(where_): output shape \(output), the geometry gives \(expected)") }
            parameters = p
        }
        let record = LayerRecord(kind: kind, stack: stack, activation: activation, weight: weight, bias: bias, input: input, output: output,
                                 parameters: parameters)
        let w = tensors[weight]
        guard w.type != .q8Panels || kind == .dense else {
            throw VaertError(.malformed, "\(where_): weight '\(w.name)' is int8 panels, which only a dense layer takes")
        }
        guard w.dims == record.weightDims else {
            throw VaertError(.malformed, "\(where_): weight '\(w.name)' has shape \(w.dims), the layer needs \(record.weightDims)")
        }
        if let bias {
            let b = tensors[bias]
            guard b.dims == [record.biasCount] else {
                throw VaertError(.malformed, "\(where_): bias '\(b.name)' has shape \(b.dims), the layer needs [\(record.biasCount)]")
            }
        }
        return record
    }
    static func readMetadata(_ r: inout ByteReader, from start: Int, to end: Int, count: Int) throws(VaertError) -> [(key: ByteString, value: MetadataValue)] {
        var out: [(key: ByteString, value: MetadataValue)] = []
        var p = start
        for i in 0..<count {
            let key = try r.string(&p, end: end, maxBytes: 255, what: "metadata entry \(i) key")
            guard !key.isEmpty else { throw VaertError(.malformed, "metadata entry \(i) has an empty key") }
            let code = try r.u32(&p, end: end, what: "metadata '\(key)' type")
            guard let type = MetadataType(rawValue: code) else { throw VaertError(.malformed, "metadata '\(key)': unknown type \(code)") }
            let value: MetadataValue
            switch type {
            case .u32: value = .u32(try r.u32(&p, end: end, what: "metadata '\(key)'"))
            case .f32: value = .f32(Float(bitPattern: try r.u32(&p, end: end, what: "metadata '\(key)'")))
            case .string: value = .string(try r.string(&p, end: end, maxBytes: end - p, what: "metadata '\(key)'"))
            case .f64:
                let lo = try r.u32(&p, end: end, what: "metadata '\(key)'")
                let hi = try r.u32(&p, end: end, what: "metadata '\(key)'")
                value = .f64(Double(bitPattern: UInt64(hi) << 32 | UInt64(lo)))
            }
            out.append((key, value))
        }
        if let i = ByteString.firstRepeated(out.map { $0.key }) { throw VaertError(.malformed, "metadata key '\(out[i].key)' appears twice") }
        guard p == end else { throw VaertError(.malformed, "metadata section has \(end - p) bytes after its \(count) entries") }
        return out
    }

    static func expect(_ value: UInt64, _ expected: Int64, _ field: StaticString) throws(VaertError) {
        guard value == UInt64(expected) else {
            throw VaertError(.malformed, "\(field) is \(value), expected \(expected)")
        }
    }
}

@inline(__always)
func alignUp(_ n: Int, _ alignment: Int) -> Int { (n + alignment - 1) / alignment * alignment }

/// Little-endian reads from a byte buffer. Fixed-offset reads are for the header and tables, whose
/// extents were checked first; cursor reads check against `end` themselves.
struct ByteReader {
    let bytes: UnsafeRawBufferPointer
    init(_ bytes: UnsafeRawBufferPointer) { self.bytes = bytes }

    func u32(_ o: Int) -> UInt32 { UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: o, as: UInt32.self)) }
    func u64(_ o: Int) -> UInt64 { UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: o, as: UInt64.self)) }

    func u32(_ p: inout Int, end: Int, what: ErrorMessage) throws(VaertError) -> UInt32 {
        guard end - p >= 4 else { throw VaertError(.malformed, "\(what): runs past the end of its section") }
        defer { p += 4 }
        return u32(p)
    }

    func string(_ p: inout Int, end: Int, maxBytes: Int, what: ErrorMessage) throws(VaertError) -> ByteString {
        let length = Int(try u32(&p, end: end, what: what))
        guard length <= maxBytes, length <= end - p else { throw VaertError(.malformed, "\(what): length \(length) runs past its section") }
        defer { p += length }
        return try utf8(p, count: length, what: what)
    }

    /// A NUL-padded name in a fixed field of `count` bytes.
    func name(_ o: Int, count: Int, what: ErrorMessage) throws(VaertError) -> ByteString {
        var length = 0
        while length < count && bytes[o + length] != 0 { length += 1 }
        guard length > 0, length < count else { throw VaertError(.malformed, "\(what): name is empty or not NUL-terminated") }
        for i in length..<count where bytes[o + i] != 0 {
            throw VaertError(.malformed, "\(what): bytes after the name's NUL must be 0")
        }
        return try utf8(o, count: length, what: what)
    }

    func shape(_ o: Int, what: ErrorMessage) throws(VaertError) -> Shape3 {
        let s = Shape3(channels: Int(u32(o)), height: Int(u32(o + 4)), width: Int(u32(o + 8)))
        guard s.isWithinFormatLimits else { throw VaertError(.malformed, "\(what) shape \(s) is empty or too large") }
        return s
    }

    func utf8(_ o: Int, count: Int, what: ErrorMessage) throws(VaertError) -> ByteString {
        let slice = UnsafeRawBufferPointer(rebasing: bytes[o..<(o + count)])
        guard ByteString.isValidUTF8(slice) else { throw VaertError(.malformed, "\(what) is not valid UTF-8") }
        return ByteString(validated: slice)
    }
}
