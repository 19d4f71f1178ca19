import VAECore
import _VaertSupport

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

    /// Code grids `first ..< first + count` under `seed` (count × positions indices), across the worker pool.
    public func sampleCodes(seed: UInt64, first: UInt64, count: Int, codes: UnsafeMutablePointer<Int32>) throws(VaertError) {
        try checkPriorSampling(first: first, count: count)
        try PriorCall.onPool(self, seed: seed, first: first, count: count, codes: codes, vectors: nil)
    }

    /// The code vectors of the grids `sampleCodes` draws (count × latent floats: what `decode` takes).
    public func sampleCodeVectors(seed: UInt64, first: UInt64, count: Int, into z: UnsafeMutablePointer<Float>) throws(VaertError) {
        try checkPriorSampling(first: first, count: count)
        try PriorCall.onPool(self, seed: seed, first: first, count: count, codes: nil, vectors: z)
    }

    func checkPriorSampling(first: UInt64, count: Int) throws(VaertError) {
        _ = try requireCodebook("sample codes")
        try checkCanSample()
        try checkSampleRange(first: first, count: count)
    }

    /// Draws `rows` grids into `codes` (rows × positions), in `scratch` (`priorPassFloats(rows:)`), whose
    /// last rows × positions floats it leaves alone (`PriorCall` may keep the codes there).
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

/// Prior sampling split across the worker pool: worker w draws passes w, w + workers, ... of
/// `Model.priorRowsPerPass` grids, each in its own scratch. A grid's codes do not depend on its pass, so
/// the results do not depend on the thread count. Plain data run through a context pointer, as `ChunkedCall`.
struct PriorCall {
    let model: Model
    let seed: UInt64
    let first: UInt64
    let count: Int
    /// Where the codes go (count × positions), or nil to keep each pass's in its scratch.
    let codes: UnsafeMutablePointer<Int32>?
    /// Where the grids' code vectors go (count × latent), or nil.
    let vectors: UnsafeMutablePointer<Float>?
    let workers: Int
    let scratch: UnsafeMutablePointer<Float>
    /// Floats of one worker's scratch: a pass's, rounded to whole 64-byte lines.
    let workerFloats: Int

    static func workerFloats(_ model: Model, rows: Int) -> Int { (model.priorPassFloats(rows: min(rows, Model.priorRowsPerPass)) + 15) / 16 * 16 }

    static func onPool(_ model: Model, seed: UInt64, first: UInt64, count: Int, codes: UnsafeMutablePointer<Int32>?,
                       vectors: UnsafeMutablePointer<Float>?) throws(VaertError) {
        let passes = (count + Model.priorRowsPerPass - 1) / Model.priorRowsPerPass
        let workers = min(vaert_support_threads(), passes), floats = workerFloats(model, rows: count)
        var call = PriorCall(model: model, seed: seed, first: first, count: count, codes: codes, vectors: vectors, workers: workers,
                             scratch: try threadScratch(.inner, floats: workers * floats), workerFloats: floats)
        if workers == 1 { return call.run(worker: 0) }
        withUnsafeMutablePointer(to: &call) { context in
            vaert_support_parallel_for(workers, { context, worker in
                context!.assumingMemoryBound(to: PriorCall.self).pointee.run(worker: worker)
            }, context)
        }
    }

    func run(worker: Int) {
        let codebook = model.codebook!
        let (hw, rows) = (codebook.positions, Model.priorRowsPerPass)
        let mine = scratch + worker * workerFloats
        let kept = UnsafeMutableRawPointer(mine + model.priorPassFloats(rows: min(rows, count)) - min(rows, count) * hw).assumingMemoryBound(to: Int32.self)
        var start = worker * rows
        while start < count {
            let n = min(rows, count - start)
            let out = codes.map { $0 + start * hw } ?? kept
            model.samplePriorPass(seed: seed, first: first + UInt64(start), rows: n, codes: out, scratch: mine)
            if let vectors { codebook.lookup(out, batch: n, into: vectors + start * model.latentDim) }
            start += workers * rows
        }
    }
}
