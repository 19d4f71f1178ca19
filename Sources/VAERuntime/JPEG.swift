import VAECore
import _VaertSupport

/// JPEG encoding of float images through libjpeg.
public enum JPEG {
    /// Encodes `pixels` (channels × height × width, planar as the network produces them, values in `range`,
    /// mapped to [0, 1] and clamped; NaN as 0) as a JPEG with `quality` 1...100. Channels must be 1 (gray)
    /// or 3 (RGB); a side past JPEG's 65500 is refused by libjpeg (`.jpeg`).
    public static func encode(_ pixels: UnsafePointer<Float>, shape: Shape3, quality: Int, range: ImageRange = .unit) throws(VaertError) -> [UInt8] {
        if range != .unit {
            let unit = (0..<shape.count).map { (pixels[$0] - range.low) / (range.high - range.low) }
            return try unit.withUnsafeBufferPointer { (p) throws(VaertError) in try encode(p.baseAddress!, shape: shape, quality: quality) }
        }
        guard shape.channels == 1 || shape.channels == 3 else {
            throw VaertError(.invalidArgument, "JPEG needs 1 or 3 channels, got \(shape.channels)")
        }
        guard (1...100).contains(quality) else { throw VaertError(.invalidArgument, "JPEG quality must be 1 to 100, got \(quality)") }
        guard shape.width > 0, shape.height > 0 else { throw VaertError(.invalidArgument, "JPEG size \(shape.width)x\(shape.height) has an empty side") }
        var jpeg: UnsafeMutablePointer<UInt8>? = nil
        var size: UInt = 0
        var message = [CChar](repeating: 0, count: messageCapacity)
        let failed = vaert_support_jpeg_compress(pixels, shape.channels, shape.height, shape.width, Int32(quality), &jpeg, &size, &message, message.count)
        guard failed == 0, let jpeg else {
            throw VaertError(failed == 2 ? .outOfMemory : .jpeg, "libjpeg: \(cString: message)")
        }
        defer { vaert_support_jpeg_free(jpeg) }
        return Array(UnsafeBufferPointer(start: jpeg, count: Int(size)))
    }

    /// Encodes and writes atomically to `path`: the file is a whole JPEG or is not touched.
    public static func write(_ pixels: UnsafePointer<Float>, shape: Shape3, quality: Int, range: ImageRange = .unit, to path: String) throws(VaertError) {
        try FileIO.writeAtomically(try encode(pixels, shape: shape, quality: quality, range: range), to: path)
    }
}

extension JPEG {
    /// A decoded image: 8-bit samples, interleaved, rows top to bottom.
    public struct Decoded {
        public var width: Int
        public var height: Int
        /// 1 (gray) or 3 (RGB).
        public var components: Int
        public var samples: [UInt8]
    }

    /// Reads and decodes the JPEG file at `path` through libjpeg; errors name the file.
    public static func read(_ path: String) throws(VaertError) -> Decoded {
        try decoded(named: path) { samples, width, height, components, message in
            vaert_support_jpeg_decompress(path, samples, width, height, components, message, messageCapacity)
        }
    }

    /// Decodes a JPEG held in memory.
    public static func decode(_ jpeg: [UInt8]) throws(VaertError) -> Decoded {
        try decoded(named: "JPEG data") { samples, width, height, components, message in
            vaert_support_jpeg_decompress_memory(jpeg, UInt(jpeg.count), samples, width, height, components, message, messageCapacity)
        }
    }

    private static let messageCapacity = 200

    private static func decoded(
        named name: String,
        _ call: (UnsafeMutablePointer<UnsafeMutablePointer<UInt8>?>, UnsafeMutablePointer<Int32>, UnsafeMutablePointer<Int32>, UnsafeMutablePointer<Int32>, UnsafeMutablePointer<CChar>) -> Int32
    ) throws(VaertError) -> Decoded {
        var samples: UnsafeMutablePointer<UInt8>? = nil
        var width: Int32 = 0, height: Int32 = 0, components: Int32 = 0
        var message = [CChar](repeating: 0, count: messageCapacity)
        let failed = call(&samples, &width, &height, &components, &message)
        guard failed == 0, let samples else {
            throw VaertError(.jpeg, "\(name): \(cString: message)")
        }
        defer { vaert_support_jpeg_free(samples) }
        let count = Int(width) * Int(height) * Int(components)
        return Decoded(width: Int(width), height: Int(height), components: Int(components), samples: Array(UnsafeBufferPointer(start: samples, count: count)))
    }
}
