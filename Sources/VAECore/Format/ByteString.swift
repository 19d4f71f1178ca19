/// A UTF-8 string kept as its bytes and compared byte for byte: tensor names, metadata keys and values.
///
/// Names in a weights file are byte strings (no Unicode normalisation), so the loader needs nothing of
/// `String`: an Embedded build that reads a model carries no Unicode tables or String machinery.
/// A string read from a file borrows the file's bytes (reading a model allocates nothing) and is valid
/// while they are; `owned` copies it. Strings made from literals or `String`s own their bytes.
public struct ByteString: Equatable, @unchecked Sendable, ExpressibleByStringLiteral, CustomStringConvertible {
    enum Storage {
        case owned([UInt8])
        case borrowed(UnsafeRawBufferPointer)
    }

    let storage: Storage

    /// `bytes`, which the caller has checked are valid UTF-8 (`ByteString.isValidUTF8`), borrowed.
    init(validated bytes: UnsafeRawBufferPointer) { storage = .borrowed(bytes) }

    public init(_ string: String) { storage = .owned(Array(string.utf8)) }

    public init(stringLiteral value: StaticString) {
        storage = .borrowed(value.withUTF8Buffer { UnsafeRawBufferPointer($0) })
    }

    public init(_ value: StaticString) { self.init(stringLiteral: value) }

    /// Calls `body` with the string's bytes.
    public func withBytes<R>(_ body: (UnsafeRawBufferPointer) -> R) -> R {
        switch storage {
        case .owned(let bytes): return bytes.withUnsafeBytes(body)
        case .borrowed(let bytes): return body(bytes)
        }
    }

    /// The bytes, copied.
    public var utf8: [UInt8] { withBytes { Array($0) } }
    /// The same string owning its bytes (to keep it after the file it was read from is gone).
    public var owned: ByteString { ByteString(owning: utf8) }
    init(owning bytes: [UInt8]) { storage = .owned(bytes) }

    public var count: Int { withBytes { $0.count } }
    public var isEmpty: Bool { count == 0 }
    public var description: String { withBytes { String(decoding: $0, as: UTF8.self) } }

    public static func == (a: ByteString, b: ByteString) -> Bool {
        a.withBytes { x in b.withBytes { y in x.elementsEqual(y) } }
    }

    @_disfavoredOverload
    public static func == (a: ByteString, b: StaticString) -> Bool {
        b.withUTF8Buffer { y in a.withBytes { x in x.elementsEqual(y) } }
    }

    /// Whether `bytes` are well-formed UTF-8 (Unicode 15, table 3-7): no overlong forms, no surrogates,
    /// nothing above U+10FFFF, no truncated sequence.
    public static func isValidUTF8(_ bytes: UnsafeRawBufferPointer) -> Bool {
        var i = 0
        let n = bytes.count
        while i < n {
            let lead = bytes[i]
            if lead < 0x80 { i += 1; continue }
            // The sequence length and the allowed range of the second byte follow from the lead byte.
            let length: Int
            var low: UInt8 = 0x80, high: UInt8 = 0xBF
            switch lead {
            case 0xC2...0xDF: length = 2
            case 0xE0: length = 3; low = 0xA0
            case 0xE1...0xEC, 0xEE...0xEF: length = 3
            case 0xED: length = 3; high = 0x9F
            case 0xF0: length = 4; low = 0x90
            case 0xF1...0xF3: length = 4
            case 0xF4: length = 4; high = 0x8F
            default: return false
            }
            guard n - i >= length, bytes[i + 1] >= low, bytes[i + 1] <= high else { return false }
            for k in 2..<length where bytes[i + k] & 0xC0 != 0x80 { return false }
            i += length
        }
        return true
    }
}
