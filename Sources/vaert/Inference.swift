import VAECore
import _VaertSupport

/// Encode, decode and sample on a `Model` with input checks and bounded scratch memory.
/// The C functions and the commands both call these.
extension Model {
    /// Rows processed per pass: scratch memory stays bounded however large the caller's batch.
    public static let rowsPerPass = 256

    /// `images` (batch × pixels, any values, must be finite) → μ and log σ² (batch × latent each).
    /// For an AE, `mu` receives the code and `logVariance` zeros.
    public func encode(_ images: UnsafePointer<Float>, batch: Int, mu: UnsafeMutablePointer<Float>, logVariance: UnsafeMutablePointer<Float>?) throws(VaertError) {
        guard hasEncoder else { throw VaertError(.unsupported, "this model file holds no encoder") }
        try Model.checkBatch(batch, rowSize: max(pixelCount, 2 * latentDim))
        try Model.checkFinite(images, count: batch * pixelCount, what: "images")
        let codeSize = kind.isVariational ? 2 * latentDim : latentDim
        let scratchCount = Model.scratchFloats(encoder, batch: Model.rowsPerPass) + Model.rowsPerPass * codeSize
        try withScratch(floats: scratchCount) { scratch in
            let code = scratch + Model.scratchFloats(encoder, batch: Model.rowsPerPass)
            forEachPass(batch) { first, rows in
                Model.run(encoder, input: images + first * pixelCount, batch: rows, output: code, scratch: scratch)
                splitCode(code, batch: rows, mu: mu + first * latentDim, logVariance: logVariance.map { $0 + first * latentDim })
            }
        }
    }

    /// `z` (batch × latent, finite) → pixels (batch × pixels); with a sigmoid output layer they lie in [0, 1].
    public func decode(_ z: UnsafePointer<Float>, batch: Int, pixels: UnsafeMutablePointer<Float>) throws(VaertError) {
        try Model.checkBatch(batch, rowSize: max(pixelCount, latentDim))
        try Model.checkFinite(z, count: batch * latentDim, what: "latent vectors")
        try withScratch(floats: Model.scratchFloats(decoder, batch: Model.rowsPerPass)) { scratch in
            forEachPass(batch) { first, rows in
                Model.run(decoder, input: z + first * latentDim, batch: rows, output: pixels + first * pixelCount, scratch: scratch)
            }
        }
    }

    /// The latent vectors of samples `first ..< first + count` under `seed`: N(0, I), each depending only on (seed, index).
    public func sampleLatents(seed: UInt64, first: UInt64, count: Int, into z: UnsafeMutablePointer<Float>) throws(VaertError) {
        try Model.checkBatch(count, rowSize: max(pixelCount, latentDim))
        guard first <= UInt64.max - UInt64(count) else { throw VaertError(.invalidArgument, "sample indices overflow 64 bits") }
        let stream = RandomStream(seed: seed, purpose: .latentSample)
        for j in 0..<count {
            stream.normals(item: first + UInt64(j), into: UnsafeMutableBufferPointer(start: z + j * latentDim, count: latentDim))
        }
    }

    /// Decoded samples `first ..< first + count` under `seed`.
    public func sample(seed: UInt64, first: UInt64, count: Int, pixels: UnsafeMutablePointer<Float>) throws(VaertError) {
        try Model.checkBatch(count, rowSize: max(pixelCount, latentDim))
        let rows = min(count, Model.rowsPerPass)
        try withScratch(floats: rows * latentDim) { (z) throws(VaertError) in
            var done = 0
            while done < count {
                let n = min(rows, count - done)
                try sampleLatents(seed: seed, first: first + UInt64(done), count: n, into: z)
                try decode(z, batch: n, pixels: pixels + done * pixelCount)
                done += n
            }
        }
    }

    func forEachPass(_ batch: Int, _ body: (_ first: Int, _ rows: Int) -> Void) {
        var first = 0
        while first < batch {
            let rows = min(Model.rowsPerPass, batch - first)
            body(first, rows)
            first += rows
        }
    }

    /// Largest batch accepted: beyond it batch × row size could overflow the caller's buffers' size_t.
    public static let maxBatch = 1 << 40

    static func checkBatch(_ batch: Int, rowSize: Int) throws(VaertError) {
        guard batch > 0 else { throw VaertError(.invalidArgument, "batch size must be at least 1, got \(batch < 0 ? "a value above SIZE_MAX/2" : "0")") }
        let (bytes, overflow) = batch.multipliedReportingOverflow(by: rowSize * 4)
        guard batch <= maxBatch, !overflow, bytes > 0 else { throw VaertError(.invalidArgument, "batch size \(batch) is too large") }
    }

    static func checkFinite(_ p: UnsafePointer<Float>, count: Int, what: String) throws(VaertError) {
        for i in 0..<count where !p[i].isFinite {
            throw VaertError(.nonFiniteInput, "\(what): value \(i) is \(p[i])")
        }
    }
}

/// Runs `body` with `floats` floats of 64-byte aligned scratch, reporting allocation failure as a status.
func withScratch<R>(floats: Int, _ body: (UnsafeMutablePointer<Float>) throws(VaertError) -> R) throws(VaertError) -> R {
    guard let raw = vaert_support_alloc(max(floats, 1) * 4) else {
        throw VaertError(.outOfMemory, "could not allocate \(floats * 4) bytes of scratch memory")
    }
    defer { vaert_support_free(raw) }
    return try body(raw.bindMemory(to: Float.self, capacity: max(floats, 1)))
}
