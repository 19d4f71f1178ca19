import VAECore

/// Image shapes given on the command line.
public enum ShapeOption {
    /// "HxW" (sides 1 to 4096) with a channel count of 1 or 3, or nil.
    public static func image(_ text: String, channels: Int) -> Shape3? {
        guard let sides = numbers(text, count: 2), sides.allSatisfy({ $0 <= 4096 }), channels == 1 || channels == 3 else { return nil }
        return Shape3(channels: channels, height: sides[0], width: sides[1])
    }

    /// "CxHxW", each positive, or nil.
    public static func tensor(_ text: String) -> Shape3? {
        guard let p = numbers(text, count: 3) else { return nil }
        return Shape3(channels: p[0], height: p[1], width: p[2])
    }

    /// `count` positive integers separated by "x" (or "X"), or nil.
    static func numbers(_ text: String, count: Int) -> [Int]? {
        let parts = text.lowercased().split(separator: "x", omittingEmptySubsequences: false).map { Int($0) }
        guard parts.count == count, parts.allSatisfy({ ($0 ?? 0) > 0 }) else { return nil }
        return parts.map { $0! }
    }
}
