/// `.npy` files (NumPy's format, version 1.0) of little-endian float32 matrices: `numpy.load` reads them.
public enum NumpyArray {
    /// The header of a `rows` × `columns` float32 array: magic, version, header length, and the header
    /// dictionary padded with spaces so that the data starts on a 64-byte boundary.
    public static func header(rows: Int, columns: Int) -> [UInt8] {
        var dictionary = "{'descr': '<f4', 'fortran_order': False, 'shape': (\(rows), \(columns)), }"
        let unpadded = 10 + dictionary.utf8.count + 1
        dictionary += String(repeating: " ", count: (64 - unpadded % 64) % 64) + "\n"
        let length = UInt16(dictionary.utf8.count)
        return [0x93] + Array("NUMPY".utf8) + [1, 0, UInt8(length & 0xFF), UInt8(length >> 8)] + Array(dictionary.utf8)
    }

    /// The bytes of a whole file: header, then the values row by row.
    public static func file(_ values: UnsafeBufferPointer<Float>, rows: Int, columns: Int) -> [UInt8] {
        var out = header(rows: rows, columns: columns)
        out.reserveCapacity(out.count + 4 * values.count)
        for v in values { withUnsafeBytes(of: v.bitPattern.littleEndian) { out += $0 } }
        return out
    }

    /// The size of such a file.
    public static func fileSize(rows: Int, columns: Int) -> Int { header(rows: rows, columns: columns).count + 4 * rows * columns }
}
