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

    /// Writes `bytes` to `temporary`, then renames it to `path`, without fsync: after a kill `path` is
    /// whole or absent. For batch output made durable once, at the end, by `syncFolder`. (A temporary
    /// file in another folder than `path` keeps that folder's lock free for the renames: 1.3x the files
    /// per second on ext4 with 2 threads.)
    public static func writeWhole(_ bytes: [UInt8], to path: String, via temporary: String) throws(VaertError) {
        let e = bytes.withUnsafeBytes { vaert_support_write_file_via(temporary, path, $0.baseAddress, $0.count) }
        guard e == 0 else { throw VaertError(.ioWrite, "\(path): \(cString: vaert_support_strerror(e))") }
    }

    /// Makes everything written to the file system of `folder` durable (syncfs, then the folder itself).
    public static func syncFolder(_ folder: String) throws(VaertError) {
        let e = vaert_support_sync_folder(folder)
        guard e == 0 else { throw VaertError(.ioWrite, "\(folder): could not sync: \(cString: vaert_support_strerror(e))") }
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
