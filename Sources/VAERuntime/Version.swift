/// The library's version; `Include/vaert.h` carries the same numbers (a test checks they agree).
public enum LibraryVersion {
    public static let major = 0
    public static let minor = 1
    public static let patch = 0
    public static let number = major * 10000 + minor * 100 + patch
    public static let string: StaticString = "0.1.0"
}
