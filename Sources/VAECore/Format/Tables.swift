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

    public var startIndex: Int { 0 }
    public var endIndex: Int { count }

    public subscript(i: Int) -> LayerRecord {
        precondition(i >= 0 && i < count, "layer index out of range")
        return try! WeightsFile.readLayer(ByteReader(bytes), at: start + i * LayerField.size, index: i, tensors: tensors)
    }
}
