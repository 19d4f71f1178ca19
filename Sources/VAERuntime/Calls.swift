@_exported import VAECore

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

    /// The latent vectors of samples `first ..< first + count` under `seed`: N(0, I), each depending only on
    /// (seed, index). Needs no memory, so a VQ-VAE is refused: its samples are code grids drawn from its
    /// prior (`sampleCodes`, `sampleCodeVectors`).
    public func sampleLatents(seed: UInt64, first: UInt64, count: Int, into z: UnsafeMutablePointer<Float>) throws(VaertError) {
        try checkCanSample()
        if kind.isVectorQuantised {
            throw VaertError(.unsupported, "a vq-vae's samples are code grids from its prior, not N(0, I) vectors: vaert_sample_codes draws them, vaert_sample decodes them")
        }
        try checkSampleRange(first: first, count: count)
        let stream = RandomStream(seed: seed, purpose: .latentSample)
        for j in 0..<count {
            stream.normals(item: first + UInt64(j), into: UnsafeMutableBufferPointer(start: z + j * latentDim, count: latentDim))
        }
    }

    /// The decoder inputs of samples `first ..< first + count`: N(0, I) latents, or a VQ-VAE's code
    /// vectors drawn from its prior.
    public func sampleDecoderInputs(seed: UInt64, first: UInt64, count: Int, into z: UnsafeMutablePointer<Float>) throws(VaertError) {
        if hasPrior { return try sampleCodeVectors(seed: seed, first: first, count: count, into: z) }
        try sampleLatents(seed: seed, first: first, count: count, into: z)
    }

    /// A sample count of 1 to `maxBatch` whose indices from `first` fit 64 bits.
    func checkSampleRange(first: UInt64, count: Int) throws(VaertError) {
        try ScratchPlan.check(batch: count, rowFloats: widestCallerRow)
        guard first <= UInt64.max - UInt64(count) else { throw VaertError(.invalidArgument, "sample indices overflow 64 bits") }
    }

    /// Decoded samples `first ..< first + count` under `seed` (of class `labels[i]` for a conditional model).
    public func sample(seed: UInt64, first: UInt64, count: Int, labels: UnsafePointer<Int32>? = nil, pixels: UnsafeMutablePointer<Float>) throws(VaertError) {
        try checkCanSample()
        try ScratchPlan.check(batch: count, rowFloats: widestCallerRow)
        try checkLabels(labels, batch: count)
        let plan = ScratchPlan(.sample, on: self, batch: count), rows = plan.rows
        let z = try threadScratch(.outer, floats: plan.callFloats)
        var done = 0
        while done < count {
            let n = min(rows, count - done)
            try sampleDecoderInputs(seed: seed, first: first + UInt64(done), count: n, into: z)
            try decode(z, labels: labels.map { $0 + done }, batch: n, pixels: pixels + done * pixelCount)
            done += n
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
        let plan = ScratchPlan(.score, on: self, batch: batch), rows = plan.rows
        let arrays = try threadScratch(.outer, floats: plan.callFloats)
        let (mu, logVariance, reconstruction) = (arrays, arrays + rows * latentDim, arrays + 2 * rows * latentDim)
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
                        score += gaussianKL(mu: m, logVariance: lv, variance: Double(FastMath.exp(Float(lv))))
                    }
                }
                scores[first + r] = Float(score)
            }
            first += n
        }
    }

    /// log for the scores, in double precision from the float kernel (scores need no more).
    static func naturalLog(_ x: Double) -> Double { Double(FastMath.log(Float(x))) }

    func checkInputs(_ values: UnsafePointer<Float>, count: Int, labels: UnsafePointer<Int32>?, batch: Int, what: StaticString) throws(VaertError) {
        try ScratchPlan.check(batch: batch, rowFloats: widestCallerRow)
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

    static func checkFinite(_ p: UnsafePointer<Float>, count: Int, what: StaticString) throws(VaertError) {
        for i in 0..<count where !p[i].isFinite {
            throw VaertError(.nonFiniteInput, "\(what): value \(i) is \(nonFinite: p[i])")
        }
    }
}
