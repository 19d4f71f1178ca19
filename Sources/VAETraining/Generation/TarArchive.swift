/// Tar archives in the POSIX ustar format, as WebDataset and `tar` read them. Every member gets the same
/// metadata (mode 0644, owner 0, time 0), so the same members always give the same bytes.
public enum TarArchive {
    public static let blockSize = 512

    /// Appends a member: a 512-byte header, then `contents` padded with zeros to a whole block.
    /// `name` is ASCII and at most 100 bytes.
    public static func append(name: String, contents: [UInt8], to out: inout [UInt8]) {
        precondition(name.utf8.count <= 100 && name.utf8.allSatisfy { $0 < 0x80 }, "tar member name '\(name)'")
        let start = out.count
        out.append(contentsOf: repeatElement(0, count: blockSize))
        out.withUnsafeMutableBufferPointer { buffer in
            let header = UnsafeMutableBufferPointer(rebasing: buffer[start..<(start + blockSize)])
            func put<S: Sequence>(_ bytes: S, at offset: Int) where S.Element == UInt8 {
                var i = offset
                for byte in bytes { header[i] = byte; i += 1 }
            }
            /// `value` in octal, `digits` wide with leading zeros.
            func octal(_ value: Int, digits: Int, at offset: Int) {
                var v = value
                for i in stride(from: digits - 1, through: 0, by: -1) {
                    header[offset + i] = UInt8(ascii: "0") + UInt8(v & 7)
                    v >>= 3
                }
            }
            put(name.utf8, at: 0)
            octal(0o644, digits: 7, at: 100)             // mode
            octal(0, digits: 7, at: 108)                 // uid
            octal(0, digits: 7, at: 116)                 // gid
            octal(contents.count, digits: 11, at: 124)   // size
            octal(0, digits: 11, at: 136)                // mtime
            put(repeatElement(UInt8(ascii: " "), count: 8), at: 148)  // checksum, counted as spaces
            header[156] = UInt8(ascii: "0")              // a regular file
            put("ustar".utf8, at: 257)                   // magic, NUL-terminated
            put("00".utf8, at: 263)                      // version
            var sum = 0
            for byte in header { sum += Int(byte) }
            octal(sum, digits: 6, at: 148)
            header[154] = 0
            header[155] = UInt8(ascii: " ")
        }
        out.append(contentsOf: contents)
        out.append(contentsOf: repeatElement(0, count: (blockSize - contents.count % blockSize) % blockSize))
    }

    /// Appends the end of an archive: two zero blocks.
    public static func finish(_ out: inout [UInt8]) {
        out += [UInt8](repeating: 0, count: 2 * blockSize)
    }

    /// The names and sizes of the members of a complete archive (header checksums right, every member
    /// whole, two zero blocks at the end and nothing after), or nil.
    public static func members(_ bytes: UnsafeRawBufferPointer) -> [(name: String, size: Int)]? {
        var out: [(name: String, size: Int)] = []
        var offset = 0
        while offset + blockSize <= bytes.count {
            let header = UnsafeRawBufferPointer(rebasing: bytes[offset..<(offset + blockSize)])
            if header.allSatisfy({ $0 == 0 }) {
                let end = offset + 2 * blockSize
                guard end == bytes.count, bytes[(offset + blockSize)..<end].allSatisfy({ $0 == 0 }) else { return nil }
                return out
            }
            guard let stored = number(header, 148, 8), let size = number(header, 124, 12) else { return nil }
            var sum = 0
            for i in 0..<blockSize { sum += (148..<156).contains(i) ? 32 : Int(header[i]) }
            guard sum == stored else { return nil }
            let nameBytes = header[0..<100].prefix { $0 != 0 }
            offset += blockSize + (size + blockSize - 1) / blockSize * blockSize
            guard offset <= bytes.count else { return nil }
            out.append((String(decoding: nameBytes, as: UTF8.self), size))
        }
        return nil
    }

    /// An octal field (digits, ended by NUL or space).
    static func number(_ header: UnsafeRawBufferPointer, _ offset: Int, _ width: Int) -> Int? {
        var value = 0, digits = 0
        for byte in header[offset..<(offset + width)] {
            if byte == 0 || byte == UInt8(ascii: " ") { break }
            guard (UInt8(ascii: "0")...UInt8(ascii: "7")).contains(byte) else { return nil }
            value = value * 8 + Int(byte - UInt8(ascii: "0"))
            digits += 1
        }
        return digits > 0 ? value : nil
    }
}
