import VAECore

/// The protobuf wire format, read for the subset an ONNX file needs: a message is a sequence of fields,
/// each a key (field number << 3 | wire type) then a value (varint, 64-bit, length-delimited or 32-bit).
/// Every length and offset is checked against the bytes left, unknown fields are skipped, and repeated
/// scalars are read packed or unpacked. Hand-written rather than swift-protobuf: its runtime imports
/// Foundation in 45 of its 94 files, and ONNX import needs seven messages of it.
public struct ProtobufReader {
    public enum WireType: UInt8 {
        case varint = 0, fixed64 = 1, lengthDelimited = 2, fixed32 = 5
    }

    /// One field: its number, its wire type, and its value (`varint` for varints and fixed values, `bytes`
    /// for length-delimited ones).
    public struct Field {
        public var number: Int
        public var wireType: WireType
        public var varint: UInt64
        public var bytes: ArraySlice<UInt8>
    }

    let bytes: ArraySlice<UInt8>
    /// What the message is, for error messages ("node 3 attribute 'pads'").
    let what: String

    public init(_ bytes: ArraySlice<UInt8>, what: String) {
        self.bytes = bytes
        self.what = what
    }

    /// The fields in order. Groups (wire types 3 and 4, deprecated) and field number 0 are malformed.
    public func fields() throws(VaertError) -> [Field] {
        var out: [Field] = []
        var p = bytes.startIndex
        while p < bytes.endIndex {
            let key = try varint(&p)
            guard let type = WireType(rawValue: UInt8(key & 7)), key >> 3 > 0, key >> 3 <= 0x1FFF_FFFF else {
                throw VaertError(.malformed, "\(what): a field key \(key) at byte \(p - bytes.startIndex) (wire type \(key & 7)) is not valid protobuf")
            }
            var field = Field(number: Int(key >> 3), wireType: type, varint: 0, bytes: [])
            switch type {
            case .varint: field.varint = try varint(&p)
            case .fixed64: field.varint = try fixed(&p, count: 8)
            case .fixed32: field.varint = try fixed(&p, count: 4)
            case .lengthDelimited:
                let length = try varint(&p)
                guard length <= UInt64(bytes.endIndex - p) else {
                    throw VaertError(.malformed, "\(what): field \(field.number) says \(length) bytes, \(bytes.endIndex - p) are left")
                }
                field.bytes = bytes[p..<(p + Int(length))]
                p += Int(length)
            }
            out.append(field)
        }
        return out
    }

    /// A varint of at most 10 bytes.
    func varint(_ p: inout Int) throws(VaertError) -> UInt64 {
        var value: UInt64 = 0
        for shift in stride(from: 0, to: 64, by: 7) {
            guard p < bytes.endIndex else { throw VaertError(.malformed, "\(what): a varint runs past the end") }
            let byte = bytes[p]
            p += 1
            value |= UInt64(byte & 0x7F) << UInt64(shift)
            if byte & 0x80 == 0 { return value }
        }
        throw VaertError(.malformed, "\(what): a varint is longer than 10 bytes")
    }

    func fixed(_ p: inout Int, count: Int) throws(VaertError) -> UInt64 {
        guard bytes.endIndex - p >= count else { throw VaertError(.malformed, "\(what): a \(8 * count)-bit value runs past the end") }
        var value: UInt64 = 0
        for i in 0..<count { value |= UInt64(bytes[p + i]) << UInt64(8 * i) }
        p += count
        return value
    }

    /// A repeated varint field's values (int64, int32, enums): each unpacked field, or the packed run of a
    /// length-delimited one, in order.
    public static func varints(_ fields: [Field], number: Int, what: String) throws(VaertError) -> [Int64] {
        var out: [Int64] = []
        for f in fields where f.number == number {
            switch f.wireType {
            case .varint: out.append(Int64(bitPattern: f.varint))
            case .lengthDelimited:
                let packed = ProtobufReader(f.bytes, what: what)
                var p = f.bytes.startIndex
                while p < f.bytes.endIndex { out.append(Int64(bitPattern: try packed.varint(&p))) }
            default: throw VaertError(.malformed, "\(what): field \(number) should hold integers, has wire type \(f.wireType.rawValue)")
            }
        }
        return out
    }

    /// A repeated float field's values: 32-bit fields, or packed runs of them.
    public static func floats(_ fields: [Field], number: Int, what: String) throws(VaertError) -> [Float] {
        var out: [Float] = []
        for f in fields where f.number == number {
            switch f.wireType {
            case .fixed32: out.append(Float(bitPattern: UInt32(truncatingIfNeeded: f.varint)))
            case .lengthDelimited:
                guard f.bytes.count % 4 == 0 else { throw VaertError(.malformed, "\(what): field \(number) packs \(f.bytes.count) bytes, not whole floats") }
                var p = f.bytes.startIndex
                while p < f.bytes.endIndex {
                    out.append(Float(bitPattern: UInt32(f.bytes[p]) | UInt32(f.bytes[p + 1]) << 8 | UInt32(f.bytes[p + 2]) << 16 | UInt32(f.bytes[p + 3]) << 24))
                    p += 4
                }
            default: throw VaertError(.malformed, "\(what): field \(number) should hold floats, has wire type \(f.wireType.rawValue)")
            }
        }
        return out
    }

    /// A string field (UTF-8), the last one given as protobuf says.
    public static func string(_ fields: [Field], number: Int, what: String) throws(VaertError) -> String? {
        guard let f = fields.last(where: { $0.number == number }) else { return nil }
        guard f.wireType == .lengthDelimited, let s = String(validating: f.bytes, as: UTF8.self) else {
            throw VaertError(.malformed, "\(what): field \(number) should be a UTF-8 string")
        }
        return s
    }
}
