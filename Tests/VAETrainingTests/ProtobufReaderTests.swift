import Testing
import VAECore
import VAETraining

/// The protobuf wire reader on hand-encoded messages (the encodings of the protobuf documentation's
/// examples), and on every way a message can lie about its lengths.
@Suite struct ProtobufReaderTests {
    func fields(_ bytes: [UInt8]) throws(VaertError) -> [ProtobufReader.Field] { try ProtobufReader(bytes[...], what: "test").fields() }

    func status(_ bytes: [UInt8]) -> Status? {
        do { _ = try fields(bytes); return nil } catch { return error.status }
    }

    @Test("varints, strings, packed and unpacked repeated integers, floats, and unknown fields skipped")
    func reads() throws {
        let float: Float = -1.5
        let f = float.bitPattern
        let message: [UInt8] = [0x08, 0x96, 0x01,                                         // 1: varint 150
                                0x12, 0x07] + Array("testing".utf8) +                      // 2: "testing"
                               [0x22, 0x06, 0x03, 0x8E, 0x02, 0x9E, 0xA7, 0x05,            // 4: packed [3, 270, 86942]
                                0x20, 0x07,                                                // 4: unpacked 7
                                0x2D, UInt8(f & 0xFF), UInt8(f >> 8 & 0xFF), UInt8(f >> 16 & 0xFF), UInt8(f >> 24),  // 5: fixed32
                                0x31, 1, 2, 3, 4, 5, 6, 7, 8,                              // 6: fixed64, unknown here
                                0x38, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01]  // 7: varint -1 (10 bytes)
        let all = try fields(message)
        #expect(all.map(\.number) == [1, 2, 4, 4, 5, 6, 7])
        #expect(all[0].varint == 150)
        #expect(try ProtobufReader.string(all, number: 2, what: "test") == "testing")
        #expect(try ProtobufReader.varints(all, number: 4, what: "test") == [3, 270, 86942, 7])
        #expect(try ProtobufReader.floats(all, number: 5, what: "test") == [-1.5])
        #expect(all[5].varint == 0x0807_0605_0403_0201)
        #expect(try ProtobufReader.varints(all, number: 7, what: "test") == [-1])
        #expect(try ProtobufReader.string(all, number: 9, what: "test") == nil)
    }

    @Test("a length past the end, an over-long or cut varint, a group, field number 0, a cut fixed value: malformed")
    func refuses() {
        #expect(status([0x12, 0x08, 0x61]) == .malformed)                          // 8 bytes said, 1 left
        #expect(status([0x08] + [UInt8](repeating: 0xFF, count: 10) + [0x01]) == .malformed)  // 11-byte varint
        #expect(status([0x08, 0x96]) == .malformed)                                // varint cut
        #expect(status([0x0B, 0x0C]) == .malformed)                                // wire type 3 (group)
        #expect(status([0x00, 0x01]) == .malformed)                                // field 0
        #expect(status([0x2D, 0x00, 0x00]) == .malformed)                          // fixed32 cut
        #expect(status([0x12, 0xFF, 0xFF, 0xFF, 0xFF, 0x0F]) == .malformed)        // a 4 GB length
        #expect(status([]) == nil)                                                 // the empty message
    }
}
