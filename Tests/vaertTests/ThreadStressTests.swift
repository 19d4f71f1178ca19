import Foundation
import Synchronization
import Testing
import TestSupport
import VAECore
import VAERuntime
import vaert

/// Many threads on one model handle, with the library's own worker pool busy too. Under
/// `tools/sanitize.sh thread` this is the race detector's workload.
@Suite struct ThreadStressTests {
    @Test("stress: 8 threads encode and decode with one handle, 250 rounds each at batches 1, 7 and 64, on a pool of 4: always the one-thread bits")
    func eightThreads() throws {
        let m = try Model.open(path: TestSupport.readyModel)
        let n = 64, d = m.latentDim, p = m.pixelCount
        let z = TestSupport.randomFloats(n * d, seed: 8, in: -2...2)
        #expect(vaert_set_threads(1) == 0)
        var pixels = [Float](repeating: 0, count: n * p), mu = [Float](repeating: 0, count: n * d)
        try m.decode(z, batch: n, pixels: &pixels)
        try m.encode(pixels, batch: n, mu: &mu, logVariance: nil)
        let (referencePixels, referenceMu) = (pixels, mu)

        #expect(vaert_set_threads(4) == 0)
        defer { _ = vaert_set_threads(1) }
        let mismatches = Atomic<Int>(0), failures = Atomic<Int>(0)
        DispatchQueue.concurrentPerform(iterations: 8) { t in
            var out = [Float](repeating: 0, count: n * p), code = [Float](repeating: 0, count: n * d)
            for round in 0..<250 {
                let batch = [1, 7, 64][(t + round) % 3]
                do throws(VaertError) {
                    try m.decode(z, batch: batch, pixels: &out)
                    try m.encode(referencePixels, batch: batch, mu: &code, logVariance: nil)
                } catch {
                    failures.add(1, ordering: .relaxed)
                    continue
                }
                if !out[0..<(batch * p)].elementsEqual(referencePixels[0..<(batch * p)]) || !code[0..<(batch * d)].elementsEqual(referenceMu[0..<(batch * d)]) {
                    mismatches.add(1, ordering: .relaxed)
                }
            }
        }
        #expect(failures.load(ordering: .relaxed) == 0 && mismatches.load(ordering: .relaxed) == 0)
    }
}
