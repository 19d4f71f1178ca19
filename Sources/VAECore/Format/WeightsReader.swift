/// A parsed weights file: its tables, checked against each other and against the bytes, before any
/// tensor is touched. Parsing trusts nothing in the file: every count is checked against the bytes
/// there are, every product for overflow, every tensor for alignment, extent and overlap.
///
/// A view over the bytes it was parsed from, valid while they are: the tables are read where they lie
/// (records are decoded on access), so parsing allocates nothing, on a desktop or on a device.
public struct WeightsFile: @unchecked Sendable {
    /// The whole file.
    public let bytes: UnsafeRawBufferPointer
    /// Byte offset of the data section from the start of the file.
    public let dataOffset: Int
    /// The file's CRC-32 (checked): names the exact file, e.g. in a batch job's manifest.
    public let crc32: UInt32
    let sections: WeightsFormat.Sections
    let layerCount: Int
    let tensorCount: Int
    let metadataCount: Int
    let metadataEnd: Int

    /// The tensor table, decoded on access.
    public var tensors: TensorTable {
        TensorTable(bytes: bytes, start: sections.tensorTable, count: tensorCount, dataSize: bytes.count - dataOffset)
    }

    /// The layer table, decoded on access.
    public var layers: LayerTable {
        LayerTable(bytes: bytes, start: sections.layerTable, count: layerCount, tensors: tensors, metadata: metadataSection)
    }

    var metadataSection: MetadataSection { MetadataSection(bytes: bytes, start: sections.metadata, end: metadataEnd, count: metadataCount) }

    /// The metadata entries in file order (strings borrow the file's bytes).
    public var metadata: [(key: ByteString, value: MetadataValue)] {
        var out: [(key: ByteString, value: MetadataValue)] = []
        forEachMetadata { key, value in out.append((key, value)) }
        return out
    }

    public func metadataValue(_ key: ByteString) -> MetadataValue? {
        var found: MetadataValue? = nil
        forEachMetadata { k, value in if found == nil && k == key { found = value } }
        return found
    }

    public func metadataValue(_ key: StaticString) -> MetadataValue? { metadataValue(ByteString(key)) }

    public func metadataValue(_ key: String) -> MetadataValue? { metadataValue(ByteString(key)) }

    /// Calls `body` with each metadata entry (validated by `parse`).
    func forEachMetadata(_ body: (ByteString, MetadataValue) -> Void) { metadataSection.forEach(body) }

    /// Parses and validates `bytes`, a whole weights file.
    public static func parse(_ bytes: UnsafeRawBufferPointer) throws(VaertError) -> WeightsFile {
        let r = ByteReader(bytes)
        let prefix = min(bytes.count, WeightsFormat.magic.utf8CodeUnitCount)
        for i in 0..<prefix where bytes[i] != WeightsFormat.magic.utf8Start[i] {
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
        // Bounded tables keep validation fast (the duplicate checks compare pairs).
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

        for t in 0..<tensorCount {
            let tensor = try readTensor(r, at: tensorTable + t * TensorField.size, index: t, dataSize: dataSize)
            if tensor.type == .q8Panels {
                try checkPanels(tensor, UnsafeRawBufferPointer(rebasing: bytes[(dataOffset + tensor.offset)...]))
            }
        }
        let tensors = TensorTable(bytes: bytes, start: tensorTable, count: tensorCount, dataSize: dataSize)
        try checkTensorsDisjoint(tensors)
        // The metadata first: a layer's activation parameter lives there.
        try checkMetadata(r, from: metadataStart, to: metadataEnd, count: metadataCount)
        let metadata = MetadataSection(bytes: bytes, start: metadataStart, end: metadataEnd, count: metadataCount)
        for l in 0..<layerCount {
            _ = try readLayer(r, at: layerTable + l * LayerField.size, index: l, tensors: tensors, metadata: metadata)
        }
        return WeightsFile(bytes: bytes, dataOffset: dataOffset, crc32: storedCRC, sections: sections, layerCount: layerCount,
                           tensorCount: tensorCount, metadataCount: metadataCount, metadataEnd: metadataEnd)
    }

    /// CRC-32 of a whole file with its CRC field taken as zero.
    public static func checksum(_ bytes: UnsafeRawBufferPointer) -> UInt32 {
        let at = HeaderField.crc32
        var crc = CRC32.update(0, UnsafeRawBufferPointer(rebasing: bytes[0..<at]))
        crc = withUnsafeBytes(of: UInt32(0)) { CRC32.update(crc, $0) }
        return CRC32.update(crc, UnsafeRawBufferPointer(rebasing: bytes[(at + 4)...]))
    }

    /// Tensor record `index` at byte `o` of the table. Messages are built only when a check fails, so a
    /// valid record costs no allocation.
    static func readTensor(_ r: ByteReader, at o: Int, index: Int, dataSize: Int) throws(VaertError) -> TensorRecord {
        let name = try r.name(o + TensorField.name, count: TensorField.nameBytes, what: "tensor \(index)")
        guard let type = ElementType(rawValue: r.u32(o + TensorField.elementType)) else {
            throw VaertError(.unsupported, "tensor '\(name)': element type \(r.u32(o + TensorField.elementType)) is not one this library knows (a newer writer?)")
        }
        let rank = Int(r.u32(o + TensorField.rank))
        guard (1...TensorField.maxRank).contains(rank) else { throw VaertError(.malformed, "tensor '\(name)': rank \(rank) (must be 1 to 4)") }
        var dims = TensorDims()
        var elements = 1
        for d in 0..<TensorField.maxRank {
            let dim = Int(r.u32(o + TensorField.dims + 4 * d))
            if d < rank {
                guard dim > 0 else { throw VaertError(.malformed, "tensor '\(name)': dimension \(d) is 0") }
                let (product, overflow) = elements.multipliedReportingOverflow(by: dim)
                guard !overflow, product <= dataSize else {
                    throw VaertError(.malformed, "tensor '\(name)': \(elements) x \(dim) elements do not fit in the data section")
                }
                elements = product
                dims.append(dim)
            } else if dim != 0 {
                throw VaertError(.malformed, "tensor '\(name)': unused dimension \(d) is \(dim), must be 0")
            }
        }
        let offset = r.u64(o + TensorField.offset)
        let byteCount = r.u64(o + TensorField.byteCount)
        guard let expected = type.byteCount(dims: dims), byteCount == UInt64(expected) else {
            throw VaertError(.malformed, "tensor '\(name)': \(byteCount) bytes do not hold \(elements) elements of \(type.name) in shape \(dims)")
        }
        guard offset % UInt64(WeightsFormat.alignment) == 0 else {
            throw VaertError(.malformed, "tensor '\(name)': offset \(offset) is not a multiple of \(WeightsFormat.alignment)")
        }
        guard offset <= UInt64(dataSize), byteCount <= UInt64(dataSize) - offset else {
            throw VaertError(.malformed, "tensor '\(name)': bytes \(offset)..<\(offset &+ byteCount) lie outside the data section of \(dataSize) bytes")
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

    /// Names are unique and extents disjoint, compared pair by pair: at most 4096 tensors, so a few
    /// million comparisons at worst, and no memory for a sort.
    static func checkTensorsDisjoint(_ tensors: TensorTable) throws(VaertError) {
        for i in 0..<tensors.count {
            let a = tensors[i]
            for j in (i + 1)..<max(tensors.count, i + 1) {
                if tensors.nameBytesEqual(i, j) { throw VaertError(.malformed, "tensor name '\(a.name)' appears twice") }
                let (bOffset, bCount) = tensors.extent(j)
                if a.offset < bOffset + bCount && bOffset < a.offset + a.byteCount {
                    throw VaertError(.malformed, "tensors '\(a.name)' and '\(tensors[j].name)' overlap")
                }
            }
        }
    }

    static func readLayer(_ r: ByteReader, at o: Int, index: Int, tensors: TensorTable, metadata: MetadataSection) throws(VaertError) -> LayerRecord {
        guard let kind = LayerKind(rawValue: r.u32(o + LayerField.kind)) else {
            throw VaertError(.unsupported, "layer \(index): layer kind \(r.u32(o + LayerField.kind)) is not one this library runs (a newer writer?)")
        }
        guard let stack = StackRole(rawValue: r.u32(o + LayerField.stack)) else {
            throw VaertError(.malformed, "layer \(index): unknown stack \(r.u32(o + LayerField.stack))")
        }
        let activationCode = r.u32(o + LayerField.activation)
        guard Activation.isKnown(formatCode: activationCode) else {
            throw VaertError(.unsupported, "layer \(index): activation \(activationCode) is not one this library runs (a newer writer?)")
        }
        var parameter: Float? = nil
        if Activation.takesParameter(formatCode: activationCode) {
            guard case .f32(let value)? = metadata.activationParameter(layer: index), value.isFinite else {
                throw VaertError(.malformed, "layer \(index): activation \(activationCode) needs its parameter, a finite f32 metadata entry vaert.layer.\(index).activation_parameter")
            }
            parameter = value
        }
        let activation = Activation(formatCode: activationCode, parameter: parameter)!
        let weight = Int(r.u32(o + LayerField.weight))
        guard weight < tensors.count else { throw VaertError(.missingTensor, "layer \(index): weight tensor index \(weight) of \(tensors.count)") }
        let biasCode = r.u32(o + LayerField.bias)
        var bias: Int? = nil
        if biasCode != WeightsFormat.noTensor {
            guard Int(biasCode) < tensors.count else { throw VaertError(.missingTensor, "layer \(index): bias tensor index \(biasCode) of \(tensors.count)") }
            bias = Int(biasCode)
        }
        let input = try r.shape(o + LayerField.inputShape, what: "layer \(index) input")
        let output = try r.shape(o + LayerField.outputShape, what: "layer \(index) output")
        func value(_ i: Int) -> Int { Int(r.u32(o + LayerField.parameters + 4 * i)) }
        var parameters: ConvParameters? = nil
        var codebookSize = 0
        var mask: ConvMask? = nil
        switch kind {
        case .dense:
            for i in 0..<LayerField.parameterCount where value(i) != 0 {
                throw VaertError(.malformed, "layer \(index): a dense layer's parameters must be 0")
            }
        case .conv2d, .convTranspose2d:
            let p = ConvParameters(kernelHeight: value(0), kernelWidth: value(1), stride: value(2), padding: value(3), outputPadding: value(4))
            guard p.isWithinFormatLimits else { throw VaertError(.malformed, "layer \(index): kernel \(p.kernelHeight)x\(p.kernelWidth), stride \(p.stride), padding \(p.padding), output padding \(p.outputPadding) are out of range") }
            let expected: Shape3
            if kind == .conv2d {
                guard p.outputPadding == 0, let h = p.convolutionOutput(input.height, kernel: p.kernelHeight),
                      let w = p.convolutionOutput(input.width, kernel: p.kernelWidth)
                else { throw VaertError(.malformed, "layer \(index): the kernel does not fit the \(input) input") }
                expected = Shape3(channels: output.channels, height: h, width: w)
            } else {
                expected = Shape3(channels: output.channels, height: p.transposedOutput(input.height, kernel: p.kernelHeight),
                                  width: p.transposedOutput(input.width, kernel: p.kernelWidth))
            }
            guard output == expected else { throw VaertError(.malformed, "layer \(index): output shape \(output), the geometry gives \(expected)") }
            parameters = p
        case .codebook:
            codebookSize = value(0)
            guard (1...65536).contains(codebookSize) else { throw VaertError(.malformed, "layer \(index): a codebook holds 1 to 65536 vectors, not \(codebookSize)") }
            for i in 1..<LayerField.parameterCount where value(i) != 0 {
                throw VaertError(.malformed, "layer \(index): a codebook's parameters after its size must be 0")
            }
            guard input == output, activation == .identity, bias == nil else {
                throw VaertError(.malformed, "layer \(index): a codebook's output is its input's grid, with no activation and no bias")
            }
            guard tensors[weight].type == .f32 else { throw VaertError(.malformed, "layer \(index): a codebook's vectors are f32") }
        case .maskedConv2d:
            let k = value(0)
            guard let m = ConvMask(rawValue: UInt32(value(4))) else { throw VaertError(.malformed, "layer \(index): mask \(value(4)) is neither 1 (type A) nor 2 (type B)") }
            guard (1...63).contains(k), k % 2 == 1, value(1) == k, value(2) == 1, value(3) == k / 2 else {
                throw VaertError(.malformed, "layer \(index): a masked convolution has an odd square kernel up to 63, stride 1 and padding k / 2")
            }
            guard output.height == input.height, output.width == input.width else {
                throw VaertError(.malformed, "layer \(index): a masked convolution keeps its input's \(input.height)x\(input.width) grid")
            }
            guard tensors[weight].type == .f32 else { throw VaertError(.malformed, "layer \(index): a masked convolution's weights are f32") }
            parameters = ConvParameters(kernelHeight: k, kernelWidth: k, stride: 1, padding: k / 2)
            mask = m
        }
        guard (stack == .prior) == (kind == .maskedConv2d) else {
            throw VaertError(.malformed, "layer \(index): the prior stack holds masked convolutions, and only it does")
        }
        let record = LayerRecord(kind: kind, stack: stack, activation: activation, weight: weight, bias: bias, input: input, output: output,
                                 parameters: parameters, codebookSize: codebookSize, mask: mask)
        let w = tensors[weight]
        guard w.type != .q8Panels || kind == .dense else {
            throw VaertError(.malformed, "layer \(index): weight '\(w.name)' is int8 panels, which only a dense layer takes")
        }
        guard w.dims == record.weightDims else {
            throw VaertError(.malformed, "layer \(index): weight '\(w.name)' has shape \(w.dims), the layer needs \(record.weightDims)")
        }
        if let bias {
            let b = tensors[bias]
            guard b.dims == TensorDims(record.biasCount) else {
                throw VaertError(.malformed, "layer \(index): bias '\(b.name)' has shape \(b.dims), the layer needs [\(record.biasCount)]")
            }
        }
        return record
    }
    /// Metadata entry `index` at `p` (advanced past it), before `end`.
    static func readMetadataEntry(_ r: ByteReader, _ p: inout Int, end: Int, index: Int) throws(VaertError) -> (ByteString, MetadataValue) {
        let key = try r.string(&p, end: end, maxBytes: 255, what: "metadata entry \(index) key")
        guard !key.isEmpty else { throw VaertError(.malformed, "metadata entry \(index) has an empty key") }
        let code = try r.u32(&p, end: end, what: "metadata '\(key)' type")
        guard let type = MetadataType(rawValue: code) else { throw VaertError(.malformed, "metadata '\(key)': unknown type \(code)") }
        switch type {
        case .u32: return (key, .u32(try r.u32(&p, end: end, what: "metadata '\(key)'")))
        case .f32: return (key, .f32(Float(bitPattern: try r.u32(&p, end: end, what: "metadata '\(key)'"))))
        case .string: return (key, .string(try r.string(&p, end: end, maxBytes: end - p, what: "metadata '\(key)'")))
        case .f64:
            let lo = try r.u32(&p, end: end, what: "metadata '\(key)'")
            let hi = try r.u32(&p, end: end, what: "metadata '\(key)'")
            return (key, .f64(Double(bitPattern: UInt64(hi) << 32 | UInt64(lo))))
        }
    }

    /// Every entry reads, the entries fill the section exactly, and no key appears twice (pairs
    /// compared: no memory for a sort).
    static func checkMetadata(_ r: ByteReader, from start: Int, to end: Int, count: Int) throws(VaertError) {
        var p = start
        for i in 0..<count {
            let (key, _) = try readMetadataEntry(r, &p, end: end, index: i)
            var q = p
            for j in (i + 1)..<max(count, i + 1) {
                guard let (other, _) = try? readMetadataEntry(r, &q, end: end, index: j) else { break }
                if other == key { throw VaertError(.malformed, "metadata key '\(key)' appears twice") }
            }
        }
        guard p == end else { throw VaertError(.malformed, "metadata section has \(end - p) bytes after its \(count) entries") }
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

    func u32(_ p: inout Int, end: Int, what: @autoclosure () -> ErrorMessage) throws(VaertError) -> UInt32 {
        guard end - p >= 4 else { throw VaertError(.malformed, "\(what()): runs past the end of its section") }
        defer { p += 4 }
        return u32(p)
    }

    func string(_ p: inout Int, end: Int, maxBytes: Int, what: @autoclosure () -> ErrorMessage) throws(VaertError) -> ByteString {
        let length = Int(try u32(&p, end: end, what: what()))
        guard length <= maxBytes, length <= end - p else { throw VaertError(.malformed, "\(what()): length \(length) runs past its section") }
        defer { p += length }
        return try utf8(p, count: length, what: what())
    }

    /// A NUL-padded name in a fixed field of `count` bytes.
    func name(_ o: Int, count: Int, what: @autoclosure () -> ErrorMessage) throws(VaertError) -> ByteString {
        var length = 0
        while length < count && bytes[o + length] != 0 { length += 1 }
        guard length > 0, length < count else { throw VaertError(.malformed, "\(what()): name is empty or not NUL-terminated") }
        for i in length..<count where bytes[o + i] != 0 {
            throw VaertError(.malformed, "\(what()): bytes after the name's NUL must be 0")
        }
        return try utf8(o, count: length, what: what())
    }

    func shape(_ o: Int, what: @autoclosure () -> ErrorMessage) throws(VaertError) -> Shape3 {
        let s = Shape3(channels: Int(u32(o)), height: Int(u32(o + 4)), width: Int(u32(o + 8)))
        guard s.isWithinFormatLimits else { throw VaertError(.malformed, "\(what()) shape \(s) is empty or too large") }
        return s
    }

    func utf8(_ o: Int, count: Int, what: @autoclosure () -> ErrorMessage) throws(VaertError) -> ByteString {
        let slice = UnsafeRawBufferPointer(rebasing: bytes[o..<(o + count)])
        guard ByteString.isValidUTF8(slice) else { throw VaertError(.malformed, "\(what()) is not valid UTF-8") }
        return ByteString(validated: slice)
    }
}
