import VAECore
import VAERuntime

/// How well a model removes a corruption: mean per-image PSNR of the corrupted and of the reconstructed
/// test images against the originals.
public struct DenoisingEvaluation {
    public var noisy: [Float]
    public var denoised: [Float]
    public var noisyPSNR: Double
    public var denoisedPSNR: Double

    /// Corrupts every image of `data` (noise item i for image i under `seed`), reconstructs it as
    /// decode(encode(x̃)) with the runtime, and measures both against the clean images.
    public static func run(_ model: Model, on data: Dataset, corruption: Corruption, seed: UInt64) throws(VaertError) -> DenoisingEvaluation {
        let p = model.pixelCount, n = data.count
        var noisy = data.images
        let stream = RandomStream(seed: seed, purpose: .evaluationCorruption)
        noisy.withUnsafeMutableBufferPointer { b in
            for i in 0..<n { corruption.apply(to: b.baseAddress! + i * p, count: p, stream: stream, item: UInt64(i)) }
        }
        let labels = model.kind.isConditional ? data.labels.map { Int32($0) } : nil
        var mu = [Float](repeating: 0, count: n * model.latentDim)
        var denoised = [Float](repeating: 0, count: n * p)
        // The images are in [0, 1]; a model of [-1, 1] images sees and gives them in its own range.
        let range = model.imageRange
        try model.encode(range == .unit ? noisy : noisy.map(range.fromUnit), labels: labels, batch: n, mu: &mu, logVariance: nil)
        try model.decode(mu, labels: labels, batch: n, pixels: &denoised)
        if range != .unit { denoised = denoised.map(range.toUnit) }
        var noisySum = 0.0, denoisedSum = 0.0
        for i in 0..<n {
            let range = (i * p)..<((i + 1) * p)
            data.images[range].withUnsafeBufferPointer { clean in
                noisy[range].withUnsafeBufferPointer { noisySlice in
                    denoised[range].withUnsafeBufferPointer { denoisedSlice in
                        noisySum += PSNR.decibels(clean.baseAddress!, noisySlice.baseAddress!, count: p)
                        denoisedSum += PSNR.decibels(clean.baseAddress!, denoisedSlice.baseAddress!, count: p)
                    }
                }
            }
        }
        return DenoisingEvaluation(noisy: noisy, denoised: denoised, noisyPSNR: noisySum / Double(n), denoisedPSNR: denoisedSum / Double(n))
    }
}
