// Shared by every fuzz target (tools/fuzz/fuzz.sh compiles it with each one).
import Foundation
import VAECore

/// A per-process scratch file on tmpfs: parsers that take a path are fuzzed through the same entry point
/// users call.
let scratchPath: String = {
    let folder = FileManager.default.fileExists(atPath: "/dev/shm") ? "/dev/shm" : NSTemporaryDirectory()
    return "\(folder)/vaert-fuzz-\(getpid())"
}()

func withScratchFile(_ data: UnsafeRawBufferPointer, _ body: (String) -> Void) {
    let fd = open(scratchPath, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
    precondition(fd >= 0, "cannot create \(scratchPath)")
    var written = 0
    while written < data.count {
        let n = write(fd, data.baseAddress! + written, data.count - written)
        precondition(n > 0, "cannot write \(scratchPath)")
        written += n
    }
    close(fd)
    body(scratchPath)
}

/// Every failure must come back as a status with a one-line message; anything else is a finding.
func expectClean(_ error: VaertError) {
    precondition(!error.messageBytes.isEmpty && !error.messageBytes.contains(UInt8(ascii: "\n")), "bad message for \(error.status)")
}

/// Runs `body`; an error it throws must be clean.
func attempt(_ body: () throws(VaertError) -> Void) {
    do throws(VaertError) { try body() } catch { expectClean(error) }
}

/// `LLVMFuzzerInitialize`: with VAERT_FUZZ_SEEDS=DIR set, the target writes its seed corpus there and exits.
func seedMode(_ write: (String) throws -> Void) {
    guard let dir = ProcessInfo.processInfo.environment["VAERT_FUZZ_SEEDS"] else { return }
    do {
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        try write(dir)
        exit(0)
    } catch {
        fputs("seeds: \(error)\n", stderr)
        exit(1)
    }
}

func writeSeed(_ bytes: [UInt8], _ dir: String, _ name: String) throws {
    try Data(bytes).write(to: URL(fileURLWithPath: "\(dir)/\(name)"))
}

/// `bytes` with the weights-file CRC recomputed (nil when too short to have one): mutations then reach
/// the checks behind the checksum instead of stopping at it.
func resealed(_ data: UnsafePointer<UInt8>, _ count: Int) -> [UInt8]? {
    guard count >= HeaderField.size else { return nil }
    var bytes = Array(UnsafeBufferPointer(start: data, count: count))
    let crc = bytes.withUnsafeBytes { WeightsFile.checksum($0) }
    bytes.withUnsafeMutableBytes { $0.storeBytes(of: crc.littleEndian, toByteOffset: HeaderField.crc32, as: UInt32.self) }
    return bytes
}
