// vaert-pool-stress MODE RESIZES MODEL: resizes the worker pool (vaert_set_threads) RESIZES times back to
// back, between 1 and 8 threads, and checks that nothing hangs and every result keeps its bits.
//   resize      resizes only
//   calls       a decode of 16 rows after each resize (compared with the one-thread bits)
//   failing     calls that fail fast after each resize (batch 0, a NaN input)
//   concurrent  two other threads decode without pause while this one resizes
// The test runs it under a time limit (a hang fails the test), and tools/sanitize.sh thread runs it
// under ThreadSanitizer. Prints one line and exits 0 when every check passed.
import Foundation
import Synchronization
import VAECore
import VAERuntime
import vaert

/// 16 fixed latent vectors and their one-thread pixels.
struct Reference: Sendable {
    static let rows = 16
    let model: Model
    let z: [Float]
    let pixels: [Float]

    init(model: Model) throws {
        self.model = model
        z = (0..<(Reference.rows * model.latentDim)).map { Float(($0 * 37) % 101) / 25 - 2 }
        var pixels = [Float](repeating: 0, count: Reference.rows * model.pixelCount)
        try model.decode(z, batch: Reference.rows, pixels: &pixels)
        self.pixels = pixels
    }

    /// Decodes the rows again: whether the bits are the one-thread bits.
    func decodeMatches() -> Bool {
        var out = [Float](repeating: 0, count: Reference.rows * model.pixelCount)
        do { try model.decode(z, batch: Reference.rows, pixels: &out) } catch { return false }
        return out == pixels
    }

    /// Two calls through the C API that fail before any work: batch 0, and a NaN input.
    func failFast() -> Bool {
        var out = [Float](repeating: 0, count: Reference.rows * model.pixelCount)
        var bad = z
        bad[5] = .nan
        // A C handle points to a Model value.
        return withUnsafePointer(to: model) { p in
            let handle = OpaquePointer(p)
            return vae_decode(handle, z, 0, &out) == Status.invalidArgument.rawValue
                && vae_decode(handle, bad, Reference.rows, &out) == Status.nonFiniteInput.rawValue
        }
    }
}

@main
struct PoolStress {
    static func fail(_ mode: String, _ what: String) -> Never {
        FileHandle.standardError.write(Data("vaert-pool-stress \(mode): \(what)\n".utf8))
        exit(1)
    }

    static func main() throws {
        let arguments = CommandLine.arguments
        guard arguments.count == 4, let resizes = Int(arguments[2]), ["resize", "calls", "failing", "concurrent"].contains(arguments[1]) else {
            FileHandle.standardError.write(Data("usage: vaert-pool-stress resize|calls|failing|concurrent RESIZES MODEL\n".utf8))
            exit(2)
        }
        let mode = arguments[1]
        guard vaert_set_threads(1) == 0 else { fail(mode, "vaert_set_threads(1) failed") }
        let reference = try Reference(model: try Model.open(path: arguments[3]))

        let stop = Atomic<Bool>(false), mismatches = Atomic<Int>(0), concurrentCalls = Atomic<Int>(0), running = Atomic<Int>(0)
        if mode == "concurrent" {
            for _ in 0..<2 {
                running.add(1, ordering: .sequentiallyConsistent)
                Thread.detachNewThread {
                    while !stop.load(ordering: .relaxed) {
                        if !reference.decodeMatches() { mismatches.add(1, ordering: .relaxed) }
                        concurrentCalls.add(1, ordering: .relaxed)
                    }
                    running.subtract(1, ordering: .sequentiallyConsistent)
                }
            }
        }

        // A fixed sequence of thread counts in 1...8, back to 1 every other resize.
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        for i in 0..<resizes {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            let threads = i % 2 == 1 ? 1 : Int(state >> 61) + 1
            guard vaert_set_threads(threads) == 0 else { fail(mode, "vaert_set_threads(\(threads)) failed at resize \(i)") }
            guard vaert_get_threads() == threads else { fail(mode, "vaert_get_threads() is \(vaert_get_threads()) after vaert_set_threads(\(threads))") }
            if mode == "calls" && !reference.decodeMatches() { fail(mode, "resize \(i) to \(threads) threads: the decode changed its bits") }
            if mode == "failing" && !reference.failFast() { fail(mode, "resize \(i): a bad call was not refused with its status") }
        }
        stop.store(true, ordering: .relaxed)
        while running.load(ordering: .sequentiallyConsistent) > 0 { usleep(1000) }
        guard mismatches.load(ordering: .relaxed) == 0 else { fail(mode, "\(mismatches.load(ordering: .relaxed)) concurrent decodes changed their bits") }
        guard vaert_set_threads(1) == 0 else { fail(mode, "the final vaert_set_threads(1) failed") }
        let extra = mode == "concurrent" ? ", \(concurrentCalls.load(ordering: .relaxed)) concurrent decodes" : ""
        print("vaert-pool-stress \(mode): \(resizes) resizes between 1 and 8 threads\(extra): ok")
    }
}
