import VAECore

/// A VQ-VAE's weights file with a trained prior in it: the file's own layers, tensors and metadata, the
/// prior's layers as the `prior` stack (replacing any prior it had), and what the prior's training measured.
public enum PriorFile {
    public static let epochsKey = "vaert.prior.epochs"
    public static let testNLLKey = "vaert.prior.test_nll"

    /// A prior goes into an f32 file (as vae-train writes it): checked before the prior is trained.
    public static func checkAttachable(_ file: WeightsFile) throws(VaertError) {
        for t in file.tensors where t.type != .f32 {
            throw VaertError(.unsupported, "tensor '\(t.name)' is \(t.type.name): train the prior on the f32 file vae-train wrote, then export it to f16 or int8")
        }
    }

    /// The file of `bytes` (f32, as vae-train writes it) with `prior` in it.
    public static func attach(_ prior: PriorTrainer, to bytes: UnsafeRawBufferPointer, testNLL: Double) throws(VaertError) -> WeightsFileBuilder {
        let file = try WeightsFile.parse(bytes)
        try checkAttachable(file)
        var b = try Export.rebuild(file, bytes: bytes, part: .all, dtype: .f32, keepPrior: false)
        prior.net.addLayers(to: &b)
        b.setMetadata(epochsKey, .u32(UInt32(prior.epochsDone)))
        b.setMetadata(testNLLKey, .f32(Float(testNLL)))
        return b
    }
}
