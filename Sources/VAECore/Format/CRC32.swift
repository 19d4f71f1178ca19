/// CRC-32 as in zlib, PNG and gzip (reflected polynomial 0xEDB88320, initial value and final xor 0xFFFFFFFF).
///
/// Four bits per lookup in a table of 16 constants: a literal, so it lies in read-only data and checking
/// a file needs no table built at run time (no allocation on a device). Two lookups per byte run a
/// 3 MB file in a few milliseconds.
public enum CRC32 {
    static let nibbles: [UInt32] = [
        0x0000_0000, 0x1DB7_1064, 0x3B6E_20C8, 0x26D9_30AC, 0x76DC_4190, 0x6B6B_51F4, 0x4DB2_6158, 0x5005_713C,
        0xEDB8_8320, 0xF00F_9344, 0xD6D6_A3E8, 0xCB61_B38C, 0x9B64_C2B0, 0x86D3_D2D4, 0xA00A_E278, 0xBDBD_F21C,
    ]

    /// Continues a running CRC over `bytes`; start with 0.
    public static func update(_ crc: UInt32, _ bytes: UnsafeRawBufferPointer) -> UInt32 {
        var c = ~crc
        nibbles.withUnsafeBufferPointer { t in
            for byte in bytes {
                c ^= UInt32(byte)
                c = t[Int(c & 0xf)] ^ (c >> 4)
                c = t[Int(c & 0xf)] ^ (c >> 4)
            }
        }
        return ~c
    }

    public static func checksum(_ bytes: UnsafeRawBufferPointer) -> UInt32 { update(0, bytes) }
}
