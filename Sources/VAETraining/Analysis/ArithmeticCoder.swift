/// A static binary arithmetic coder (Witten, Neal and Cleary 1987, 32-bit): each symbol narrows
/// [low, high] in proportion to its frequency, and settled leading bits are shifted out. A message of
/// symbols with probabilities p_i takes Σ −log2 p_i bits plus at most 2, rounded up to whole bytes.
@_spi(Testing) public struct ArithmeticEncoder {
    private var low: UInt32 = 0, high: UInt32 = .max
    private var pending = 0
    private(set) var bytes: [UInt8] = []
    private var current: UInt8 = 0, filled = 0

    public init() {}

    /// Codes the symbol whose cumulative frequencies are [start, end) of `total` (at most 2¹⁶).
    public mutating func encode(start: UInt32, end: UInt32, total: UInt32) {
        narrow(&low, &high, start: start, end: end, total: total)
        while true {
            if high < 0x8000_0000 {
                emit(0)
            } else if low >= 0x8000_0000 {
                emit(1)
                low -= 0x8000_0000; high -= 0x8000_0000
            } else if low >= 0x4000_0000 && high < 0xC000_0000 {
                pending += 1
                low -= 0x4000_0000; high -= 0x4000_0000
            } else {
                break
            }
            low <<= 1
            high = high << 1 | 1
        }
    }

    /// Ends the message: two more bits pick a point inside the final interval; the last byte is padded with 0s.
    public mutating func finish() -> [UInt8] {
        pending += 1
        emit(low < 0x4000_0000 ? 0 : 1)
        if filled > 0 { bytes.append(current << (8 - filled)) }
        filled = 0
        return bytes
    }

    private mutating func emit(_ bit: UInt8) {
        put(bit)
        while pending > 0 { put(bit ^ 1); pending -= 1 }
    }

    private mutating func put(_ bit: UInt8) {
        current = current << 1 | bit
        filled += 1
        if filled == 8 { bytes.append(current); current = 0; filled = 0 }
    }
}

/// Reads what `ArithmeticEncoder` wrote, with the same frequencies; bits past the end read as 0.
@_spi(Testing) public struct ArithmeticDecoder {
    private var low: UInt32 = 0, high: UInt32 = .max, value: UInt32 = 0
    private let bytes: [UInt8]
    private var position = 0

    public init(_ bytes: [UInt8]) {
        self.bytes = bytes
        for _ in 0..<32 { value = value << 1 | nextBit() }
    }

    /// The cumulative frequency the next symbol's interval holds: find the symbol with
    /// start ≤ target < end, then call `consume` with its interval.
    public func target(total: UInt32) -> UInt32 {
        let range = UInt64(high) - UInt64(low) + 1
        return UInt32(((UInt64(value) - UInt64(low) + 1) * UInt64(total) - 1) / range)
    }

    public mutating func consume(start: UInt32, end: UInt32, total: UInt32) {
        narrow(&low, &high, start: start, end: end, total: total)
        while true {
            if high < 0x8000_0000 {
            } else if low >= 0x8000_0000 {
                low -= 0x8000_0000; high -= 0x8000_0000; value -= 0x8000_0000
            } else if low >= 0x4000_0000 && high < 0xC000_0000 {
                low -= 0x4000_0000; high -= 0x4000_0000; value -= 0x4000_0000
            } else {
                break
            }
            low <<= 1
            high = high << 1 | 1
            value = value << 1 | nextBit()
        }
    }

    private mutating func nextBit() -> UInt32 {
        guard position < bytes.count * 8 else { position += 1; return 0 }
        let bit = UInt32(bytes[position / 8] >> (7 - position % 8)) & 1
        position += 1
        return bit
    }
}

/// Shrinks [low, high] to its share [start, end) of `total`: the step the encoder and the decoder share.
private func narrow(_ low: inout UInt32, _ high: inout UInt32, start: UInt32, end: UInt32, total: UInt32) {
    let range = UInt64(high) - UInt64(low) + 1
    high = low &+ UInt32(range * UInt64(end) / UInt64(total) - 1)
    low = low &+ UInt32(range * UInt64(start) / UInt64(total))
}
