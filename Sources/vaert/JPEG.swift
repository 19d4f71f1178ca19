import VAECore
import _VaertSupport

/// JPEG encoding of float images through libjpeg.
public enum JPEG {
    /// Encodes `pixels` (channels × height × width, planar as the network produces them, values in [0, 1],
    /// clamped) as a JPEG with `quality` 1...100. Channels must be 1 (gray) or 3 (RGB).
    public static func encode(_ pixels: UnsafePointer<Float>, shape: Shape3, quality: Int) throws(VaertError) -> [UInt8] {
        guard shape.channels == 1 || shape.channels == 3 else {
            throw VaertError(.invalidArgument, "JPEG needs 1 or 3 channels, got \(shape.channels)")
        }
        guard (1...100).contains(quality) else { throw VaertError(.invalidArgument, "JPEG quality must be 1 to 100, got \(quality)") }
        guard shape.width > 0, shape.height > 0, shape.width <= 65500, shape.height <= 65500 else {
            throw VaertError(.invalidArgument, "JPEG size \(shape.width)x\(shape.height) is outside 1...65500")
        }
        let plane = shape.height * shape.width
        var samples = [UInt8](repeating: 0, count: plane * shape.channels)
        for c in 0..<shape.channels {
            for i in 0..<plane {
                samples[i * shape.channels + c] = toByte(pixels[c * plane + i])
            }
        }
        var jpeg: UnsafeMutablePointer<UInt8>? = nil
        var size: UInt = 0
        var message = [CChar](repeating: 0, count: 200)
        let failed = samples.withUnsafeBufferPointer { s in
            vaert_support_jpeg_compress(
                s.baseAddress, Int32(shape.width), Int32(shape.height), Int32(shape.channels), Int32(quality),
                &jpeg, &size, &message, message.count)
        }
        guard failed == 0, let jpeg else {
            throw VaertError(.jpeg, "libjpeg: \(cString: message)")
        }
        defer { vaert_support_jpeg_free(jpeg) }
        return Array(UnsafeBufferPointer(start: jpeg, count: Int(size)))
    }

    /// Encodes and writes atomically to `path`: the file is a whole JPEG or is not touched.
    public static func write(_ pixels: UnsafePointer<Float>, shape: Shape3, quality: Int, to path: String) throws(VaertError) {
        try FileIO.writeAtomically(try encode(pixels, shape: shape, quality: quality), to: path)
    }

    /// [0, 1] → 0...255, rounded; NaN becomes 0.
    @inline(__always)
    static func toByte(_ v: Float) -> UInt8 {
        guard v > 0 else { return 0 }
        guard v < 1 else { return 255 }
        return UInt8(v * 255 + 0.5)
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
        var samples: UnsafeMutablePointer<UInt8>? = nil
        var width: Int32 = 0, height: Int32 = 0, components: Int32 = 0
        var message = [CChar](repeating: 0, count: 200)
        let failed = vaert_support_jpeg_decompress(path, &samples, &width, &height, &components, &message, message.count)
        guard failed == 0, let samples else {
            throw VaertError(.jpeg, "\(path): \(cString: message)")
        }
        defer { vaert_support_jpeg_free(samples) }
        let count = Int(width) * Int(height) * Int(components)
        return Decoded(width: Int(width), height: Int(height), components: Int(components), samples: Array(UnsafeBufferPointer(start: samples, count: count)))
    }
}
