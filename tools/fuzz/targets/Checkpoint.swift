// Fuzz target: the training checkpoint reader (a weights file with optimizer state and JSON options).
import Foundation
import VAECore
import VAETraining

@_cdecl("LLVMFuzzerInitialize")
public func initialize(_ argc: UnsafeMutablePointer<Int32>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>>>) -> Int32 {
    seedMode { dir in
        let shape = Shape3(channels: 1, height: 4, width: 4)
        for (name, kind) in [("vae", ModelKind.vae), ("ae", .ae)] {
            let a = Architecture(kind: kind, likelihood: .bernoulli, image: shape, hidden: [3], latent: 2)
            let trainer = Trainer(options: TrainingOptions(architecture: a, batchSize: 4, epochs: 1, seed: 1), threads: 1)
            do throws(VaertError) {
                try Checkpoint.save(trainer, to: "\(dir)/\(name).ckpt", datasetName: "seed", evaluation: nil)
            } catch {
                throw NSError(domain: "vaert", code: 1, userInfo: [NSLocalizedDescriptionKey: error.message])
            }
        }
    }
    return 0
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzCheckpoint(_ data: UnsafePointer<UInt8>, _ count: Int) -> Int32 {
    // The input as it is, then with its CRC made right, so that mutations reach the options and tensors.
    load(UnsafeRawBufferPointer(start: data, count: count))
    if let sealed = resealed(data, count) { sealed.withUnsafeBytes { load($0) } }
    return 0
}

func load(_ bytes: UnsafeRawBufferPointer) {
    withScratchFile(bytes) { path in
        attempt { () throws(VaertError) in _ = try Checkpoint.load(path: path, threads: 1) }
    }
}
