/// Named, independent random streams under one seed, each indexed by a 64-bit item number.
///
/// The Philox counter is (item low, item high, block, stream) and the key is the seed, so the numbers
/// of item i in a stream never depend on how many other items were drawn before it.
public struct RandomStream: Sendable {
    /// Streams in use; the raw values are part of vaert's reproducibility promise, never reuse one.
    public enum Purpose: UInt32, Sendable {
        case latentSample = 0  // vaert_sample: z for sample i
        case reparameterization = 1  // training: ε for (step, row)
        case shuffle = 2  // training: order of epoch e
        case initialization = 3  // training: initial weights of layer l
        case evaluation = 4  // eval: ε for test image i
        case corruption = 5  // denoising training: noise for (step, row)
        case evaluationCorruption = 6  // denoising eval: noise for test image i
        case embeddingInitialization = 7  // t-SNE's random start: the 2-d point of row i
        case codeRestart = 8  // VQ-VAE training: the encoder output a dead code restarts at, per (step, code)
        case priorSample = 9  // a VQ-VAE prior's sampling: the uniforms that draw grid i's codes
    }

    public let seed: UInt64
    public let purpose: Purpose

    public init(seed: UInt64, purpose: Purpose) {
        self.seed = seed
        self.purpose = purpose
    }

    /// Four random words: block `block` of item `item`.
    @inline(__always)
    public func bits(item: UInt64, block: UInt32) -> SIMD4<UInt32> {
        Philox.block(
            counter: SIMD4(UInt32(truncatingIfNeeded: item), UInt32(truncatingIfNeeded: item >> 32), block, purpose.rawValue),
            key: SIMD2(UInt32(truncatingIfNeeded: seed), UInt32(truncatingIfNeeded: seed >> 32)))
    }

    /// Fills `out` with standard normal values for `item` (Box–Muller, two values per pair of words).
    public func normals(item: UInt64, into out: UnsafeMutableBufferPointer<Float>) {
        var i = 0
        var block: UInt32 = 0
        while i < out.count {
            let w = bits(item: item, block: block)
            for pair in 0..<2 where i < out.count {
                let (a, b) = RandomStream.boxMuller(w[2 * pair], w[2 * pair + 1])
                out[i] = a
                if i + 1 < out.count { out[i + 1] = b }
                i += 2
            }
            block += 1
        }
    }

    /// Fills `out` with uniform values in [0, 1) for `item`, 24 random bits each.
    public func uniforms(item: UInt64, into out: UnsafeMutableBufferPointer<Float>) {
        var i = 0
        var block: UInt32 = 0
        while i < out.count {
            let w = bits(item: item, block: block)
            for lane in 0..<4 where i < out.count {
                out[i] = RandomStream.unitInterval(w[lane])
                i += 1
            }
            block += 1
        }
    }

    /// A uniform integer in 0..<bound from one 32-bit word (multiply-shift; bias below 2^-32 · bound).
    @inline(__always)
    public static func below(_ bound: Int, word: UInt32) -> Int {
        Int((UInt64(word) &* UInt64(bound)) >> 32)
    }

    /// [0, 1) from the top 24 bits of a word.
    @inline(__always)
    public static func unitInterval(_ word: UInt32) -> Float {
        Float(word >> 8) * 0x1p-24
    }

    /// Two independent N(0, 1) values from two words; the first word maps to (0, 1] so log never sees 0.
    @inline(__always)
    public static func boxMuller(_ w0: UInt32, _ w1: UInt32) -> (Float, Float) {
        let u1 = Float((w0 >> 8) + 1) * 0x1p-24
        let radius = (-2 * FastMath.log(u1)).squareRoot()
        let (s, c) = FastMath.sinCosTwoPi(unitInterval(w1))
        return (radius * c, radius * s)
    }
}
