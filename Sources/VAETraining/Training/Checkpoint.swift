import Foundation
import VAECore
import VAERuntime

/// Checkpoints are weights files (so the runtime can open them too) that also carry the optimizer
/// state, the step count, the loss history and the training options.
public enum Checkpoint {
    static let optionsKey: StaticString = "train.options"
    static let epochKey: StaticString = "train.epochs_done"
    static let stepKey: StaticString = "train.step"

    /// Writes `trainer`'s full state to `path` atomically (temporary file, fsync, rename).
    public static func save(_ trainer: Trainer, to path: String, datasetName: String, evaluation: LossSums?) throws(VaertError) {
        var b = trainer.net.weightsFile(extraMetadata: exportMetadata(trainer, datasetName: datasetName, evaluation: evaluation))
        b.addTensor("adam.m", dims: [trainer.net.parameterCount], values: trainer.adam.m.array)
        b.addTensor("adam.v", dims: [trainer.net.parameterCount], values: trainer.adam.v.array)
        if let vq = trainer.codebookTraining {
            b.addTensor("vq.ema_count", dims: [vq.codes], values: vq.emaCount.array)
            b.addTensor("vq.window_usage", dims: [vq.codes], values: vq.windowUsage.map(Float.init))
        }
        if !trainer.history.isEmpty {
            b.addTensor("train.history", dims: [trainer.history.count, 2], values: trainer.history.flatMap { [$0.reconstruction, $0.kl] })
        }
        if !trainer.testHistory.isEmpty {
            b.addTensor("train.test_history", dims: [trainer.testHistory.count, 3],
                        values: trainer.testHistory.flatMap { [Float($0.epoch), $0.reconstruction, $0.kl] })
        }
        // Sorted keys: the same run writes the same checkpoint bytes (a dictionary's order is random per process).
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        let json = (try? encoder.encode(trainer.options)).flatMap { String(data: $0, encoding: .utf8) } ?? "{}"
        b.setMetadata(optionsKey, .string(json))
        b.setMetadata(epochKey, .u32(UInt32(trainer.epochsDone)))
        b.setMetadata(stepKey, .u32(UInt32(trainer.adam.step)))
        try FileIO.writeAtomically(b.serialize(), to: path)
    }

    /// Metadata of an exported model: data set, how it was trained (`Provenance`) and, when known, the
    /// final test negative ELBO.
    public static func exportMetadata(_ trainer: Trainer, datasetName: String, evaluation: LossSums?) -> [(ByteString, MetadataValue)] {
        var m: [(ByteString, MetadataValue)] = [(ByteString(MetadataKey.dataset), .string(datasetName))]
        if let evaluation { m.append((ByteString(MetadataKey.testNegELBO), .f32(Float(evaluation.negELBOPerImage)))) }
        return m + Provenance.metadata(trainer.options, epochsDone: trainer.epochsDone)
    }

    /// The options a checkpoint carries must describe the network its layer table holds, with numbers the
    /// trainer can allocate for: checked before anything is allocated (the layer table itself is bounded
    /// by the file, so its network is too).
    static func checkOptions(_ options: TrainingOptions, against file: WeightsFile) throws(VaertError) {
        let a = options.architecture
        let sizes = a.hidden + (a.conv ?? [])
        guard a.image.isWithinFormatLimits,
              (1...65536).contains(a.latent), (0...65536).contains(a.classCount), sizes.count <= 64, sizes.allSatisfy({ (1...(1 << 24)).contains($0) }),
              (1...65536).contains(options.batchSize), options.learningRate.isFinite, options.beta.isFinite
        else {
            throw VaertError(.malformed, "the training options are out of range (image \(a.channels)x\(a.height)x\(a.width), latent \(a.latent), layer sizes \(sizes), batch size \(options.batchSize))")
        }
        try a.validate()
        let specs = a.layers
        guard specs.count == file.layers.count, zip(specs, file.layers).allSatisfy({ spec, record in
            spec.stack == record.stack && spec.kind == record.kind && spec.input == record.input && spec.output == record.output
                && spec.parameters == record.parameters && spec.codebookSize == record.codebookSize
        }) else { throw VaertError(.malformed, "the training options describe another network than the checkpoint's layers") }
        // One batch of the widest layer's activations must stay below 4 GB (2^30 floats).
        let widest = specs.map { max($0.input.count, $0.output.count) }.max() ?? 0
        guard options.batchSize * widest <= 1 << 30 else {
            throw VaertError(.malformed, "batch size \(options.batchSize) x \(widest) activations is more than 4 GB per layer")
        }
    }

    /// Rebuilds a trainer from a checkpoint written by `save`; the CRC and every table are checked first.
    public static func load(path: String, threads: Int) throws(VaertError) -> Trainer {
        try FileIO.withContents(of: path) { (bytes) throws(VaertError) in
            let file: WeightsFile
            do throws(VaertError) { file = try WeightsFile.parse(bytes) } catch { throw VaertError(error.status, "\(path): \(error.message)") }
            guard case .string(let json)? = file.metadataValue(optionsKey),
                  let options = try? JSONDecoder().decode(TrainingOptions.self, from: Data(json.utf8)),
                  case .u32(let epochs)? = file.metadataValue(epochKey), case .u32(let step)? = file.metadataValue(stepKey)
            else { throw VaertError(.malformed, "\(path): not a vaert training checkpoint (no training state in its metadata)") }
            do throws(VaertError) { try checkOptions(options, against: file) } catch { throw VaertError(error.status, "\(path): \(error.message)") }
            let trainer = Trainer(options: options, threads: threads)
            do throws(VaertError) {
                try trainer.net.load(from: file, bytes: bytes)
                try copyTensor("adam.m", count: trainer.net.parameterCount, into: trainer.adam.m.pointer, file: file, bytes: bytes)
                try copyTensor("adam.v", count: trainer.net.parameterCount, into: trainer.adam.v.pointer, file: file, bytes: bytes)
                if let vq = trainer.codebookTraining {
                    try copyTensor("vq.ema_count", count: vq.codes, into: vq.emaCount.pointer, file: file, bytes: bytes)
                    var usage = [Float](repeating: 0, count: vq.codes)
                    try usage.withUnsafeMutableBufferPointer { (p) throws(VaertError) in
                        try copyTensor("vq.window_usage", count: vq.codes, into: p.baseAddress!, file: file, bytes: bytes)
                    }
                    vq.windowUsage = usage.map { Int(exactly: $0) ?? 0 }
                }
                if let h = file.tensors.first(where: { $0.name == "train.history" }) {
                    var values = [Float](repeating: 0, count: h.elementCount)
                    try values.withUnsafeMutableBufferPointer { (p) throws(VaertError) in
                        try copyTensor("train.history", count: h.elementCount, into: p.baseAddress!, file: file, bytes: bytes)
                    }
                    trainer.history = stride(from: 0, to: values.count - 1, by: 2).map { (values[$0], values[$0 + 1]) }
                }
                if let h = file.tensors.first(where: { $0.name == "train.test_history" }), h.dims.count == 2, h.dims[1] == 3 {
                    var values = [Float](repeating: 0, count: h.elementCount)
                    try values.withUnsafeMutableBufferPointer { (p) throws(VaertError) in
                        try copyTensor("train.test_history", count: h.elementCount, into: p.baseAddress!, file: file, bytes: bytes)
                    }
                    trainer.testHistory = stride(from: 0, to: values.count - 2, by: 3).map { (Int(exactly: values[$0]) ?? 0, values[$0 + 1], values[$0 + 2]) }
                }
            } catch {
                throw VaertError(error.status, "\(path): \(error.message)")
            }
            trainer.adam.step = Int(step)
            trainer.epochsDone = Int(epochs)
            return trainer
        }
    }
}
