import VAECore

/// A VQ-VAE's code: a grid of indices into its codebook, one per position of the encoder's grid.
extension Model {
    /// `images` (batch × pixels, finite) → batch × positions codebook indices: the encoder's grid, each
    /// vector replaced by the index of its nearest code vector (the lowest on a tie).
    public func encodeCodes(_ images: UnsafePointer<Float>, batch: Int, codes: UnsafeMutablePointer<Int32>) throws(VaertError) {
        let codebook = try requireCodebook("encode to codes")
        guard hasEncoder else { throw VaertError(.unsupported, "this model file holds no encoder") }
        try checkInputs(images, count: pixelCount, labels: nil, batch: batch, what: "images")
        let rows = min(batch, Model.rowsPerPass)
        let z = try threadScratch(.outer, floats: rows * latentDim + codebook.nearestScratchFloats)
        var done = 0
        while done < batch {
            let n = min(rows, batch - done)
            try ChunkedCall.run(.encode, on: self, input: images + done * pixelCount, labels: nil, batch: n, output: z, logVariance: nil)
            codebook.nearest(z, batch: n, into: codes + done * codebook.positions, scratch: z + rows * latentDim)
            done += n
        }
    }

    /// batch × positions codebook indices → pixels (batch × pixels): their code vectors through the
    /// decoder past the codebook.
    public func decodeCodes(_ codes: UnsafePointer<Int32>, batch: Int, pixels: UnsafeMutablePointer<Float>) throws(VaertError) {
        let codebook = try requireCodebook("decode codes")
        try ScratchPlan.check(batch: batch, rowFloats: widestCallerRow)
        for i in 0..<batch * codebook.positions where !(0..<Int32(codebook.codes)).contains(codes[i]) {
            throw VaertError(.invalidArgument, "codes[\(i)] is \(codes[i]); the codebook has codes 0 to \(codebook.codes - 1)")
        }
        let rows = min(batch, Model.rowsPerPass)
        let z = try threadScratch(.outer, floats: rows * latentDim)
        var done = 0
        while done < batch {
            let n = min(rows, batch - done)
            codebook.lookup(codes + done * codebook.positions, batch: n, into: z)
            try ChunkedCall.run(.decodeCodeVectors, on: self, input: z, labels: nil, batch: n, output: pixels + done * pixelCount, logVariance: nil)
            done += n
        }
    }

    func requireCodebook(_ what: StaticString) throws(VaertError) -> CodebookLayer {
        guard let codebook else { throw VaertError(.unsupported, "only a vq-vae can \(what); this is a \(kind.name) model") }
        return codebook
    }
}
