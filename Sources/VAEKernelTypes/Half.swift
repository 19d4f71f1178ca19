/// An IEEE 754 binary16 value as a weights file stores it: its 16 bits (little-endian, as every target
/// vaert builds for). Kernels widen it to f32 as they load it; `float` is the scalar widening.
public struct Half: Sendable, Equatable {
    public var bits: UInt16

    @inlinable
    public init(bits: UInt16) { self.bits = bits }

    /// The exact f32 value (every binary16 value, subnormals, infinities and NaN included, is one).
    @inlinable
    public var float: Float {
        let sign = UInt32(bits & 0x8000) << 16
        let exponent = Int((bits >> 10) & 0x1f)
        let mantissa = UInt32(bits & 0x3ff)
        if exponent == 0 {
            let magnitude = Float(mantissa) * 0x1p-24
            return sign != 0 ? -magnitude : magnitude
        }
        if exponent == 0x1f { return Float(bitPattern: sign | 0x7f80_0000 | (mantissa << 13)) }
        return Float(bitPattern: sign | UInt32(exponent - 15 + 127) << 23 | (mantissa << 13))
    }
}
