/// The tensor table of a parsed file, read where it lies: `tensors[i]` decodes record i (checked by
/// `WeightsFile.parse`), so walking the table allocates nothing.
public struct TensorTable: RandomAccessCollection, @unchecked Sendable {
    let bytes: UnsafeRawBufferPointer
    let start: Int
    public let count: Int
    let dataSize: Int

    public var startIndex: Int { 0 }
    public var endIndex: Int { count }

    public subscript(i: Int) -> TensorRecord {
        precondition(i >= 0 && i < count, "tensor index out of range")
        // Validated by `WeightsFile.parse` before any table is handed out.
        return try! WeightsFile.readTensor(ByteReader(bytes), at: record(i), index: i, dataSize: dataSize)
    }

    func record(_ i: Int) -> Int { start + i * TensorField.size }

    /// Whether tensors i and j have the same name: their NUL-padded name fields are equal bytes.
    func nameBytesEqual(_ i: Int, _ j: Int) -> Bool {
        let (a, b) = (record(i) + TensorField.name, record(j) + TensorField.name)
        for k in 0..<TensorField.nameBytes where bytes[a + k] != bytes[b + k] { return false }
        return true
    }

    /// Offset and byte count of tensor i (checked by `readTensor`).
    func extent(_ i: Int) -> (offset: Int, byteCount: Int) {
        let r = ByteReader(bytes)
        return (Int(r.u64(record(i) + TensorField.offset)), Int(r.u64(record(i) + TensorField.byteCount)))
    }
}

/// The layer table of a parsed file, read where it lies, as `TensorTable`.
public struct LayerTable: RandomAccessCollection, @unchecked Sendable {
    let bytes: UnsafeRawBufferPointer
    let start: Int
    public let count: Int
    let tensors: TensorTable
    let metadata: MetadataSection

    public var startIndex: Int { 0 }
    public var endIndex: Int { count }

    public subscript(i: Int) -> LayerRecord {
        precondition(i >= 0 && i < count, "layer index out of range")
        return try! WeightsFile.readLayer(ByteReader(bytes), at: start + i * LayerField.size, index: i, tensors: tensors, metadata: metadata)
    }
}

/// The metadata section of a parsed file, read where it lies (checked by `WeightsFile.parse` before
/// anything reads it).
struct MetadataSection: @unchecked Sendable {
    let bytes: UnsafeRawBufferPointer
    let start: Int
    let end: Int
    let count: Int

    /// Calls `body` with each entry, in file order.
    func forEach(_ body: (ByteString, MetadataValue) -> Void) {
        let r = ByteReader(bytes)
        var p = start
        for i in 0..<count {
            let (key, value) = try! WeightsFile.readMetadataEntry(r, &p, end: end, index: i)
            body(key, value)
        }
    }

    /// The value of layer `layer`'s `vaert.layer.<layer>.activation_parameter`, if there is one.
    func activationParameter(layer: Int) -> MetadataValue? {
        var found: MetadataValue? = nil
        forEach { key, value in if found == nil && MetadataKey.activationParameterLayer(key) == layer { found = value } }
        return found
    }
}
