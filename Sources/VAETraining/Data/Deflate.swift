import CZlib

/// zlib's compress2 at level 9: the zlib format (RFC 1950), which a browser's
/// `DecompressionStream("deflate")` reads back.
public enum Deflate {
    public static func compress(_ bytes: [UInt8]) -> [UInt8] {
        var size = compressBound(uLong(bytes.count))
        var out = [UInt8](repeating: 0, count: Int(size))
        let status = compress2(&out, &size, bytes, uLong(bytes.count), 9)
        precondition(status == Z_OK, "compress2 failed with \(status) on \(bytes.count) bytes")  // only for want of memory
        return Array(out.prefix(Int(size)))
    }
}
