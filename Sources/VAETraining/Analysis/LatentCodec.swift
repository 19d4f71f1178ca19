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
    /// Per dimension, levels + 1 cumulative frequencies (each level counted once more than it was seen).
    let cumulative: [[UInt32]]

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
        var cumulative = [[UInt32]]()
        for d in 0..<dim {
            var frequency = [UInt32](repeating: 1, count: 1 << bits)
            for i in 0..<count { frequency[LatentCodec.symbol(codes[i * dim + d], low: low[d], step: step[d], levels: 1 << bits)] += 1 }
            var sums: [UInt32] = [0]
            for f in frequency { sums.append(sums.last! + f) }
            cumulative.append(sums)
        }
        self.cumulative = cumulative
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
    public func entropyCoded(_ symbols: [Int]) -> [UInt8] {
        var encoder = ArithmeticEncoder()
        for d in 0..<dim {
            let table = cumulative[d]
            encoder.encode(start: table[symbols[d]], end: table[symbols[d] + 1], total: table[levels])
        }
        return encoder.finish()
    }

    /// The symbols `entropyCoded` wrote.
    public func entropyDecoded(_ bytes: [UInt8]) -> [Int] {
        var decoder = ArithmeticDecoder(bytes)
        return (0..<dim).map { d in
            let table = cumulative[d], total = table[levels]
            let target = decoder.target(total: total)
            // The last level whose start is at or below the target.
            var lo = 0, hi = levels - 1
            while lo < hi {
                let mid = (lo + hi + 1) / 2
                if table[mid] <= target { lo = mid } else { hi = mid - 1 }
            }
            decoder.consume(start: table[lo], end: table[lo + 1], total: total)
            return lo
        }
    }

    /// The ideal size of one image's symbols under the codec's frequencies, in bits: Σ −log2 p.
    public func informationBits(_ symbols: [Int]) -> Double {
        (0..<dim).map { d in
            let table = cumulative[d]
            return -log2(Double(table[symbols[d] + 1] - table[symbols[d]]) / Double(table[levels]))
        }.reduce(0, +)
    }
}
