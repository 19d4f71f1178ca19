/// A UTF-8 string kept as its bytes and compared byte for byte: tensor names, metadata keys and values.
///
/// Names in a weights file are byte strings (no Unicode normalisation), so the loader needs nothing of
/// `String`: an Embedded build that reads a model carries no Unicode tables or String machinery.
public struct ByteString: Equatable, Sendable, ExpressibleByStringLiteral, CustomStringConvertible {
    public let utf8: [UInt8]

    /// `bytes`, which the caller has checked are valid UTF-8 (`ByteString.isValidUTF8`).
    init(validated bytes: UnsafeRawBufferPointer) { utf8 = Array(bytes) }

    public init(_ string: String) { utf8 = Array(string.utf8) }

    public init(stringLiteral value: StaticString) {
        utf8 = value.withUTF8Buffer { Array($0) }
    }

    public init(_ value: StaticString) { self.init(stringLiteral: value) }

    public var isEmpty: Bool { utf8.isEmpty }
    public var description: String { String(decoding: utf8, as: UTF8.self) }

    public static func == (a: ByteString, b: StaticString) -> Bool {
        b.withUTF8Buffer { a.utf8.elementsEqual($0) }
    }

    /// Byte-wise order (which is also code-point order for UTF-8).
    static func precedes(_ a: ByteString, _ b: ByteString) -> Bool {
        a.utf8.lexicographicallyPrecedes(b.utf8)
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

    /// The index of an element that equals an earlier one, or nil: O(n log n) (a sort, not a hash set).
    static func firstRepeated(_ names: [ByteString]) -> Int? {
        let order = names.indices.sorted { precedes(names[$0], names[$1]) }
        for k in order.indices.dropFirst() where names[order[k - 1]] == names[order[k]] { return max(order[k - 1], order[k]) }
        return nil
    }
}
