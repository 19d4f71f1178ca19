/// Where each field of the format's fixed-size records lies, in bytes from the record's start (constants
/// that fold into the code, not globals: a device build keeps no table of them): the
/// header, a layer record and a tensor record, as WEIGHTS_FORMAT.md lists them. The one definition the
/// reader, the writer and the tests use.
public enum HeaderField {
    @inlinable public static var size: Int { 96 }
    /// u8[8], `WeightsFormat.magic`.
    @inlinable public static var magic: Int { 0 }
    @inlinable public static var version: Int { 8 }
    @inlinable public static var headerSize: Int { 12 }
    /// u64.
    @inlinable public static var fileSize: Int { 16 }
    /// CRC-32 of the file with these four bytes taken as zero.
    @inlinable public static var crc32: Int { 24 }
    @inlinable public static var flags: Int { 28 }
    @inlinable public static var layerCount: Int { 32 }
    @inlinable public static var tensorCount: Int { 36 }
    @inlinable public static var metadataCount: Int { 40 }
    @inlinable public static var reserved: Int { 44 }
    /// u64 offsets and sizes from here on.
    @inlinable public static var layerTableOffset: Int { 48 }
    @inlinable public static var tensorTableOffset: Int { 56 }
    @inlinable public static var metadataOffset: Int { 64 }
    @inlinable public static var metadataSize: Int { 72 }
    @inlinable public static var dataOffset: Int { 80 }
    @inlinable public static var dataSize: Int { 88 }
}

public enum LayerField {
    @inlinable public static var size: Int { 64 }
    @inlinable public static var kind: Int { 0 }
    @inlinable public static var stack: Int { 4 }
    @inlinable public static var activation: Int { 8 }
    @inlinable public static var weight: Int { 12 }
    @inlinable public static var bias: Int { 16 }
    /// u32[3]: channels, height, width.
    @inlinable public static var inputShape: Int { 20 }
    @inlinable public static var outputShape: Int { 32 }
    /// u32[5]: kernel height, kernel width, stride, padding, output padding.
    @inlinable public static var parameters: Int { 44 }
    @inlinable public static var parameterCount: Int { 5 }
}

public enum TensorField {
    @inlinable public static var size: Int { 64 }
    /// u8[24]: UTF-8, NUL-padded.
    @inlinable public static var name: Int { 0 }
    @inlinable public static var nameBytes: Int { 24 }
    @inlinable public static var elementType: Int { 24 }
    @inlinable public static var rank: Int { 28 }
    /// u32[4], 0 past the rank.
    @inlinable public static var dims: Int { 32 }
    @inlinable public static var maxRank: Int { 4 }
    /// u64, from the start of the data section.
    @inlinable public static var offset: Int { 48 }
    /// u64.
    @inlinable public static var byteCount: Int { 56 }
}

/// Metadata value type codes (the u32 after a key); never reused.
public enum MetadataType: UInt32, Sendable {
    case u32 = 1
    case f32 = 2
    case string = 3
    case f64 = 4
}

extension WeightsFormat {
    /// Where the sections lie: header, layer table, tensor table and metadata follow each other, and the
    /// data section starts at the next multiple of `alignment`.
    public struct Sections: Sendable {
        public let layerTable: Int
        public let tensorTable: Int
        public let metadata: Int
        public let data: Int

        public init(layerCount: Int, tensorCount: Int, metadataSize: Int) {
            layerTable = HeaderField.size
            tensorTable = layerTable + layerCount * LayerField.size
            metadata = tensorTable + tensorCount * TensorField.size
            data = (metadata + metadataSize + WeightsFormat.alignment - 1) / WeightsFormat.alignment * WeightsFormat.alignment
        }
    }
}
