import Foundation

/// An autoencoder's code as a compressed image: each latent dimension quantised uniformly to `bits` bits
/// over a range calibrated on training codes (their 0.1% to 99.9% quantiles; codes outside are clamped),
/// stored either raw (dim · bits bits) or arithmetic-coded with per-dimension symbol frequencies counted
/// on the same training codes. The ranges and frequency tables belong to the codec, as the weights do:
/// they are not counted in an image's bytes.
public struct LatentCodec: Sendable {
    public let dim: Int
    public let bits: Int
    let low: [Float], step: [Float]
    /// Per dimension, the frequencies of its levels on the training codes.
    public let tables: SymbolTables

    public var levels: Int { 1 << bits }
    /// Bytes of one image's raw code.
    public var rawBytes: Int { (dim * bits + 7) / 8 }

    /// Calibrates on `count` codes of `dim` values. Preconditions: 1 ≤ bits ≤ 12, count ≤ 60000, so a
    /// frequency table's total stays within the coder's 2¹⁶.
    public init(calibration codes: [Float], count: Int, dim: Int, bits: Int) {
        precondition((1...12).contains(bits) && (1...60000).contains(count))
        self.dim = dim
        self.bits = bits
        var low = [Float](), step = [Float]()
        for d in 0..<dim {
            let column = (0..<count).map { codes[$0 * dim + d] }.sorted()
            let lo = column[Int(Double(count - 1) * 0.001)], hi = column[Int(Double(count - 1) * 0.999)]
            low.append(lo)
            step.append(max(hi - lo, 1e-6) / Float(1 << bits))
        }
        self.low = low
        self.step = step
        let symbols = (0..<count * dim).map { LatentCodec.symbol(codes[$0], low: low[$0 % dim], step: step[$0 % dim], levels: 1 << bits) }
        tables = SymbolTables(calibration: symbols, count: count, positions: dim, levels: 1 << bits)
    }

    static func symbol(_ x: Float, low: Float, step: Float, levels: Int) -> Int {
        let s = ((x - low) / step).rounded(.down)
        return s.isNaN ? 0 : Int(max(0, min(Float(levels - 1), s)))
    }

    /// The level of each dimension of one code.
    public func quantise(_ code: UnsafePointer<Float>) -> [Int] {
        (0..<dim).map { LatentCodec.symbol(code[$0], low: low[$0], step: step[$0], levels: levels) }
    }

    /// The code the decoder gets: each level's centre.
    public func dequantise(_ symbols: [Int]) -> [Float] {
        (0..<dim).map { low[$0] + (Float(symbols[$0]) + 0.5) * step[$0] }
    }

    /// One image's symbols, arithmetic-coded.
    public func entropyCoded(_ symbols: [Int]) -> [UInt8] { tables.encoded(symbols) }
    /// The symbols `entropyCoded` wrote.
    public func entropyDecoded(_ bytes: [UInt8]) -> [Int] { tables.decoded(bytes) }
    /// The ideal size of one image's symbols under the codec's frequencies, in bits: Σ −log2 p.
    public func informationBits(_ symbols: [Int]) -> Double { tables.informationBits(symbols) }
}

/// A message of `positions` symbols, each of `levels` values, under static per-position frequencies
/// counted on calibration messages (each value counted once more than it was seen, so none has
/// probability 0), arithmetic-coded: an AE's quantised code (a position per dimension) or a VQ-VAE's
/// grid of codebook indices.
public struct SymbolTables: Sendable {
    public let positions: Int
    public let levels: Int
    /// Per position, levels + 1 cumulative frequencies.
    let cumulative: [[UInt32]]

    /// Counts `count` messages of `symbols` (count × positions, each in 0 ..< levels). Precondition:
    /// count + levels ≤ 2¹⁶, the coder's largest total.
    public init(calibration symbols: [Int], count: Int, positions: Int, levels: Int) {
        precondition(count + levels <= 1 << 16)
        self.positions = positions
        self.levels = levels
        var frequency = [UInt32](repeating: 1, count: positions * levels)
        for i in 0..<count * positions { frequency[(i % positions) * levels + symbols[i]] += 1 }
        cumulative = (0..<positions).map { p in
            var sums: [UInt32] = [0]
            for f in frequency[(p * levels)..<((p + 1) * levels)] { sums.append(sums.last! + f) }
            return sums
        }
    }

    /// One message, arithmetic-coded.
    public func encoded(_ symbols: [Int]) -> [UInt8] {
        var encoder = ArithmeticEncoder()
        for p in 0..<positions {
            let table = cumulative[p]
            encoder.encode(start: table[symbols[p]], end: table[symbols[p] + 1], total: table[levels])
        }
        return encoder.finish()
    }

    /// The message `encoded` wrote.
    public func decoded(_ bytes: [UInt8]) -> [Int] {
        var decoder = ArithmeticDecoder(bytes)
        return (0..<positions).map { p in
            let table = cumulative[p], total = table[levels]
            let target = decoder.target(total: total)
            // The last value whose start is at or below the target.
            var lo = 0, hi = levels - 1
            while lo < hi {
                let mid = (lo + hi + 1) / 2
                if table[mid] <= target { lo = mid } else { hi = mid - 1 }
            }
            decoder.consume(start: table[lo], end: table[lo + 1], total: total)
            return lo
        }
    }

    /// The ideal size of one message under the tables, in bits: Σ −log2 p.
    public func informationBits(_ symbols: [Int]) -> Double {
        (0..<positions).map { p in
            let table = cumulative[p]
            return -log2(Double(table[symbols[p] + 1] - table[symbols[p]]) / Double(table[levels]))
        }.reduce(0, +)
    }
}
