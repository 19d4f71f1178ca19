import VAECore

/// How a denoising autoencoder's input is corrupted: `saltpepper:p` sets a fraction p of the pixels to
/// uniform random values; `gaussian:s` adds N(0, s²) noise. Results are clamped to [0, 1].
public struct Corruption: Codable, Equatable, Sendable, CustomStringConvertible {
    public enum Kind: String, Codable, Sendable {
        case saltpepper
        case gaussian
    }

    public var kind: Kind
    public var amount: Float

    public init(kind: Kind, amount: Float) {
        self.kind = kind
        self.amount = amount
    }

    /// Parses `saltpepper:0.3` or `gaussian:0.5`.
    public init?(_ text: String) {
        let parts = text.split(separator: ":")
        guard parts.count == 2, let kind = Kind(rawValue: String(parts[0])), let amount = Float(parts[1]), amount.isFinite, amount >= 0 else { return nil }
        if kind == .saltpepper && amount > 1 { return nil }
        self.init(kind: kind, amount: amount)
    }

    public var description: String { "\(kind.rawValue):\(amount)" }

    /// Corrupts `count` pixels in place with the numbers of `item` in `stream`.
    public func apply(to pixels: UnsafeMutablePointer<Float>, count: Int, stream: RandomStream, item: UInt64) {
        var block: UInt32 = 0
        var i = 0
        while i < count {
            let w = stream.bits(item: item, block: block)
            block += 1
            switch kind {
            case .saltpepper:
                // Words 0 and 1 decide pixel i, words 2 and 3 pixel i + 1.
                for pair in 0..<2 where i < count {
                    if RandomStream.unitInterval(w[2 * pair]) < amount { pixels[i] = RandomStream.unitInterval(w[2 * pair + 1]) }
                    i += 1
                }
            case .gaussian:
                for pair in 0..<2 where i < count {
                    let (a, b) = RandomStream.boxMuller(w[2 * pair], w[2 * pair + 1])
                    pixels[i] = min(max(pixels[i] + amount * a, 0), 1)
                    if i + 1 < count { pixels[i + 1] = min(max(pixels[i + 1] + amount * b, 0), 1) }
                    i += 2
                }
            }
        }
    }
}

/// One-hot class vectors for conditional models.
public enum OneHot {
    /// Writes `classes` floats: 1 at `label`, 0 elsewhere (all 0 for a label outside 0..<classes).
    public static func write(_ label: Int, classes: Int, into p: UnsafeMutablePointer<Float>) {
        p.update(repeating: 0, count: classes)
        if (0..<classes).contains(label) { p[label] = 1 }
    }
}
