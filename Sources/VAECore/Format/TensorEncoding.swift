/// Encoding and decoding of tensor data in the file's element types (little-endian).
public enum TensorEncoding {
    /// The bytes of `values` (shape `dims`) stored as `type`. int8 types scale each channel by its largest
    /// magnitude / 127 and round to nearest.
    public static func encode(_ values: [Float], dims: [Int], as type: ElementType) -> [UInt8] {
        var out: [UInt8] = []
        switch type {
        case .f32:
            out.reserveCapacity(4 * values.count)
            for v in values { out.appendLE(v.bitPattern) }
        case .f16:
            out.reserveCapacity(2 * values.count)
            for v in values { out.appendLE(halfBits(v)) }
        case .q8Dim0, .q8Dim1:
            let (channels, inner) = channelLayout(dims, type)
            let scales = channelScales(values, channels: channels, inner: inner)
            for s in scales { out.appendLE(s.bitPattern) }
            for (i, v) in values.enumerated() { out.append(UInt8(bitPattern: quantized(v, scales[(i / inner) % channels]))) }
        case .q8Panels:
            let (k, n) = (dims[0], dims[1])
            let scales = channelScales(values, channels: n, inner: 1)
            out = panels(values.indices.map { quantized(values[$0], scales[$0 % n]) }, scales: scales, rows: k, columns: n)
        }
        return out
    }

    /// The bytes of a `q8Panels` tensor [k, n] holding `values` (row-major, −127...127) with one scale per
    /// column: the scales padded to 64 bytes, then the panels.
    public static func panels(_ values: [Int8], scales: [Float], rows k: Int, columns n: Int) -> [UInt8] {
        precondition(values.count == k * n && scales.count == n && !values.contains(-128), "int8 panels hold k x n values in -127...127")
        var out: [UInt8] = []
        for s in scales { out.appendLE(s.bitPattern) }
        out += [UInt8](repeating: 0, count: Int8Panels.scaleBytes(columns: n) - 4 * n)
        var panels = [UInt8](repeating: 0, count: Int8Panels.valueBytes(rows: k, columns: n))
        for r in 0..<k {
            for c in 0..<n { panels[Int8Panels.index(row: r, column: c, rows: k)] = UInt8(bitPattern: values[r * n + c]) }
        }
        return out + panels
    }

    /// Decodes the elements of `type` (shape `dims`) at `bytes` into floats.
    public static func decode(_ bytes: UnsafeRawPointer, dims: TensorDims, type: ElementType, into out: UnsafeMutablePointer<Float>) {
        let n = dims.elementCount
        switch type {
        case .f32:
            for i in 0..<n { out[i] = Float(bitPattern: UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self))) }
        case .f16:
            for i in 0..<n { out[i] = element(i, of: bytes, type: type, channels: 1, inner: n) }
        case .q8Dim0, .q8Dim1:
            let (channels, inner) = channelLayout(dims, type)
            for i in 0..<n { out[i] = element(i, of: bytes, type: type, channels: channels, inner: inner) }
        case .q8Panels:
            let (k, n) = (dims[0], dims[1])
            let values = bytes + Int8Panels.scaleBytes(columns: n)
            for r in 0..<k {
                for c in 0..<n {
                    let scale = Float(bitPattern: UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: 4 * c, as: UInt32.self)))
                    let q = Int8(bitPattern: values.load(fromByteOffset: Int8Panels.index(row: r, column: c, rows: k), as: UInt8.self))
                    out[r * n + c] = scale * Float(q)
                }
            }
        }
    }

    /// Element i of an f16 or per-channel int8 tensor (`channels`, `inner`: its `channelLayout`) as f32: what
    /// `decode` writes, and what a convolution used in place widens (`StoredTensor`).
    @inline(__always)
    static func element(_ i: Int, of bytes: UnsafeRawPointer, type: ElementType, channels: Int, inner: Int) -> Float {
        if type == .f16 { return floatFromHalf(UInt16(littleEndian: bytes.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self))) }
        let scale = Float(bitPattern: UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: 4 * ((i / inner) % channels), as: UInt32.self)))
        return scale * Float(Int8(bitPattern: bytes.load(fromByteOffset: 4 * channels + i, as: UInt8.self)))
    }

    /// Each channel's scale: its largest magnitude / 127 (1 for an all-zero channel).
    public static func channelScales(_ values: [Float], channels: Int, inner: Int) -> [Float] {
        var scales = [Float](repeating: 0, count: channels)
        for (i, v) in values.enumerated() {
            let c = (i / inner) % channels
            scales[c] = max(scales[c], abs(v))
        }
        return scales.map { $0 > 0 ? $0 / 127 : 1 }
    }

    /// v / scale rounded to nearest, within −127...127.
    public static func quantized(_ v: Float, _ scale: Float) -> Int8 { Int8(min(max((v / scale).rounded(), -127), 127)) }

    /// Channels along the scale axis, and the run length of one channel's consecutive elements.
    static func channelLayout<Dims: RandomAccessCollection>(_ dims: Dims, _ type: ElementType) -> (channels: Int, inner: Int)
    where Dims.Element == Int, Dims.Index == Int {
        let axis = type == .q8Dim0 ? 0 : 1
        return (dims[axis], dims[(axis + 1)...].reduce(1, *))
    }

    /// IEEE binary16 bits of `v`, rounded to nearest even (overflow to infinity, subnormals kept).
    public static func halfBits(_ v: Float) -> UInt16 {
        let bits = v.bitPattern
        let sign = UInt16((bits >> 16) & 0x8000)
        let exponent = Int((bits >> 23) & 0xff)
        var mantissa = bits & 0x7f_ffff
        if exponent == 0xff { return sign | 0x7c00 | (mantissa != 0 ? 0x200 : 0) }  // inf, NaN
        var e = exponent - 127 + 15
        if e >= 0x1f { return sign | 0x7c00 }
        if e <= 0 {
            if e < -10 { return sign }
            mantissa |= 0x80_0000
            let shift = UInt32(14 - e)
            let half = mantissa >> shift
            let rest = mantissa & ((1 << shift) - 1)
            let halfway = UInt32(1) << (shift - 1)
            let rounded = half + ((rest > halfway || (rest == halfway && (half & 1) == 1)) ? 1 : 0)
            return sign | UInt16(rounded)
        }
        var half = mantissa >> 13
        let rest = mantissa & 0x1fff
        if rest > 0x1000 || (rest == 0x1000 && (half & 1) == 1) {
            half += 1
            if half == 0x400 {
                half = 0
                e += 1
                if e >= 0x1f { return sign | 0x7c00 }
            }
        }
        return sign | UInt16(e << 10) | UInt16(half)
    }

    /// The float value of IEEE binary16 bits.
    public static func floatFromHalf(_ h: UInt16) -> Float { Half(bits: h).float }
}
