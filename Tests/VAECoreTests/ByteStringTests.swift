import Testing
import VAECore

@Suite struct ByteStringTests {
    func valid(_ bytes: [UInt8]) -> Bool { bytes.withUnsafeBytes { ByteString.isValidUTF8($0) } }

    @Test("UTF-8 validation agrees with the standard library on edge cases and 200,000 random strings")
    func utf8Validation() {
        // Boundaries of table 3-7: overlongs, surrogates, the last code point, truncations.
        let cases: [[UInt8]] = [
            [], [0x00], [0x7F], [0x80], [0xC0, 0x80], [0xC1, 0xBF], [0xC2, 0x80], [0xDF, 0xBF], [0xE0, 0x9F, 0xBF], [0xE0, 0xA0, 0x80],
            [0xED, 0x9F, 0xBF], [0xED, 0xA0, 0x80], [0xEF, 0xBF, 0xBF], [0xF0, 0x8F, 0xBF, 0xBF], [0xF0, 0x90, 0x80, 0x80],
            [0xF4, 0x8F, 0xBF, 0xBF], [0xF4, 0x90, 0x80, 0x80], [0xF5, 0x80, 0x80, 0x80], [0xFF], [0xE2, 0x82], [0xF0, 0x9F, 0x98],
            [0x68, 0xC3, 0xA9, 0x6C], [0xC3, 0x28],
        ]
        for c in cases {
            #expect(valid(c) == (String(validating: c, as: UTF8.self) != nil), "\(c)")
        }
        // Random short strings biased towards lead and continuation bytes, where the rules are.
        var rng = SplitMix64(seed: 7)
        let alphabet: [UInt8] = [0x41, 0x7F, 0x80, 0x8F, 0x90, 0x9F, 0xA0, 0xBF, 0xC0, 0xC2, 0xDF, 0xE0, 0xE1, 0xED, 0xEE, 0xEF, 0xF0, 0xF1, 0xF4, 0xF5, 0xFF]
        var disagreements = 0, validCount = 0
        for _ in 0..<200_000 {
            let n = Int(rng.next() % 7)
            let bytes = (0..<n).map { _ in alphabet[Int(rng.next() % UInt64(alphabet.count))] }
            let expected = String(validating: bytes, as: UTF8.self) != nil
            if valid(bytes) != expected { disagreements += 1 }
            if expected { validCount += 1 }
        }
        #expect(disagreements == 0)
        #expect(validCount > 10_000)  // the sample exercises valid multi-byte forms too
    }

    @Test("byte strings compare byte for byte, also against static strings")
    func comparison() {
        let cafe = ByteString("caf\u{E9}")  // precomposed é
        let decomposed = ByteString("cafe\u{301}")  // e + combining acute: equal as Strings, not as bytes
        #expect(cafe != decomposed)
        #expect("caf\u{E9}" == "cafe\u{301}")
        #expect(cafe == ("café" as StaticString))
        #expect(cafe.description == "café")
    }

    @Test("error messages format integers, hex, shapes and non-finite values without String")
    func errorMessages() {
        let n: Int = -42
        let message: ErrorMessage = "n=\(n) min=\(Int64.min) max=\(UInt64.max) zero=\(0) crc=\(hex: 0x00AB_CDEF) dims=\([3, 4]) shape=\(Shape3(channels: 1, height: 28, width: 28)) \(nonFinite: -Float.infinity) \(nonFinite: Float.nan) \(ByteString("t")) \("s" as StaticString)"
        #expect(String(decoding: message.utf8, as: UTF8.self)
            == "n=-42 min=-9223372036854775808 max=18446744073709551615 zero=0 crc=0x00abcdef dims=[3, 4] shape=1x28x28 -inf nan t s")
        let wrapped = VaertError(.malformed, "file.bin: \(VaertError(.truncated, "short"))")
        #expect(wrapped.message == "file.bin: short")
    }
}

/// A small deterministic generator for test inputs.
struct SplitMix64 {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
