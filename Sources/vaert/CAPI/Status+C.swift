import VAERuntime
import _VaertSupport

/// Runs `body` as a C entry point: a thrown `VaertError` becomes its status code and the thread's message.
@inline(__always)
func cEntry(_ body: () throws(VaertError) -> Void) -> Int32 {
    do {
        try body()
        return Status.ok.rawValue
    } catch {
        setLastError(error.messageBytes)
        return error.status.rawValue
    }
}

func setLastError(_ message: [UInt8]) {
    message.withUnsafeBufferPointer { $0.withMemoryRebound(to: CChar.self) { vaert_support_set_message($0.baseAddress, $0.count) } }
}

@inline(__always)
func required<T>(_ pointer: T?, _ name: StaticString) throws(VaertError) -> T {
    guard let pointer else { throw VaertError(.nullArgument, "\(name) is NULL") }
    return pointer
}

@_cdecl("vaert_version_number")
public func vaert_version_number() -> UInt32 { UInt32(LibraryVersion.number) }

@_cdecl("vaert_version_string")
public func vaert_version_string() -> UnsafePointer<CChar> {
    UnsafeRawPointer(LibraryVersion.string.utf8Start).assumingMemoryBound(to: CChar.self)
}

@_cdecl("vaert_status_string")
public func vaert_status_string(_ status: Int32) -> UnsafePointer<CChar> {
    let text: StaticString = Status(rawValue: status)?.summary ?? "unknown status code"
    return UnsafeRawPointer(text.utf8Start).assumingMemoryBound(to: CChar.self)
}

@_cdecl("vaert_last_error")
public func vaert_last_error() -> UnsafePointer<CChar> { vaert_support_message() }
