import VAECore

/// Sampling a VQ-VAE's code grids from its PixelCNN prior (the file's `prior` stack): position by
/// position in raster order, each code drawn from the softmax of the prior's logits there given the codes
/// drawn before it. Grid i depends only on (seed, i): its uniforms are the `priorSample` stream's item i,
/// one per position, and a row's logits do not depend on the other rows of the pass.
extension Model {
    public var hasPrior: Bool { !prior.isEmpty }

    /// Grids sampled side by side: each position runs the prior over the pass's grids.
    static let priorRowsPerPass = 16

    /// Floats of scratch one pass of `rows` grids needs: their code vectors, logits and uniforms, the codes
    /// drawn (as 32-bit words), and the prior's layer buffers.
    func priorPassFloats(rows: Int) -> Int {
        guard let codebook else { return 0 }
        let hw = codebook.positions
        return rows * (codebook.grid.count + codebook.codes * hw + 2 * hw) + Model.scratchFloats(prior, batch: rows)
    }

    /// Refuses sampling a model that has no distribution to sample: a VQ-VAE without a prior.
    public func checkCanSample() throws(VaertError) {
        if kind.isVectorQuantised && !hasPrior {
            throw VaertError(.unsupported, "a vq-vae samples code grids from a prior, which this file does not hold: train one with vae-train prior, or decode codes you have with vae_decode_codes")
        }
    }

    /// Code grids `first ..< first + count` under `seed` (count × positions indices).
    public func sampleCodes(seed: UInt64, first: UInt64, count: Int, codes: UnsafeMutablePointer<Int32>) throws(VaertError) {
        let codebook = try requireCodebook("sample codes")
        try checkCanSample()
        try ScratchPlan.check(batch: count, rowFloats: widestCallerRow)
        guard first <= UInt64.max - UInt64(count) else { throw VaertError(.invalidArgument, "sample indices overflow 64 bits") }
        let rows = min(count, Model.priorRowsPerPass)
        let scratch = try threadScratch(.inner, floats: priorPassFloats(rows: rows))
        var done = 0
        while done < count {
            let n = min(rows, count - done)
            samplePriorPass(seed: seed, first: first + UInt64(done), rows: n, codes: codes + done * codebook.positions, scratch: scratch)
            done += n
        }
    }

    /// The code vectors of grids `first ..< first + count` (count × latent floats), a pass of grids at a
    /// time in `scratch` (`priorPassFloats` of up to `priorRowsPerPass` rows). Arguments already checked.
    func samplePriorLatents(seed: UInt64, first: UInt64, count: Int, into z: UnsafeMutablePointer<Float>, scratch: UnsafeMutablePointer<Float>) {
        let codebook = self.codebook!
        let rows = min(count, Model.priorRowsPerPass)
        let hw = codebook.positions
        let codes = UnsafeMutableRawPointer(scratch + priorPassFloats(rows: rows) - rows * hw).assumingMemoryBound(to: Int32.self)
        var done = 0
        while done < count {
            let n = min(rows, count - done)
            samplePriorPass(seed: seed, first: first + UInt64(done), rows: n, codes: codes, scratch: scratch)
            codebook.lookup(codes, batch: n, into: z + done * latentDim)
            done += n
        }
    }

    /// Draws `rows` grids into `codes` (rows × positions). `scratch`'s last rows × positions floats are not
    /// touched (`samplePriorLatents` keeps the codes there).
    func samplePriorPass(seed: UInt64, first: UInt64, rows: Int, codes: UnsafeMutablePointer<Int32>, scratch: UnsafeMutablePointer<Float>) {
        let codebook = self.codebook!
        let (d, k, hw) = (codebook.dimension, codebook.codes, codebook.positions)
        let grid = scratch, logits = grid + rows * d * hw, uniforms = logits + rows * k * hw, layers = uniforms + rows * hw
        grid.update(repeating: 0, count: rows * d * hw)
        let stream = RandomStream(seed: seed, purpose: .priorSample)
        for r in 0..<rows { stream.uniforms(item: first + UInt64(r), into: UnsafeMutableBufferPointer(start: uniforms + r * hw, count: hw)) }
        for p in 0..<hw {
            Model.run(prior, input: grid, batch: rows, output: logits, scratch: layers)
            for r in 0..<rows {
                let code = Model.drawCode(logits + r * k * hw + p, stride: hw, codes: k, uniform: uniforms[r * hw + p])
                codes[r * hw + p] = Int32(code)
                for j in 0..<d { grid[(r * d + j) * hw + p] = codebook.vectors[code * d + j] }
            }
        }
    }

    /// The code whose share of softmax(logits) the uniform u in [0, 1) falls in (inverse CDF, codes in
    /// order); a code of zero probability is never drawn.
    static func drawCode(_ logits: UnsafePointer<Float>, stride: Int, codes k: Int, uniform u: Float) -> Int {
        var top = logits[0]
        for c in 1..<k { top = max(top, logits[c * stride]) }
        var total: Float = 0
        for c in 0..<k { total += FastMath.exp(logits[c * stride] - top) }
        let target = u * total
        var sum: Float = 0, last = 0
        for c in 0..<k {
            let e = FastMath.exp(logits[c * stride] - top)
            guard e > 0 else { continue }
            sum += e
            last = c
            if target < sum { return c }
        }
        return last
    }
}
