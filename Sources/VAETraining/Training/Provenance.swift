import Foundation
import VAECore
import VAERuntime

/// How a model was made, recorded in its weights file as `vaert.train.*` metadata: the training options,
/// the data, the epochs done and the vaert version. `export-weights inspect` shows them, and the commands
/// that need test images default to the data recorded here.
public enum Provenance {
    public static let dataKey = "vaert.train.data"

    /// The `vaert.train.*` entries for a run with `options` after `epochsDone` epochs.
    public static func metadata(_ options: TrainingOptions, epochsDone: Int) -> [(ByteString, MetadataValue)] {
        let a = options.architecture
        var m: [(String, MetadataValue)] = [
            ("vaert.train.kind", .string(a.kind.rawValue)),
            ("vaert.train.loss", .string(a.likelihood == .bernoulli ? "bce" : "mse")),
            ("vaert.train.epochs", .u32(UInt32(clamping: epochsDone))),
            ("vaert.train.learning_rate", .f32(options.learningRate)),
            ("vaert.train.batch_size", .u32(UInt32(clamping: options.batchSize))),
            ("vaert.train.seed", .string(String(options.seed))),
            (dataKey, .string(options.dataFolder)),
            ("vaert.train.vaert_version", .string(LibraryVersion.string.description)),
        ]
        if a.kind.isVariational { m.append(("vaert.train.beta", .f32(options.beta))) }
        if let limit = options.trainLimit { m.append(("vaert.train.train_limit", .u32(UInt32(clamping: limit)))) }
        if let warmup = options.klWarmup {
            m.append(("vaert.train.kl_warmup", .f32(warmup)))
            m.append(("vaert.train.kl_schedule", .string((options.klSchedule ?? .linear).rawValue)))
        }
        if let freeBits = options.freeBits { m.append(("vaert.train.free_bits", .f32(freeBits))) }
        if let noise = options.noise { m.append(("vaert.train.noise", .string(noise.description))) }
        if let rho = options.sparsity, let weight = options.sparsityWeight {
            m.append(("vaert.train.sparsity", .f32(rho)))
            m.append(("vaert.train.sparsity_weight", .f32(weight)))
        }
        if let lambda = options.contractive { m.append(("vaert.train.contractive", .f32(lambda))) }
        return m.map { (ByteString($0.0), $0.1) }
    }

    /// The data folder for a command that needs test images: `given`; else the folder the model was
    /// trained on, when `file` records it; else Fashion-MNIST. A recorded folder that is gone is an error
    /// that says to give `--data`, not a silent switch to other data.
    public static func dataFolder(given: String?, recordedIn file: WeightsFile) throws(VaertError) -> String {
        if let given { return given }
        guard case .string(let recorded)? = file.metadataValue(dataKey) else { return Dataset.defaultFolder }
        let folder = recorded.description
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: folder, isDirectory: &isFolder), isFolder.boolValue else {
            throw VaertError(.ioOpen, "the model was trained on \(folder), which is not there: give --data DIR")
        }
        return folder
    }

    /// As `dataFolder(given:recordedIn:)` for the weights file at `path`.
    public static func dataFolder(given: String?, weights path: String) throws(VaertError) -> String {
        if let given { return given }
        return try FileIO.withContents(of: path) { (bytes) throws(VaertError) in
            do throws(VaertError) {
                return try dataFolder(given: nil, recordedIn: try WeightsFile.parse(bytes))
            } catch {
                throw VaertError(error.status, "\(path): \(error.message)")
            }
        }
    }
}
