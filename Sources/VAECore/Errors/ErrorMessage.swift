/// An error message built from an interpolated literal without `String`: literal parts are
/// `StaticString`s and values are formatted here, straight into UTF-8 bytes. The runtime's messages
/// thus cost an Embedded build no string or number-formatting library code.
///
///     throw VaertError(.malformed, "\(where_): rank \(rank) (must be 1 to 4)")
public struct ErrorMessage: ExpressibleByStringInterpolation, Sendable {
    public var utf8: [UInt8]

    public init(stringLiteral value: StaticString) {
        utf8 = value.withUTF8Buffer { Array($0) }
    }

    public init(stringInterpolation: StringInterpolation) {
        utf8 = stringInterpolation.utf8
    }

    public struct StringInterpolation: StringInterpolationProtocol {
        var utf8: [UInt8] = []

        public init(literalCapacity: Int, interpolationCount: Int) {
            utf8.reserveCapacity(literalCapacity + 12 * interpolationCount)
        }

        public mutating func appendLiteral(_ literal: StaticString) {
            literal.withUTF8Buffer { utf8.append(contentsOf: $0) }
        }

        public mutating func appendInterpolation(_ text: StaticString) { appendLiteral(text) }

        public mutating func appendInterpolation(_ text: ByteString) { text.withBytes { utf8.append(contentsOf: $0) } }

        public mutating func appendInterpolation(_ message: ErrorMessage) { utf8.append(contentsOf: message.utf8) }

        /// Another error's message (to say where it happened: "\(path): \(error)").
        public mutating func appendInterpolation(_ error: VaertError) { utf8.append(contentsOf: error.messageBytes) }

        public mutating func appendInterpolation(_ text: String) { utf8.append(contentsOf: text.utf8) }

        /// A NUL-terminated C string (an OS or libjpeg message).
        public mutating func appendInterpolation(cString: UnsafePointer<CChar>) {
            var p = cString
            while p.pointee != 0 {
                utf8.append(UInt8(bitPattern: p.pointee))
                p += 1
            }
        }

        public mutating func appendInterpolation<T: BinaryInteger>(_ value: T) {
            if value < 0 { utf8.append(UInt8(ascii: "-")) }
            let start = utf8.count
            var m = UInt64(value.magnitude)
            repeat {
                utf8.append(UInt8(ascii: "0") + UInt8(m % 10))
                m /= 10
            } while m > 0
            utf8[start...].reverse()
        }

        /// `0x` and eight hex digits (checksums).
        public mutating func appendInterpolation(hex value: UInt32) {
            appendLiteral("0x")
            for shift in stride(from: 28, through: 0, by: -4) {
                let digit = UInt8((value >> UInt32(shift)) & 0xF)
                utf8.append(digit < 10 ? UInt8(ascii: "0") + digit : UInt8(ascii: "a") + digit - 10)
            }
        }

        /// NaN, inf or -inf (input checks report only values that are not finite).
        public mutating func appendInterpolation(nonFinite value: Float) {
            appendLiteral(value.isNaN ? "nan" : value < 0 ? "-inf" : "inf")
        }

        /// A tensor shape as `[a, b, ...]`.
        public mutating func appendInterpolation(_ dims: [Int]) { appendDims(dims) }
        public mutating func appendInterpolation(_ dims: TensorDims) { appendDims(dims) }

        mutating func appendDims<C: Collection>(_ dims: C) where C.Element == Int {
            appendLiteral("[")
            var first = true
            for d in dims {
                if !first { appendLiteral(", ") }
                first = false
                appendInterpolation(d)
            }
            appendLiteral("]")
        }

        public mutating func appendInterpolation(_ shape: Shape3) {
            appendInterpolation(shape.channels)
            appendLiteral("x")
            appendInterpolation(shape.height)
            appendLiteral("x")
            appendInterpolation(shape.width)
        }

        /// Anything else (desktop code: doubles, paths, ...) through its description.
        public mutating func appendInterpolation<T: CustomStringConvertible>(_ value: T) {
            appendInterpolation(value.description)
        }

        #if !hasFeature(Embedded)
        /// Values without a description of their own, such as `any Error` (not in Embedded Swift).
        public mutating func appendInterpolation<T>(_ value: T) {
            appendInterpolation(String(describing: value))
        }
        #endif
    }
}
