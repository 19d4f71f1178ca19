import VAECore
import _VaertSupport

/// Encode, decode, sample and score on a `Model` with input checks and bounded scratch memory.
/// The C functions and the commands both call these.
extension Model {
    /// `images` (batch × pixels, finite) → μ and log σ² (batch × latent each). For an autoencoder `mu`
    /// receives the code and `logVariance` zeros. A conditional model needs one class label per image.
    public func encode(_ images: UnsafePointer<Float>, labels: UnsafePointer<Int32>? = nil, batch: Int, mu: UnsafeMutablePointer<Float>,
                       logVariance: UnsafeMutablePointer<Float>?) throws(VaertError) {
        guard hasEncoder else { throw VaertError(.unsupported, "this model file holds no encoder") }
        try checkInputs(images, count: pixelCount, labels: labels, batch: batch, what: "images")
        try ChunkedCall.run(.encode, on: self, input: images, labels: labels, batch: batch, output: mu, logVariance: logVariance)
    }

    /// `z` (batch × latent, finite) → pixels (batch × pixels); with a sigmoid output layer they lie in [0, 1].
    /// A conditional model needs one class label per vector.
    public func decode(_ z: UnsafePointer<Float>, labels: UnsafePointer<Int32>? = nil, batch: Int, pixels: UnsafeMutablePointer<Float>) throws(VaertError) {
        try checkInputs(z, count: latentDim, labels: labels, batch: batch, what: "latent vectors")
        try ChunkedCall.run(.decode, on: self, input: z, labels: labels, batch: batch, output: pixels, logVariance: nil)
    }

    /// Scratch floats of one encode pass of `rows` rows: the layers', the code, the joined inputs.
    func encodeScratchFloats(rows: Int) -> Int {
        let codeSize = kind.isVariational ? 2 * latentDim : latentDim
        return Model.scratchFloats(encoder, batch: rows) + rows * codeSize + (classCount > 0 ? rows * (pixelCount + classCount) : 0)
    }

    /// Encodes rows `first ..< first + rows`, using `scratch` (`encodeScratchFloats(rows:)` floats).
    func encodePass(_ images: UnsafePointer<Float>, labels: UnsafePointer<Int32>?, first: Int, rows: Int, mu: UnsafeMutablePointer<Float>,
                    logVariance: UnsafeMutablePointer<Float>?, scratch: UnsafeMutablePointer<Float>) {
        let code = scratch + Model.scratchFloats(encoder, batch: rows)
        let joined = code + rows * (kind.isVariational ? 2 * latentDim : latentDim)
        let x = joinClasses(images + first * pixelCount, width: pixelCount, labels: labels.map { $0 + first }, rows: rows, into: joined)
        Model.run(encoder, input: x, batch: rows, output: code, scratch: scratch)
        splitCode(code, batch: rows, mu: mu + first * latentDim, logVariance: logVariance.map { $0 + first * latentDim })
    }

    /// Scratch floats of one decode pass of `rows` rows: the layers', the joined inputs.
    func decodeScratchFloats(rows: Int) -> Int {
        Model.scratchFloats(decoder, batch: rows) + (classCount > 0 ? rows * (latentDim + classCount) : 0)
    }

    /// Decodes rows `first ..< first + rows`, using `scratch` (`decodeScratchFloats(rows:)` floats).
    func decodePass(_ z: UnsafePointer<Float>, labels: UnsafePointer<Int32>?, first: Int, rows: Int, pixels: UnsafeMutablePointer<Float>,
                    scratch: UnsafeMutablePointer<Float>) {
        let joined = scratch + Model.scratchFloats(decoder, batch: rows)
        let input = joinClasses(z + first * latentDim, width: latentDim, labels: labels.map { $0 + first }, rows: rows, into: joined)
        Model.run(decoder, input: input, batch: rows, output: pixels + first * pixelCount, scratch: scratch)
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

    /// Decoded samples `first ..< first + count` under `seed` (of class `labels[i]` for a conditional model).
    public func sample(seed: UInt64, first: UInt64, count: Int, labels: UnsafePointer<Int32>? = nil, pixels: UnsafeMutablePointer<Float>) throws(VaertError) {
        try Model.checkBatch(count, rowSize: max(pixelCount, latentDim))
        try checkLabels(labels, batch: count)
        let rows = min(count, Model.rowsPerPass)
        try withScratch(slot: .outer, floats: rows * latentDim) { (z) throws(VaertError) in
            var done = 0
            while done < count {
                let n = min(rows, count - done)
                try sampleLatents(seed: seed, first: first + UInt64(done), count: n, into: z)
                try decode(z, labels: labels.map { $0 + done }, batch: n, pixels: pixels + done * pixelCount)
                done += n
            }
        }
    }

    /// A per-image score that is high for images unlike the training data: the negative ELBO with z = μ
    /// (reconstruction of decode(μ) plus KL(q(z|x) ‖ N(0, I))) for variational models, the reconstruction
    /// loss of decode(encode(x)) for autoencoders. Reconstruction is BCE for a Bernoulli likelihood,
    /// the sum of squared errors for a Gaussian one; nats per image.
    public func anomalyScores(_ images: UnsafePointer<Float>, labels: UnsafePointer<Int32>? = nil, batch: Int,
                              scores: UnsafeMutablePointer<Float>) throws(VaertError) {
        guard hasEncoder else { throw VaertError(.unsupported, "this model file holds no encoder") }
        try checkInputs(images, count: pixelCount, labels: labels, batch: batch, what: "images")
        let rows = Model.rowsPerPass
        try withScratch(slot: .outer, floats: 2 * rows * latentDim + rows * pixelCount) { (scratch) throws(VaertError) in
            let (mu, logVariance, reconstruction) = (scratch, scratch + rows * latentDim, scratch + 2 * rows * latentDim)
            var first = 0
            while first < batch {
                let n = min(rows, batch - first)
                let x = images + first * pixelCount
                let y = labels.map { $0 + first }
                try encode(x, labels: y, batch: n, mu: mu, logVariance: logVariance)
                try decode(mu, labels: y, batch: n, pixels: reconstruction)
                for r in 0..<n {
                    var score: Double = 0
                    for i in 0..<pixelCount {
                        let target = Double(x[r * pixelCount + i]), p = Double(reconstruction[r * pixelCount + i])
                        if likelihood == .bernoulli {
                            let q = min(max(p, 1e-7), 1 - 1e-7)
                            score -= target * Model.naturalLog(q) + (1 - target) * Model.naturalLog(1 - q)
                        } else {
                            score += (p - target) * (p - target)
                        }
                    }
                    if kind.isVariational {
                        for j in 0..<latentDim {
                            let m = Double(mu[r * latentDim + j]), lv = Double(logVariance[r * latentDim + j])
                            score += -0.5 * (1 + lv - m * m - Double(FastMath.exp(Float(lv))))
                        }
                    }
                    scores[first + r] = Float(score)
                }
                first += n
            }
        }
    }

    /// log for the scores, in double precision from the float kernel (scores need no more).
    static func naturalLog(_ x: Double) -> Double { Double(FastMath.log(Float(x))) }

    /// For a conditional model, copies `rows` of `width` values and appends each row's one-hot class into
    /// `joined`; otherwise returns the values as they are.
    func joinClasses(_ values: UnsafePointer<Float>, width: Int, labels: UnsafePointer<Int32>?, rows: Int,
                     into joined: UnsafeMutablePointer<Float>) -> UnsafePointer<Float> {
        guard classCount > 0, let labels else { return values }
        let stride = width + classCount
        for r in 0..<rows {
            (joined + r * stride).update(from: values + r * width, count: width)
            (joined + r * stride + width).update(repeating: 0, count: classCount)
            joined[r * stride + width + Int(labels[r])] = 1
        }
        return UnsafePointer(joined)
    }

    /// The largest batch (or sample count) one call takes: `VAERT_MAX_BATCH` in vaert.h. Far above any
    /// real call (a batch job calls in chunks), and low enough that a garbage `size_t` is refused before
    /// any array is read, and that batch × row size fits a 32-bit device's `size_t` for small models.
    public static let maxBatch = 1 << 24

    func checkInputs(_ values: UnsafePointer<Float>, count: Int, labels: UnsafePointer<Int32>?, batch: Int, what: StaticString) throws(VaertError) {
        try Model.checkBatch(batch, rowSize: max(pixelCount, 2 * latentDim))
        try Model.checkFinite(values, count: batch * count, what: what)
        try checkLabels(labels, batch: batch)
    }

    func checkLabels(_ labels: UnsafePointer<Int32>?, batch: Int) throws(VaertError) {
        if kind.isConditional {
            guard let labels else { throw VaertError(.nullArgument, "a conditional model needs a class label per image (labels is NULL)") }
            for i in 0..<batch where !(0..<Int32(classCount)).contains(labels[i]) {
                throw VaertError(.invalidArgument, "labels[\(i)] is \(labels[i]); the model has classes 0 to \(classCount - 1)")
            }
        } else if labels != nil {
            throw VaertError(.unsupported, "this \(kind.name) model is not conditional: pass NULL labels")
        }
    }

    static func checkBatch(_ batch: Int, rowSize: Int) throws(VaertError) {
        guard batch != 0 else { throw VaertError(.invalidArgument, "batch size must be at least 1, got 0") }
        // size_t arrives as Int: SIZE_MAX is -1 here, and is reported as the number the caller passed.
        guard batch > 0, batch <= maxBatch else {
            throw VaertError(.invalidArgument, "batch size \(UInt(bitPattern: batch)) is above VAERT_MAX_BATCH (\(maxBatch))")
        }
        let (bytes, overflow) = batch.multipliedReportingOverflow(by: rowSize * 4)
        guard !overflow, bytes > 0 else { throw VaertError(.invalidArgument, "batch size \(batch) of \(rowSize) values per row does not fit size_t") }
    }

    static func checkFinite(_ p: UnsafePointer<Float>, count: Int, what: StaticString) throws(VaertError) {
        for i in 0..<count where !p[i].isFinite {
            throw VaertError(.nonFiniteInput, "\(what): value \(i) is \(nonFinite: p[i])")
        }
    }
}

/// The calling thread's two scratch buffers: `outer` for a call's own arrays, `inner` for the encode or
/// decode it makes (sample and anomaly scoring nest one inside the other).
enum ScratchSlot: Int32 {
    case outer = 0
    case inner = 1
}

/// Runs `body` with `floats` floats of the calling thread's 64-byte aligned scratch `slot`, which is kept
/// for the thread's next call; allocation failure is reported as a status.
func withScratch<R>(slot: ScratchSlot, floats: Int, _ body: (UnsafeMutablePointer<Float>) throws(VaertError) -> R) throws(VaertError) -> R {
    guard let raw = vaert_support_scratch(slot.rawValue, max(floats, 1) * 4) else {
        throw VaertError(.outOfMemory, "could not allocate \(floats * 4) bytes of scratch memory")
    }
    return try body(raw.bindMemory(to: Float.self, capacity: max(floats, 1)))
}
