/// The load-time checks of a VQ-VAE's PixelCNN prior (the file's `prior` stack), which make its
/// sampling sound: logits at a grid position depend only on the codes at earlier positions.
extension Model {
    /// A masked convolution's masked taps hold 0: the runtime runs it as a plain convolution.
    static func checkMaskedTaps(_ record: LayerRecord, _ weights: UnsafePointer<Float>) throws(VaertError) {
        guard let mask = record.mask, let k = record.parameters?.kernelHeight else { return }
        let kernels = record.output.channels * record.input.channels
        for n in 0..<kernels {
            for ky in 0..<k {
                for kx in 0..<k where !mask.keeps(ky, kx, kernel: k) && weights[(n * k + ky) * k + kx] != 0 {
                    throw VaertError(.malformed, "a masked convolution's weight at a masked tap (\(ky), \(kx)) is not 0")
                }
            }
        }
    }

    /// The prior runs from the codebook's D × H × W grid of code vectors to K × H × W logits: a type A
    /// layer first, type B layers after it, the last without activation. Only a vq-vae has one.
    static func checkPrior(_ file: WeightsFile, _ prior: UnsafeBufferPointer<Layer>, codebook: CodebookLayer?) throws(VaertError) {
        guard !prior.isEmpty else { return }
        guard let codebook else { throw VaertError(.malformed, "the file has a prior but no codebook: only a vq-vae has a prior over codes") }
        var i = 0
        var shape = codebook.grid
        for record in file.layers where record.stack == .prior {
            if i == 0 && record.mask != .a { throw VaertError(.malformed, "prior layer 0 must be masked type A: type A first, then type B") }
            if i > 0 && record.mask != .b { throw VaertError(.malformed, "prior layer \(i) must be masked type B: type A first, then type B") }
            guard record.input == shape else { throw VaertError(.malformed, "prior layer \(i) takes a \(record.input) grid but receives \(shape)") }
            shape = record.output
            i += 1
        }
        guard shape.channels == codebook.codes, prior[prior.count - 1].isLinearConv else {
            throw VaertError(.malformed, "the prior must end in \(codebook.codes) linear channels (one logit per code), not \(shape.channels)")
        }
    }
}

extension Layer {
    /// A convolution with no activation.
    var isLinearConv: Bool {
        if case .conv(let l) = self { return l.activation == .identity }
        return false
    }
}
