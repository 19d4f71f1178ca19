// Fuzz target: opening a model from memory (copied and in place), then running it on a small batch.
import Foundation
import VAECore
import VAETraining
import vaert

@_cdecl("LLVMFuzzerInitialize")
public func initialize(_ argc: UnsafeMutablePointer<Int32>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>>>) -> Int32 {
    seedMode { dir in
        let shape = Shape3(channels: 1, height: 6, width: 6)
        let kinds: [(String, Architecture)] = [
            ("vae", Architecture(kind: .vae, likelihood: .bernoulli, image: shape, hidden: [5], latent: 2)),
            ("ae", Architecture(kind: .ae, likelihood: .gaussian, image: shape, hidden: [5], latent: 2)),
            ("cvae", Architecture(kind: .cvae, likelihood: .bernoulli, image: shape, hidden: [5], latent: 2, classes: 3)),
            ("conv-vae", Architecture(kind: .convVAE, likelihood: .bernoulli, image: Shape3(channels: 1, height: 8, width: 8), hidden: [5], latent: 2, conv: [2])),
        ]
        for (name, a) in kinds {
            let bytes = Trainer(options: TrainingOptions(architecture: a, seed: 1), threads: 1).net.weightsFile().serialize()
            try writeSeed(bytes, dir, "\(name).vaert")
            for dtype in [Export.DType.f16, .int8] {
                let converted = try bytes.withUnsafeBytes { p in
                    try Export.rebuild(try WeightsFile.parse(p), bytes: p, part: .all, dtype: dtype).serialize()
                }
                try writeSeed(converted, dir, "\(name)-\(dtype.rawValue).vaert")
            }
        }
    }
    return 0
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzModel(_ data: UnsafePointer<UInt8>, _ count: Int) -> Int32 {
    // The input as it is, then with its CRC made right, so that mutations reach the table checks.
    openAndRun(data, count)
    if let sealed = resealed(data, count) { sealed.withUnsafeBufferPointer { openAndRun($0.baseAddress!, count) } }
    return 0
}

func openAndRun(_ data: UnsafePointer<UInt8>, _ count: Int) {
    let bytes = UnsafeRawBufferPointer(start: data, count: count)
    let model: Model
    do throws(VaertError) {
        model = try Model(copying: bytes)
    } catch {
        expectClean(error)
        return
    }
    // The in-place path must agree: copy to a 64-byte boundary first.
    let aligned = UnsafeMutableRawPointer.allocate(byteCount: max(count, 1), alignment: 64)
    defer { aligned.deallocate() }
    if count > 0 { aligned.copyMemory(from: data, byteCount: count) }
    do throws(VaertError) {
        _ = try Model(inPlace: UnsafeRawBufferPointer(start: aligned, count: count))
    } catch {
        preconditionFailure("opens copied but not in place: \(error.message)")
    }
    // Run it when it is small enough for a fuzzing budget (a valid file may declare a huge image).
    let batch = 2
    guard Model.scratchFloats(model.decoder, batch: batch) < 1 << 22, model.pixelCount < 1 << 20,
          Model.scratchFloats(model.encoder, batch: batch) < 1 << 22 else { return }
    let z = UnsafeMutablePointer<Float>.allocate(capacity: batch * model.latentDim)
    let logVariance = UnsafeMutablePointer<Float>.allocate(capacity: batch * model.latentDim)
    let pixels = UnsafeMutablePointer<Float>.allocate(capacity: batch * model.pixelCount)
    let labels = UnsafeMutablePointer<Int32>.allocate(capacity: batch)
    defer { z.deallocate(); logVariance.deallocate(); pixels.deallocate(); labels.deallocate() }
    z.initialize(repeating: 0.5, count: batch * model.latentDim)
    labels.initialize(repeating: Int32(max(model.classCount - 1, 0)), count: batch)
    let l: UnsafePointer<Int32>? = model.kind.isConditional ? UnsafePointer(labels) : nil
    attempt { () throws(VaertError) in
        try model.decode(z, labels: l, batch: batch, pixels: pixels)
        if model.hasEncoder { try model.encode(pixels, labels: l, batch: batch, mu: z, logVariance: logVariance) }
    }
}
