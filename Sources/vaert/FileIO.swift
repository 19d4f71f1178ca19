import VAECore
import _VaertSupport

/// Whole-file reads and atomic writes, with errors as `VaertError`s that name the file.
public enum FileIO {
    /// Calls `body` with the bytes of the file at `path` (64-byte aligned), then frees them.
    public static func withContents<R>(of path: String, _ body: (UnsafeRawBufferPointer) throws(VaertError) -> R) throws(VaertError) -> R {
        var data: UnsafeMutableRawPointer? = nil
        var size = 0
        var step: Int32 = 0
        let e = vaert_support_read_file(path, &data, &size, &step)
        guard e == 0, let data else {
            throw VaertError(step == 1 ? .ioOpen : (e == ENOMEM_ ? .outOfMemory : .ioRead), "\(path): \(cString: vaert_support_strerror(e))")
        }
        defer { vaert_support_free(data) }
        return try body(UnsafeRawBufferPointer(start: data, count: size))
    }

    /// Writes `bytes` to `path` through a temporary file, fsync and rename: the file is whole or untouched.
    public static func writeAtomically(_ bytes: UnsafeRawBufferPointer, to path: String) throws(VaertError) {
        let e = vaert_support_write_file_atomic(path, bytes.baseAddress, bytes.count)
        guard e == 0 else { throw VaertError(.ioWrite, "\(path): \(cString: vaert_support_strerror(e))") }
    }

    public static func writeAtomically(_ bytes: [UInt8], to path: String) throws(VaertError) {
        let result = bytes.withUnsafeBytes { b in Result { () throws(VaertError) in try writeAtomically(b, to: path) } }
        try result.get()
    }

    static let ENOMEM_: Int32 = 12
}

extension Model {
    /// Opens and validates the weights file at `path`; errors name the file.
    public static func open(path: String) throws(VaertError) -> Model {
        try FileIO.withContents(of: path) { (bytes) throws(VaertError) in
            do throws(VaertError) {
                return try Model(copying: bytes)
            } catch {
                throw VaertError(error.status, "\(path): \(error)")
            }
        }
    }
}
