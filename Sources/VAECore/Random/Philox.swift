/// Philox4x32-10, the counter-based generator of Salmon et al. (SC'11, "Parallel random numbers:
/// as easy as 1, 2, 3"): four 32-bit words out of a 128-bit counter and a 64-bit key.
///
/// Counter-based means there is no state to carry: the value for (key, counter) is a pure function,
/// so sample i can depend on (seed, i) alone whatever the batch, thread or shard that computes it.
public enum Philox {
    /// Bijective mix of `counter` under `key`, 10 rounds.
    public static func block(counter: SIMD4<UInt32>, key: SIMD2<UInt32>) -> SIMD4<UInt32> {
        var c = counter
        var k = key
        for round in 0..<10 {
            if round > 0 {
                k &+= SIMD2(0x9E37_79B9, 0xBB67_AE85)
            }
            let p0 = UInt64(0xD251_1F53) &* UInt64(c[0])
            let p1 = UInt64(0xCD9E_8D57) &* UInt64(c[2])
            c = SIMD4(
                UInt32(truncatingIfNeeded: p1 >> 32) ^ c[1] ^ k[0],
                UInt32(truncatingIfNeeded: p1),
                UInt32(truncatingIfNeeded: p0 >> 32) ^ c[3] ^ k[1],
                UInt32(truncatingIfNeeded: p0))
        }
        return c
    }
}
