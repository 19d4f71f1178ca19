import CZlib
import Foundation
import VAECore

/// Reader for the IDX files of MNIST-style data sets, gzipped or not (zlib reads both).
public enum IDX {
    /// The dimensions and unsigned-byte payload of one IDX file.
    public struct Contents {
        public var dims: [Int]
        public var bytes: [UInt8]
    }

    /// Reads an IDX file of unsigned bytes (type 0x08). Errors name the file and the problem in one line.
    public static func read(_ path: String) throws(VaertError) -> Contents {
        guard FileManager.default.fileExists(atPath: path) else { throw VaertError(.ioOpen, "\(path): no such file") }
        guard let file = gzopen(path, "rb") else { throw VaertError(.ioOpen, "\(path): cannot open (\(String(cString: strerror(errno))))") }
        defer { gzclose(file) }
        var header = [UInt8](repeating: 0, count: 4)
        try readExactly(file, &header, path: path, what: "the magic number")
        guard header[0] == 0, header[1] == 0 else { throw VaertError(.malformed, "\(path): not an IDX file (bad magic \(header.prefix(4)))") }
        guard header[2] == 0x08 else { throw VaertError(.malformed, "\(path): IDX element type 0x\(String(header[2], radix: 16)) is not unsigned byte (0x08)") }
        let rank = Int(header[3])
        guard (1...4).contains(rank) else { throw VaertError(.malformed, "\(path): IDX rank \(rank) is not 1 to 4") }
        var dimBytes = [UInt8](repeating: 0, count: 4 * rank)
        try readExactly(file, &dimBytes, path: path, what: "the dimensions")
        var dims: [Int] = []
        var total = 1
        for d in 0..<rank {
            let v = dimBytes[4 * d..<4 * d + 4].reduce(0) { $0 << 8 | Int($1) }
            guard v > 0, total <= (1 << 34) / v else { throw VaertError(.malformed, "\(path): dimension \(d) is \(v)") }
            dims.append(v)
            total *= v
        }
        // Read in chunks, so memory follows the bytes actually there, not the size the header claims.
        var bytes: [UInt8] = []
        bytes.reserveCapacity(min(total, 1 << 24))
        var chunk = [UInt8](repeating: 0, count: min(total, 1 << 20))
        while bytes.count < total {
            if chunk.count > total - bytes.count { chunk.removeLast(chunk.count - (total - bytes.count)) }
            do throws(VaertError) {
                try readExactly(file, &chunk, path: path, what: "data")
            } catch where error.status == .truncated {
                throw VaertError(.truncated, "\(path): truncated: the data ends before the \(total) bytes that shape \(dims) needs")
            }
            bytes += chunk
        }
        var extra: UInt8 = 0
        if gzread(file, &extra, 1) == 1 { throw VaertError(.malformed, "\(path): bytes after the \(total) that shape \(dims) needs") }
        return Contents(dims: dims, bytes: bytes)
    }

    static func readExactly(_ file: gzFile, _ buffer: inout [UInt8], path: String, what: String) throws(VaertError) {
        var done = 0
        while done < buffer.count {
            let n = buffer.withUnsafeMutableBytes { gzread(file, $0.baseAddress! + done, UInt32(min($0.count - done, 1 << 30))) }
            if n < 0 {
                var code: Int32 = 0
                let text = String(cString: gzerror(file, &code))
                throw VaertError(.ioRead, "\(path): read error (\(text))")
            }
            if n == 0 { throw VaertError(.truncated, "\(path): truncated: ended after \(done) of the \(buffer.count) bytes of \(what)") }
            done += Int(n)
        }
    }
}
