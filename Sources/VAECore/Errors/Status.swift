/// Status codes of every vaert call. The raw values are pinned by `Include/vaert.h` (`vaert_status`)
/// and grouped by kind; they never change meaning.
public enum Status: Int32, Sendable, CaseIterable {
    case ok = 0
    // Arguments
    case nullArgument = 1
    case invalidArgument = 2
    case nonFiniteInput = 3
    case unsupported = 4
    // I/O
    case ioOpen = 10
    case ioRead = 11
    case ioWrite = 12
    // File format
    case badMagic = 20
    case unsupportedVersion = 21
    case byteOrder = 22
    case truncated = 23
    case checksum = 24
    case malformed = 25
    case missingTensor = 26
    // Memory
    case outOfMemory = 30
    case bufferTooSmall = 31
    // JPEG
    case jpeg = 40

    /// The fixed one-line description of this status (`vaert_status_string`).
    public var summary: StaticString {
        switch self {
        case .ok: return "ok"
        case .nullArgument: return "a required pointer argument is NULL"
        case .invalidArgument: return "an argument is out of range"
        case .nonFiniteInput: return "an input value is NaN or infinite"
        case .unsupported: return "the model does not support this operation"
        case .ioOpen: return "a file could not be opened"
        case .ioRead: return "a file could not be read"
        case .ioWrite: return "a file could not be written"
        case .badMagic: return "not a vaert weights file (bad magic)"
        case .unsupportedVersion: return "unsupported weights file version"
        case .byteOrder: return "weights file has the wrong byte order"
        case .truncated: return "weights file is truncated"
        case .checksum: return "weights file checksum mismatch"
        case .malformed: return "weights file is malformed"
        case .missingTensor: return "weights file lacks a tensor the network needs"
        case .outOfMemory: return "out of memory"
        case .bufferTooSmall: return "a buffer is too small"
        case .jpeg: return "JPEG encoding failed"
        }
    }
}

/// A failure: its status and a one-line message that says what and where.
public struct VaertError: Error, Sendable {
    public let status: Status
    /// The message as UTF-8 bytes: what the C API hands out, built without `String` (see `ErrorMessage`).
    public let messageBytes: [UInt8]

    /// Control characters in the message (a newline in a JSON decoder's description, in a tensor name)
    /// become spaces: a message is always one line.
    public init(_ status: Status, _ message: ErrorMessage) {
        self.status = status
        var bytes = message.utf8
        for i in bytes.indices where bytes[i] < 0x20 || bytes[i] == 0x7F { bytes[i] = UInt8(ascii: " ") }
        self.messageBytes = bytes
    }

    public var message: String { String(decoding: messageBytes, as: UTF8.self) }
}

#if !hasFeature(Embedded)
// (Not in Embedded Swift: the conformance would keep String decoding in every device build.)
extension VaertError: CustomStringConvertible {
    public var description: String { message }
}
#endif
